//! What every copy of the lab checks, a student's included: the untouched server graded
//! as handed out, bad usage refused, the help, and the exit status 3 of the checker's own
//! trouble.

mod common;

use std::fs;
use std::net::{Ipv4Addr, TcpListener};
use std::path::Path;

use tempfile::TempDir;

use common::*;

#[test]
fn untouched_server_fails_at_once_naming_todo_1() {
    let server = untouched_server();
    let run = run_in_turn(
        None,
        &["--server", server.to_str().unwrap(), "--size", "8M"],
    )
    .unwrap();
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    assert_eq!(run.code(), Some(1));
    run.assert_says("it panicked at skeleton/tests/untouched/server.rs:");
    run.assert_says("not yet implemented: TODO 1: create an epoll instance");
    run.assert_says("Total: 0/100, bonus not checked");
}

/// Exit status 3: the checker could not grade, which is no verdict on the server.
#[test]
fn checker_trouble_exits_3_and_writes_no_result() {
    let dir = TempDir::new().unwrap();
    let json_path = dir.path().join("result.json");
    fs::write(&json_path, "stale").unwrap();
    let json_arg = json_path.to_str().unwrap().to_owned();
    let server = untouched_server().to_str().unwrap().to_owned();
    let trouble = |args: &[&str], env: Option<(&str, &str)>, message: &str| {
        let mut command = checker(dir.path());
        command.args(args).args(["--json", &json_arg]);
        if let Some((name, value)) = env {
            command.env(name, value);
        }
        let output = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(
            stderr.contains("the checker could not grade: this is no verdict on the server"),
            "{stderr}"
        );
        assert!(!json_path.exists(), "{args:?} left a result file");
    };
    // A port held by another program.
    let holder = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = holder.local_addr().unwrap().port().to_string();
    trouble(
        &["--server", &server, "--port", &port],
        None,
        &format!("checking that port {port} is free"),
    );
    // A log it cannot write.
    trouble(
        &["--server", &server, "--log-dir", "/dev/null/logs"],
        None,
        "creating /dev/null/logs",
    );
    // A build environment without cargo.
    trouble(&[], Some(("CARGO", "/no/such/cargo")), "cannot run cargo");
    fs::write(&json_path, "stale").unwrap();
    trouble(
        &["--submission", &server_source_path(&dir)],
        Some(("CARGO", "/no/such/cargo")),
        "cannot run cargo",
    );
}

/// A submission file in `dir`.
fn server_source_path(dir: &TempDir) -> String {
    let path = dir.path().join("carol.rs");
    fs::write(&path, untouched_source()).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn bad_usage_is_refused() {
    let dir = TempDir::new().unwrap();
    let refuse = |args: &[&str], code: i32, message: &str| {
        let output = checker(dir.path()).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    };
    refuse(&["--task", "4"], 2, "invalid value '4' for '--task");
    refuse(&["--size", "10X"], 2, "unknown unit");
    refuse(&["--size", "1K"], 2, "at least 1M");
    refuse(&["--clients", "0"], 2, "--clients");
    refuse(&["--solution", "--server", "x"], 2, "cannot be used with");
    refuse(
        &["--server", "/no/such/server"],
        2,
        "checker: --server /no/such/server: no such file",
    );
    refuse(
        &["--submission", "/no/such/server.rs"],
        2,
        "checker: --submission /no/such/server.rs: no such file",
    );
    let folder = dir.path().to_str().unwrap();
    refuse(
        &["--submission", folder],
        2,
        &format!("checker: --submission {folder}: is a folder, not a file"),
    );
    refuse(
        &["--server", folder],
        2,
        &format!("checker: --server {folder}: is a folder, not a file"),
    );
    let elsewhere = TempDir::new().unwrap();
    let file = elsewhere.path().join("a-file");
    fs::write(&file, "").unwrap();
    let file = file.to_str().unwrap();
    refuse(
        &["--log-dir", file],
        2,
        &format!("checker: --log-dir {file}: is a file, not a folder"),
    );
    refuse(
        &["--submission", "a.rs", "--server", "x"],
        2,
        "cannot be used with",
    );
    refuse(&["--timeout", "0"], 2, "--timeout");
    refuse(
        &["--experiment", "buf-size", "--json", "x.json"],
        2,
        "cannot be used with",
    );
    refuse(
        &["--experiment", "buf-size", "--buf-sizes", "0"],
        2,
        "at least 1 byte",
    );
    refuse(&["--buf-sizes", "10"], 2, "--experiment");
    refuse(
        &["--experiment", "clients", "--client-counts", "0"],
        2,
        "a number of clients from 1 to 1000",
    );
    refuse(
        &["--task", "4"],
        2,
        "[possible values: 1, 2, bonus, 3, all]",
    );
    assert!(
        fs::read_dir(dir.path()).unwrap().next().is_none(),
        "a refused run wrote files"
    );
}

#[test]
fn help_shows_examples() {
    let output = checker(Path::new("/")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(help.contains("cargo run -p checker -- --task 1"), "{help}");
    // A student's copy has no solution/: its help never offers to grade one.
    let solution = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../solution")
        .is_dir();
    assert_eq!(
        help.contains("cargo run -p checker -- --solution"),
        solution,
        "{help}"
    );
    assert_eq!(help.contains("--solution "), solution, "{help}");
}

/// Where containment is turned off (or the machine cannot), the report says so on its
/// first line, and the grade is the same.
#[test]
fn without_containment_the_report_says_so() {
    let server = untouched_server();
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let output = checker(dir.path())
        .args([
            "--server",
            server.to_str().unwrap(),
            "--size",
            "8M",
            "--log-dir",
        ])
        .arg(dir.path())
        .env("LAB_CHECKER_NO_CONTAIN", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(
            "Isolation: none (turned off with LAB_CHECKER_NO_CONTAIN): each server runs as the checker's child"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("\nTotal: 0/100, bonus not checked, task 3 not checked\n"),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(processes_marked(dir.path()), Vec::<i32>::new());
}

/// `--json` makes its folder, and a folder it cannot make is the checker's trouble at
/// once, before anything is built or run.
#[test]
fn json_makes_its_folder_and_refuses_one_it_cannot_make_before_grading() {
    let server = untouched_server();
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let json = dir.path().join("results/alice/results.json");
    let output = checker(dir.path())
        .args([
            "--server",
            server.to_str().unwrap(),
            "--size",
            "8M",
            "--task",
            "1",
        ])
        .args(["--log-dir", dir.path().to_str().unwrap(), "--json"])
        .arg(&json)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(fs::read_to_string(&json).unwrap().contains("\"score\": 0"));
    let output = checker(dir.path())
        .args([
            "--server",
            server.to_str().unwrap(),
            "--json",
            "/proc/no/such/r.json",
        ])
        .arg("--log-dir")
        .arg(dir.path().join("second"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("checker: creating /proc/no/such"),
        "{stderr}"
    );
    assert!(
        !dir.path().join("second").exists(),
        "it graded before refusing"
    );
}

/// The verbs: `checks` prints the grading table for scripts; `grade`, `watch` and
/// `experiment WHAT` are the grading options under other names, with the same rules.
#[test]
fn verbs_print_the_table_and_keep_the_rules_of_the_flags_they_stand_for() {
    use assert_cmd::Command;
    use predicates::prelude::*;
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["checks", "--json"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let table: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let slugs: Vec<&str> = table
        .as_array()
        .unwrap()
        .iter()
        .map(|check| check["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        [
            "whole-upload",
            "keeps-serving",
            "concurrent-uploads",
            "process-per-client",
            "no-zombies",
            "async-uploads"
        ]
    );
    assert_eq!(table[4]["gate"], "passed:process-per-client");
    assert_eq!(table[0]["points"], 25);
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("checks")
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "no-zombies           bonus: no zombies                  bonus    6,7    passed:process-per-client",
        ));
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["watch", "--server", "x"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the argument '--watch' cannot be used with '--server <PATH>'",
        ));
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["experiment", "bogus"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value 'bogus'"));
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["grade", "--task", "4"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid value '4' for '--task"));
}

/// The points.toml of the lab whose checker runs sets what each counted check is worth;
/// a copy in the folder graded does not (a student's file never weighs a grade), unless
/// the binary lies in no lab. A wrong line is refused before anything runs.
#[test]
fn the_labs_points_file_sets_the_points_and_a_wrong_one_is_refused() {
    use assert_cmd::Command;
    use predicates::prelude::*;
    let dir = TempDir::new().unwrap();
    // The smallest trees the checker takes for a lab: the manifests, and a points file.
    let lab = |name: &str, points: &str| {
        let root = dir.path().join(name);
        fs::create_dir_all(root.join("checker")).unwrap();
        fs::write(root.join("Cargo.toml"), "[workspace]\n").unwrap();
        fs::write(
            root.join("checker/Cargo.toml"),
            "[package]\nname = \"checker\"\n",
        )
        .unwrap();
        fs::write(root.join("points.toml"), points).unwrap();
        root
    };
    let grader = lab(
        "grader",
        "whole-upload = 40 # the course's weights\nprocess-per-client = 10\n",
    );
    let student = lab("student", "whole-upload = 1000\n");
    let copy_binary = |to: &std::path::Path| {
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(env!("CARGO_BIN_EXE_checker"), to).unwrap();
        to.to_owned()
    };
    let in_grader = copy_binary(&grader.join("target/debug/checker"));
    let in_no_lab = copy_binary(&dir.path().join("bin/checker"));
    let points_of = |binary: &std::path::Path| -> Vec<Option<u64>> {
        let output = Command::new(binary)
            .current_dir(&student)
            .args(["checks", "--json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        let table: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        table
            .as_array()
            .unwrap()
            .iter()
            .map(|check| check["points"].as_u64())
            .collect()
    };
    assert_eq!(
        points_of(&in_grader),
        [Some(40), Some(25), Some(25), Some(10), None, None]
    );
    assert_eq!(
        points_of(&in_no_lab),
        [Some(1000), Some(25), Some(25), Some(25), None, None]
    );
    fs::write(
        grader.join("points.toml"),
        "whole-upload = 40\nno-zombies = 5\n",
    )
    .unwrap();
    Command::new(&in_grader)
        .current_dir(&student)
        .arg("checks")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "points.toml: line 2: no-zombies counts no points (the bonus and task 3 are never counted)",
        ));
}

/// `checker hint N`: a longer hint for every TODO that the grading table names, in words
/// (no path into the code, no call); anything else is refused with exit status 2.
#[test]
fn hint_explains_every_todo_of_the_table_and_refuses_any_other() {
    use assert_cmd::Command;
    use predicates::prelude::*;
    let output = Command::new(env!("CARGO_BIN_EXE_checker"))
        .args(["checks", "--json"])
        .output()
        .unwrap();
    let table: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut todos: Vec<u64> = table
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|check| check["todos"].as_array().unwrap().clone())
        .map(|todo| todo.as_u64().unwrap())
        .collect();
    todos.sort_unstable();
    todos.dedup();
    assert_eq!(todos, (1..=9).collect::<Vec<u64>>());
    for todo in todos {
        let output = Command::new(env!("CARGO_BIN_EXE_checker"))
            .args(["hint", &todo.to_string()])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(0), "hint {todo}");
        let hint = String::from_utf8(output.stdout).unwrap();
        assert!(hint.starts_with(&format!("TODO {todo} (")), "{hint}");
        assert!(
            hint.lines().count() >= 5,
            "hint {todo} is no longer hint: {hint}"
        );
        assert!(!hint.contains("::") && !hint.contains("lab::"), "{hint}");
    }
    for bad in ["0", "10", "five", "-1"] {
        Command::new(env!("CARGO_BIN_EXE_checker"))
            .args(["hint", "--", bad])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "there is no TODO {bad} in server.rs: give a number from 1 to 9"
            )));
    }
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("hint")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("<TODO>"));
}

/// `checker class --merge` reads the results a folder already holds: a folder that is not
/// there is a mistyped path, refused before anything is written.
#[test]
fn merge_refuses_a_folder_of_results_that_is_not_there() {
    use assert_cmd::Command;
    use predicates::prelude::*;
    let dir = TempDir::new().unwrap();
    fs::create_dir_all(dir.path().join("class")).unwrap();
    fs::write(dir.path().join("class/alice.rs"), "fn main() {}").unwrap();
    let out = dir.path().join("no-such-results");
    Command::new(env!("CARGO_BIN_EXE_checker"))
        .arg("class")
        .arg(dir.path().join("class"))
        .arg(&out)
        .arg("--merge")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is no folder of results"));
    assert!(!out.exists());
}
