#!/usr/bin/env bash
# Makes a handout in a temporary directory and checks it as a student would meet it: no
# answers in it or in its history, a README that names only what is there, a lock file
# that builds --locked, and `cargo test --workspace --locked` green at every stage of the
# work, with the checker grading each stage as it should. CONTRIBUTING.md says more.
#
#   scripts/check-handout.sh
set -euo pipefail

source "$(dirname "$0")/proving.sh" check-handout
help_or_none "$@"
begin
dir=$work/lab

"$root/scripts/handout.sh" "$dir"

step "no solution, no instructor material, in the tree or its history"
for gone in solution INSTRUCTORS.md CONTRIBUTING.md docs/platforms.md .ci scripts/handout.sh scripts/check-handout.sh \
    checker/tests/verdicts.rs checker/tests/grading.rs checker/tests/pictures.rs \
    checker/tests/environment.rs checker/tests/hostile.rs checker/tests/watch.rs checker/tests/inert.rs \
    scripts/fill-todos.awk scripts/stage.sh scripts/check-grade-class.sh \
    scripts/gradescope.sh scripts/gradescope scripts/ci scripts/check-kits.sh scripts/verdicts-stable.sh \
    scripts/check-platforms.sh scripts/platforms scripts/prairielearn scripts/prairielearn.sh \
    scripts/similarity.sh scripts/similarity scripts/proving.sh; do
    [[ ! -e $dir/$gone ]] || fail "the handout has $gone"
done
[[ -f $dir/.github/workflows/classroom.yml ]] || fail "the handout has no Classroom workflow"
for kept in .devcontainer/devcontainer.json .devcontainer/Dockerfile .devcontainer/setup.sh .devcontainer/post-create.sh; do
    [[ -f $dir/$kept ]] || fail "the handout has no $kept (students on macOS and Windows need it)"
done
if grep -n 'solution' "$dir/.github/workflows/classroom.yml"; then
    fail "the Classroom workflow names the solution (lines above)"
fi
[[ $(git -C "$dir" rev-list --all | wc -l) -eq 1 ]] || fail "the handout's history has more than one commit"
if git -C "$dir" log --all --name-only --format= | grep -E '^(solution/|INSTRUCTORS\.md)'; then
    fail "the handout's history holds the files above"
fi

step "no answer code: fork, signalfd and waitpid appear only in comments"
answers=$(git -C "$dir" grep -nE 'fork\(|SignalFd::(new|with_flags)|waitpid\(' -- '*.rs' |
    grep -vE '^[^:]+:[0-9]+:[[:space:]]*//' || true)
[[ -z $answers ]] || fail "answer code in the handout:"$'\n'"$answers"

step "the README names only what the handout has"
readme=$dir/README.md
if grep -nE 'solution|faulty|fixture|INSTRUCTORS' "$readme"; then
    fail "the README mentions instructor material (lines above)"
fi
for package in $(grep -oE 'cargo run -p [a-z-]+' "$readme" | awk '{ print $4 }' | sort -u); do
    grep -qx "name = \"$package\"" "$dir"/*/Cargo.toml || fail "the README runs package $package, which the handout lacks"
done

# Every stage shares one target directory, so only the server is compiled again.
export CARGO_TARGET_DIR=$work/target
cd "$dir"
server=skeleton/src/bin/server.rs
stage() {
    local name=$1 todos=$2 total=$3
    step "stage $name (TODOs done: ${todos:-none}): cargo test, then the checker"
    if [[ -n $todos ]]; then
        awk -v todos="$todos" -f "$root/scripts/fill-todos.awk" \
            "$root/solution/src/bin/server.rs" "$root/$server" >"$server"
    fi
    cargo test --workspace --locked --quiet >"$work/test.log" 2>&1 ||
        { cat "$work/test.log"; fail "cargo test --workspace --locked failed at stage $name"; }
    local report
    report=$(cargo run --locked --quiet -p checker -- --size 8M 2>&1) || true
    grep -qx "$total" <<<"$report" ||
        { echo "$report"; fail "stage $name: the checker did not say \"$total\""; }
}
stage untouched "" "Total: 0/100, bonus not checked, task 3 not checked"

step "every path the README names exists, now that the lab was built and graded once"
paths=$(grep -oE '(^|[^A-Za-z0-9_./-])(skeleton|checker|gen-testfile|scripts|docs|target)/[A-Za-z0-9_./*-]*' "$readme" |
    sed -E 's/^[^a-z]//; s/[.]+$//' | sort -u)
for path in $paths; do
    # The README's target/ is the one cargo uses here.
    compgen -G "${path/#target\//$CARGO_TARGET_DIR/}" >/dev/null ||
        fail "the README names $path, which the handout lacks"
done
[[ -z $(git status --porcelain) ]] ||
    fail "building, testing and grading left changes that git shows: $(git status --porcelain)"
step "a server that does not compile: graded 0, and both logs of the last run replaced"
echo 'fn broken() -> u32 { "text" }' >>"$server"
status=0
report=$(cargo run --locked --quiet -p checker -- --size 8M 2>&1) || status=$?
[[ $status -eq 1 ]] || { echo "$report"; fail "a compile error: exit status $status, not 1"; }
grep -q "skeleton/src/bin/server.rs does not compile" <<<"$report" && grep -qx "Total: 0/100, bonus not checked, task 3 not checked" <<<"$report" ||
    { echo "$report"; fail "a compile error is not reported as such"; }
for log in skeleton/server_output.log skeleton/client_output.log; do
    grep -qx -- "----- checker: the server does not compile, so no server or client ran -----" "$log" ||
        fail "$log still tells of an earlier run: $(head -3 "$log")"
done
git checkout --quiet -- "$server"

stage "task 1" "1 2 3 4" "Total: 50/100, bonus not checked, task 3 not begun"
stage "task 2" "1 2 3 4 5" "Total: 100/100, bonus not begun, task 3 not begun"
stage bonus "1 2 3 4 5 6 7" "Total: 100/100, bonus passed, task 3 not begun"
# Task 3 builds on task 1 only: done before task 2, it passes all the same.
stage "task 3 before task 2" "1 2 3 4 8 9" "Total: 50/100, bonus not checked, task 3 passed"
stage "task 3" "1 2 3 4 5 6 7 8 9" "Total: 100/100, bonus passed, task 3 passed"

step "the handout is sound"
