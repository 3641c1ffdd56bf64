#!/usr/bin/env bash
# Grades a small class with grade-class.sh and checks every row: the untouched skeleton,
# a task-1 server, a task-2 server, a bonus server (a folder NAME/server.rs), one that
# does not compile and one that listens and never accepts. Afterwards this tree must be
# as it was and no process of the run may be left. INSTRUCTORS.md says more.
#
#   scripts/check-grade-class.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() {
    echo "check-grade-class: $*" >&2
    exit 1
}
cd "$root"
before=$(git status --porcelain --untracked-files=no)

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

# Every process of the run carries this marker, so that leftovers can be found.
marker="grade-class-check-$$"
status=0
CHECK_GRADE_CLASS="$marker" scripts/grade-class.sh "$class" "$work/out" --size 8M || status=$?
[[ $status -eq 0 ]] || fail "grade-class.sh exited $status"

expect() {
    grep -qx -- "$1" <(cut -d, -f1-5 "$work/out/grades.csv") ||
        { cat "$work/out/grades.csv"; fail "no row \"$1\""; }
}
all="task 1: receives a whole upload;task 1: keeps serving;task 2: concurrent uploads;task 2: a process per client;bonus: no zombies;task 3: async uploads"
expect "submission,score,bonus,task3,failed_checks"
expect "bonus,100,passed,passed,"
expect "hostile,100,passed,passed,"
expect "broken,0,not checked,not checked,does not compile"
expect "never-accepts,0,not checked,not checked,$all"
expect "task1,50,not checked,failed,task 2: concurrent uploads;task 2: a process per client;bonus: no zombies;task 3: async uploads"
expect "task2,100,failed,failed,bonus: no zombies;task 3: async uploads"
expect "untouched,0,not checked,not checked,$all"
[[ $(wc -l <"$work/out/grades.csv") -eq 8 ]] || fail "grades.csv has other rows: $(cat "$work/out/grades.csv")"
for name in bonus broken hostile never-accepts task1 task2 untouched; do
    for file in report.txt results.json server_output.log client_output.log; do
        [[ -f $work/out/$name/$file ]] || fail "$name has no $file"
    done
done

grep -qx "grade-class: the compiler's errors are in $work/out/broken/errors.txt" "$work/out/broken/report.txt" ||
    fail "broken's report.txt does not point at errors.txt"
grep -q 'error\[E0308\]: mismatched types' "$work/out/broken/errors.txt" || fail "broken's errors.txt has no compiler error"
if grep -q "errors.txt" "$work/out/task1/report.txt"; then
    fail "task1's report.txt points at errors.txt"
fi

[[ $(git status --porcelain --untracked-files=no) == "$before" ]] || fail "grading changed this tree"
grep -q hacked "$checker_binary" && fail "the hostile submission rewrote the checker"
# Its leftover meant to strike 20 s after it started: nothing of it may be alive, and the
# grades must still be the ones checked above.
sleep 1
grep -q hacked "$work/out/grades.csv" && fail "the hostile submission rewrote grades.csv"
for environ in /proc/[0-9]*/environ; do
    if { tr '\0' '\n' <"$environ"; } 2>/dev/null | grep -qx "CHECK_GRADE_CLASS=$marker"; then
        fail "a process of the run is still there: ${environ%/environ}"
    fi
done
echo "check-grade-class: seven submissions graded as expected (one hostile), nothing changed, nothing left behind"
