#!/usr/bin/env bash
# Times uploads end to end: from starting the clients until the server has reported every
# upload (`Received ...`), which is later than the clients finish sending.
#
#   scripts/time-uploads.sh [SERVER] [CLIENTS] [-- SERVER OPTIONS...]
#
#   scripts/time-uploads.sh                                  one upload, your server
#   scripts/time-uploads.sh target/debug/server 2            two uploads at once
#   scripts/time-uploads.sh target/debug/server 1 -- --buf-size 65536
#
# Needs test-file.txt (cargo run -p gen-testfile) and built binaries (cargo build);
# UPLOAD_FILE=PATH uploads that file instead.
set -euo pipefail
if [[ ${1:-} == -h || ${1:-} == --help ]]; then
    sed -n '2,12s/^# \{0,1\}//p' "$0"
    exit 0
fi
set -m # background jobs get process groups of their own, so the server's can be stopped whole

server=${1:-target/debug/server}
clients=${2:-1}
shift $(($# < 2 ? $# : 2))
[[ ${1:-} == -- ]] && shift
client=target/debug/client
for binary in "$server" "$client"; do
    [[ -x $binary ]] || { echo "time-uploads: $binary is missing: run cargo build --workspace" >&2; exit 1; }
done
file=${UPLOAD_FILE:-test-file.txt}
[[ -f $file ]] || { echo "time-uploads: $file is missing: run cargo run -p gen-testfile" >&2; exit 1; }

log=$(mktemp)
"$server" --port 0 "$@" >"$log" 2>&1 &
group=$!
trap 'kill -KILL -- -$group 2>/dev/null; wait $group 2>/dev/null || true; rm -f "$log"' EXIT
trap 'exit 130' INT TERM HUP # through the EXIT trap, so the server never outlives the script

until port=$(sed -n 's/^Server listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$log") && [[ -n $port ]]; do
    kill -0 $group 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.01
done

start=$(date +%s.%N)
uploads=()
for _ in $(seq "$clients"); do
    "$client" --port "$port" --file "$file" >/dev/null &
    uploads+=($!)
done
until (($(grep -c '^Received ' "$log" || true) >= clients)); do
    # A server that stopped before reporting every upload never will: say so and stop.
    if ! kill -0 $group 2>/dev/null; then
        echo "time-uploads: the server stopped before it reported every upload; its output:" >&2
        cat "$log" >&2
        exit 1
    fi
    sleep 0.05 # coarse on purpose: every look starts a process, which would steal CPU from the uploads
done
end=$(date +%s.%N)
wait "${uploads[@]}"
grep '^Received ' "$log" >&2
awk -v s="$start" -v e="$end" -v n="$clients" 'BEGIN { printf "%d upload(s) reported after %.2f s\n", n, e - s }'

