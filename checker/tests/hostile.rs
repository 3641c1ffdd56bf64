//! Submissions that try to escape or to cheat, against the containment: nothing they start
//! outlives grading, nothing they write reaches the grade or the lab, nothing hidden can
//! be read, and a build that never ends is stopped. Each attack is a fault of the fixture
//! (solution/src/bin/faulty-server.rs) or a submission written here; every process is
//! looked up by the marker in its environment, never by name.
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use common::*;

/// Runs `fault` with `targets` as its targets; the run itself checks nothing is left.
fn attack(fault: &str, targets: &[&Path], extra: &[&str]) -> Option<Run> {
    let fixture = fixture()?;
    let _turn = take_turn();
    let joined = std::env::join_paths(targets).unwrap();
    let log_dir = TempDir::new().unwrap();
    let output = checker(log_dir.path())
        .args(["--size", "8M", "--log-dir"])
        .arg(log_dir.path())
        .args(extra)
        .arg("--server")
        .arg(fixture)
        .env("FAULTY_SERVER_FAULT", fault)
        .env("FAULTY_SERVER_TARGETS", joined)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        !stdout.contains("Isolation: none"),
        "this machine cannot contain servers, so the attack proves nothing:\n{stdout}"
    );
    let left = processes_marked(log_dir.path());
    assert!(left.is_empty(), "{fault}: left running: {left:?}\n{stdout}");
    Some(Run {
        output,
        stdout,
        log_dir,
    })
}

fn server_log(run: &Run) -> String {
    fs::read_to_string(run.log_dir.path().join("server_output.log")).unwrap()
}

#[test]
fn escaped_processes_do_not_outlive_grading() {
    for (fault, verdicts) in [
        ("setsid-grandchild", [P, P, P, P, P, P]),
        ("daemon", [F, F, N, N, N, N]),
        ("fork-flood", [F, F, N, N, N, N]),
    ] {
        let Some(run) = attack(fault, &[], &[]) else {
            return;
        };
        assert_eq!(run.verdicts(), verdicts, "{fault}:\n{}", run.stdout);
    }
}

#[test]
fn a_process_waiting_for_the_checker_to_end_cannot_rewrite_the_results() {
    let dir = TempDir::new().unwrap();
    let json = dir.path().join("results.json");
    let csv = dir.path().join("grades.csv");
    let Some(run) = attack(
        "rewrites-later",
        &[&json, &csv],
        &[
            "--json",
            json.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let (json_then, csv_then) = (fs::read(&json).unwrap(), fs::read(&csv).unwrap());
    // The attacker meant to write 4 s after the server started.
    thread::sleep(Duration::from_secs(5));
    assert_eq!(fs::read(&json).unwrap(), json_then, "{}", run.stdout);
    assert_eq!(fs::read(&csv).unwrap(), csv_then);
    assert!(!String::from_utf8_lossy(&json_then).contains("{\"score\": 100}"));
    assert!(processes_marked(run.log_dir.path()).is_empty());
}

#[test]
fn the_tree_results_and_checker_cannot_be_written() {
    let dir = TempDir::new().unwrap();
    let copies = ["README.md", "grades.csv", "checker"].map(|name| dir.path().join(name));
    fs::write(&copies[0], "the lab\n").unwrap();
    fs::write(&copies[1], "submission,score\nalice,50\n").unwrap();
    fs::copy(env!("CARGO_BIN_EXE_checker"), &copies[2]).unwrap();
    let before: Vec<Vec<u8>> = copies.iter().map(|copy| fs::read(copy).unwrap()).collect();
    let readme = workspace().join("README.md");
    let readme_before = fs::read(&readme).unwrap();
    let targets: Vec<&Path> = copies
        .iter()
        .map(|copy| copy.as_path())
        .chain([readme.as_path()])
        .collect();
    let Some(run) = attack("tampers", &targets, &[]) else {
        return;
    };
    let after: Vec<Vec<u8>> = copies.iter().map(|copy| fs::read(copy).unwrap()).collect();
    assert!(before == after, "a file was changed");
    assert_eq!(fs::read(&readme).unwrap(), readme_before);
    let log = server_log(&run);
    // Four targets, and four servers (keeps serving, uploads at once, the bonus, task 3).
    assert_eq!(log.matches("attack: writing ").count(), 4 * 4, "{log}");
    assert!(!log.contains(": Ok(())"), "{log}");
    // The attempts cost nothing: the server itself is the reference.
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
}

#[test]
fn a_disk_filler_is_stopped_at_the_cap() {
    let Some(run) = attack("fills-disk", &[], &[]) else {
        return;
    };
    let log = server_log(&run);
    let filled: Vec<u64> = log
        .lines()
        .filter_map(|line| line.strip_prefix("attack: filling "))
        .filter_map(|rest| rest.split_once(": ")?.1.split(' ').next()?.parse().ok())
        .collect();
    // Four servers, /tmp and the working folder each: one cap of 64 MiB for all places.
    assert_eq!(filled.len(), 8, "{log}");
    assert!(filled.iter().all(|&bytes| bytes <= 64 << 20), "{filled:?}");
    assert!(log.contains("No space left on device"), "{log}");
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
}

#[test]
fn the_reference_and_the_instructors_guide_cannot_be_read() {
    let solution = workspace().join("solution/src/bin/server.rs");
    let guide = workspace().join("INSTRUCTORS.md");
    let Some(run) = attack("reads-targets", &[&solution, &guide], &[]) else {
        return;
    };
    let log = server_log(&run);
    for target in [&solution, &guide] {
        let said: Vec<&str> = log
            .lines()
            .filter(|line| line.starts_with(&format!("attack: read {}: ", target.display())))
            .collect();
        assert!(
            said.iter().all(|line| line.ends_with(": 0 bytes")),
            "{target:?} was read: {said:?}"
        );
    }
    assert!(
        log.contains("No such file or directory") || log.contains(": 0 bytes"),
        "{log}"
    );
}

/// The untouched server with `extra` appended, as a submission file in `dir`.
fn submission(dir: &TempDir, name: &str, extra: &str) -> String {
    let untouched = fs::read_to_string(workspace().join("skeleton/tests/untouched/server.rs"));
    let path = dir.path().join(name);
    fs::write(&path, untouched.unwrap() + extra).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn the_reference_cannot_be_included_at_compile_time() {
    if !has_solution() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let reference = workspace().join("solution/src/bin/server.rs");
    let file = submission(
        &dir,
        "peeks.rs",
        &format!(
            "\npub const ANSWER: &str = include_str!({:?});\n",
            reference.display().to_string()
        ),
    );
    let run = run_in_turn(None, &["--submission", &file, "--task", "1"]).unwrap();
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    run.assert_says("does not compile");
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    assert!(stderr.contains("couldn't read"), "{stderr}");
}

#[test]
fn a_build_that_never_ends_is_stopped_and_graded_0() {
    let dir = TempDir::new().unwrap();
    let file = submission(
        &dir,
        "endless.rs",
        "\n#[allow(long_running_const_eval)]\npub const NEVER: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n",
    );
    let started = Instant::now();
    let run = run_in_turn(None, &["--submission", &file, "--timeout", "8"]).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    run.assert_says("The server was not graded: the build did not finish within the time limit");
    run.assert_says("Total: 0/100, bonus not checked");
}

#[test]
fn a_scratch_copy_left_by_a_killed_checker_is_removed_by_the_next_run() {
    let dir = TempDir::new().unwrap();
    let endless = submission(
        &dir,
        "endless.rs",
        "\n#[allow(long_running_const_eval)]\npub const NEVER: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n",
    );
    let _turn = take_turn();
    let marker = dir.path().join("marker");
    let mut running = checker(&marker)
        .args(["--submission", &endless, "--log-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("checker-submission-{}-", running.id());
    let scratch = || {
        fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .find(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
            .map(|entry| entry.path())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while scratch().is_none() || processes_marked(&marker).len() < 3 {
        assert!(Instant::now() < deadline, "the build never started");
        thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(running.id() as i32), Signal::SIGKILL).unwrap();
    running.wait().unwrap();
    let left = scratch().expect("SIGKILL leaves the scratch copy");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_marked(&marker).is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        processes_marked(&marker),
        Vec::<i32>::new(),
        "the build outlived its checker"
    );
    let untouched = submission(&dir, "untouched.rs", "");
    let output = checker(&marker)
        .args([
            "--submission",
            &untouched,
            "--task",
            "1",
            "--size",
            "8M",
            "--log-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Removed a scratch copy left by a checker that was killed")
            || stdout.contains("scratch copies left by checkers that were killed"),
        "{stdout}"
    );
    assert!(!left.exists(), "{} is still there", left.display());
}
