#!/usr/bin/env bash
# Grades the reference and every fault of the fixture N times and fails if any of them
# gets two different verdicts; prints, per fault, its verdict, how many runs agreed, its
# median time and that time against the reference's, all measured in this one run.
#
#   scripts/verdicts-stable.sh N [CHECKER OPTIONS...]
#
#   scripts/verdicts-stable.sh 5                      five runs each, 8 MiB uploads
#   taskset -c 0 scripts/verdicts-stable.sh 5         the same on one core
#   scripts/verdicts-stable.sh 1 --size 100M          once each, at the full upload size
#
# Options after N go to the checker (default: --size 8M --timeout 30). The fault
# slow-reads is made to run into the time limit; its time is shown but not compared.
# FAULTS="none serial ..." grades only those (put none first for the ratios).
# CHECKER and FIXTURE name binaries to use instead of building them (a pair copied aside
# keeps a long run from picking up a rebuild halfway).
set -euo pipefail

if [[ $# -lt 1 || ! $1 =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/verdicts-stable.sh N [CHECKER OPTIONS...]" >&2
    exit 2
fi
runs=$1
shift
options=("$@")
[[ ${#options[@]} -gt 0 ]] || options=(--size 8M --timeout 30)
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
    echo "verdicts-stable: $*" >&2
    exit 1
}
cd "$root"
[[ -d solution ]] || fail "this copy of the lab has no solution/, so no fixture"
if [[ -z ${CHECKER:-} || -z ${FIXTURE:-} ]]; then
    cargo build --quiet -p checker -p solution --bin checker --bin faulty-server ||
        fail "the checker or the fixture does not build"
    target=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
fi
checker=${CHECKER:-$target/debug/checker}
fixture=${FIXTURE:-$target/debug/faulty-server}
[[ -x $checker && -x $fixture ]] || fail "no checker at $checker or no fixture at $fixture"
faults=${FAULTS:-$(sed -n 's/^    ("\([a-z-]*\)", Fault::[A-Za-z]*),$/\1/p' solution/src/bin/faulty-server.rs)}
[[ -n $faults ]] || fail "found no faults in solution/src/bin/faulty-server.rs"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

flipped=0
reference=
printf '%-20s %-50s %5s %8s %7s\n' fault "verdicts (total)" agree seconds "x ref"
for fault in $faults; do
    : >"$work/$fault.verdicts"
    : >"$work/$fault.seconds"
    for ((run = 1; run <= runs; run++)); do
        begin=$(date +%s.%N)
        FAULTY_SERVER_FAULT=$fault NO_COLOR=1 "$checker" --server "$fixture" \
            --log-dir "$work/logs" "${options[@]}" >"$work/report.txt" 2>&1 || true
        awk -v begin="$begin" -v end="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", end - begin }' >>"$work/$fault.seconds"
        # The status words and the total line: the verdict.
        { grep -E '^(task|bonus).* \.+ ' "$work/report.txt" | sed -E 's/^.* \.+ (passed|failed|not checked) .*/\1/' |
            sed 's/not checked/N/; s/passed/P/; s/failed/F/' | paste -sd ' ' -
          grep -m1 '^Total: ' "$work/report.txt" | sed 's/^Total: //'; } | paste -sd ' ' - >>"$work/$fault.verdicts"
    done
    verdict=$(sort "$work/$fault.verdicts" | uniq -c | sort -rn | head -1 | sed -E 's/^ *[0-9]+ //')
    agree=$(grep -cxF -- "$verdict" "$work/$fault.verdicts" || true)
    seconds=$(median <"$work/$fault.seconds")
    [[ $fault == none ]] && reference=$seconds
    ratio=$(awk -v s="$seconds" -v r="${reference:-0}" 'BEGIN { if (r > 0) printf "%.2f", s / r; else print "-" }')
    printf '%-20s %-50s %2s/%-2s %8s %7s\n' "$fault" "$verdict" "$agree" "$runs" "$seconds" "$ratio"
    if [[ $agree -ne $runs ]]; then
        flipped=$((flipped + 1))
        echo "  verdicts seen:" >&2
        sort "$work/$fault.verdicts" | uniq -c | sed 's/^/    /' >&2
    fi
done
if [[ $flipped -gt 0 ]]; then
    fail "$flipped of the faults got different verdicts in $runs runs"
fi
echo "verdicts-stable: every fault got the same verdict in all $runs runs"
