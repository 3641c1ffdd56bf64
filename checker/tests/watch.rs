//! `--watch` as a student meets it, through a pseudo-terminal: it grades at once, grades
//! again when the file is saved (here: the untouched server, then task 1 done), and `q`
//! (no Enter) ends it with nothing left running and the terminal as it was. A save while
//! a grading runs cancels that grading: its processes are gone before the next begins.
#![cfg(lab_has_solution)]

mod common;

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::pty::openpty;
use tempfile::TempDir;

use common::*;

/// Waits until the terminal shows `text` after byte `from`; returns where it ends.
fn wait_for_screen(screen: &Mutex<String>, text: &str, from: usize, limit: Duration) -> usize {
    let deadline = Instant::now() + limit;
    loop {
        {
            let shown = screen.lock().unwrap();
            if let Some(at) = shown[from.min(shown.len())..].find(text) {
                return from + at + text.len();
            }
            assert!(
                Instant::now() < deadline,
                "the screen never showed {text:?}:\n{shown}"
            );
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// The source of task 1 done (TODOs 1 to 4 of the solution in the handed-out server).
fn task_one_source() -> Vec<u8> {
    let task_one = Command::new("awk")
        .args(["-v", "todos=1 2 3 4", "-f"])
        .arg(workspace().join("scripts/fill-todos.awk"))
        .arg(workspace().join("solution/src/bin/server.rs"))
        .arg(workspace().join("skeleton/tests/untouched/server.rs"))
        .output()
        .unwrap();
    assert!(task_one.status.success());
    task_one.stdout
}

/// Saves `text` as `server` the way an editor saves: a new file renamed over the old one.
fn save(server: &std::path::Path, text: &[u8]) {
    let saved = server.with_file_name(".server.rs.new");
    fs::write(&saved, text).unwrap();
    fs::rename(&saved, server).unwrap();
}

/// `checker watch` on a pseudo-terminal: what it shows, and the keys typed into it.
struct Watching {
    checker: std::process::Child,
    screen: Arc<Mutex<String>>,
    keys: File,
    /// The terminal, to read its settings.
    settings: OwnedFd,
}

impl Watching {
    /// Starts `checker watch ARGS --submission SERVER --log-dir DIR`.
    fn start(dir: &std::path::Path, server: &std::path::Path, args: &[&str]) -> Watching {
        let pty = openpty(None, None).unwrap();
        let terminal = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
        let checker = checker(dir)
            // The verb, as the README writes it.
            .arg("watch")
            .args(args)
            .arg("--submission")
            .arg(server)
            .arg("--log-dir")
            .arg(dir)
            .stdin(terminal(&pty.slave))
            .stdout(terminal(&pty.slave))
            .stderr(terminal(&pty.slave))
            .spawn()
            .unwrap();
        let settings = pty.slave.try_clone().unwrap();
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(String::new()));
        let mut master = File::from(pty.master);
        let keys = master.try_clone().unwrap();
        let shown = Arc::clone(&screen);
        thread::spawn(move || {
            let mut buffer = [0; 4096];
            while let Ok(n) = master.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                shown
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        Watching {
            checker,
            screen,
            keys,
            settings,
        }
    }

    /// Waits until the screen shows `text` after byte `from`; returns where it ends.
    fn shows(&self, text: &str, from: usize, limit: Duration) -> usize {
        wait_for_screen(&self.screen, text, from, limit)
    }

    /// Types `q` (no Enter) and waits for the checker to end: it must end with 0.
    fn quit(&mut self) {
        self.keys.write_all(b"q").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(status) = self.checker.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "q did not end the watch");
            thread::sleep(Duration::from_millis(20));
        };
        assert!(status.success(), "{status}");
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        // A failed test stops the checker it started (it stops its servers in turn).
        if self.checker.try_wait().ok().flatten().is_none() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.checker.id() as i32),
                nix::sys::signal::Signal::SIGTERM,
            );
            let _ = self.checker.wait();
        }
    }
}

/// Every process descended from `pid` (through /proc/PID/task/*/children).
fn descendants(pid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        let Ok(tasks) = fs::read_dir(format!("/proc/{parent}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let children = fs::read_to_string(task.path().join("children")).unwrap_or_default();
            for child in children
                .split_whitespace()
                .filter_map(|pid| pid.parse().ok())
            {
                found.push(child);
                next.push(child);
            }
        }
    }
    found
}

/// Whether `pid` is a process that has not ended (a zombie has ended).
fn is_alive(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| Some(stat.rsplit_once(") ")?.1.chars().next()? != 'Z'))
        .unwrap_or(false)
}

#[test]
fn watch_grades_again_on_save_and_quits_on_q_alone() {
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let server = dir.path().join("server.rs");
    fs::write(&server, untouched_source()).unwrap();
    let task_one = task_one_source();
    let mut watching = Watching::start(dir.path(), &server, &["--task", "1", "--size", "8M"]);
    let before = nix::sys::termios::tcgetattr(&watching.settings).unwrap();

    let minutes = Duration::from_secs(180);
    let at = watching.shows("checking ", 0, Duration::from_secs(10));
    let at = watching.shows("Total: 0/50", at, minutes);
    watching.shows("Watching ", at, Duration::from_secs(10));
    save(&server, &task_one);
    let at = watching.shows("checking ", at, Duration::from_secs(10));
    let at = watching.shows("Total: 50/50", at, minutes);
    watching.shows("q to quit.", at, Duration::from_secs(10));
    // A key, as typed: no Enter after it.
    watching.quit();
    let after = nix::sys::termios::tcgetattr(&watching.settings).unwrap();
    assert_eq!(
        after.local_flags, before.local_flags,
        "the terminal was not put back"
    );
    let report = fs::read_to_string(dir.path().join("checker_report.txt")).unwrap();
    assert!(report.contains("Total: 50/50"), "{report}");
    assert_eq!(processes_marked(dir.path()), Vec::<i32>::new());
}

#[test]
fn a_save_during_a_grading_cancels_it_and_stops_its_processes() {
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let server = dir.path().join("server.rs");
    // Task 1 done, with two uploads of 96 MiB at 10 bytes a read: more than 4 s of grading
    // left when the first upload begins, even on the fastest machine measured.
    fs::write(&server, task_one_source()).unwrap();
    let mut watching = Watching::start(dir.path(), &server, &["--task", "1", "--size", "96M"]);
    let at = watching.shows("checking ", 0, Duration::from_secs(10));
    let log = dir.path().join("server_output.log");
    let deadline = Instant::now() + Duration::from_secs(180);
    while !fs::read_to_string(&log).is_ok_and(|log| log.contains("wants to send a file")) {
        assert!(
            Instant::now() < deadline,
            "the first grading's server never got an upload"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let first_grading = descendants(watching.checker.id() as i32);
    assert!(
        !first_grading.is_empty(),
        "the first grading started no process"
    );

    let saved_at = Instant::now();
    save(&server, untouched_source().as_bytes());
    let at = watching.shows(
        "(a new save: that run was stopped)",
        at,
        Duration::from_secs(30),
    );
    // Stopped at once, not when the grading would have ended by itself.
    assert!(
        saved_at.elapsed() < Duration::from_secs(3),
        "the grading was stopped {:?} after the save",
        saved_at.elapsed()
    );
    // Stopped means gone: the processes in the server's namespace end with it, at once.
    let deadline = Instant::now() + Duration::from_secs(2);
    while first_grading.iter().any(|&pid| is_alive(pid)) {
        let alive: Vec<_> = first_grading.iter().filter(|&&pid| is_alive(pid)).collect();
        assert!(
            Instant::now() < deadline,
            "processes of the cancelled grading still run: {alive:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
    let at = watching.shows("checking ", at, Duration::from_secs(10));
    let at = watching.shows("Total: 0/50", at, Duration::from_secs(180));
    watching.shows("q to quit.", at, Duration::from_secs(10));
    watching.quit();
    // The screen and the report are the second grading's alone.
    let screen = watching.screen.lock().unwrap().clone();
    assert!(!screen.contains("Total: 50/50"), "{screen}");
    let report = fs::read_to_string(dir.path().join("checker_report.txt")).unwrap();
    assert!(report.contains("Total: 0/50"), "{report}");
    assert!(!report.contains("Total: 50/50"), "{report}");
    // No temporary test file of either grading is left beside the logs.
    let left: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".checker-"))
        .collect();
    assert_eq!(left, Vec::<String>::new());
    assert_eq!(processes_marked(dir.path()), Vec::<i32>::new());
}
