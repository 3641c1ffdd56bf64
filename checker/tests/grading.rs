//! Grading for instructors: `--submission`, `--json`, the exit statuses an autograder
//! relies on, and the limits on what one submission may do to the grading machine.
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;
use tempfile::TempDir;

use common::*;

/// The JSON a run wrote, checked for the shape Gradescope reads: the top level's score
/// is the sum of the tests' scores, and each test has its fields.
fn results(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap();
    let json: Value = serde_json::from_str(&text).unwrap();
    let tests = json["tests"].as_array().expect("tests");
    let sum: u64 = tests
        .iter()
        .map(|test| test["score"].as_u64().unwrap())
        .sum();
    assert_eq!(json["score"].as_u64(), Some(sum), "{text}");
    assert!(json["execution_time"].as_f64().unwrap() > 0.0, "{text}");
    assert!(
        json["output"].as_str().unwrap().contains("Total: "),
        "{text}"
    );
    for test in tests {
        assert!(test["name"].is_string(), "{text}");
        assert!(test["max_score"].is_u64(), "{text}");
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()));
        assert!(test["output"].is_string(), "{text}");
    }
    json
}

#[test]
fn json_holds_every_check_and_adds_up_to_the_printed_total() {
    let dir = TempDir::new().unwrap();
    let json_path = dir.path().join("result.json");
    let Some(run) = run_in_turn(
        Some("serial"),
        &["--size", "8M", "--json", json_path.to_str().unwrap()],
    ) else {
        return;
    };
    run.assert_says("Total: 50/100, bonus not checked");
    let json = results(&json_path);
    assert_eq!(json["score"], 50);
    let tests: Vec<(&str, u64, u64, &str)> = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| {
            (
                test["name"].as_str().unwrap(),
                test["score"].as_u64().unwrap(),
                test["max_score"].as_u64().unwrap(),
                test["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        tests,
        [
            ("task 1: receives a whole upload", 25, 25, "passed"),
            ("task 1: keeps serving", 25, 25, "passed"),
            ("task 2: concurrent uploads", 0, 25, "failed"),
            ("task 2: a process per client", 0, 25, "failed"),
            // The bonus was not checked: no test, so nothing shows red for it.
            ("task 3: async uploads", 0, 0, "passed"),
        ]
    );
    let outputs: Vec<&str> = json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|test| test["output"].as_str().unwrap())
        .collect();
    assert!(outputs[2].contains("one client at a time"), "{outputs:?}");
    assert_eq!(
        outputs[4], "task 3, optional, not counted in the score: passed",
        "{outputs:?}"
    );
    // The report as printed, but for the lines naming the grading machine's files.
    let output = json["output"].as_str().unwrap();
    run.assert_says("\nServer log: ");
    assert!(!output.contains("Server log: "), "{output}");
    assert!(
        output.contains("bonus: no zombies not checked:\n  the bonus is judged only on"),
        "{output}"
    );
    let printed: String = run
        .stdout
        .split("\nServer log: ")
        .next()
        .unwrap()
        .split_inclusive('\n')
        .filter(|line| !line.starts_with("Test file: "))
        .collect();
    assert_eq!(output.trim_end(), printed.trim_end());
}

#[test]
fn submission_is_graded_in_a_scratch_copy_and_the_skeleton_is_untouched() {
    let dir = TempDir::new().unwrap();
    let submission = dir.path().join("alice.rs");
    fs::write(&submission, untouched_source()).unwrap();
    let skeleton = workspace().join("skeleton/src/bin/server.rs");
    let before = (
        fs::read(&skeleton).unwrap(),
        fs::metadata(&skeleton).unwrap().modified().unwrap(),
    );
    let json_path = dir.path().join("alice.json");
    let run = run_in_turn(
        None,
        &[
            "--submission",
            submission.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
            "--size",
            "8M",
        ],
    )
    .unwrap();
    assert!(
        run.stdout.starts_with(&format!(
            "Grading submission: {}\nbuilds ",
            submission.display()
        )),
        "{}",
        run.stdout
    );
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    assert_eq!(run.code(), Some(1));
    // The student's panic names the file as in their own copy of the lab.
    run.assert_says("it panicked at skeleton/src/bin/server.rs:");
    run.assert_says("not yet implemented: TODO 1");
    assert_eq!(results(&json_path)["score"], 0);
    let after = (
        fs::read(&skeleton).unwrap(),
        fs::metadata(&skeleton).unwrap().modified().unwrap(),
    );
    assert!(before == after, "the skeleton was touched");
}

#[test]
fn submission_that_does_not_compile_scores_0_with_the_compilers_errors() {
    let dir = TempDir::new().unwrap();
    let submission = dir.path().join("bob.rs");
    fs::write(
        &submission,
        untouched_source() + "fn broken() -> u32 { \"text\" }\n",
    )
    .unwrap();
    let json_path = dir.path().join("bob.json");
    let run = run_in_turn(
        None,
        &[
            "--submission",
            submission.to_str().unwrap(),
            "--json",
            json_path.to_str().unwrap(),
        ],
    )
    .unwrap();
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    run.assert_says("builds ...................................... failed");
    run.assert_says(&format!("{} does not compile", submission.display()));
    run.assert_says("\nTotal: 0/100, bonus not checked, task 3 not checked\n");
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    assert!(
        stderr.contains("error[E0308]: mismatched types"),
        "{stderr}"
    );
    let json = results(&json_path);
    assert_eq!(json["score"], 0);
    // The four checks that count; the bonus and task 3, not checked, are no tests.
    assert_eq!(json["tests"].as_array().unwrap().len(), 4);
    let output = json["output"].as_str().unwrap();
    assert!(output.contains("does not compile"), "{output}");
    assert!(
        output.contains("error[E0308]: mismatched types"),
        "{output}"
    );
    assert!(output.contains("skeleton/src/bin/server.rs"), "{output}");
    // Both logs of the run say so, rather than nothing or an earlier story.
    for log in ["server_output.log", "client_output.log"] {
        let text = fs::read_to_string(run.log_dir.path().join(log)).unwrap();
        assert_eq!(
            text,
            "----- checker: the server does not compile, so no server or client ran -----\n"
        );
    }
}

/// An autograder can give points per task from the exit status of `--task`: 0 exactly
/// when the task's checks pass.
#[test]
fn task_runs_exit_0_exactly_when_their_checks_pass() {
    for (fault, task, code) in [
        ("serial", "1", 0),
        ("serial", "2", 1),
        ("never-reaps", "2", 0),
        ("never-reaps", "bonus", 1),
        ("none", "bonus", 0),
        ("none", "3", 0),
        ("async-blocking", "3", 1),
        ("async-blocking", "all", 0),
    ] {
        let Some(run) = run_in_turn(Some(fault), &["--size", "8M", "--task", task]) else {
            return;
        };
        assert_eq!(
            run.code(),
            Some(code),
            "{fault} --task {task}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn server_with_too_many_processes_is_stopped_and_fails() {
    let Some(run) = run_in_turn(Some("forks-grandchildren"), &["--size", "8M"]) else {
        return;
    };
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    run.assert_says("more than the 64 the checker allows");
}

/// A server that prints a line per read outgrows what its log keeps: the log says where it
/// was cut and keeps the lab's own lines after it, and the server is not stopped for it
/// (the checker's limit is no fault of the server's).
#[test]
fn flooded_log_is_cut_at_16_mib_and_marked_and_the_server_goes_on() {
    let Some(run) = run_in_turn(Some("prints-every-read"), &["--size", "8M", "--task", "1"]) else {
        return;
    };
    assert_eq!(
        run.verdict("task 1: receives a whole upload"),
        P,
        "{}",
        run.stdout
    );
    // The report names the checker's limit and what to change.
    run.assert_says(
        "Server log: cut where a server printed more than 16 MiB, the most the log keeps whole (the checker's \
         limit); from there on it kept only the lab's own lines and errors (up to 32 MiB), as the log says where. \
         A debug line per read is millions of lines for one upload: print less",
    );
    let log = fs::read(run.log_dir.path().join("server_output.log")).unwrap();
    let log = String::from_utf8_lossy(&log);
    let cut = "----- checker: the log is cut here: the server printed more than 16 MiB, the most \
               this log keeps whole; from here on it keeps only the lab's own lines and errors -----";
    let after = log.split_once(cut).expect("a cut line").1;
    assert!(
        after.contains("Received 8388608 bytes from [Client "),
        "{after}"
    );
    // Every server's part is cut: 32 MiB at most each, two servers in task 1.
    assert!(
        log.len() < 2 * 32 * 1024 * 1024 + 64 * 1024,
        "{} bytes",
        log.len()
    );
}

/// The time limit decides no verdict: a server still at work when the limit comes is
/// stopped, and every check it kept from being decided says so, with the limit and the
/// option that sets it, instead of a cause the run did not see.
#[test]
fn slow_server_stopped_at_the_time_limit_is_not_decided_rather_than_failed() {
    let started = Instant::now();
    let Some(run) = run_faulty_lab_with("slow-reads", &["--size", "8M", "--timeout", "6"]) else {
        return;
    };
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    for (check, finding) in run.findings() {
        assert_eq!(
            finding.as_deref(),
            Some("time-limit"),
            "{check}\n{}",
            run.stdout
        );
    }
    run.assert_says(
        "task 1: keeps serving failed:\n  not decided: the run reached its time limit of 6 s \
         (the checker's limit) before this check was decided, so the checker stopped the server. \
         A server that is right but slow needs more time: --timeout SECONDS",
    );
    run.assert_does_not_say("does not read");
}

/// A client cut off because the server exited (the checker ends what is left of a server
/// that exited) says so in the client log, instead of asking whether the server crashed.
#[test]
fn clients_cut_off_by_the_servers_exit_say_so_in_the_client_log() {
    let Some(run) = run_in_turn(Some("exits-after-first"), &["--size", "8M", "--task", "1"]) else {
        return;
    };
    let clients = fs::read_to_string(run.log_dir.path().join("client_output.log")).unwrap();
    assert!(
        clients.contains(
            " bytes: the server had exited, and the checker ends the processes of a server that exited \
             (the server log says how it exited)"
        ),
        "{clients}"
    );
    assert!(!clients.contains("did it stop or crash"), "{clients}");
}

/// Nothing outlives the checker, even when it is killed with SIGKILL and can clean up
/// nothing: the server dies with it, and its children end when their clients do.
#[test]
fn killed_checker_leaves_nothing_running() {
    let Some(fixture) = fixture() else {
        return;
    };
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let mut checker = checker(dir.path())
        .args(["--size", "100M", "--log-dir"])
        .arg(dir.path())
        .arg("--server")
        .arg(fixture)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let checker_pid = checker.id() as i32;
    // Wait until the server runs and has forked a child for an upload.
    let deadline = Instant::now() + Duration::from_secs(20);
    while processes_marked(dir.path()).len() < 3 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let seen = processes_marked(dir.path());
    assert!(seen.len() >= 3, "no server with a child was seen: {seen:?}");
    kill(Pid::from_raw(checker_pid), Signal::SIGKILL).unwrap();
    checker.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_marked(dir.path()).is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    let left = processes_marked(dir.path());
    assert!(left.is_empty(), "left running after SIGKILL: {left:?}");
}
