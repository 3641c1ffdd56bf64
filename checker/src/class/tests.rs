//! Tests of class grading: finding the submissions, the grade book and the summary.

use std::collections::BTreeMap;

use super::*;
use serde_json::json;

fn graded(name: &str, points: u64, verdicts: Value) -> Graded {
    Graded {
        name: name.into(),
        result: Ok(json!({
            "version": 1,
            "score": { "points": points, "bonus": "not checked", "task_three": "failed" },
            "seconds": 2.5,
            "verdicts": verdicts,
        })),
        graded_now: true,
    }
}

fn class() -> Vec<Graded> {
    let one = json!([
        { "check": "whole-upload", "name": "task 1: receives a whole upload", "status": "passed", "finding": null },
        { "check": "concurrent-uploads", "name": "task 2: concurrent uploads", "status": "failed", "finding": "one-at-a-time" },
    ]);
    let none = json!([
        { "check": "whole-upload", "name": "task 1: receives a whole upload", "status": "failed", "finding": "server-stopped" },
        { "check": "concurrent-uploads", "name": "task 2: concurrent uploads", "status": "not-checked", "finding": "needs-whole-upload" },
    ]);
    vec![
        graded("alice", 50, one.clone()),
        graded("=bob, jr", 50, one),
        graded("carol", 0, none),
        Graded {
            name: "dave".into(),
            result: Err("not graded (exit status 3): no cargo".into()),
            graded_now: true,
        },
    ]
}

#[test]
fn the_summary_counts_checks_findings_and_totals() {
    let summary = Summary::of(&class());
    assert_eq!(
        summary.checks,
        [
            ("task 1: receives a whole upload".to_owned(), [2, 1, 0]),
            ("task 2: concurrent uploads".to_owned(), [0, 2, 1]),
        ]
    );
    assert_eq!(summary.findings["one-at-a-time"], ["alice", "=bob, jr"]);
    assert_eq!(summary.totals, BTreeMap::from([(0, 1), (50, 2)]));
    let markdown = summary.markdown();
    assert!(
        markdown.contains("| task 2: concurrent uploads | 0 | 2 | 1 |\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| `one-at-a-time` | 2 | alice, =bob, jr |\n"),
        "{markdown}"
    );
    assert!(markdown.contains("| 50 | 2 |\n| 0 | 1 |\n"), "{markdown}");
    assert!(
        markdown.contains("- dave: not graded (exit status 3): no cargo\n"),
        "{markdown}"
    );
}

#[test]
fn the_grade_book_has_a_row_per_student_that_no_name_can_break() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("grades.csv");
    write_book(&path, &class()).unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "submission,score,bonus,task3,failed_checks,findings,seconds",
            "alice,50,not checked,failed,concurrent-uploads,one-at-a-time,2.5",
            "\"'=bob, jr\",50,not checked,failed,concurrent-uploads,one-at-a-time,2.5",
            "carol,0,not checked,failed,whole-upload;concurrent-uploads,server-stopped;needs-whole-upload,2.5",
            "dave,,,,not graded (exit status 3): no cargo,,",
        ]
    );
}

#[test]
fn only_a_result_of_the_labs_checker_is_read_as_a_grade() {
    let dir = tempfile::TempDir::new().unwrap();
    let path = dir.path().join("results.json");
    let lab = json!({ "version": 1, "score": { "points": 50 }, "verdicts": [] });
    fs::write(&path, lab.to_string()).unwrap();
    assert_eq!(read_result(&path), Ok(lab));
    for other in [
        json!({ "score": 50, "tests": [] }),
        json!({}),
        json!({ "version": 1, "score": { "points": "100" }, "verdicts": [] }),
    ] {
        fs::write(&path, other.to_string()).unwrap();
        let why = read_result(&path).unwrap_err();
        assert!(
            why.ends_with("is no result of the lab's checker (--json-format lab, version 1)"),
            "{why}"
        );
    }
    fs::write(&path, "{\"version\": 1, ").unwrap();
    let why = read_result(&path).unwrap_err();
    assert!(
        why.starts_with("not graded: ") && why.contains("is no JSON ("),
        "{why}"
    );
}

#[test]
fn every_shape_of_submission_is_found_by_its_name() {
    let dir = tempfile::TempDir::new().unwrap();
    let root = dir.path();
    fs::write(root.join("alice.rs"), "").unwrap();
    fs::create_dir_all(root.join("bob")).unwrap();
    fs::write(root.join("bob/server.rs"), "").unwrap();
    fs::create_dir_all(root.join("carol/skeleton/src/bin")).unwrap();
    fs::write(root.join("carol/skeleton/src/bin/server.rs"), "").unwrap();
    fs::write(root.join("notes.txt"), "").unwrap();
    // Names that would lead out of a student's own folder in OUT.
    fs::write(root.join("...rs"), "").unwrap();
    fs::write(root.join("..rs"), "").unwrap();
    fs::write(root.join(".rs"), "").unwrap();
    let (found, skipped) = submissions(root).unwrap();
    let names: Vec<&str> = found.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    assert_eq!(found[2].file, root.join("carol/skeleton/src/bin/server.rs"));
    assert_eq!(skipped, ["...rs", "..rs", ".rs", "notes.txt"]);
}
