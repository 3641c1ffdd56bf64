#!/usr/bin/env bash
# Grades every submission in SUBMISSIONS, one at a time, into OUT:
#
#   scripts/grade-class.sh SUBMISSIONS OUT [CHECKER OPTIONS...]
#
# A submission is SUBMISSIONS/NAME.rs, or a folder SUBMISSIONS/NAME/ holding server.rs.
# OUT/grades.csv gets one row per submission (submission,score,bonus,task3,failed_checks,seconds),
# the checker's own (--csv, with --name NAME), and OUT/NAME/ its report, JSON, row and both
# logs. A submission that does not compile, hangs or misbehaves costs only its own row.
# The grade book is CSV as RFC 4180 writes it (a name with a comma is quoted), and NAME is
# data only: it is never split, rebuilt or run (scripts/grade-book.sh). Options after OUT
# go to the checker, for example --size 8M. INSTRUCTORS.md says more.
set -euo pipefail

if [[ $# -lt 2 || $1 == -* || $2 == -* ]]; then
    echo "usage: scripts/grade-class.sh SUBMISSIONS OUT [CHECKER OPTIONS...]" >&2
    exit 2
fi
submissions=$1
out=$2
shift 2
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=grade-book.sh
source "$root/scripts/grade-book.sh"
fail() {
    echo "grade-class: $*" >&2
    exit 1
}
[[ -d $submissions ]] || fail "$submissions is no directory of submissions"
mkdir -p "$out" || fail "cannot create $out"
out=$(cd "$out" && pwd)

# The submissions, by name: NAME.rs files and NAME/ folders with a server.rs. The names
# are taken by parameter expansion, which keeps every character (a command substitution
# would drop a trailing line break, and two names could become one folder).
names=()
files=()
for entry in "$submissions"/*; do
    name=${entry##*/}
    if [[ -f $entry && $entry == *.rs ]]; then
        names+=("${name%.rs}")
        files+=("$entry")
    elif [[ -d $entry && -f $entry/server.rs ]]; then
        names+=("$name")
        files+=("$entry/server.rs")
    fi
done
count=${#names[@]}
[[ $count -gt 0 ]] || fail "no NAME.rs or NAME/server.rs in $submissions"

# The checker is built once, then run as a binary: grading must not rebuild it each time.
(cd "$root" && cargo build --quiet -p checker) || fail "the checker does not build"
checker=$(cd "$root" && cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug/checker
[[ -x $checker ]] || fail "the checker is not at $checker"

csv=$out/grades.csv
grade_book_row submission score bonus task3 failed_checks seconds >"$csv"
started=$(date +%s)
troubled=0
for ((i = 0; i < count; i++)); do
    name=${names[i]}
    dir=$out/$name
    rm -rf "$dir"
    mkdir -p "$dir"
    echo "grade-class: [$((i + 1))/$count] $(inert "$name")"
    begin=$(date +%s.%N)
    status=0
    # No submission can read the class's results or the other submissions: its build
    # and its servers see nothing of the machine's files but the system (INSTRUCTORS.md,
    # the threat model). Each writes its results through the checker, never itself.
    NO_COLOR=1 "$checker" --submission "${files[i]}" --json "$dir/results.json" --csv "$dir/row.csv" \
        --name="$name" --log-dir "$dir" "$@" \
        >"$dir/report.txt" 2>"$dir/errors.txt" || status=$?
    seconds=$(awk -v begin="$begin" -v end="$(date +%s.%N)" 'BEGIN { printf "%.1f", end - begin }')
    if [[ $status -ge 2 || ! -f $dir/row.csv ]]; then
        # No verdict: the checker could not grade (3) or was misused (2). The row says so
        # instead of a score, and the run goes on with the next submission.
        troubled=$((troubled + 1))
        why=$(grep -m1 '^checker: ' "$dir/errors.txt" || true)
        grade_book_row "$name" "" "" "" "not graded (exit $status): ${why:-see $dir/errors.txt}" "$seconds" >>"$csv"
        echo "grade-class:   not graded (exit $status), see $(inert "$dir")/errors.txt"
        continue
    fi
    # The checker's own row, whole: everything after its header line.
    tail -n +2 "$dir/row.csv" >>"$csv"
    if grep -q ' does not compile' "$dir/report.txt"; then
        # The compiler's errors went to errors.txt, not into the report: say where they are.
        echo "grade-class: the compiler's errors are in $(inert "$dir")/errors.txt" >>"$dir/report.txt"
    fi
    total=$(grep -m1 '^Total: ' "$dir/report.txt" || true)
    echo "grade-class:   ${total:-no total} (${seconds} s)"
done

elapsed=$(($(date +%s) - started))
echo
echo "grade-class: graded $((count - troubled)) of $count submissions in ${elapsed} s; grades in $(inert "$csv")"
# As written: `column -s,` would split a quoted name at its commas and show a forged row.
cat "$csv"
if [[ $troubled -gt 0 ]]; then
    echo "grade-class: $troubled could not be graded; run them again" >&2
    exit 3
fi
