//! The client as a user runs it, against a stand-in server that counts what arrives.

use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, TcpListener};
use std::thread;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

/// A port on 127.0.0.1 where nothing listens (it was free a moment ago).
fn closed_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    listener.local_addr().unwrap().port()
}

fn client(dir: &TempDir) -> Command {
    let mut command = Command::cargo_bin("client").unwrap();
    command
        .current_dir(dir.path())
        .timeout(std::time::Duration::from_secs(60));
    command
}

#[test]
fn upload_reports_every_10_mib_and_the_byte_count() {
    let dir = TempDir::new().unwrap();
    let size = 25 * 1024 * 1024 + 7;
    fs::write(dir.path().join("test-file.txt"), vec![b'x'; size]).unwrap();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let receiver = thread::spawn(move || {
        let (mut upload, _) = listener.accept().unwrap();
        let mut received = Vec::new();
        upload.read_to_end(&mut received).unwrap();
        received.len()
    });

    client(&dir)
        .args(["--port", &port.to_string()])
        .assert()
        .success()
        .stdout(format!(
            "Sent 10 MiB\nSent 20 MiB\nSent {size} bytes to the server\n"
        ))
        .stderr("");
    assert_eq!(receiver.join().unwrap(), size);
}

#[test]
fn missing_test_file_is_an_error_that_says_how_to_make_one() {
    let dir = TempDir::new().unwrap();
    client(&dir)
        .args(["--port", &closed_port().to_string()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "client: cannot open test-file.txt: No such file or directory",
        ))
        .stderr(predicate::str::contains("cargo run -p gen-testfile"));
}

#[test]
fn refused_connection_is_an_error_that_says_to_start_the_server() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("upload.bin"), b"hello").unwrap();
    let port = closed_port();
    client(&dir)
        .args(["--port", &port.to_string(), "--file", "upload.bin"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "client: cannot connect to 127.0.0.1:{port}: Connection refused"
        )))
        .stderr(predicate::str::contains("start it first"));
}

#[test]
fn server_vanishing_mid_upload_is_an_error() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("test-file.txt"), vec![0; 64 << 20]).unwrap();
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = thread::spawn(move || {
        let (mut upload, _) = listener.accept().unwrap();
        let mut first = [0; 1024];
        upload.read_exact(&mut first).unwrap();
        // Dropping a socket with unread input makes the kernel reset the connection.
    });

    client(&dir)
        .args(["--port", &port.to_string()])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "client: sending to the server after ",
        ))
        .stderr(predicate::str::contains(
            "hint: the server closed the connection",
        ));
    server.join().unwrap();
}
