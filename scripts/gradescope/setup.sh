#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image from the zip
# that scripts/gradescope.sh wrote. It installs the Rust toolchain the lab was zipped with
# (1.88 or newer) through rustup, builds the checker from the students' copy of the lab in
# source/lab (no solution/ in it), and grades the untouched skeleton once, so that every
# submission later compiles only its own server.
#
#   AUTOGRADER_ROOT=/autograder bash setup.sh
#
# LAB_SETUP_SKIP_TOOLCHAIN=1 skips the packages and rustup (for a machine that has Rust
# already, such as the kit's own test).
set -euo pipefail

root=${AUTOGRADER_ROOT:-/autograder}
toolchain=@RUST_TOOLCHAIN@
lab=$root/source/lab
fail() {
    echo "setup.sh: $*" >&2
    exit 1
}
[[ -f $lab/Cargo.toml ]] || fail "no lab in $lab: unzip the autograder into $root/source"

if [[ ${LAB_SETUP_SKIP_TOOLCHAIN:-} != 1 ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # gcc links the Rust programs; curl and the certificates fetch rustup.
    apt-get install -y -q --no-install-recommends ca-certificates curl gcc libc6-dev
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
        sh -s -- -y -q --profile minimal --default-toolchain "$toolchain" --no-modify-path
fi
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
version=$(rustc --version | awk '{ print $2 }') || fail "rustc does not run"
[[ $(printf '%s\n' 1.88.0 "${version%%-*}" | sort -V | head -1) == 1.88.0 ]] ||
    fail "rustc $version is too old: the lab needs 1.88 or newer"

# The checker finds the lab it belongs to where it was built, so it is built in place,
# into the lab's own target/ (whatever CARGO_TARGET_DIR says elsewhere).
cd "$lab"
unset CARGO_TARGET_DIR
cargo build --locked --quiet -p checker || fail "the checker does not build"

# The untouched skeleton fails at TODO 1 at once (exit status 1); grading it compiles the
# dependencies of every submission into target/submissions-warm and writes test-file.txt.
# It is graded as every submission will be: where the container cannot contain one, this
# stops here, with the reason, unless AUTOGRADER_CHECKER_OPTIONS says --allow-uncontained.
read -ra options <<<"${AUTOGRADER_CHECKER_OPTIONS:-}"
warm=$(mktemp -d)
status=0
NO_COLOR=1 target/debug/checker --submission skeleton/src/bin/server.rs --log-dir "$warm" \
    "${options[@]}" >"$warm/report.txt" 2>&1 || status=$?
if [[ $status -ne 1 ]]; then
    cat "$warm/report.txt" >&2
    fail "grading the untouched skeleton exited $status, not 1 (its report is above)"
fi
rm -rf "$warm"
echo "setup.sh: rustc $version, the checker built, the submissions' build warmed"
