#!/usr/bin/env bash
# Proves the lab's platform glue on this machine, each part in a temporary folder:
#   devcontainer  .devcontainer/: its JSON read as the tools read it (comments allowed),
#                 its set-up commands run as the image runs them (the toolchain installed
#                 into a temporary RUSTUP_HOME and CARGO_HOME, which needs the network),
#                 then the lab built and started there as the README says; and the build
#                 on any system but Linux stopping at one message.
#   prairielearn  the PrairieLearn image's set-up and entrypoint on a /grade laid out in
#                 a temporary root: a good server, a broken one, one that cannot be graded.
#   similarity    scripts/similarity.sh lays out a class for a similarity tool (the tool
#                 itself is not run here: it needs Node.js).
# Nothing of the runs may be left running and this tree must be unchanged.
#
#   scripts/check-platforms.sh [devcontainer|prairielearn|similarity]...   (all by default)
set -euo pipefail

source "$(dirname "$0")/proving.sh" check-platforms
parts=()
for arg in "$@"; do
    case $arg in
    -h | --help)
        proving_help
        exit 0
        ;;
    devcontainer | prairielearn | similarity) parts+=("$arg") ;;
    *)
        echo "check-platforms: no part named \"$arg\" (devcontainer, prairielearn, similarity)" >&2
        exit 2
        ;;
    esac
done
[[ ${#parts[@]} -gt 0 ]] || parts=(devcontainer prairielearn similarity)

begin

# ---------------------------------------------------------------------------------------
check_devcontainer() {
    step "devcontainer: devcontainer.json reads as JSON with comments and says what the lab needs"
    python3 scripts/platforms/jsonc.py .devcontainer/devcontainer.json >"$work/devcontainer.json" ||
        fail "devcontainer.json does not read"
    toolchain=$(python3 - "$work/devcontainer.json" <<'PY'
import json, re, sys
c = json.load(open(sys.argv[1]))
def fail(message):
    sys.exit(f"check-platforms: devcontainer.json: {message}")
build = c.get("build", {})
if build.get("dockerfile") != "Dockerfile":
    fail(f"build.dockerfile is {build.get('dockerfile')!r}, not Dockerfile")
toolchain = build.get("args", {}).get("RUST_TOOLCHAIN", "")
if not re.fullmatch(r"1\.\d+\.\d+", toolchain):
    fail(f"build.args.RUST_TOOLCHAIN is {toolchain!r}, not a version like 1.95.0")
run_args = c.get("runArgs", [])
options = [run_args[i + 1] for i, a in enumerate(run_args[:-1]) if a == "--security-opt"]
for needed in ["seccomp=unconfined", "apparmor=unconfined", "systempaths=unconfined"]:
    if needed not in options:
        fail(f"runArgs lack --security-opt {needed}, without which the checker cannot contain a server")
if "--privileged" in run_args or any(a.startswith("--cap-add") for a in run_args):
    fail("runArgs grant privileges the checker does not need")
if c.get("remoteUser") in (None, "root"):
    fail("remoteUser is root: students work as a plain user")
if c.get("postCreateCommand") != "bash .devcontainer/post-create.sh":
    fail(f"postCreateCommand is {c.get('postCreateCommand')!r}")
if "rust-lang.rust-analyzer" not in c.get("customizations", {}).get("vscode", {}).get("extensions", []):
    fail("VS Code is not given rust-analyzer")
print(toolchain)
PY
    )
    needed=$(sed -n 's/^rust-version = "\(.*\)"$/\1/p' Cargo.toml)
    [[ $(printf '%s\n' "$needed" "$toolchain" | sort -V | head -1) == "$needed" ]] ||
        fail "the container's toolchain $toolchain is older than the workspace's rust-version $needed"
    grep -qx 'RUN bash /tmp/lab-setup.sh "$RUST_TOOLCHAIN" vscode && rm /tmp/lab-setup.sh' .devcontainer/Dockerfile ||
        fail "the Dockerfile does not run setup.sh with the toolchain of devcontainer.json"
    printf '{"a": 1 /* never closed' >"$work/bad.jsonc"
    ! python3 scripts/platforms/jsonc.py "$work/bad.jsonc" >/dev/null 2>&1 || fail "jsonc.py read a broken file"

    step "devcontainer: setup.sh refuses bad usage"
    for bad in "" "stable" "1.95"; do
        status=0
        RUSTUP_HOME=$work/x CARGO_HOME=$work/x .devcontainer/setup.sh $bad >/dev/null 2>&1 || status=$?
        [[ $status -eq 2 ]] || fail "setup.sh ${bad:-(no argument)} exited $status, not 2"
    done

    step "devcontainer: setup.sh installs Rust $toolchain into a temporary home, as the image does"
    local home=$work/dev-home
    mkdir -p "$home"
    started=$(date +%s)
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$home" \
        RUSTUP_HOME="$home/rustup" CARGO_HOME="$home/cargo" \
        .devcontainer/setup.sh "$toolchain" "$(id -un)" >"$work/setup.log" 2>&1 ||
        { cat "$work/setup.log"; fail "setup.sh failed"; }
    step "devcontainer: ... in $(($(date +%s) - started)) s"
    grep -qx "setup.sh: rustc $toolchain, rustfmt and clippy in $home/rustup and $home/cargo" "$work/setup.log" ||
        { cat "$work/setup.log"; fail "setup.sh did not say it installed $toolchain"; }
    # What the container's user has: the toolchain's PATH, its homes, the lab's folder.
    in_container() {
        (cd "$work/lab" && env -i PATH="$home/cargo/bin:/usr/local/bin:/usr/bin:/bin" HOME="$home" \
            RUSTUP_HOME="$home/rustup" CARGO_HOME="$home/cargo" CHECK_KITS_MARKER="$CHECK_KITS_MARKER" "$@")
    }

    step "devcontainer: post-create.sh builds a student's copy from nothing"
    scripts/handout.sh "$work/lab" >/dev/null
    [[ -f $work/lab/.devcontainer/devcontainer.json ]] || fail "the handout has no .devcontainer/"
    started=$(date +%s)
    in_container bash .devcontainer/post-create.sh >"$work/post-create.log" 2>&1 ||
        { cat "$work/post-create.log"; fail "post-create.sh failed"; }
    step "devcontainer: ... in $(($(date +%s) - started)) s"
    grep -q "^The lab is built. Start with: cargo run -p gen-testfile$" "$work/post-create.log" ||
        fail "post-create.sh did not end with its line"

    step "devcontainer: the README's first commands run there"
    in_container cargo run -q -p gen-testfile >"$work/gen.log" 2>&1 || { cat "$work/gen.log"; fail "gen-testfile failed"; }
    [[ $(stat -c %s "$work/lab/test-file.txt") -eq $((100 << 20)) ]] || fail "test-file.txt is not 100 MiB"
    in_container cargo run -q -p checker -- --help >"$work/help.log" 2>&1 || { cat "$work/help.log"; fail "the checker's --help failed"; }
    grep -q -- "--submission" "$work/help.log" || fail "the checker's --help says nothing of --submission"
    rm -f "$work/lab/test-file.txt"

    step "devcontainer: on any system but Linux the build stops at one message"
    for os in x86_64-apple-darwin aarch64-apple-darwin x86_64-pc-windows-msvc; do
        [[ $(in_container rustc --print cfg --target "$os" | grep '^target_os=') != 'target_os="linux"' ]] ||
            fail "rustc says $os is Linux"
    done
    # This machine has no standard library of another system, so the lab's guard is tried
    # by asking it for a system that this Linux is not: whatever it removes must leave one
    # error, its own.
    for lib in skeleton/src/lib.rs gen-testfile/src/lib.rs; do
        grep -q '^#\[cfg(not(target_os = "linux"))\]$' "$work/lab/$lib" || fail "$lib has no guard"
        sed -i 's/target_os = "linux"/target_os = "no-such-system"/' "$work/lab/$lib"
    done
    for package in gen-testfile skeleton; do
        status=0
        in_container cargo check -q -p "$package" --lib --message-format short >"$work/check-$package.log" 2>&1 || status=$?
        [[ $status -eq 101 ]] || { cat "$work/check-$package.log"; fail "$package built for another system (exit $status)"; }
        errors=$(grep -c ': error' "$work/check-$package.log" || true)
        [[ $errors -eq 1 ]] && grep -q "error: the async-server lab needs Linux (epoll, fork, signalfd, /proc): on macOS or Windows, open the repository in its development container (.devcontainer/, see the README), or on Windows in WSL 2$" "$work/check-$package.log" ||
            { cat "$work/check-$package.log"; fail "$package for another system: not one error, the guard's ($errors errors)"; }
    done
    leftovers "devcontainer"
}

# ---------------------------------------------------------------------------------------
# Asserts a PrairieLearn results.json: the external grader's rules (an object under 1 MB;
# gradable, or not with format_errors; a score from 0 to 1; tests with points up to
# max_points), then what this case must show: gradable or not, the score, a text in
# message, format_errors or output.
check_pl_results() {
    python3 - "$@" <<'PY'
import json, os, sys
path, gradable, score, needle = sys.argv[1], sys.argv[2] == "gradable", sys.argv[3], sys.argv[4]
def fail(message):
    sys.exit(f"check-platforms: {path}: {message}")
if os.path.getsize(path) >= 1 << 20:
    fail("over PrairieLearn's 1 MB")
result = json.load(open(path))
if not isinstance(result, dict):
    fail("not a JSON object")
if result.get("gradable", True) is not gradable:
    fail(f"gradable is {result.get('gradable')!r}, not {gradable}")
if gradable:
    if not isinstance(result.get("score"), (int, float)) or not 0 <= result["score"] <= 1:
        fail(f"the score {result.get('score')!r} is not from 0 to 1")
    if result["score"] != float(score):
        fail(f"score {result['score']}, not {score}")
    tests = result.get("tests", [])
    if [t.get("name") for t in tests][-2:] != ["bonus: no zombies", "task 3: async uploads"] or len(tests) != 6:
        fail(f"the tests are not the six checks: {[t.get('name') for t in tests]}")
    for t in tests:
        if not (isinstance(t.get("points"), (int, float)) and 0 <= t["points"] <= t.get("max_points", -1)):
            fail(f"test {t.get('name')!r} has points {t.get('points')!r} of {t.get('max_points')!r}")
    if sum(t["max_points"] for t in tests) != 100:
        fail("the tests' max_points do not add up to 100")
    if result.get("format_errors"):
        fail("a gradable result has format_errors")
    said = result.get("message", "") + "\n" + result.get("output", "")
else:
    errors = result.get("format_errors")
    if isinstance(errors, str):
        errors = [errors]
    if not errors or not all(isinstance(e, str) and e for e in errors):
        fail(f"not gradable without format_errors: {result}")
    said = result.get("message", "") + "\n" + "\n".join(errors)
if needle not in said:
    fail(f"it does not say {needle!r}: {said[:600]!r}")
PY
}

check_prairielearn() {
    step "prairielearn: prairielearn.sh refuses bad usage"
    for bad in "" "-h"; do
        status=0
        scripts/prairielearn.sh $bad >/dev/null 2>&1 || status=$?
        [[ $status -eq 2 ]] || fail "prairielearn.sh ${bad:-(no argument)} exited $status, not 2"
    done
    mkdir -p "$work/full" && touch "$work/full/x"
    status=0
    scripts/prairielearn.sh "$work/full" >/dev/null 2>&1 || status=$?
    [[ $status -eq 1 ]] || fail "prairielearn.sh into a folder that is not empty exited $status, not 1"

    step "prairielearn: the kit: the image's folder and an example question"
    local kit=$work/pl
    scripts/prairielearn.sh "$kit" >/dev/null
    for file in Dockerfile setup.sh grade lab/Cargo.toml question/info.json question/question.html; do
        [[ -f $kit/$file ]] || fail "the kit has no $file"
    done
    [[ -x $kit/grade && ! -e $kit/lab/solution && ! -e $kit/lab/INSTRUCTORS.md ]] ||
        fail "the kit's grade is not executable, or its lab holds the solution or the instructors' guide"
    ! grep -n '@[A-Z_]*@' "$kit/Dockerfile" "$kit/question/info.json" || fail "a placeholder is left (above)"
    limit=$(python3 - "$kit/question/info.json" "$kit/Dockerfile" <<'PY'
import json, re, sys
info = json.load(open(sys.argv[1]))
docker = open(sys.argv[2]).read()
def fail(message):
    sys.exit(f"check-platforms: info.json: {message}")
options = info.get("externalGradingOptions", {})
if info.get("gradingMethod") != "External" or options.get("enabled") is not True:
    fail("external grading is not enabled")
if options.get("entrypoint") != "/opt/lab-kit/grade" or "COPY grade /opt/lab-kit/grade" not in docker:
    fail(f"the entrypoint {options.get('entrypoint')!r} is not the image's grade")
if not options.get("image"):
    fail("no image")
if options.get("enableNetworking"):
    fail("the grading asks for the network: the image must hold everything")
limit = int(options.get("environment", {}).get("LAB_TIME_LIMIT", "0"))
timeout = options.get("timeout", 30)
if not 0 < limit < timeout <= 600:
    fail(f"the grading's limit {limit} s is not below PrairieLearn's timeout {timeout} s (at most 600)")
wanted = options["environment"].get("LAB_CHECKER_OPTIONS")
if f"ARG LAB_CHECKER_OPTIONS={wanted}\n" not in docker:
    fail("the image warms its build with other checker options than info.json grades with")
print(limit)
PY
    )

    step "prairielearn: the image's set-up: grade --warm builds the checker and warms the build"
    started=$(date +%s)
    LAB_DIR=$kit/lab LAB_CHECKER_OPTIONS="--allow-uncontained" "$kit/grade" --warm >"$work/warm.log" 2>&1 ||
        { cat "$work/warm.log"; fail "grade --warm failed"; }
    step "prairielearn: ... in $(($(date +%s) - started)) s"
    leftovers "grade --warm"

    # Grades what student/ holds, in a fresh /grade laid out as PrairieLearn does; leaves
    # the entrypoint's exit status in $status and the result in $work/pl-NAME.json.
    local grade=$work/grade
    pl_grade() {
        local name=$1
        shift
        rm -rf "$grade/results"
        mkdir -p "$grade/data"
        echo '{"params": {}, "submitted_answers": {}}' >"$grade/data/data.json"
        status=0
        env PL_GRADE_ROOT="$grade" LAB_DIR="$kit/lab" LAB_CHECKER_OPTIONS="--allow-uncontained --size 8M" \
            LAB_TIME_LIMIT="$limit" "$@" "$kit/grade" >"$work/pl-$name.log" 2>&1 || status=$?
        [[ $status -eq 0 ]] || { cat "$work/pl-$name.log"; fail "$name: the entrypoint exited $status, not 0"; }
        [[ -f $grade/results/results.json ]] || { cat "$work/pl-$name.log"; fail "$name: no results/results.json"; }
        cp "$grade/results/results.json" "$work/pl-$name.json"
        leftovers "prairielearn $name"
    }
    submit() {
        rm -rf "$grade/student"
        mkdir -p "$grade/student"
        [[ $# -eq 0 ]] || cp "$@" "$grade/student/"
    }

    step "prairielearn: the reference, submitted as server.rs"
    submit
    cp solution/src/bin/server.rs "$grade/student/server.rs"
    pl_grade reference
    check_pl_results "$work/pl-reference.json" gradable 1 "Total: 100/100, bonus passed, task 3 passed"

    step "prairielearn: task 1 done"
    submit
    scripts/stage.sh 1 "$grade/student/server.rs"
    pl_grade task1
    check_pl_results "$work/pl-task1.json" gradable 0.5 "Total: 50/100, bonus not checked, task 3 not begun"

    step "prairielearn: a server that does not compile is not gradable, with the compiler's errors"
    submit
    { cat skeleton/src/bin/server.rs; echo 'fn broken() -> u32 { "text" }'; } >"$grade/student/server.rs"
    pl_grade broken
    check_pl_results "$work/pl-broken.json" not-gradable 0 'expected `u32`, found `&str`'

    step "prairielearn: uploads that cannot be graded"
    submit
    pl_grade empty
    check_pl_results "$work/pl-empty.json" not-gradable 0 "the submission is empty"
    echo 'fn main() {}' >"$work/main.rs"
    echo 'notes' >"$work/notes.txt"
    # A name with quotes and a backslash: the result must stay valid JSON.
    echo 'notes' >"$work/z \"quoted\" \\ name.txt"
    submit "$work/main.rs" "$work/notes.txt" "$work/z \"quoted\" \\ name.txt"
    pl_grade other-files
    check_pl_results "$work/pl-other-files.json" not-gradable 0 \
        'the submission holds main.rs, notes.txt, z "quoted" \ name.txt and no server.rs'

    step "prairielearn: the grader's own trouble is not gradable and says so"
    submit
    cp solution/src/bin/server.rs "$grade/student/server.rs"
    pl_grade misused LAB_CHECKER_OPTIONS="--size nonsense"
    check_pl_results "$work/pl-misused.json" not-gradable 0 "the checker exited with status 2"
    grep -q "The grader failed, not your server" "$work/pl-misused.json" || fail "misused: the message does not blame the grader"
    pl_grade bad-limit LAB_TIME_LIMIT=soon
    check_pl_results "$work/pl-bad-limit.json" not-gradable 0 'LAB_TIME_LIMIT is "soon", not a number of seconds'
    {
        echo '#![allow(long_running_const_eval)]'
        cat skeleton/src/bin/server.rs
        echo 'const _: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); if i == 0 { break i; } } };'
    } >"$grade/student/server.rs"
    started=$(date +%s)
    pl_grade endless LAB_TIME_LIMIT=10
    [[ $(($(date +%s) - started)) -lt 40 ]] || fail "endless: the limit of 10 s took $(($(date +%s) - started)) s"
    check_pl_results "$work/pl-endless.json" not-gradable 0 "the grading did not finish within 10 s"
}

# ---------------------------------------------------------------------------------------
check_similarity() {
    step "similarity: similarity.sh refuses bad usage"
    for bad in "" "a" "a b --fast" "-h x"; do
        status=0
        scripts/similarity.sh $bad >/dev/null 2>&1 || status=$?
        [[ $status -eq 2 ]] || fail "similarity.sh ${bad:-(no argument)} exited $status, not 2"
    done

    step "similarity: a class laid out for the tool, the skeleton as the code everyone was given"
    local class=$work/class out=$work/similar
    mkdir -p "$class/bob" "$class/carol/skeleton/src/bin" "$class/empty"
    cp solution/src/bin/server.rs "$class/alice.rs"
    scripts/stage.sh 2 "$class/bob/server.rs"
    scripts/stage.sh 1 "$class/carol/skeleton/src/bin/server.rs"
    ln -s "$root/solution/src/bin/server.rs" "$class/mallory.rs"
    echo "notes" >"$class/README.txt"
    scripts/similarity.sh "$class" "$out" >"$work/similarity.log" 2>&1 ||
        { cat "$work/similarity.log"; fail "similarity.sh failed"; }
    [[ $(cd "$out/files" && echo *) == "alice.rs bob.rs carol.rs" ]] || fail "files/ holds: $(ls "$out/files")"
    cmp -s "$out/base.rs" skeleton/src/bin/server.rs || fail "base.rs is not the skeleton's server.rs"
    cmp -s "$out/files/alice.rs" solution/src/bin/server.rs && cmp -s "$out/files/bob.rs" "$class/bob/server.rs" &&
        cmp -s "$out/files/carol.rs" "$class/carol/skeleton/src/bin/server.rs" || fail "a file is not its student's server.rs"
    grep -qx "similarity: not a submission, skipped: README.txt empty mallory.rs" "$work/similarity.log" ||
        { cat "$work/similarity.log"; fail "the skipped entries (a link among them) are not named"; }
    grep -qF "npx @dodona/dolos run -l rust -i $out/base.rs $out/files/*.rs" "$work/similarity.log" ||
        fail "the Dolos command is not printed"
    [[ ! -e $out/pairs.csv ]] || fail "pairs.csv was written without --run"

    step "similarity: what it refuses"
    status=0
    scripts/similarity.sh "$class" "$out" >/dev/null 2>&1 || status=$?
    [[ $status -eq 1 ]] || fail "similarity.sh into a folder that is not empty exited $status, not 1"
    cp "$class/alice.rs" "$class/bob.rs"
    status=0
    scripts/similarity.sh "$class" "$work/similar-2" >"$work/similarity-2.log" 2>&1 || status=$?
    [[ $status -eq 1 ]] && grep -q "two submissions are named bob" "$work/similarity-2.log" ||
        fail "two submissions named bob: exit $status, $(cat "$work/similarity-2.log")"
    mkdir -p "$work/alone"
    cp "$class/alice.rs" "$work/alone/"
    status=0
    scripts/similarity.sh "$work/alone" "$work/similar-3" >"$work/similarity-3.log" 2>&1 || status=$?
    [[ $status -eq 1 ]] && grep -q "holds 1 submission(s): a comparison needs two or more" "$work/similarity-3.log" ||
        fail "a class of one: exit $status, $(cat "$work/similarity-3.log")"
}

# ---------------------------------------------------------------------------------------
for part in "${parts[@]}"; do
    "check_$part"
done
unchanged "the checks"
echo "check-platforms: ${parts[*]}: as expected, nothing left behind"
