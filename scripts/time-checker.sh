#!/usr/bin/env bash
# Times the checker's whole run against the uploads it must make, side by side: the
# checker's run (A), then the same uploads without the checker (B): two 100 MiB uploads
# at once, then three 8 MiB uploads at once to the server started with --mode async, each
# timed by scripts/time-uploads.sh. A B A B ..., RUNS pairs (3 unless told); prints each
# pair, the medians and their ratio (the checker's run over the uploads).
#
#   scripts/time-checker.sh [RUNS] [--skeleton | --solution] [--uncontained]
#
#   scripts/time-checker.sh                  the reference where solution/ exists, else yours
#   scripts/time-checker.sh 5 --skeleton     your server (skeleton/), five pairs
#   scripts/time-checker.sh --uncontained    the checker's servers run without containment
#                                            (LAB_CHECKER_NO_CONTAIN): what it costs
#
# Needs test-file.txt of 100 MiB (cargo run -p gen-testfile). Builds the workspace first;
# CHECKER=PATH times that checker binary instead (a copy kept from before a change).
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,16s/^# \{0,1\}//p' "$0"
    exit 0
fi
fail() {
    echo "time-checker: $*" >&2
    exit 1
}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
runs=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then
    runs=$1
    shift
fi
[[ $runs -ge 1 ]] || fail "RUNS must be 1 or more"
which=
uncontained=
for option in "$@"; do
    case $option in
    --solution | --skeleton) which=$option ;;
    --uncontained) uncontained=1 ;;
    *) fail "unknown option $option (see --help)" ;;
    esac
done
[[ -n $which ]] || { [[ -d solution ]] && which=--solution || which=--skeleton; }
case $which in
--solution) server=target/debug/solution-server graded=(--solution) ;;
--skeleton) server=target/debug/server graded=() ;;
esac
[[ $(stat -c %s test-file.txt 2>/dev/null || echo 0) -eq $((100 * 1024 * 1024)) ]] ||
    fail "test-file.txt of 100 MiB is missing: run cargo run -p gen-testfile"
cargo build --quiet --workspace || fail "the workspace does not build"
checker=${CHECKER:-target/debug/checker}
[[ -x $checker ]] || fail "no checker at $checker"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c $((8 * 1024 * 1024)) test-file.txt >"$work/test-file-8M.txt"
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The seconds scripts/time-uploads.sh reports for its uploads.
uploads() {
    "$root/scripts/time-uploads.sh" "$@" 2>&1 | sed -n 's/^.* upload(s) reported after \([0-9.]*\) s$/\1/p'
}

printf '%-4s %10s %12s %12s %12s %7s\n' pair checker "2 x 100M" "3 x 8M async" uploads ratio
for ((run = 1; run <= runs; run++)); do
    begin=$(now)
    status=0
    NO_COLOR=1 env ${uncontained:+LAB_CHECKER_NO_CONTAIN=1} "$checker" "${graded[@]}" --log-dir "$work" \
        >"$work/report.txt" 2>&1 || status=$?
    took=$(seconds "$begin" "$(now)")
    [[ $status -eq 0 ]] || { cat "$work/report.txt" >&2; fail "the checker's run failed (exit status $status): time a server that passes"; }
    whole=$(uploads "$server" 2)
    async=$(UPLOAD_FILE="$work/test-file-8M.txt" uploads "$server" 3 -- --mode async)
    [[ -n $whole && -n $async ]] || fail "the uploads could not be timed (run scripts/time-uploads.sh $server 2)"
    both=$(awk -v a="$whole" -v b="$async" 'BEGIN { printf "%.2f", a + b }')
    echo "$took $both" >>"$work/pairs"
    printf '%-4s %10s %12s %12s %12s %7s\n' "$run" "$took" "$whole" "$async" "$both" \
        "$(awk -v a="$took" -v b="$both" 'BEGIN { printf "%.2f", a / b }')"
done
took=$(awk '{ print $1 }' "$work/pairs" | median)
both=$(awk '{ print $2 }' "$work/pairs" | median)
printf 'median %8s %38s %7s\n' "$took" "$both" "$(awk -v a="$took" -v b="$both" 'BEGIN { printf "%.2f", a / b }')"
