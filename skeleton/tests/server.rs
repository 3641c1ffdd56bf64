//! The untouched skeleton server: it must build, stop at once at the first TODO, and
//! already handle the given parts (options, a busy port) properly.

use std::net::{Ipv4Addr, TcpListener};
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

#[test]
fn untouched_skeleton_stops_at_once_naming_todo_1() {
    server()
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
