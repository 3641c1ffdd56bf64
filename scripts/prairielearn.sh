#!/usr/bin/env bash
# Writes PrairieLearn's kit for the async-server lab into DIR: the grading image's build
# folder (Dockerfile, the students' copy of the lab in lab/, the toolchain's set-up, the
# entrypoint grade) and, for the course repository, an example question in question/
# (info.json with externalGradingOptions, question.html). INSTRUCTORS.md says how to use it.
#
#   scripts/prairielearn.sh DIR
#
# The toolchain is the development container's (.devcontainer/devcontainer.json).
set -euo pipefail

if [[ $# -ne 1 || $1 == -* ]]; then
    echo "usage: scripts/prairielearn.sh DIR" >&2
    exit 2
fi
out=$1
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
    echo "prairielearn: $*" >&2
    exit 1
}
if [[ -e $out && ! -d $out ]] || [[ -d $out && -n $(ls -A "$out") ]]; then
    fail "$out exists and is not an empty directory"
fi
toolchain=$(sed -n 's/^ *"args": { "RUST_TOOLCHAIN": "\(1\.[0-9]*\.[0-9]*\)" }$/\1/p' "$root/.devcontainer/devcontainer.json")
[[ -n $toolchain ]] || fail "no RUST_TOOLCHAIN in .devcontainer/devcontainer.json"
# The time a grading may take: 3 minutes for the lab's checker (INSTRUCTORS.md has the
# measured times), the build included; PrairieLearn stops the container 20 s later.
limit=180
timeout=$((limit + 20))

mkdir -p "$out/question"
"$root/scripts/handout.sh" "$out/lab" >/dev/null
rm -rf "$out/lab/.git"
[[ ! -e $out/lab/solution ]] || fail "the handout holds solution/"
sed "s/@RUST_TOOLCHAIN@/$toolchain/" "$root/scripts/prairielearn/Dockerfile" >"$out/Dockerfile"
cp "$root/.devcontainer/setup.sh" "$out/setup.sh"
cp "$root/scripts/prairielearn/grade" "$out/grade"
chmod 755 "$out/setup.sh" "$out/grade"
sed -e "s/@TIMEOUT@/$timeout/" -e "s/@TIME_LIMIT@/$limit/" "$root/scripts/prairielearn/info.json" \
    >"$out/question/info.json"
cp "$root/scripts/prairielearn/question.html" "$out/question/question.html"
echo "prairielearn: wrote $out (Rust $toolchain; grading limit $limit s, PrairieLearn's timeout $timeout s)"
