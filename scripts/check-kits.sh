#!/usr/bin/env bash
# Proves the grading kits on real gradings: the Gradescope zip (setup.sh, then
# run_autograder in a scratch autograder root for every kind of upload, and a grader that
# fails), the GitHub Classroom workflow (every command of it run as the runner would,
# against a handout of this tree), and the CI class workflow's jobs down to its merge by
# `checker class --merge`. Nothing of the runs may be left running and this tree must be
# unchanged. Uploads are 8 MiB (--size 8M) to keep it short.
#
#   scripts/check-kits.sh
set -euo pipefail

source "$(dirname "$0")/proving.sh" check-kits
help_or_none "$@"
begin

# Asserts a results.json: its score, each test's status in order (p passed, f failed; the
# bonus and task 3 are tests only once begun), a text its top-level output must hold, and
# Gradescope's rules (numbers, visibility, text formats, max_score adding up to 100, the
# bonus and task 3 worth 0, no path of the grading machine in what students read).
check_results() {
    python3 - "$@" <<'PY'
import json, sys
path, score, statuses, needle = sys.argv[1], float(sys.argv[2]), sys.argv[3].split(), sys.argv[4]
def fail(message):
    sys.exit(f"check-kits: {path}: {message}")
with open(path) as f:
    result = json.load(f)
if result.get("score") != score:
    fail(f"score {result.get('score')}, not {score:g}")
if needle not in result.get("output", ""):
    fail(f"the output does not say {needle!r}: {result.get('output', '')[:400]!r}")
for key, want in [("visibility", "visible"), ("output_format", "text")]:
    if result.get(key) != want:
        fail(f"{key} is {result.get(key)!r}, not {want!r}")
if "/autograder" in result.get("output", "") or "/tmp/" in result.get("output", ""):
    fail(f"the output names a path of the grading machine: {result['output']!r}")
tests = result.get("tests", [])
numbers = [int(t.get("number")) for t in tests]
if numbers != sorted(numbers) or len(set(numbers)) != len(numbers):
    fail(f"the tests are not numbered in order: {numbers}")
if tests and sum(t["max_score"] for t in tests) != 100:
    fail(f"max_score adds up to {sum(t['max_score'] for t in tests)}, not 100")
if sum(t["score"] for t in tests) != score:
    fail(f"the tests' scores add up to {sum(t['score'] for t in tests)}, not {score:g}")
for t in tests:
    if t["name"].startswith(("bonus:", "task 3:")) and t["max_score"]:
        fail(f"{t['name']} is worth {t['max_score']}, not 0")
got = ["p" if t["status"] == "passed" else "f" for t in tests]
if got != statuses:
    fail(f"statuses {' '.join(got)}, not {' '.join(statuses)}")
for t in tests:
    if t.get("visibility") != "visible" or not t.get("output"):
        fail(f"test {t['name']!r} is not visible with a reason: {t}")
PY
}

# ---------------------------------------------------------------------------------------
step "gradescope.sh refuses bad usage"
for bad in "" "out.tar" "-h"; do
    status=0
    scripts/gradescope.sh $bad >/dev/null 2>&1 || status=$?
    [[ $status -eq 2 ]] || fail "gradescope.sh ${bad:-(no argument)} exited $status, not 2"
done
status=0
scripts/gradescope.sh "$work/no/such/dir/a.zip" 2>/dev/null || status=$?
[[ $status -eq 1 ]] || fail "gradescope.sh into a missing folder exited $status, not 1"

step "gradescope.sh writes the zip; setup.sh builds and warms it (the toolchain step skipped)"
scripts/gradescope.sh "$work/autograder.zip" >/dev/null
ag=$work/autograder
mkdir -p "$ag/source" "$ag/submission"
# Unzipped as Gradescope does, file modes kept.
python3 - "$work/autograder.zip" "$ag/source" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        z.extract(info, sys.argv[2])
        mode = info.external_attr >> 16
        if mode and not info.is_dir():
            os.chmod(os.path.join(sys.argv[2], info.filename), mode & 0o777)
PY
for file in setup.sh run_autograder; do
    [[ -x $ag/source/$file ]] || fail "the zip's $file is not executable"
done
for gone in solution INSTRUCTORS.md .ci scripts/check-kits.sh scripts/gradescope.sh; do
    [[ ! -e $ag/source/lab/$gone ]] || fail "the zip's lab has $gone"
done
grep -qE '^toolchain=1\.[0-9]+\.[0-9]+$' "$ag/source/setup.sh" || fail "setup.sh names no toolchain version"
AUTOGRADER_ROOT=$ag LAB_SETUP_SKIP_TOOLCHAIN=1 "$ag/source/setup.sh" >"$work/setup.log" 2>&1 ||
    { cat "$work/setup.log"; fail "setup.sh failed"; }
[[ -x $ag/source/lab/target/debug/checker ]] || fail "setup.sh built no checker"
[[ -d $ag/source/lab/target/submissions-warm/debug ]] || fail "setup.sh did not warm target/submissions-warm"

# An empty upload folder and no result.
new_upload() {
    rm -rf "$ag/submission" "$ag/results"
    mkdir -p "$ag/submission"
}
# Runs run_autograder on what submission/ holds, with the environment given; leaves its
# exit status in $status and its result in $work/NAME.json.
autograde() {
    local name=$1
    shift
    status=0
    env AUTOGRADER_ROOT="$ag" AUTOGRADER_CHECKER_OPTIONS="--size 8M" "$@" \
        "$ag/source/run_autograder" >"$work/$name.log" 2>&1 || status=$?
    if [[ -f $ag/results/results.json ]]; then
        cp "$ag/results/results.json" "$work/$name.json"
    else
        rm -f "$work/$name.json"
    fi
    leftovers "$name"
}
# A grading that failed: no results.json (Gradescope then shows that the autograder
# failed, records no score, and the student may submit again), exit status 1, and the
# output that staff see saying why.
expect_grader_failed() {
    local name=$1 said=$2
    [[ $status -eq 1 ]] || { cat "$work/$name.log"; fail "$name: run_autograder exited $status, not 1"; }
    [[ ! -e $work/$name.json && ! -e $ag/results/results.json ]] || fail "$name: a results.json was written"
    grep -qF "$said" "$work/$name.log" || { cat "$work/$name.log"; fail "$name: the output does not say: $said"; }
}
expect_status() {
    [[ $status -eq $2 ]] || { cat "$work/$1.log"; fail "$1: run_autograder exited $status, not $2"; }
}
sub=$ag/submission

step "run_autograder: the reference, uploaded as server.rs"
new_upload
cp solution/src/bin/server.rs "$sub/server.rs"
autograde reference
expect_status reference 0
[[ -f $work/reference.json ]] || { cat "$work/reference.log"; fail "reference: no results.json"; }
check_results "$work/reference.json" 100 "p p p p p p" "Total: 100/100, bonus passed, task 3 passed"

step "run_autograder: task 1 done, uploaded alone under another name"
new_upload
scripts/stage.sh 1 "$sub/my_server.rs"
autograde task1
expect_status task1 0
# The bonus was not checked and task 3 not begun: neither shows as a failed test.
check_results "$work/task1.json" 50 "p p f f" "Total: 50/100, bonus not checked, task 3 not begun"
grep -q "Next: task 2, TODO 5 in server.rs" "$work/task1.json" || fail "task1: the report does not point at server.rs"
grep -q 'Last lines of the server log:' "$work/task1.json" || fail "task1: the output holds no tail of the server log"

step "run_autograder: a whole repository uploaded, task 2 done"
new_upload
git ls-files -z | grep -zvE '^solution/' | tar --null -T - -cf - | tar -C "$sub" -xf -
scripts/stage.sh 2 "$sub/skeleton/src/bin/server.rs"
echo "notes" >"$sub/NOTES.txt"
autograde repository
expect_status repository 0
check_results "$work/repository.json" 100 "p p p p" "Total: 100/100, bonus not begun, task 3 not begun"

step "run_autograder: a repository uploaded inside a folder of its own, task 1 done"
new_upload
mkdir -p "$sub/lab-main/skeleton/src/bin"
scripts/stage.sh 1 "$sub/lab-main/skeleton/src/bin/server.rs"
echo "notes" >"$sub/lab-main/README.md"
autograde nested
expect_status nested 0
check_results "$work/nested.json" 50 "p p f f" "Total: 50/100, bonus not checked, task 3 not begun"

step "run_autograder: a server.rs that is a link, or inside a linked folder, is refused"
new_upload
mkdir -p "$sub/skeleton/src/bin"
ln -s "$root/solution/src/bin/server.rs" "$sub/skeleton/src/bin/server.rs"
autograde link
expect_status link 0
check_results "$work/link.json" 0 "" "Your upload was not graded: skeleton/src/bin/server.rs is a link or no regular file."
new_upload
ln -s "$root/solution" "$sub/skeleton"
autograde linked-folder
expect_status linked-folder 0
check_results "$work/linked-folder.json" 0 "" "Your upload was not graded: skeleton/src/bin/server.rs is a link or no regular file."

step "run_autograder: a server that does not compile"
new_upload
{ cat skeleton/src/bin/server.rs; echo 'fn broken() -> u32 { "text" }'; } >"$sub/server.rs"
autograde broken
expect_status broken 0
check_results "$work/broken.json" 0 "f f f f" "server.rs does not compile"
grep -q 'expected `u32`, found `&str`' "$work/broken.json" || fail "broken: the compiler's error is not in the result"

step "run_autograder: a build that never ends, under a time limit of 40 s (the checker's own: 10 s)"
new_upload
{
    echo '#![allow(long_running_const_eval)]'
    cat skeleton/src/bin/server.rs
    echo 'const _: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); if i == 0 { break i; } } };'
} >"$sub/server.rs"
started=$(date +%s)
autograde endless AUTOGRADER_TIME_LIMIT=40
[[ $(($(date +%s) - started)) -lt 40 ]] || fail "endless: the checker's limit of 10 s took $(($(date +%s) - started)) s"
# A build stopped at the limit is no grade: a slow machine would look the same.
expect_grader_failed endless "no grade is recorded for a build that did not finish"

step "run_autograder: uploads it refuses"
new_upload
echo 'fn main() {}' >"$sub/a.rs"
echo 'fn main() {}' >"$sub/b.rs"
autograde two-files
expect_status two-files 0
check_results "$work/two-files.json" 0 "" "Your upload was not graded: it holds 2 files and no skeleton/src/bin/server.rs:"
grep -q '  a.rs\\n  b.rs' "$work/two-files.json" || fail "two-files: the refusal does not list the files"
new_upload
autograde empty
expect_status empty 0
check_results "$work/empty.json" 0 "" "Your upload was not graded: the upload is empty."

step "run_autograder: the checker misused (exit 2), a port it cannot have, a bad time limit: no result, no score"
new_upload
cp solution/src/bin/server.rs "$sub/server.rs"
autograde misused AUTOGRADER_CHECKER_OPTIONS="--size nonsense"
expect_grader_failed misused "the checker exited with status 2"
# The checker's own trouble (exit status 3), here no scratch folder to grade in: no score
# may be recorded from a run that could not grade.
autograde no-scratch TMPDIR="$work/no-such-folder"
expect_grader_failed no-scratch "the checker exited with status 3"
autograde bad-limit AUTOGRADER_TIME_LIMIT=soon
expect_grader_failed bad-limit 'AUTOGRADER_TIME_LIMIT is "soon", not a number of seconds'

# ---------------------------------------------------------------------------------------
step "Classroom: the handout's workflow, run as the runner would (template = a handout of this tree)"
scripts/handout.sh "$work/template" >/dev/null
# Plays one push: a student's copy of the handout with SERVER as their server.rs. Leaves
# the runner's exit status in $status and its output in $work/classroom-NAME.log.
classroom() {
    local name=$1 stage=$2
    rm -rf "$work/student" "$work/runner"
    cp -a "$work/template" "$work/student"
    scripts/stage.sh "$stage" "$work/student/skeleton/src/bin/server.rs"
    # Whatever the student does to their own checker changes nothing.
    echo 'fn main() { println!("Total: 100/100"); }' >"$work/student/checker/src/main.rs"
    status=0
    python3 scripts/ci/run-classroom.py "$work/student/.github/workflows/classroom.yml" \
        --student "$work/student" --template "$work/template" --workspace "$work/runner" \
        --env LAB_CHECKER_OPTIONS="--size 8M" >"$work/classroom-$name.log" 2>&1 || status=$?
    leftovers "classroom $name"
}
classroom task1 1
[[ $status -eq 1 ]] || { cat "$work/classroom-task1.log"; fail "Classroom, task 1: the runner exited $status, not 1 (a failed job)"; }
grep -qx "Points 50/100" "$work/classroom-task1.log" || { cat "$work/classroom-task1.log"; fail "Classroom, task 1: not 50/100"; }
grep -qx "run-classroom: Task 2: one process per upload (TODO 5): fail" "$work/classroom-task1.log" ||
    fail "Classroom, task 1: task 2 did not fail"
[[ -f $work/runner/server.rs && ! -e $work/runner/student ]] ||
    fail "Classroom: the student's checkout is still there, or their server.rs is not: $(ls "$work/runner")"
classroom bonus bonus
[[ $status -eq 0 ]] || { cat "$work/classroom-bonus.log"; fail "Classroom, bonus: the runner exited $status, not 0"; }
grep -qx "Points 100/100" "$work/classroom-bonus.log" || { cat "$work/classroom-bonus.log"; fail "Classroom, bonus: not 100/100"; }
# Optional work: a note says whether it passed, and its step passes either way.
optional_step() {
    local log=$work/classroom-$1.log title=$2 step=$3 note=$4
    grep -qx "run-classroom: step .$step.: passed" "$log" && grep -qx "::notice title=$title::$note" "$log" ||
        { cat "$log"; fail "Classroom, $1: the step \"$step\" did not pass with the note \"$note\""; }
}
grep -qx "Total: bonus passed" "$work/classroom-bonus.log" || fail "Classroom, bonus: the bonus was not graded passed"
optional_step bonus Bonus "Bonus (no points, shown here for you)" "passed"
optional_step task1 Bonus "Bonus (no points, shown here for you)" \
    "not passed yet (optional, no points): the report above says why"
optional_step bonus "Task 3" "Task 3 (optional, no points, shown here for you)" \
    "not passed yet (optional, no points): the report above says why"
if grep -q "failed (continue-on-error)" "$work/classroom-task1.log" "$work/classroom-bonus.log"; then
    fail "Classroom: a step failed: $(grep -h "failed (continue-on-error)" "$work/classroom-task1.log" "$work/classroom-bonus.log")"
fi

step "Classroom: the checker's build is cached under the toolchain, the lock file and the pinned commit"
lock=$(python3 -c 'import hashlib, sys; print(hashlib.sha256(hashlib.sha256(open(sys.argv[1], "rb").read()).digest()).hexdigest())' "$work/template/Cargo.lock")
commit=$(sed -n 's/^  LAB_TEMPLATE_COMMIT: "\([0-9a-f]*\)"$/\1/p' "$work/template/.github/workflows/classroom.yml")
key="lab-checker-Linux-rustc-$(rustc --version | awk '{ print $2 }')-$lock-$commit"
for name in task1 bonus; do
    grep -qx "run-classroom: cache: restore $key: not found" "$work/classroom-$name.log" &&
        grep -qx "run-classroom: cache: save $key (3 paths)" "$work/classroom-$name.log" ||
        { cat "$work/classroom-$name.log"; fail "Classroom, $name: the cache was not restored and saved under $key"; }
done

step "Classroom: the runner refuses a workflow that breaks a rule"
broken_workflow() {
    sed "$1" "$work/template/.github/workflows/classroom.yml" >"$work/broken.yml"
    status=0
    python3 scripts/ci/run-classroom.py "$work/broken.yml" --student "$work/template" \
        --template "$work/template" --workspace "$work/broken-runner" >"$work/broken.log" 2>&1 || status=$?
    [[ $status -eq 2 ]] && grep -q "$2" "$work/broken.log" ||
        { cat "$work/broken.log"; fail "a workflow edited with '$1' was not refused with \"$2\""; }
}
broken_workflow 's/persist-credentials: false/persist-credentials: true/' "keeps the token"
broken_workflow 's/^  contents: read$/  contents: write/' "never to write the repository"
broken_workflow '/^  - workflow_dispatch$/d' "not \['push', 'workflow_dispatch'\]"
broken_workflow "s/-\${{ env.LAB_TEMPLATE_COMMIT }}\$//" "does not hold \${{ env.LAB_TEMPLATE_COMMIT }}"
broken_workflow "/if: steps.cache.outputs.cache-hit != 'true'/d" "saved even when it was found"
broken_workflow 's/max-score: 50/max-score: 40/' "add up to 80, not 100"
broken_workflow '/timeout-minutes: 20/d' "no timeout-minutes"
broken_workflow 's/runners: task1,task2/runners: task1/' "the reporter's runners"
broken_workflow 's/ref: .*/ref: main/' "pinned commit must be written once"

# ---------------------------------------------------------------------------------------
step "CI: grade-class.yml keeps the rules (timeouts, contents: read, no persisted token)"
python3 - scripts/ci/grade-class.yml "$work/ci-steps" <<'PY'
import importlib.util, os, sys
spec = importlib.util.spec_from_file_location("runner", "scripts/ci/run-classroom.py")
runner = importlib.util.module_from_spec(spec)
spec.loader.exec_module(runner)
path, out = sys.argv[1], sys.argv[2]
text = open(path).read()
workflow = runner.parse_yaml(text)
def fail(message):
    sys.exit(f"check-kits: {path}: {message}")
if workflow.get("permissions") != {"contents": "read"}:
    fail(f"permissions {workflow.get('permissions')}, not contents: read")
os.makedirs(out)
for job_name, job in workflow["jobs"].items():
    if "permissions" in job:
        fail(f"job {job_name} widens the permissions")
    if not str(job.get("timeout-minutes", "")).isdigit():
        fail(f"job {job_name} has no timeout-minutes")
    for number, step in enumerate(job["steps"]):
        if step.get("uses", "").startswith("actions/checkout@") and step.get("with", {}).get("persist-credentials") != "false":
            fail(f"a checkout of job {job_name} keeps the token")
        if "run" in step:
            with open(os.path.join(out, f"{job_name}-{number}.sh"), "w") as f:
                f.write(step["run"])
PY
grep -q 'scripts/handout.sh "$lab"' "$work/ci-steps/grade-1.sh" || fail "the grade job does not grade in a handout"
grep -q 'find "$GITHUB_WORKSPACE" -mindepth 1 -delete' "$work/ci-steps/grade-1.sh" ||
    fail "the grade job leaves the instructor's repository on the runner"

# A grading repository: this tree, committed, with a class in submissions/.
repo=$work/ci-repo
mkdir -p "$repo"
git ls-files -z | tar --null -T - -cf - | tar -C "$repo" -xf -
mkdir -p "$repo/submissions/bonus"
scripts/stage.sh 1 "$repo/submissions/task1.rs"
cp solution/src/bin/server.rs "$repo/submissions/bonus/server.rs"
{ cat skeleton/src/bin/server.rs; echo 'fn broken() -> u32 { "text" }'; } >"$repo/submissions/broken.rs"
echo "not a submission" >"$repo/submissions/README.txt"
git -C "$repo" init -q
git -C "$repo" add -A
git -C "$repo" -c user.name=kit -c user.email=kit@localhost commit -qm "a grading repository"
# Runs one run: step of the workflow as its runner would (bash -e, a bare environment).
ci_step() {
    local script=$1 dir=$2
    shift 2
    (cd "$dir" && env -i PATH="$PATH" HOME="$HOME" CHECK_KITS_MARKER="$CHECK_KITS_MARKER" "$@" \
        bash -e "$work/ci-steps/$script")
}

step "CI: the list job makes the matrix from submissions/"
ci_step list-1.sh "$repo" GITHUB_OUTPUT="$work/list.out" >/dev/null
[[ $(cat "$work/list.out") == 'names=["bonus","broken","task1"]' ]] || fail "the list job wrote: $(cat "$work/list.out")"
cp -a "$repo" "$work/ci-bad"
echo 'fn main() {}' >"$work/ci-bad/submissions/a b.rs"
status=0
ci_step list-1.sh "$work/ci-bad" GITHUB_OUTPUT="$work/bad.out" >"$work/bad.log" 2>&1 || status=$?
[[ $status -eq 1 ]] && grep -q '::error::submission "a b"' "$work/bad.log" || fail "the list job took the name \"a b\""

step "CI: the grade job grades task1 in a handout and leaves nothing of the repository"
cp -a "$repo" "$work/ci-task1"
mkdir -p "$work/runner-task1"
ci_step grade-1.sh "$work/ci-task1" NAME=task1 RUNNER_TEMP="$work/runner-task1" \
    GITHUB_WORKSPACE="$work/ci-task1" >"$work/ci-task1.log" 2>&1 || { cat "$work/ci-task1.log"; fail "the grade job failed for task1"; }
leftovers "the grade job"
[[ -z $(ls -A "$work/ci-task1") ]] || fail "the grade job left the repository on the runner: $(ls -A "$work/ci-task1")"
[[ ! -e $work/runner-task1/lab/solution && ! -e $work/runner-task1/lab/submissions ]] || fail "the graded tree holds solution/ or submissions/"
grep -qx "Total: 50/100, bonus not checked, task 3 not begun" "$work/runner-task1/out/task1/report.txt" || fail "the grade job did not grade task1 50/100"

step "CI: the merge job's step, with two results from \`checker class\`, one from the grade job, one lost, one not graded"
cargo build --quiet -p checker
target/debug/checker class "$repo/submissions" "$work/class-out" --size 8M >"$work/class.log" 2>&1 ||
    { cat "$work/class.log"; fail "checker class failed"; }
leftovers "checker class"
cp -a "$repo" "$work/ci-merge"
scripts/stage.sh untouched "$work/ci-merge/submissions/lost.rs"
scripts/stage.sh untouched "$work/ci-merge/submissions/trouble.rs"
mkdir -p "$work/ci-merge/results/trouble"
cp -a "$work/class-out/bonus" "$work/class-out/broken" "$work/ci-merge/results/"
cp -a "$work/runner-task1/out/task1" "$work/ci-merge/results/"
echo "not graded (exit 3): checker: cannot run cargo" >"$work/ci-merge/results/trouble/ungraded.txt"
# The grade job's build, so that the merge step builds only the lab's own crates again.
cp -a "$work/runner-task1/lab/target" "$work/ci-merge/target"
status=0
ci_step merge-2.sh "$work/ci-merge" >"$work/merge.log" 2>&1 || status=$?
[[ $status -eq 0 ]] || { cat "$work/merge.log"; fail "the merge step failed ($status)"; }
expected="submission,score,bonus,task3,failed_checks
bonus,100,passed,passed,
broken,0,not-checked,not-checked,whole-upload;keeps-serving;concurrent-uploads;process-per-client;no-zombies;async-uploads
lost,,,,not graded: no result came back
task1,50,not-checked,not-attempted,concurrent-uploads;process-per-client;no-zombies;async-uploads
trouble,,,,not graded (exit 3): checker: cannot run cargo"
[[ $(cut -d, -f1-5 "$work/ci-merge/results/grades.csv") == "$expected" ]] ||
    fail "the merged grades.csv is:"$'\n'"$(cat "$work/ci-merge/results/grades.csv")"
# What the merge wrote of the results it was given is what grading the class wrote.
[[ $(grep -E '^(bonus|broken),' "$work/ci-merge/results/grades.csv" | cut -d, -f1-6) == \
    $(grep -E '^(bonus|broken),' "$work/class-out/grades.csv" | cut -d, -f1-6) ]] ||
    fail "the merge and checker class differ for the same results"
grep -q '| task 1: receives a whole upload | 2 | 0 | 1 |' "$work/ci-merge/results/summary.md" ||
    fail "the merge's summary.md does not count two passed and one not checked: $(cat "$work/ci-merge/results/summary.md")"

# ---------------------------------------------------------------------------------------
unchanged "the kits"
echo "check-kits: every kit graded as expected, nothing left behind"
