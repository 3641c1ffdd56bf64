//! `checker class`: a class of three shapes of submission graded one at a time, the grade
//! book and the summary it writes, and a second run that grades only whom it is told to.
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

use common::*;

/// The reference as a student has it at `stage` (scripts/stage.sh), written to `out`.
fn staged(stage: &str, out: &Path) {
    fs::create_dir_all(out.parent().unwrap()).unwrap();
    let status = Command::new(workspace().join("scripts/stage.sh"))
        .arg(stage)
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success(), "scripts/stage.sh {stage} failed");
}

fn class(dir: &TempDir, args: &[&str]) -> (i32, String) {
    let output = checker(dir.path())
        .current_dir(workspace())
        .arg("class")
        .arg(dir.path().join("class"))
        .arg(dir.path().join("out"))
        .args(["--task", "1", "--size", "8M"])
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    (
        output.status.code().unwrap_or(-1),
        format!("{stdout}{stderr}"),
    )
}

#[test]
fn a_class_is_graded_once_into_a_grade_book_and_a_summary() {
    let dir = TempDir::new().unwrap();
    let submissions = dir.path().join("class");
    staged("untouched", &submissions.join("alice.rs"));
    staged("1", &submissions.join("bob/server.rs"));
    staged("2", &submissions.join("carol/skeleton/src/bin/server.rs"));
    fs::write(submissions.join("notes.txt"), "not a submission").unwrap();
    let _turn = take_turn();

    let (code, said) = class(&dir, &[]);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("class: notes.txt is no submission (not graded)"),
        "{said}"
    );
    let out = dir.path().join("out");
    let book = fs::read_to_string(out.join("grades.csv")).unwrap();
    let rows: Vec<Vec<&str>> = book
        .lines()
        .map(|line| line.split(',').take(5).collect())
        .collect();
    assert_eq!(
        rows,
        [
            vec!["submission", "score", "bonus", "task3", "failed_checks"],
            vec!["alice", "0", "", "", "whole-upload;keeps-serving"],
            vec!["bob", "50", "", "", ""],
            vec!["carol", "50", "", "", ""],
        ],
        "{book}"
    );
    let summary = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("| task 1: receives a whole upload | 2 | 1 | 0 |\n"),
        "{summary}"
    );
    assert!(summary.contains("| 50 | 2 |\n| 0 | 1 |\n"), "{summary}");
    // Alice's finding, by its slug, with her name: what the class hit, and who.
    assert!(
        summary
            .lines()
            .any(|line| line.starts_with("| `") && line.ends_with(" | 1 | alice |")),
        "{summary}"
    );
    assert!(out.join("summary.svg").is_file());
    for student in ["alice", "bob", "carol"] {
        assert!(
            out.join(student).join("results.json").is_file(),
            "{student}"
        );
        assert!(
            out.join(student).join("server_output.log").is_file(),
            "{student}"
        );
    }

    // A second run keeps every result it has, and grades again only whom it is told to.
    let kept = fs::metadata(out.join("bob/results.json"))
        .unwrap()
        .modified()
        .unwrap();
    let (code, said) = class(&dir, &["--regrade", "alice"]);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("class: [1/3] alice"), "{said}");
    assert!(
        !said.contains("] bob") && !said.contains("] carol"),
        "{said}"
    );
    let now = fs::metadata(out.join("bob/results.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(kept, now);
    // The same rows, but for the seconds of the one graded again.
    let without_seconds = |book: &str| -> Vec<String> {
        book.lines()
            .map(|line| {
                line.rsplit_once(',')
                    .map_or(line, |(rest, _)| rest)
                    .to_owned()
            })
            .collect()
    };
    let again = fs::read_to_string(out.join("grades.csv")).unwrap();
    assert_eq!(without_seconds(&again), without_seconds(&book));
    let (code, said) = class(&dir, &["--regrade", "zed"]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("--regrade zed: no submission of that name"),
        "{said}"
    );
}
