#!/usr/bin/env bash
# Proves the lab's platform glue on this machine, each part in a temporary folder:
#   devcontainer  .devcontainer/: its JSON read as the tools read it (comments allowed),
#                 its set-up commands run as the image runs them (the toolchain installed
#                 into a temporary RUSTUP_HOME and CARGO_HOME, which needs the network),
#                 then the lab built and started there as the README says; and the build
#                 on any system but Linux stopping at one message.
#   prairielearn  the PrairieLearn image's set-up and entrypoint on a /grade laid out in
#                 a temporary root: a good server, a broken one, one that cannot be graded.
#   similarity    scripts/similarity.sh lays out a class for a similarity tool (the tool
#                 itself is not run here: it needs Node.js).
# Nothing of the runs may be left running and this tree must be unchanged.
#
#   scripts/check-platforms.sh [devcontainer|prairielearn|similarity]...   (all by default)
set -euo pipefail

parts=()
for arg in "$@"; do
    case $arg in
    -h | --help)
        sed -n '2,14s/^# \{0,1\}//p' "$0"
        exit 0
        ;;
    devcontainer | prairielearn | similarity) parts+=("$arg") ;;
    *)
        echo "check-platforms: no part named \"$arg\" (devcontainer, prairielearn, similarity)" >&2
        exit 2
        ;;
    esac
done
[[ ${#parts[@]} -gt 0 ]] || parts=(devcontainer prairielearn similarity)

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "check-platforms: $*" >&2
    exit 1
}
step() { echo "check-platforms: $*"; }
cd "$root"
before=$(git status --porcelain --untracked-files=no)
# Every process of the runs carries this marker, so that leftovers can be found.
export CHECK_KITS_MARKER="check-platforms-$$"
leftovers() {
    sleep 1
    for environ in /proc/[0-9]*/environ; do
        if grep -qzxF "CHECK_KITS_MARKER=$CHECK_KITS_MARKER" "$environ" 2>/dev/null; then
            fail "$1: a process of the run is still there: $(tr '\0' ' ' <"${environ%/environ}/cmdline" 2>/dev/null)"
        fi
    done
}

# ---------------------------------------------------------------------------------------
check_devcontainer() {
    step "devcontainer: devcontainer.json reads as JSON with comments and says what the lab needs"
    python3 scripts/platforms/jsonc.py .devcontainer/devcontainer.json >"$work/devcontainer.json" ||
        fail "devcontainer.json does not read"
    toolchain=$(python3 - "$work/devcontainer.json" <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))
def fail(message):
    sys.exit(f"check-platforms: devcontainer.json: {message}")
build = c.get("build", {})
if build.get("dockerfile") != "Dockerfile":
    fail(f"build.dockerfile is {build.get('dockerfile')!r}, not Dockerfile")
toolchain = build.get("args", {}).get("RUST_TOOLCHAIN", "")
if not re.fullmatch(r"1\.\d+\.\d+", toolchain):
    fail(f"build.args.RUST_TOOLCHAIN is {toolchain!r}, not a version like 1.95.0")
run_args = c.get("runArgs", [])
options = [run_args[i + 1] for i, a in enumerate(run_args[:-1]) if a == "--security-opt"]
for needed in ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]:
    if needed not in options:
        fail(f"runArgs lack --security-opt {needed}, without which the checker cannot contain a server")
if "--privileged" in run_args or any(a.startswith("--cap-add") for a in run_args):
    fail("runArgs grant privileges the checker does not need")
if c.get("remoteUser") in (None, "root"):
    fail("remoteUser is root: students work as a plain user")
if c.get("postCreateCommand") != "bash .devcontainer/post-create.sh":
    fail(f"postCreateCommand is {c.get('postCreateCommand')!r}")
if "rust-lang.rust-analyzer" not in c.get("customizations", {}).get("vscode", {}).get("extensions", []):
    fail("VS Code is not given rust-analyzer")
print(toolchain)
PY
    )
    needed=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
    [[ $(printf '%s\n' "$needed" "$toolchain" | sort -V | head -1) == "$needed" ]] ||
        fail "the container's toolchain $toolchain is older than the workspace's rust-version $needed"
    grep -qx 'RUN bash /tmp/lab-setup.sh "$RUST_TOOLCHAIN" vscode && rm /tmp/lab-setup.sh' .devcontainer/Dockerfile ||
        fail "the Dockerfile does not run setup.sh with the toolchain of devcontainer.json"
    printf '{"a": 1 /* never closed' >"$work/bad.jsonc"
    ! python3 scripts/platforms/jsonc.py "$work/bad.jsonc" >/dev/null 2>&1 || fail "jsonc.py read a broken file"

    step "devcontainer: setup.sh refuses bad usage"
    for bad in "" "stable" "1.95"; do
        status=0
        RUSTUP_HOME=$work/x CARGO_HOME=$work/x .devcontainer/setup.sh $bad >/dev/null 2>&1 || status=$?
        [[ $status -eq 2 ]] || fail "setup.sh ${bad:-(no argument)} exited $status, not 2"
    done

    step "devcontainer: setup.sh installs Rust $toolchain into a temporary home, as the image does"
    local home=$work/dev-home
    mkdir -p "$home"
    started=$(date +%s)
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" \
        RUSTUP_HOME="$home/rustup" CARGO_HOME="$home/cargo" \
        .devcontainer/setup.sh "$toolchain" "$(id -un)" >"$work/setup.log" 2>&1 ||
        { cat "$work/setup.log"; fail "setup.sh failed"; }
    step "devcontainer: ... in $(($(date +%s) - started)) s"
    grep -qx "setup.sh: rustc $toolchain, rustfmt and clippy in $home/rustup and $home/cargo" "$work/setup.log" ||
        { cat "$work/setup.log"; fail "setup.sh did not say it installed $toolchain"; }
    # What the container's user has: the toolchain's PATH, its homes, the lab's folder.
    in_container() {
        (cd "$work/lab" && env -i PATH="$home/cargo/bin:/usr/local/bin:/usr/bin:/bin" HOME="$home" \
            RUSTUP_HOME="$home/rustup" CARGO_HOME="$home/cargo" CHECK_KITS_MARKER="$CHECK_KITS_MARKER" "$@")
    }

    step "devcontainer: post-create.sh builds a student's copy from nothing"
    scripts/handout.sh "$work/lab" >/dev/null
    [[ -f $work/lab/.devcontainer/devcontainer.json ]] || fail "the handout has no .devcontainer/"
    started=$(date +%s)
    in_container bash .devcontainer/post-create.sh >"$work/post-create.log" 2>&1 ||
        { cat "$work/post-create.log"; fail "post-create.sh failed"; }
    step "devcontainer: ... in $(($(date +%s) - started)) s"
    grep -q "^The lab is built. Start with: cargo run -p gen-testfile$" "$work/post-create.log" ||
        fail "post-create.sh did not end with its line"

    step "devcontainer: the README's first commands run there"
    in_container cargo run -q -p gen-testfile >"$work/gen.log" 2>&1 || { cat "$work/gen.log"; fail "gen-testfile failed"; }
    [[ $(stat -c %s "$work/lab/test-file.txt") -eq $((100 << 20)) ]] || fail "test-file.txt is not 100 MiB"
    in_container cargo run -q -p checker -- --help >"$work/help.log" 2>&1 || { cat "$work/help.log"; fail "the checker's --help failed"; }
    grep -q -- "--submission" "$work/help.log" || fail "the checker's --help says nothing of --submission"
    rm -f "$work/lab/test-file.txt"

    step "devcontainer: on any system but Linux the build stops at one message"
    for os in x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc; do
        [[ $(in_container rustc --print cfg --target "$os" | grep '^target_os=') != 'target_os="linux"' ]] ||
            fail "rustc says $os is Linux"
    done
    # This machine has no standard library of another system, so the lab's guard is tried
    # by asking it for a system that this Linux is not: whatever it removes must leave one
    # error, its own.
    for lib in skeleton/src/lib.rs gen-testfile/src/lib.rs; do
        grep -q '^#\[cfg(not(target_os = "linux"))\]$' "$work/lab/$lib" || fail "$lib has no guard"
        sed -i 's/target_os = "linux"/target_os = "no-such-system"/' "$work/lab/$lib"
    done
    for package in gen-testfile skeleton; do
        status=0
        in_container cargo check -q -p "$package" --lib --message-format short >"$work/check-$package.log" 2>&1 || status=$?
        [[ $status -eq 101 ]] || { cat "$work/check-$package.log"; fail "$package built for another system (exit $status)"; }
        errors=$(grep -c ': error' "$work/check-$package.log" || true)
        [[ $errors -eq 1 ]] && grep -q "error: the async-server lab needs Linux (epoll, fork, signalfd, /proc): on macOS or Windows, open the repository in its development container (.devcontainer/, see the README), or on Windows in WSL 2$" "$work/check-$package.log" ||
            { cat "$work/check-$package.log"; fail "$package for another system: not one error, the guard's ($errors errors)"; }
    done
    leftovers "devcontainer"
}

# ---------------------------------------------------------------------------------------
for part in "${parts[@]}"; do
    "check_$part"
done
[[ $(git status --porcelain --untracked-files=no) == "$before" ]] || fail "the checks changed this tree"
echo "check-platforms: ${parts[*]}: as expected, nothing left behind"
