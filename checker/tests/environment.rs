//! What the checker runs in and what it hands on: it grades the lab it is run in (a copy,
//! a moved copy), and every server it starts begins clean, whatever the checker itself
//! was given (descriptors, a signal mask, ignored signals).
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use tempfile::TempDir;

use common::*;

/// Copies the lab's sources (no build output, no logs, no git) from `from` to `to`.
fn copy_lab(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if ["target", ".git", "test-file.txt", "uploads.svg"].contains(&name.as_ref())
            || name.ends_with(".log")
        {
            continue;
        }
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_lab(&entry.path(), &to.join(entry.file_name()));
        } else if kind.is_file() {
            fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

/// The target directory of these tests: where the checker binary was built.
fn target_dir() -> PathBuf {
    let checker = Path::new(env!("CARGO_BIN_EXE_checker"));
    checker.parent().unwrap().parent().unwrap().to_owned()
}

/// Grades `lab` with this checker binary, run from inside it, the way a student runs it
/// there (`--task 1`, small uploads). The copy builds into a target directory of its own,
/// so that it never replaces this workspace's binaries.
fn grade_in(lab: &Path) -> Run {
    let _turn = take_turn();
    let marker = lab.join(".marker");
    let output = checker(&marker)
        .current_dir(lab.join("skeleton"))
        .env("CARGO_TARGET_DIR", target_dir().join("copied-lab"))
        .args(["--task", "1", "--size", "8M"])
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(processes_marked(&marker).is_empty(), "{stdout}");
    Run {
        output,
        stdout,
        log_dir: TempDir::new().unwrap(),
    }
}

#[test]
fn a_copied_lab_grades_itself_and_so_does_it_once_moved() {
    let dir = TempDir::new().unwrap();
    let copy = dir.path().join("copy");
    copy_lab(workspace(), &copy);
    let moved = dir.path().join("moved");
    for lab in [&copy, &moved] {
        if lab == &moved {
            fs::rename(&copy, &moved).unwrap();
        }
        let run = grade_in(lab);
        let stderr = String::from_utf8_lossy(&run.output.stderr);
        assert!(
            run.stdout
                .starts_with("Grading skeleton: skeleton/src/bin/server.rs\nbuilds "),
            "{}\n{stderr}",
            run.stdout
        );
        let log = lab
            .canonicalize()
            .unwrap()
            .join("skeleton/server_output.log");
        run.assert_says(&format!("Server log: {}\n", log.display()));
        assert!(log.is_file());
        // Its own copy of the server was built and run, from its own folder.
        let started = fs::read_to_string(&log).unwrap();
        assert!(
            started.contains("copied-lab/debug/server --port "),
            "{started}"
        );
    }
}

/// The fixture's never-accepting server, started by a checker that was given one more
/// descriptor, SIGUSR1 blocked and SIGUSR2 ignored: the server sees none of it.
#[test]
fn servers_start_with_no_inherited_descriptor_mask_or_ignored_signal() {
    let Some(fixture) = fixture() else {
        return;
    };
    let _turn = take_turn();
    let dir = TempDir::new().unwrap();
    let inherited = fs::File::create(dir.path().join("inherited")).unwrap();
    let mut command = checker(dir.path());
    command
        .args(["--task", "1", "--size", "8M", "--log-dir"])
        .arg(dir.path())
        .arg("--server")
        .arg(fixture)
        .env("FAULTY_SERVER_FAULT", "never-accepts")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let raw = std::os::fd::AsRawFd::as_raw_fd(&inherited);
    // SAFETY: between fork and exec only system calls are made (fcntl, sigprocmask,
    // sigaction), with nothing allocated; `raw` stays open until the checker has started.
    unsafe {
        command.pre_exec(move || {
            let borrowed = std::os::fd::BorrowedFd::borrow_raw(raw);
            fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::empty()))?;
            let mut usr1 = SigSet::empty();
            usr1.add(Signal::SIGUSR1);
            sigprocmask(SigmaskHow::SIG_BLOCK, Some(&usr1), None)?;
            signal(Signal::SIGUSR2, SigHandler::SigIgn)?;
            Ok(())
        });
    }
    let mut running = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    // The server is known by the file it runs (in its own world the fixture is at
    // /server): the same device and inode.
    let fixture_file = {
        use std::os::unix::fs::MetadataExt;
        let meta = fs::metadata(fixture).unwrap();
        (meta.dev(), meta.ino())
    };
    let runs_fixture = |pid: i32| {
        use std::os::unix::fs::MetadataExt;
        fs::metadata(format!("/proc/{pid}/exe"))
            .is_ok_and(|meta| (meta.dev(), meta.ino()) == fixture_file)
    };
    let server = loop {
        let found = processes_marked(dir.path()).into_iter().find(|&pid| {
            runs_fixture(pid)
                && fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| fds.count() >= 4)
        });
        if let Some(pid) = found {
            break pid;
        }
        assert!(Instant::now() < deadline, "no server was seen");
        thread::sleep(Duration::from_millis(10));
    };
    let status = fs::read_to_string(format!("/proc/{server}/status")).unwrap_or_default();
    let mut fds: Vec<i32> = fs::read_dir(format!("/proc/{server}/fd"))
        .unwrap()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect();
    fds.sort_unstable();
    running.wait().unwrap();
    assert!(status.contains("\nSigBlk:\t0000000000000000\n"), "{status}");
    // SIGUSR2 is no longer ignored, nor any standard signal but what the server ignores
    // itself (SIGPIPE, as every Rust program does).
    let ignored = status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:\t"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .expect("a SigIgn line");
    assert_eq!(ignored & 1 << (Signal::SIGUSR2 as i32 - 1), 0, "{status}");
    assert_eq!(
        ignored & 0x7fff_ffff,
        1 << (Signal::SIGPIPE as i32 - 1),
        "{status}"
    );
    assert_eq!(fds, [0, 1, 2, 3], "the server's descriptors");
}

/// A server in Python that serves one upload at a time from an epoll loop (task 1).
const PYTHON_SERVER: &str = r#"#!/usr/bin/env python3
import selectors, socket, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
listener = socket.socket()
listener.bind(("127.0.0.1", port))
listener.listen(128)
print(f"Server listening on 127.0.0.1:{port}", flush=True)
epoll = selectors.EpollSelector()
epoll.register(listener, selectors.EVENT_READ)
while True:
    for key, _ in epoll.select():
        if key.fileobj is listener:
            client, _ = listener.accept()
            print(f"<< New client connected on socket {client.fileno()} >>", flush=True)
            epoll.register(client, selectors.EVENT_READ)
            continue
        client = key.fileobj
        fd = client.fileno()
        print(f"Client {fd} wants to send a file", flush=True)
        received = 0
        while chunk := client.recv(10):
            received += len(chunk)
        print(f"Received {received} bytes from [Client {fd}]", flush=True)
        epoll.unregister(client)
        client.close()
"#;

/// An instructor's own server may be a script: it is run by the interpreter its first
/// line names, in the server's world, and graded like any other (task 1 done: 50).
#[test]
fn a_script_named_with_server_is_graded_like_any_server() {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        Path::new("/usr/bin/python3").is_file(),
        "this test needs the system's Python 3 at /usr/bin/python3"
    );
    let dir = TempDir::new().unwrap();
    let script = dir.path().join("server.py");
    fs::write(&script, PYTHON_SERVER).unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let _turn = take_turn();
    let output = checker(dir.path())
        .args(["--task", "1", "--size", "1M", "--log-dir"])
        .arg(dir.path())
        .arg("--server")
        .arg(&script)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("Isolation: none"), "{stdout}");
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("Total: 50/50"), "{stdout}");
    assert!(processes_marked(dir.path()).is_empty());
}

/// The lab's own checking scripts answer --help with what they do, and start nothing.
#[test]
fn the_checking_scripts_say_what_they_do_for_help_and_run_nothing() {
    for (script, first_words) in [
        (
            "check-handout.sh",
            "Makes a handout in a temporary directory",
        ),
        ("check-kits.sh", "Proves the grading kits on real gradings"),
        (
            "check-grade-class.sh",
            "Grades a small class with `checker class`",
        ),
        (
            "check-platforms.sh",
            "Proves the lab's platform glue on this machine",
        ),
    ] {
        let path = workspace().join("scripts").join(script);
        let started = Instant::now();
        let output = std::process::Command::new(&path)
            .arg("--help")
            .output()
            .unwrap();
        assert!(output.status.success(), "{script}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.starts_with(first_words), "{script}: {stdout}");
        assert!(started.elapsed() < Duration::from_secs(5), "{script} ran");
        let refused = std::process::Command::new(&path)
            .arg("now")
            .output()
            .unwrap();
        assert_eq!(refused.status.code(), Some(2), "{script}");
    }
}
