#!/usr/bin/env bash
# Lays out a class's submissions for a code-similarity tool that knows Rust, with the
# skeleton's server.rs as the code every student was given (so that it never counts as
# copied), and with --run compares them with Dolos:
#
#   scripts/similarity.sh CLASS OUT [--run]
#
# CLASS holds the submissions as `checker class` takes them: NAME.rs, NAME/server.rs or a
# student's repository NAME/skeleton/src/bin/server.rs. OUT (new or empty) gets base.rs
# (this tree's skeleton/src/bin/server.rs), files/NAME.rs for each student, and with --run
# pairs.csv: every pair of students, the most similar first (INSTRUCTORS.md says how to
# read it). --run needs Node.js 20 or newer and fetches @dodona/dolos-lib with npm.
set -euo pipefail

usage() {
    echo "usage: scripts/similarity.sh CLASS OUT [--run]" >&2
    exit 2
}
[[ $# -eq 2 || ($# -eq 3 && $3 == --run) ]] || usage
[[ $1 != -* && $2 != -* ]] || usage
class=$1
out=$2
run=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
    echo "similarity: $*" >&2
    exit 1
}
[[ -d $class ]] || fail "$class is no folder of submissions"
if [[ -e $out && ! -d $out ]] || [[ -d $out && -n $(ls -A "$out") ]]; then
    fail "$out exists and is not an empty folder"
fi

mkdir -p "$out/files"
cp "$root/skeleton/src/bin/server.rs" "$out/base.rs"
count=0
skipped=()
for entry in "$class"/*; do
    [[ -e $entry || -L $entry ]] || continue
    name=$(basename "$entry")
    source=
    if [[ -f $entry && $name == *.rs ]]; then
        name=${name%.rs}
        source=$entry
    elif [[ -d $entry && -f $entry/skeleton/src/bin/server.rs ]]; then
        source=$entry/skeleton/src/bin/server.rs
    elif [[ -d $entry && -f $entry/server.rs ]]; then
        source=$entry/server.rs
    fi
    # A link could name a file outside the class (the solution): never followed.
    if [[ -z $source || -L $entry || -L $source || -z $name || $name == .* ]]; then
        skipped+=("$(basename "$entry")")
        continue
    fi
    [[ ! -e $out/files/$name.rs ]] || fail "two submissions are named $name"
    cp "$source" "$out/files/$name.rs"
    count=$((count + 1))
done
[[ ${#skipped[@]} -eq 0 ]] || echo "similarity: not a submission, skipped: ${skipped[*]}"
[[ $count -ge 2 ]] || fail "$class holds $count submission(s): a comparison needs two or more"
echo "similarity: $count submissions in $out/files, the skeleton's server.rs in $out/base.rs"

if [[ $run != --run ]]; then
    echo "similarity: compare them with Dolos (Node.js), either of:"
    echo "  scripts/similarity.sh $class OUT --run      (pairs.csv, the most similar pair first)"
    echo "  npx @dodona/dolos run -l rust -i $out/base.rs $out/files/*.rs      (Dolos's web report)"
    exit 0
fi
command -v node >/dev/null && command -v npm >/dev/null || fail "--run needs Node.js and npm"
tool=$out/.dolos
mkdir -p "$tool"
cp "$root/scripts/similarity/dolos-pairs.mjs" "$tool/"
(cd "$tool" && npm install --silent --no-audit --no-fund @dodona/dolos-lib@3.5.1 >/dev/null) ||
    fail "npm could not install @dodona/dolos-lib"
node "$tool/dolos-pairs.mjs" "$out/base.rs" "$out"/files/*.rs >"$out/pairs.csv" || fail "Dolos failed"
echo "similarity: $out/pairs.csv, the most similar pairs first:"
head -n 6 "$out/pairs.csv"
