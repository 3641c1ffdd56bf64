#!/usr/bin/env bash
# Merges the results of a class graded one job per submission into one grades.csv, with
# the columns of grade-class.sh (submission,score,bonus,task3,failed_checks,seconds):
#
#   scripts/merge-grades.sh RESULTS OUT.csv
#
# RESULTS holds a folder per submission, NAME/, with the checker's --json result in
# NAME/results.json; or NAME/ungraded.txt, one line saying why there is no grade (the
# checker's exit status 2 or 3); or neither, when no result came back. Such rows have no
# score. Exit status 1 when a results.json cannot be read, 3 when some submission has no
# grade (the CSV is written all the same). Every row is written whole from its fields
# (scripts/grade-book.sh): a folder's name is data, quoted where it holds a comma.
set -euo pipefail

if [[ $# -ne 2 || $1 == -* || $2 == -* ]]; then
    echo "usage: scripts/merge-grades.sh RESULTS OUT.csv" >&2
    exit 2
fi
results=$1
out=$2
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=grade-book.sh
source "$root/scripts/grade-book.sh"
fail() {
    echo "merge-grades: $*" >&2
    exit 1
}
[[ -d $results ]] || fail "$results is no directory of results"
[[ -d $(dirname "$out") ]] || fail "$(dirname "$out") is no directory"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One JSON string without its quotes and escapes (grade_book_row quotes it for the CSV).
unquote() { sed -e 's/^"//' -e 's/"$//' -e 's/\\"/"/g' -e 's/\\\\/\\/g'; }

rows=0
ungraded=0
grade_book_row submission score bonus task3 failed_checks seconds >"$work/grades.csv"
for dir in "$results"/*/; do
    [[ -d $dir ]] || continue
    name=${dir%/}
    name=${name##*/}
    rows=$((rows + 1))
    if [[ ! -f $dir/results.json ]]; then
        why="not graded: no result came back"
        [[ -s $dir/ungraded.txt ]] && why=$(head -n 1 "$dir/ungraded.txt")
        grade_book_row "$name" "" "" "" "$why" "" >>"$work/grades.csv"
        ungraded=$((ungraded + 1))
        continue
    fi
    # On stdin: awk would take a file operand such as `a=b/results.json` for an assignment.
    awk -f "$root/scripts/json-fields.awk" <"$dir/results.json" >"$work/fields" ||
        fail "$(inert "$dir")results.json is no JSON the checker wrote"
    field() { awk -F'\t' -v want="$1" '$1 == want { print $2; found = 1; exit } END { exit !found }' "$work/fields"; }
    score=$(field score) || fail "$(inert "$dir")results.json has no score"
    seconds=$(field execution_time | awk '{ printf "%.1f", $1 }') || fail "$(inert "$dir")results.json has no execution_time"
    bonus=""
    task3=""
    failed=()
    for ((i = 0; ; i++)); do
        name_token=$(field "tests.$i.name") || break
        check=$(unquote <<<"$name_token")
        status=$(field "tests.$i.status" | unquote) || fail "$(inert "$dir")results.json: test $i has no status"
        if [[ $check == bonus:* ]]; then
            said=$(field "tests.$i.output" | unquote)
            if [[ $status == passed ]]; then
                bonus=passed
            elif [[ $said == "the bonus, not counted in the score: not checked"* ]]; then
                bonus="not checked"
            else
                bonus=failed
            fi
        fi
        if [[ $check == "task 3:"* ]]; then
            said=$(field "tests.$i.output" | unquote)
            if [[ $status == passed ]]; then
                task3=passed
            elif [[ $said == "task 3, optional, not counted in the score: not checked"* ]]; then
                task3="not checked"
            else
                task3=failed
            fi
        fi
        [[ $status == passed ]] || failed+=("$check")
    done
    failed_checks=$(IFS=';'; echo "${failed[*]}")
    # As the checker's own row says it: a build that failed is one reason, and the bonus
    # was not checked.
    if field output | grep -q ' does not compile'; then
        failed_checks="does not compile"
    fi
    grade_book_row "$name" "$score" "$bonus" "$task3" "$failed_checks" "$seconds" >>"$work/grades.csv"
done
[[ $rows -gt 0 ]] || fail "no result folders in $results"
mv "$work/grades.csv" "$out"
echo "merge-grades: $rows submissions, $((rows - ungraded)) graded, into $out"
if [[ $ungraded -gt 0 ]]; then
    echo "merge-grades: $ungraded have no grade; grade them again" >&2
    exit 3
fi
