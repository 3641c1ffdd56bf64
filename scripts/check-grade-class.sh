#!/usr/bin/env bash
# Grades a small class with `checker class` and checks every row: the untouched skeleton,
# a task-1 server, a task-2 server, a bonus server (a folder NAME/server.rs), one that
# does not compile and one that listens and never accepts; and four whose file names
# would break a grade book written by hand (a comma, a forged score, a spreadsheet
# formula, an escape sequence). grades.csv must parse as CSV into one row per submission
# with its own name and score, and the summary must count the class. Afterwards this tree
# must be as it was and no process of the run may be left.
#
#   scripts/check-grade-class.sh
set -euo pipefail

source "$(dirname "$0")/proving.sh" check-grade-class
help_or_none "$@"
begin

class=$work/class
mkdir -p "$class/bonus"
solution=solution/src/bin/server.rs
skeleton=skeleton/tests/untouched/server.rs
cp "$skeleton" "$class/untouched.rs"
awk -v todos="1 2 3 4" -f scripts/fill-todos.awk "$solution" "$skeleton" >"$class/task1.rs"
awk -v todos="1 2 3 4 5" -f scripts/fill-todos.awk "$solution" "$skeleton" >"$class/task2.rs"
cp "$solution" "$class/bonus/server.rs"
{ cat "$skeleton"; echo 'fn broken() -> u32 { "text" }'; } >"$class/broken.rs"
# Listens, prints the usual first line, and then never accepts anyone.
sed 's/^    let listener = lab::listen(options.port)?;$/&\n    if options.port > 0 {\n        println!("Server listening on 127.0.0.1:{}", options.port);\n        loop {\n            std::thread::sleep(std::time::Duration::from_secs(3600));\n        }\n    }/' \
    "$skeleton" >"$class/never-accepts.rs"
grep -q 'from_secs(3600)' "$class/never-accepts.rs" || fail "could not write the never-accepting submission"
# The reference, which first tries to rewrite the class's grades, this tree's README and
# the checker, and to leave a process behind that rewrites the grades once all is over.
checker_binary=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')/debug/checker
attack="    for target in [\"$work/out/grades.csv\", \"$root/README.md\", \"$checker_binary\"] { let _ = std::fs::write(target, \"hacked\\\\n\"); }\n    match unsafe { nix::unistd::fork() } { Ok(nix::unistd::ForkResult::Child) => { let _ = nix::unistd::setsid(); if let Ok(nix::unistd::ForkResult::Child) = unsafe { nix::unistd::fork() } { std::thread::sleep(std::time::Duration::from_secs(20)); let _ = std::fs::write(\"$work/out/grades.csv\", \"hacked\\\\n\"); } std::process::exit(0); } _ => { let _ = nix::sys::wait::wait(); } }"
sed "s|^    let listener = lab::listen(options.port)?;\$|&\n$attack|" "$solution" >"$class/hostile.rs"
grep -q 'hacked' "$class/hostile.rs" || fail "could not write the hostile submission"
# Names that are data, never syntax: each must come back as its own row, whole.
cp "$class/task1.rs" "$class/smith, john.rs"
cp "$skeleton" "$class/mallory,100,passed.rs"
cp "$class/broken.rs" "$class/=HYPERLINK(\"x\").rs"
cp "$skeleton" "$class/esc"$'\x1b'"[2J.rs"

cargo build --quiet -p checker
status=0
NO_COLOR=1 "$checker_binary" class "$class" "$work/out" --size 8M >"$work/class.log" 2>&1 || status=$?
[[ $status -eq 0 ]] || { cat "$work/class.log" "$work/out/grades.csv"; fail "checker class exited $status"; }

# The grade book as a spreadsheet reads it: exactly these rows, each name once, in any
# order, and seconds that are a number.
python3 - "$work/out/grades.csv" <<'PY' || { cat "$work/out/grades.csv"; fail "grades.csv is not the class's grades"; }
import csv, sys

every = "whole-upload;keeps-serving;concurrent-uploads;process-per-client;no-zombies;async-uploads"
after_task_one = "concurrent-uploads;process-per-client;no-zombies;async-uploads"
# name: score, bonus, task 3, the checks that did not pass, the first finding
expected = {
    "bonus": ["100", "passed", "passed", "", ""],
    "hostile": ["100", "passed", "passed", "", ""],
    "broken": ["0", "not-checked", "not-checked", every, "does-not-compile"],
    "never-accepts": ["0", "not-checked", "not-checked", every, "listener-not-in-epoll"],
    "task1": ["50", "not-checked", "not-attempted", after_task_one, "one-at-a-time"],
    "task2": ["100", "not-attempted", "not-attempted", "no-zombies;async-uploads", "zombies-without-reaper"],
    "untouched": ["0", "not-checked", "not-checked", every, "server-stopped"],
    "smith, john": ["50", "not-checked", "not-attempted", after_task_one, "one-at-a-time"],
    "mallory,100,passed": ["0", "not-checked", "not-checked", every, "server-stopped"],
    "'=HYPERLINK(\"x\")": ["0", "not-checked", "not-checked", every, "does-not-compile"],
    "esc\\x1b[2J": ["0", "not-checked", "not-checked", every, "server-stopped"],
}
with open(sys.argv[1], newline="") as book:
    rows = list(csv.reader(book))
problems = []
if rows[0] != ["submission", "score", "bonus", "task3", "failed_checks", "findings", "seconds"]:
    problems.append(f"the header is {rows[0]}")
got = {}
for row in rows[1:]:
    if len(row) != 7:
        problems.append(f"a row of {len(row)} fields: {row}")
        continue
    if row[0] in got:
        problems.append(f"two rows for {row[0]!r}")
    got[row[0]] = row[1:5] + [row[5].split(";")[0]]
    try:
        float(row[6])
    except ValueError:
        problems.append(f"{row[0]!r}: seconds {row[6]!r}")
for name in expected.keys() | got.keys():
    if got.get(name) != expected.get(name):
        problems.append(f"{name!r}: expected {expected.get(name)}, got {got.get(name)}")
if any("\x1b" in field or "\r" in field for row in rows for field in row):
    problems.append("a raw control character")
for problem in problems:
    print(f"check-grade-class: {problem}", file=sys.stderr)
sys.exit(1 if problems else 0)
PY
grep -q $'\x1b' "$work/out/esc"$'\x1b'"[2J/report.txt" && fail "the report of esc\\x1b[2J.rs holds a raw escape"
grep -qF 'Grading submission: '"$class"'/esc\x1b[2J.rs' "$work/out/esc"$'\x1b'"[2J/report.txt" ||
    fail "the report of esc\\x1b[2J.rs does not name it with the escape written out"

# The class at a glance: every check counted for eleven students, and the findings by
# slug with who hit them.
summary=$work/out/summary.md
grep -qx '| task 1: receives a whole upload | 5 | 4 | 2 |' "$summary" ||
    { cat "$summary"; fail "summary.md does not count task 1's first check as 5 passed, 4 failed, 2 not checked"; }
grep -q '^| `does-not-compile` | 2 | ' "$summary" || { cat "$summary"; fail "summary.md does not list does-not-compile for two"; }
[[ -s $work/out/summary.svg ]] || fail "no summary.svg"

for name in bonus broken hostile never-accepts task1 task2 untouched "smith, john" "mallory,100,passed" \
    "=HYPERLINK(\"x\")" "esc"$'\x1b'"[2J"; do
    for file in report.txt results.json server_output.log client_output.log; do
        [[ -f $work/out/$name/$file ]] || fail "$(inert "$name") has no $file"
    done
done

grep -q 'error\[E0308\]: mismatched types' "$work/out/broken/errors.txt" || fail "broken's errors.txt has no compiler error"

unchanged "grading"
grep -q hacked "$checker_binary" && fail "the hostile submission rewrote the checker"
# Its leftover meant to strike 20 s after it started: nothing of it may be alive, and the
# grades must still be the ones checked above.
leftovers "checker class"
grep -q hacked "$work/out/grades.csv" && fail "the hostile submission rewrote grades.csv"
echo "check-grade-class: eleven submissions graded as expected (one hostile, four with names that are no CSV), nothing changed, nothing left behind"
