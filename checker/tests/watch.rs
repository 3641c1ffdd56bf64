//! `--watch` as a student meets it, through a pseudo-terminal: it grades at once, grades
//! again when the file is saved (here: the untouched server, then task 1 done), and `q`
//! (no Enter) ends it with nothing left running and the terminal as it was.
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

#[test]
fn watch_grades_again_on_save_and_quits_on_q_alone() {
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let server = dir.path().join("server.rs");
    fs::write(&server, untouched_source()).unwrap();
    let task_one = Command::new("awk")
        .args(["-v", "todos=1 2 3 4", "-f"])
        .arg(workspace().join("scripts/fill-todos.awk"))
        .arg(workspace().join("solution/src/bin/server.rs"))
        .arg(workspace().join("skeleton/tests/untouched/server.rs"))
        .output()
        .unwrap();
    assert!(task_one.status.success());

    let pty = openpty(None, None).unwrap();
    let terminal = |fd: &OwnedFd| Stdio::from(fd.try_clone().unwrap());
    let mut watching = checker(dir.path())
        // The verb, as the README writes it (each run is the checker again, without it).
        .args(["watch", "--task", "1", "--size", "8M", "--submission"])
        .arg(&server)
        .arg("--log-dir")
        .arg(dir.path())
        .stdin(terminal(&pty.slave))
        .stdout(terminal(&pty.slave))
        .stderr(terminal(&pty.slave))
        .spawn()
        .unwrap();
    // Kept to read the terminal's settings at the end.
    let settings = pty.slave.try_clone().unwrap();
    let before = nix::sys::termios::tcgetattr(&settings).unwrap();
    drop(pty.slave);
    let screen = Arc::new(Mutex::new(String::new()));
    let mut master = File::from(pty.master);
    let mut keys = master.try_clone().unwrap();
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

    let minutes = Duration::from_secs(180);
    let at = wait_for_screen(&screen, "checking ", 0, Duration::from_secs(10));
    let at = wait_for_screen(&screen, "Total: 0/50", at, minutes);
    wait_for_screen(&screen, "Watching ", at, Duration::from_secs(10));
    // Saved the way an editor saves: a new file renamed over the old one.
    let saved = dir.path().join(".server.rs.new");
    fs::write(&saved, &task_one.stdout).unwrap();
    fs::rename(&saved, &server).unwrap();
    let at = wait_for_screen(&screen, "checking ", at, Duration::from_secs(10));
    let at = wait_for_screen(&screen, "Total: 50/50", at, minutes);
    wait_for_screen(&screen, "q to quit.", at, Duration::from_secs(10));
    // A key, as typed: no Enter after it.
    keys.write_all(b"q").unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = watching.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "q did not end the watch");
        thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let after = nix::sys::termios::tcgetattr(&settings).unwrap();
    assert_eq!(
        after.local_flags, before.local_flags,
        "the terminal was not put back"
    );
    let report = fs::read_to_string(dir.path().join("checker_report.txt")).unwrap();
    assert!(report.contains("Total: 50/50"), "{report}");
    assert_eq!(processes_marked(dir.path()), Vec::<i32>::new());
}
