//! The reference server end to end, with clients made in the test (the same send loop as
//! the client program). Every test starts its own server on a free port and stops it,
//! with any children it forked, even when the test fails.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::Write;
use std::net::{Ipv4Addr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::sys::socket::{setsockopt, sockopt};
use nix::unistd::Pid;
use tempfile::TempDir;

const WAIT: Duration = Duration::from_secs(30);

/// A reference server started for one test, in a process group of its own so that the
/// group can be stopped as a whole: the server and every child it forked. Its stdout and
/// stderr both go to one log file, as in the checker, so a line printed twice across a
/// fork would show up in the counts the tests assert.
struct ServerUnderTest {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: TempDir,
}

impl ServerUnderTest {
    /// Starts the server on a free port (`--port 0`) and reads the port from its first line.
    fn start() -> Self {
        Self::start_with(&[])
    }

    /// The same, with `args` after `--port 0`.
    fn start_with(args: &[&str]) -> Self {
        let dir = TempDir::new().unwrap();
        let log = dir.path().join("server_output.log");
        let output = File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_solution-server"))
            .args(["--port", "0"])
            .args(args)
            .process_group(0)
            .stdout(output.try_clone().unwrap())
            .stderr(output)
            .spawn()
            .expect("starting the server");
        let mut server = ServerUnderTest {
            child,
            port: 0,
            log,
            _dir: dir,
        };
        let first = server.expect_line(|line| line.starts_with("Server listening on "));
        server.port = first.rsplit(':').next().unwrap().parse().unwrap();
        server
    }

    /// Every complete line the server has printed so far.
    fn lines(&self) -> Vec<String> {
        let text = fs::read_to_string(&self.log).unwrap();
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete.lines().map(str::to_owned).collect()
    }

    /// Waits until the server has printed `count` lines that satisfy `wanted`, and
    /// returns them.
    fn expect_lines(&self, count: usize, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = Instant::now() + WAIT;
        loop {
            let lines = self.lines();
            let found: Vec<_> = lines.iter().filter(|line| wanted(line)).cloned().collect();
            if found.len() >= count {
                return found;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {count} lines, saw {}; the server printed:\n{}",
                found.len(),
                lines.join("\n")
            );
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits until the server has printed a line that satisfies `wanted`, and returns it.
    fn expect_line(&self, wanted: impl Fn(&str) -> bool) -> String {
        self.expect_lines(1, wanted).remove(0)
    }

    fn connect(&self) -> TcpStream {
        TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).expect("connecting to the server")
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's open descriptors, from /proc.
    fn open_descriptors(&self) -> usize {
        fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .unwrap()
            .count()
    }

    /// The server's child processes and their states (R, S, Z...), from /proc.
    fn children(&self) -> Vec<(u32, char)> {
        let parent = self.pid().to_string();
        let entries = fs::read_dir("/proc").unwrap().flatten();
        entries
            .filter_map(|entry| {
                let pid = entry.file_name().to_str()?.parse().ok()?;
                let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
                // After the command name, which may hold spaces: state, then parent pid.
                let mut fields = stat.rsplit_once(") ")?.1.split(' ');
                let state = fields.next()?.chars().next()?;
                (fields.next()? == parent).then_some((pid, state))
            })
            .collect()
    }
}

impl Drop for ServerUnderTest {
    fn drop(&mut self) {
        // The group is still ours: the server is not reaped yet, so its id cannot be reused.
        let _ = killpg(Pid::from_raw(self.child.id() as i32), Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

/// A file of `size` bytes in a fresh temporary directory.
fn upload_file(size: usize) -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("upload.bin");
    fs::write(&path, vec![b'u'; size]).unwrap();
    (dir, path)
}

/// Uploads the file at `path` the way the client program does; returns the bytes sent.
fn upload(server: &ServerUnderTest, path: &Path) -> u64 {
    let stream = server.connect();
    let mut file = File::open(path).unwrap();
    lab::send_upload(&stream, &mut file, |_, _| {}).unwrap()
}

/// Closes `stream` with a zero linger time, which resets the connection instead of ending
/// it properly.
fn reset(stream: TcpStream) {
    setsockopt(
        &stream,
        sockopt::Linger,
        &nix::libc::linger {
            l_onoff: 1,
            l_linger: 0,
        },
    )
    .unwrap();
    drop(stream);
}

fn received_bytes(line: &str) -> u64 {
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn one_upload_is_reported_with_its_exact_size() {
    let server = ServerUnderTest::start();
    let (_dir, path) = upload_file(3 << 20);
    assert_eq!(upload(&server, &path), 3 << 20);
    let fd = server
        .expect_line(|l| l.starts_with("<< New client connected on socket "))
        .split(' ')
        .nth(6)
        .unwrap()
        .to_owned();
    server.expect_line(|l| l == format!("Client {fd} wants to send a file"));
    server.expect_line(|l| {
        l.starts_with("<< Process ") && l.ends_with(&format!(" created to handle client {fd} >>"))
    });
    server.expect_line(|l| l == format!("Received 3145728 bytes from [Client {fd}]"));
    server.expect_line(|l| l.starts_with("<< Process ") && l.ends_with(" exited with status 0 >>"));
    assert_eq!(
        server.lines().len(),
        6,
        "unexpected lines: {:#?}",
        server.lines()
    );
}

fn concurrent_uploads_are_all_received(clients: usize) {
    let server = ServerUnderTest::start();
    let size = 2 << 20;
    let (_dir, path) = upload_file(size);
    thread::scope(|scope| {
        let uploads: Vec<_> = (0..clients)
            .map(|_| scope.spawn(|| upload(&server, &path)))
            .collect();
        for upload in uploads {
            assert_eq!(upload.join().unwrap(), size as u64);
        }
    });
    let received = server.expect_lines(clients, |l| l.starts_with("Received "));
    assert!(
        received
            .iter()
            .all(|line| received_bytes(line) == size as u64),
        "{received:#?}"
    );
    let processes: HashSet<_> = server
        .expect_lines(clients, |l| l.ends_with(" exited with status 0 >>"))
        .into_iter()
        .collect();
    assert_eq!(processes.len(), clients, "a process exited twice?");
}

#[test]
fn two_clients_at_once_are_both_received() {
    concurrent_uploads_are_all_received(2);
}

#[test]
fn ten_clients_at_once_are_all_received() {
    concurrent_uploads_are_all_received(10);
}

#[test]
fn client_that_closes_at_once_is_reported_as_zero_bytes() {
    let server = ServerUnderTest::start();
    drop(server.connect());
    server.expect_line(|l| l.starts_with("Received 0 bytes from [Client "));
    server.expect_line(|l| l.ends_with(" exited with status 0 >>"));
}

#[test]
fn client_reset_mid_upload_ends_only_its_own_handler() {
    let server = ServerUnderTest::start();
    let mut vanishing = server.connect();
    vanishing.write_all(&[7; 1 << 20]).unwrap();
    server.expect_line(|l| l.starts_with("<< Process "));
    reset(vanishing);
    let error = server.expect_line(|l| l.starts_with("server: "));
    assert!(error.contains("Connection reset by peer"), "{error}");
    server.expect_line(|l| l.ends_with(" exited with status 1 >>"));

    let (_dir, path) = upload_file(1 << 20);
    upload(&server, &path);
    server.expect_line(|l| l.starts_with("Received 1048576 bytes from [Client "));
}

#[test]
fn descriptors_return_to_their_count_and_no_zombie_remains() {
    let server = ServerUnderTest::start();
    let before = server.open_descriptors();
    let (_dir, path) = upload_file(1 << 20);
    thread::scope(|scope| {
        for _ in 0..3 {
            scope.spawn(|| upload(&server, &path));
        }
    });
    server.expect_lines(3, |l| l.ends_with(" exited with status 0 >>"));
    assert_eq!(
        server.open_descriptors(),
        before,
        "the server kept descriptors of finished clients"
    );
    assert_eq!(
        server.children(),
        [],
        "children left after every upload was reaped"
    );
    let lines = server.lines();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("Received 1048576 bytes"))
            .count(),
        3,
        "{lines:#?}"
    );
    assert_eq!(
        lines.len(),
        1 + 3 * 5,
        "a line was printed twice or went missing: {lines:#?}"
    );
}

/// Task 3: uploads at once in async mode, each reported once with its size, by the server
/// itself: no child process, and every descriptor given back.
#[test]
fn async_mode_receives_uploads_at_once_without_children() {
    let server = ServerUnderTest::start_with(&["--mode", "async"]);
    let before = server.open_descriptors();
    let size = 2 << 20;
    let (_dir, path) = upload_file(size);
    thread::scope(|scope| {
        let uploads: Vec<_> = (0..5)
            .map(|_| scope.spawn(|| upload(&server, &path)))
            .collect();
        for upload in uploads {
            assert_eq!(upload.join().unwrap(), size as u64);
        }
    });
    let received = server.expect_lines(5, |l| l.starts_with("Received "));
    assert!(
        received
            .iter()
            .all(|line| received_bytes(line) == size as u64),
        "{received:#?}"
    );
    assert_eq!(server.children(), [], "async mode forked");
    assert_eq!(server.open_descriptors(), before);
    let lines = server.lines();
    assert_eq!(lines.len(), 1 + 5 * 3, "{lines:#?}");
    assert!(!lines.iter().any(|l| l.contains("Process")), "{lines:#?}");
}

/// Task 3: a reset ends only its own client, and an empty upload is reported as 0 bytes.
#[test]
fn async_mode_survives_a_reset_and_reports_an_empty_upload() {
    let server = ServerUnderTest::start_with(&["--mode", "async"]);
    let mut vanishing = server.connect();
    vanishing.write_all(&[7; 1 << 20]).unwrap();
    server.expect_line(|l| l.starts_with("Client "));
    reset(vanishing);
    let error = server.expect_line(|l| l.starts_with("server: "));
    assert!(error.contains("Connection reset by peer"), "{error}");
    drop(server.connect());
    server.expect_line(|l| l.starts_with("Received 0 bytes from [Client "));
    let (_dir, path) = upload_file(1 << 20);
    upload(&server, &path);
    server.expect_line(|l| l.starts_with("Received 1048576 bytes from [Client "));
}
