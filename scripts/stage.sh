#!/usr/bin/env bash
# Writes the reference server as a student has it at one stage of the work, to try a
# grader on: the untouched skeleton, task 1 done (TODOs 1 to 4), task 2 done (1 to 5),
# the bonus too (1 to 7) or task 3 as well (1 to 9), the skeleton's server with the
# solution's TODO blocks:
#
#   scripts/stage.sh untouched|1|2|bonus|3 OUT.rs
#
# The checker grades the stages 0/100, 50/100, 100/100, 100/100 with the bonus, and
# 100/100 with the bonus and task 3.
set -euo pipefail

if [[ $# -ne 2 || $2 == -* ]]; then
    echo "usage: scripts/stage.sh untouched|1|2|bonus|3 OUT.rs" >&2
    exit 2
fi
stage=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
    echo "stage: $*" >&2
    exit 1
}
case $stage in
untouched) todos="" ;;
1) todos="1 2 3 4" ;;
2) todos="1 2 3 4 5" ;;
bonus) todos="1 2 3 4 5 6 7" ;;
3) todos="1 2 3 4 5 6 7 8 9" ;;
*) echo "stage: no stage \"$stage\": give untouched, 1, 2, bonus or 3" >&2; exit 2 ;;
esac
solution=$root/solution/src/bin/server.rs
skeleton=$root/skeleton/src/bin/server.rs
[[ -f $solution ]] || fail "no $solution: stages are made from the reference, which a handout lacks"
[[ -d $(dirname "$out") ]] || fail "$(dirname "$out") is no directory"
tmp=$(mktemp "$out.XXXXXX")
trap 'rm -f "$tmp"' EXIT
if [[ -z $todos ]]; then
    cp "$skeleton" "$tmp"
else
    awk -v todos="$todos" -f "$root/scripts/fill-todos.awk" "$solution" "$skeleton" >"$tmp" ||
        fail "fill-todos.awk failed"
fi
grep -q 'fn main' "$tmp" || fail "the staged server has no main: fill-todos.awk wrote something else"
mv "$tmp" "$out"
trap - EXIT
