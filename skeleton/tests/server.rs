//! The skeleton server: as handed out, it must build and stop at once at the first TODO
//! (proved on a copy, so that these tests stay green while the student works); at every
//! stage it must handle the given parts (options, a busy port) properly.

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

fn server() -> Command {
    let mut command = Command::cargo_bin("server").unwrap();
    command
        .timeout(Duration::from_secs(10))
        .env("RUST_BACKTRACE", "0");
    command
}

/// The server exactly as handed out (the example `untouched-server`, built from
/// tests/untouched/server.rs with the profile of these tests): the given code, whatever
/// stage the student's own server has reached.
fn untouched_server() -> Command {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let path = BUILT.get_or_init(|| {
        let mut cargo = std::process::Command::new(env!("CARGO"));
        cargo.current_dir(env!("CARGO_MANIFEST_DIR")).args([
            "build",
            "--quiet",
            "--example",
            "untouched-server",
        ]);
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let status = cargo.status().expect("running cargo");
        assert!(status.success(), "the untouched server does not build");
        // The server binary of these tests sits in the same profile directory.
        Path::new(env!("CARGO_BIN_EXE_server")).with_file_name("examples/untouched-server")
    });
    let mut command = Command::new(path);
    command
        .timeout(Duration::from_secs(10))
        .env("RUST_BACKTRACE", "0");
    command
}

#[test]
fn untouched_server_stops_at_once_naming_todo_1() {
    untouched_server()
        .args(["--port", "0"])
        .assert()
        .code(101)
        .stdout(predicate::str::starts_with(
            "Server listening on 127.0.0.1:",
        ))
        .stderr(predicate::str::contains(
            "not yet implemented: TODO 1: create an epoll instance and add the listener",
        ));
}

#[test]
fn busy_port_is_an_error_naming_the_port() {
    let holder = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    server()
        .args(["--port", &port.to_string()])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(format!(
            "server: cannot listen on 127.0.0.1:{port}: Address already in use"
        )))
        .stderr(predicate::str::contains("choose another port with --port"));
}

#[test]
fn zero_buffer_size_is_a_usage_error() {
    server()
        .args(["--port", "0", "--buf-size", "0"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--buf-size"));
}

#[test]
fn unknown_mode_is_a_usage_error_naming_both_modes() {
    server()
        .args(["--port", "0", "--mode", "threads"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("--mode"))
        .stderr(predicate::str::contains(
            "[possible values: blocking, async]",
        ));
}

#[test]
fn untouched_server_in_async_mode_also_stops_at_todo_1() {
    untouched_server()
        .args(["--port", "0", "--mode", "async"])
        .assert()
        .code(101)
        .stderr(predicate::str::contains("not yet implemented: TODO 1"));
}
