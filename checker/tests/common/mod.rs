//! What the checker's integration tests share: running the checker with a marker that
//! finds every process of a run afterwards, the fixture and untouched servers, and reading
//! a report. Each test binary uses part of it.
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};

use tempfile::TempDir;

/// Checker runs take turns: their verdicts depend on uploads running side by side, and
/// this machine has two cores.
static ONE_RUN_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Whether this copy of the lab has the reference solution (the tests that need it are
/// compiled only where it has: `cfg(lab_has_solution)`).
pub fn has_solution() -> bool {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../solution")
        .is_dir()
}

/// The workspace the checker belongs to.
pub fn workspace() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the checker lives in the workspace")
}

/// Builds `target` (cargo's arguments after `build`) once per test binary, with the
/// profile of these tests, and returns where the executable is, relative to the checker's.
pub fn built(once: &'static OnceLock<PathBuf>, target: &[&str], file: &str) -> &'static Path {
    once.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        cargo
            .current_dir(workspace())
            .args(["build", "--quiet"])
            .args(target);
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("running cargo");
        assert!(status.success(), "{target:?} does not build");
        // The checker binary of these tests sits in the same profile directory.
        Path::new(env!("CARGO_BIN_EXE_checker")).with_file_name(file)
    })
}

/// The fixture server, built from solution/; `None` (and a note that the test is
/// skipped) in a copy without solution/.
pub fn fixture() -> Option<&'static Path> {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    has_solution().then(|| {
        built(
            &BUILT,
            &["--package", "solution", "--bin", "faulty-server"],
            "faulty-server",
        )
    })
}

/// The server exactly as handed out (skeleton/tests/untouched/server.rs), whatever stage
/// the skeleton itself has reached.
pub fn untouched_server() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    built(
        &BUILT,
        &["--package", "skeleton", "--example", "untouched-server"],
        "examples/untouched-server",
    )
}

/// The server as handed out, as a student's file.
pub fn untouched_source() -> String {
    fs::read_to_string(workspace().join("skeleton/tests/untouched/server.rs")).unwrap()
}

/// A finished checker run.
pub struct Run {
    pub output: Output,
    pub stdout: String,
    pub log_dir: TempDir,
}

impl Run {
    /// The status (`passed`, `failed` or `not checked`) of the check named `check`: from
    /// the lab's JSON where the run wrote it (every run that grades and was given no
    /// `--json` of its own), else from the report's line for the check.
    pub fn verdict(&self, check: &str) -> &str {
        if let Some(value) = self.lab_json() {
            let verdicts = value["verdicts"].as_array().unwrap();
            let verdict = verdicts
                .iter()
                .find(|verdict| verdict["name"] == check)
                .unwrap_or_else(|| panic!("no verdict on `{check}` in {value}\n{}", self.stdout));
            return match verdict["status"].as_str() {
                Some("passed") => P,
                Some("failed") => F,
                Some("not-checked") => N,
                other => panic!("`{check}` has the status {other:?}"),
            };
        }
        let line = self
            .stdout
            .lines()
            .find(|line| line.starts_with(&format!("{check} .")))
            .unwrap_or_else(|| panic!("no line for `{check}` in:\n{}", self.stdout));
        let status = line[check.len()..].trim_start_matches([' ', '.']);
        status.split(" ...").next().unwrap_or(status)
    }

    /// The verdicts of the five checks, in the report's order.
    pub fn verdicts(&self) -> [&str; 6] {
        [
            "task 1: receives a whole upload",
            "task 1: keeps serving",
            "task 2: concurrent uploads",
            "task 2: a process per client",
            "bonus: no zombies",
            "task 3: async uploads",
        ]
        .map(|check| self.verdict(check))
    }

    pub fn assert_says(&self, text: &str) {
        assert!(
            self.stdout.contains(text),
            "expected {text:?} in:\n{}",
            self.stdout
        );
    }

    pub fn assert_does_not_say(&self, text: &str) {
        assert!(
            !self.stdout.contains(text),
            "did not expect {text:?} in:\n{}",
            self.stdout
        );
    }

    pub fn code(&self) -> Option<i32> {
        self.output.status.code()
    }

    /// The lab's JSON of the run, if it wrote one to the log folder.
    fn lab_json(&self) -> Option<serde_json::Value> {
        let text = fs::read_to_string(self.log_dir.path().join(LAB_JSON)).ok()?;
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["version"], 1, "{text}");
        Some(value)
    }

    /// The finding slug of each check in the lab's JSON, by the check's slug (`None` for
    /// a check that passed). The run must have written it (see [`run_checker_in`]).
    pub fn findings(&self) -> Vec<(String, Option<String>)> {
        let value = self
            .lab_json()
            .unwrap_or_else(|| panic!("the run wrote no {LAB_JSON}:\n{}", self.stdout));
        value["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|verdict| {
                (
                    verdict["check"].as_str().unwrap().to_owned(),
                    verdict["finding"].as_str().map(str::to_owned),
                )
            })
            .collect()
    }

    /// Asserts that the lab's JSON gives `check` the finding `finding`.
    pub fn assert_finding(&self, check: &str, finding: &str) {
        let findings = self.findings();
        let found = findings
            .iter()
            .find(|(slug, _)| slug == check)
            .unwrap_or_else(|| panic!("no verdict on {check} in {findings:?}"));
        assert_eq!(
            found.1.as_deref(),
            Some(finding),
            "{check}: {findings:?}\n{}",
            self.stdout
        );
    }
}

/// Where [`run_faulty_lab`] has the checker write the lab's JSON, in the log folder.
pub const LAB_JSON: &str = "lab.json";

/// The checker binary, with a marker in its environment that its server inherits, so
/// that leftovers can be found afterwards (by looking, never by signalling).
pub fn checker(marker: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_checker"));
    command.env("CHECKER_TEST_RUN", marker).env("NO_COLOR", "1");
    command
}

/// Processes whose environment holds `marker`.
pub fn processes_marked(marker: &Path) -> Vec<i32> {
    let wanted = format!("CHECKER_TEST_RUN={}", marker.display());
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let environ = fs::read(entry.path().join("environ")).ok()?;
            environ
                .split(|&byte| byte == 0)
                .any(|var| var == wanted.as_bytes())
                .then_some(pid)
        })
        .collect()
}

/// Runs the checker with `args`, the fixture fault `fault` (if any) and a log directory
/// of its own; checks that nothing of the run is left.
pub fn run_checker(fault: Option<(&Path, &str)>, args: &[&str]) -> Run {
    run_checker_in(TempDir::new().unwrap(), fault, args)
}

/// The same, with the log directory `log_dir`.
pub fn run_checker_in(log_dir: TempDir, fault: Option<(&Path, &str)>, args: &[&str]) -> Run {
    let mut command = checker(log_dir.path());
    command.args(args).arg("--log-dir").arg(log_dir.path());
    // Every run that grades also writes the lab's JSON, which the verdicts are read from;
    // not a run given a --json of its own, nor one that measures, watches or helps.
    let grades = !args.iter().any(|arg| {
        matches!(
            *arg,
            "--json" | "--watch" | "--experiment" | "--help" | "-h" | "--version"
        )
    }) && !args
        .first()
        .is_some_and(|verb| !verb.starts_with('-') && *verb != "grade");
    if grades {
        command
            .arg("--json")
            .arg(log_dir.path().join(LAB_JSON))
            .args(["--json-format", "lab"]);
    }
    if let Some((fixture, fault)) = fault {
        command
            .arg("--server")
            .arg(fixture)
            .env("FAULTY_SERVER_FAULT", fault)
            .env("FAULTY_SERVER_CLAIM", "8388608");
    }
    let output = command
        .stderr(Stdio::piped())
        .output()
        .expect("running the checker");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let left = processes_marked(log_dir.path());
    assert!(left.is_empty(), "processes left behind: {left:?}\n{stdout}");
    Run {
        output,
        stdout,
        log_dir,
    }
}

/// The status words, short.
pub const P: &str = "passed";
pub const F: &str = "failed";
pub const N: &str = "not checked";

/// Grades the fixture with `fault`; `None` in a copy without solution/.
pub fn run_faulty(fault: &str) -> Option<Run> {
    run_in_turn(Some(fault), &["--size", "8M"])
}

/// Grades the fixture with `fault` as [`run_faulty`] does: every such run writes the lab's
/// JSON, which [`Run::findings`] reads.
pub fn run_faulty_lab(fault: &str) -> Option<Run> {
    run_faulty_lab_with(fault, &["--size", "8M"])
}

/// Grades the fixture with `fault` and the checker's options `args`; the run writes the
/// lab's JSON for [`Run::findings`] (see [`run_checker_in`]).
pub fn run_faulty_lab_with(fault: &str, args: &[&str]) -> Option<Run> {
    run_in_turn(Some(fault), args)
}

/// Waits for this test binary's turn to run the checker.
pub fn take_turn() -> MutexGuard<'static, ()> {
    ONE_RUN_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs the checker with `args` in turn, on the fixture with `fault` if one is named;
/// `None` when that needs solution/ and this copy has none.
pub fn run_in_turn(fault: Option<&str>, args: &[&str]) -> Option<Run> {
    let fixture = match fault {
        Some(_) => Some(fixture()?),
        None => None,
    };
    let _turn = take_turn();
    Some(run_checker(fixture.zip(fault), args))
}
