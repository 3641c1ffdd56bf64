#!/usr/bin/env bash
# Writes a Gradescope autograder zip: setup.sh and run_autograder (from scripts/gradescope/)
# and the students' copy of the lab (scripts/handout.sh: no solution/, no instructor
# material) in lab/, whose checker does the grading:
#
#   scripts/gradescope.sh OUT.zip
#
# setup.sh installs the Rust toolchain of the machine that makes the zip (or
# LAB_RUST_TOOLCHAIN, 1.88 or newer). INSTRUCTORS.md says how to set up the assignment.
set -euo pipefail

if [[ $# -ne 1 || $1 == -* || $1 != *.zip ]]; then
    echo "usage: scripts/gradescope.sh OUT.zip" >&2
    exit 2
fi
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
    echo "gradescope: $*" >&2
    exit 1
}
[[ -d $(dirname "$out") ]] || fail "$(dirname "$out") is no directory"
toolchain=${LAB_RUST_TOOLCHAIN:-$(rustc --version | awk '{ print $2 }')}
[[ $toolchain =~ ^1\.[0-9]+\.[0-9]+$ ]] || fail "the toolchain \"$toolchain\" is no version like 1.88.0"
[[ $(printf '%s\n' 1.88.0 "$toolchain" | sort -V | head -1) == 1.88.0 ]] ||
    fail "the toolchain $toolchain is older than 1.88, which the lab needs"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/scripts/handout.sh" "$work/kit/lab" >/dev/null
rm -rf "$work/kit/lab/.git"
sed "s/@RUST_TOOLCHAIN@/$toolchain/" "$root/scripts/gradescope/setup.sh" >"$work/kit/setup.sh"
cp "$root/scripts/gradescope/run_autograder" "$work/kit/"
chmod 755 "$work/kit/setup.sh" "$work/kit/run_autograder"
[[ ! -e $work/kit/lab/solution ]] || fail "the handout holds solution/"

# Python's zipfile keeps the files' modes, so run_autograder stays executable.
(cd "$work/kit" && python3 -m zipfile -c "$work/autograder.zip" setup.sh run_autograder lab) ||
    fail "could not write the zip (python3 -m zipfile)"
mv "$work/autograder.zip" "$out"
echo "gradescope: wrote $out (Rust $toolchain; $(cd "$work/kit" && find lab -type f | wc -l) files of the lab)"
