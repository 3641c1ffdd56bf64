//! The whole report of one run, as a student reads it, held against a snapshot: every line
//! and its order, with the run's own paths and source positions normalised. Renderings are
//! tested piece by piece in the checker's unit tests; this is the one end-to-end look.
//!
//! After a deliberate change of the report, `UPDATE_SNAPSHOTS=1 cargo test -p checker
//! --test report` writes the new snapshot; read its diff before committing it.

mod common;

use std::fs;

use common::*;

/// `text` with what differs from run to run made constant: the log folder, the server's
/// path, its port, and the line and column of the panic in its source.
fn normalised(text: &str, log_dir: &str, server: &str) -> String {
    let text = text.replace(log_dir, "<logs>").replace(server, "<server>");
    let text = match text.split_once(" --port ") {
        Some((before, after)) => {
            let digits = after.chars().take_while(char::is_ascii_digit).count();
            format!("{before} --port <port>{}", &after[digits..])
        }
        None => text,
    };
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("server.rs:") {
        let (before, after) = rest.split_at(at + "server.rs:".len());
        out.push_str(before);
        let position: String = after
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ':')
            .collect();
        if position.is_empty() {
            rest = after;
            continue;
        }
        out.push_str(if position.ends_with(':') {
            "L:C:"
        } else {
            "L:C"
        });
        rest = &after[position.len()..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_untouched_servers_report_reads_as_the_snapshot() {
    let server = untouched_server();
    let run = run_in_turn(
        None,
        &["--server", server.to_str().unwrap(), "--size", "8M"],
    )
    .unwrap();
    let log_dir = run.log_dir.path().canonicalize().unwrap();
    let report = normalised(
        &run.stdout,
        log_dir.to_str().unwrap(),
        server.to_str().unwrap(),
    );
    let snapshot = workspace().join("checker/tests/snapshots/untouched-report.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::write(&snapshot, &report).unwrap();
    }
    let expected = fs::read_to_string(&snapshot).unwrap();
    assert!(
        report == expected,
        "the report differs from {}:\n--- expected\n{expected}\n--- got\n{report}",
        snapshot.display()
    );
    assert_eq!(run.code(), Some(1));
}
