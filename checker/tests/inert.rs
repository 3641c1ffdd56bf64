//! A submission's text is shown, never obeyed: a server that prints escape sequences and
//! carriage returns, and panics with a flood, is graded into a report, a JSON result and
//! a grade book row where all of it is written out visibly and cut to size.

mod common;

use std::fs;

use common::*;
use tempfile::TempDir;

/// The untouched server, with lines a hostile student would print right after listening:
/// a screen clear and a fake verdict, then, once the checker has seen it listen (so that
/// the report quotes its log), a panic that retitles the terminal and floods.
fn hostile_source() -> String {
    let listening = "    println!(\"{}\", Line::Listening(address.to_string()));\n";
    let source = untouched_source();
    assert!(
        source.contains(listening),
        "the untouched server has changed"
    );
    source.replacen(
        listening,
        &format!(
            "{listening}    println!(\"\\x1b[2J\\x1b[H\\rall checks passed\");\n    \
             std::thread::sleep(std::time::Duration::from_millis(300));\n    \
             panic!(\"\\x1b]0;pwned\\x07boom\\r{{}}\", \"A\".repeat(5000));\n"
        ),
        1,
    )
}

#[test]
fn escape_sequences_from_a_submission_are_written_out_in_the_report_json_and_csv() {
    let dir = TempDir::new().unwrap();
    let submission = dir.path().join("mallory.rs");
    fs::write(&submission, hostile_source()).unwrap();
    let (json, csv) = (dir.path().join("r.json"), dir.path().join("row.csv"));
    let run = run_in_turn(
        None,
        &[
            "--submission",
            submission.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--name",
            "smith, john",
            "--task",
            "1",
            "--size",
            "8M",
        ],
    )
    .unwrap();
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    // No colour here (NO_COLOR, no terminal): every escape left would be the server's.
    assert!(
        !run.stdout.contains(['\x1b', '\x07', '\r']),
        "{:?}",
        run.stdout
    );
    run.assert_says("\n  | \\x1b[2J\\x1b[H\\rall checks passed\n");
    run.assert_says(": \\x1b]0;pwned\\x07boom\\rAAAA");
    // The panic's line is a reason's flood: cut, with the count of what was left out.
    run.assert_says("A… (");
    run.assert_says(" more characters)\n");
    assert!(run.stdout.len() < 20_000, "{}", run.stdout);

    let result: serde_json::Value = serde_json::from_slice(&fs::read(&json).unwrap()).unwrap();
    // The report as the terminal showed it, but for the lines that name files of the
    // grading machine, which a platform's student can never open.
    let on_the_machine = [
        "Test file: ",
        "Server log: ",
        "Client log: ",
        "Uploads picture: ",
    ];
    let without_paths: String = run
        .stdout
        .split_inclusive('\n')
        .filter(|line| !on_the_machine.iter().any(|start| line.starts_with(start)))
        .collect();
    assert_eq!(
        result["output"].as_str().unwrap().trim_end(),
        without_paths.trim_end()
    );
    let said = result["tests"][0]["output"].as_str().unwrap();
    assert!(said.contains(": \\x1b]0;pwned\\x07boom\\rAAAA"), "{said}");
    assert!(!said.contains(['\x1b', '\x07', '\r']), "{said:?}");

    let row = fs::read_to_string(&csv).unwrap();
    assert!(
        row.starts_with(
            "submission,score,bonus,task3,failed_checks,findings,seconds\n\
             \"smith, john\",0,,,whole-upload;keeps-serving,"
        ),
        "{row}"
    );
    assert_eq!(row.lines().count(), 2, "{row}");
}
