#!/usr/bin/env bash
# Installs what the lab needs on a Debian machine: the C linker and the tools its commands
# call (apt, only what is missing), rustup, and the Rust toolchain TOOLCHAIN with rustfmt
# and clippy, in RUSTUP_HOME and CARGO_HOME. The development container's image runs it as
# root; OWNER, when given, is the user who then owns the toolchain and cargo's home (cargo
# writes its crates there).
#
#   RUSTUP_HOME=/usr/local/rustup CARGO_HOME=/usr/local/cargo setup.sh TOOLCHAIN [OWNER]
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 || ! $1 =~ ^1\.[0-9]+\.[0-9]+$ ]]; then
    echo "usage: RUSTUP_HOME=DIR CARGO_HOME=DIR setup.sh TOOLCHAIN [OWNER]   (TOOLCHAIN like 1.95.0)" >&2
    exit 2
fi
toolchain=$1
owner=${2:-}
fail() {
    echo "setup.sh: $*" >&2
    exit 1
}
[[ -n ${RUSTUP_HOME:-} && -n ${CARGO_HOME:-} ]] || fail "RUSTUP_HOME and CARGO_HOME must name where the toolchain goes"
export RUSTUP_HOME CARGO_HOME PATH="$CARGO_HOME/bin:$PATH"

# gcc and libc6-dev link the programs; curl and the certificates fetch rustup; git and
# procps (ps, kill) are what the handout's commands use besides cargo.
packages=(ca-certificates curl gcc libc6-dev git procps)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
        missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) -eq 0 ]] || fail "missing packages (${missing[*]}), and only root can install them"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    rm -rf /var/lib/apt/lists/*
fi

if [[ ! -x $CARGO_HOME/bin/rustup ]]; then
    mkdir -p "$CARGO_HOME" "$RUSTUP_HOME"
    curl --proto '=https' --tlsv1.2 -sSf https://static.rust-lang.org/rustup/rustup-init.sh |
        sh -s -- -y -q --profile minimal --default-toolchain none --no-modify-path ||
        fail "rustup did not install"
fi
rustup toolchain install "$toolchain" --profile minimal --component rustfmt,clippy ||
    fail "the toolchain $toolchain did not install"
rustup default "$toolchain"
version=$(rustc --version | awk '{ print $2 }')
[[ $version == "$toolchain" ]] || fail "rustc is $version, not $toolchain"
cargo fmt --version >/dev/null && cargo clippy --version >/dev/null || fail "rustfmt or clippy is missing"

if [[ -n $owner ]]; then
    chown -R "$owner:$owner" "$RUSTUP_HOME" "$CARGO_HOME"
fi
echo "setup.sh: rustc $version, rustfmt and clippy in $RUSTUP_HOME and $CARGO_HOME"
