#!/usr/bin/env bash
# Writes the students' copy of the lab into DIR, as a git repository of its own whose one
# commit is the handout: no solution/, no instructor material, a Cargo.lock for that tree.
#
#   scripts/handout.sh DIR
#
# DIR must not exist, or be an empty directory. The files are the ones git tracks here,
# as they are in the working tree. INSTRUCTORS.md says more.
set -euo pipefail

if [[ $# -ne 1 || $1 == -* ]]; then
    echo "usage: scripts/handout.sh DIR" >&2
    exit 2
fi
dir=$1
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
    echo "handout: $*" >&2
    exit 1
}

if [[ -e $dir && ! -d $dir ]]; then
    fail "$dir exists and is not a directory"
fi
if [[ -d $dir && -n $(ls -A "$dir") ]]; then
    fail "$dir is not empty: give a new or an empty directory"
fi
mkdir -p "$dir"

# What students never get: the reference and the fixture (solution/), a grading
# repository's submissions/ (see scripts/ci/grade-class.yml), the guides for instructors
# and for the lab's developers, the lab's CI and the instructors' scripts (handouts,
# grading a class, the grading kits).
# The Classroom workflow (.github/) does go out: it grades the students' pushes. The
# checker's tests of the reference and the fixture stay too: they need solution/.
git -C "$root" ls-files -z |
    grep -zvE '^(solution/|submissions/|checker/tests/(verdicts|grading|pictures|environment|hostile|watch|inert)\.rs$|(INSTRUCTORS|CONTRIBUTING|docs/platforms)\.md$|\.ci/|scripts/(gradescope|ci|platforms|prairielearn|similarity)/|scripts/(check-platforms\.sh|proving\.sh|prairielearn\.sh|similarity\.sh|handout\.sh|check-handout\.sh|fill-todos\.awk|stage\.sh|check-grade-class\.sh|gradescope\.sh|check-kits\.sh|verdicts-stable\.sh)$)' |
    tar -C "$root" --null -T - -cf - |
    tar -C "$dir" -xf -

# The workspace names its members (the pattern here also picks up solution/), and the
# lock file loses the solution package, which nothing else depends on. Cargo must then
# find the lock file complete (--locked): the versions stay the ones locked here.
sed -i -e '/^# `s\[ko\]\*`/,/^members = /c\members = ["gen-testfile", "checker", "skeleton"]' \
    "$dir/Cargo.toml"
grep -q '^members = \["gen-testfile", "checker", "skeleton"\]$' "$dir/Cargo.toml" ||
    fail "could not rewrite the workspace members in Cargo.toml"
awk 'BEGIN { RS = "" } !/^\[\[package\]\]\nname = "solution"\n/ { printf "%s%s\n", (kept++ ? "\n" : ""), $0 }' \
    "$root/Cargo.lock" >"$dir/Cargo.lock"
(cd "$dir" && cargo tree --quiet --locked --workspace >/dev/null) ||
    fail "the handout's Cargo.lock is not complete for its workspace (see cargo's message)"

# A history of its own, which never held the solution.
git -C "$dir" init -q
git -C "$dir" add -A
name=$(git -C "$dir" config user.name || echo "Lab handout")
email=$(git -C "$dir" config user.email || echo "handout@localhost")
git -C "$dir" -c user.name="$name" -c user.email="$email" \
    commit -q -m "The async-server lab: the handout"
echo "handout: wrote the students' copy to $dir ($(git -C "$dir" ls-files | wc -l) files, one commit)"
