//! `checker class DIR OUT`: a whole class graded one submission at a time, the grade book
//! written with the `csv` crate, and the class at a glance: how many passed each check,
//! which findings the class hit and who hit them, and the spread of totals, as Markdown
//! and as a picture.
//!
//! Each submission is graded by the checker's own binary started again (one process per
//! submission, so nothing of one grading can reach the next), writing the lab's JSON
//! (`--json-format lab`), which this module reads back: the findings are counted by their
//! slugs, never by their words.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use lab::{Context, Failure};
use plotters::prelude::*;
use serde_json::Value;

use crate::report::{inert, quote};
use crate::trouble::Trouble;

/// What `checker class` was asked.
#[derive(Debug, Clone)]
pub struct ClassOptions {
    /// The class's submissions: `NAME.rs`, `NAME/server.rs`, or a student's repository
    /// `NAME/skeleton/src/bin/server.rs`.
    pub dir: PathBuf,
    /// Where the grade book, the summary and one folder per student go.
    pub out: PathBuf,
    /// Students graded again although their results are there.
    pub regrade: Vec<String>,
    /// Options every grading gets (`--task`, `--size`, `--timeout`).
    pub passed_on: Vec<String>,
    /// Grade nobody: write the grade book and the summary from the results already in
    /// OUT (each student's `NAME/results.json`, graded elsewhere, one job each).
    pub merge: bool,
}

/// One student's submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    pub name: String,
    pub file: PathBuf,
}

/// What one student got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graded {
    pub name: String,
    /// The checker's lab JSON, or why the checker could not grade.
    pub result: Result<Value, String>,
    /// Whether this run graded it (not an earlier one).
    pub graded_now: bool,
}

/// The submissions in `dir`, by name, and the entries that are none (said, not graded).
pub fn submissions(dir: &Path) -> lab::Result<(Vec<Submission>, Vec<String>)> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    let entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let file = if path.is_dir() {
            ["server.rs", "skeleton/src/bin/server.rs"]
                .iter()
                .map(|inside| path.join(inside))
                .find(|candidate| candidate.is_file())
        } else {
            path.extension()
                .is_some_and(|extension| extension == "rs")
                .then(|| path.clone())
        };
        let name = file_name
            .strip_suffix(".rs")
            .unwrap_or(&file_name)
            .to_owned();
        match file {
            // A student's folder in OUT is named after them: a name must be one folder's
            // name (`...rs` would name OUT's parent, `..rs` OUT itself).
            Some(file) if is_one_name(&name) => found.push(Submission { name, file }),
            _ => skipped.push(file_name),
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    skipped.sort();
    Ok((found, skipped))
}

/// Whether `name` is the name of one folder inside another: not empty, `.` or `..`, and
/// without a separator.
fn is_one_name(name: &str) -> bool {
    let mut parts = Path::new(name).components();
    matches!(
        (parts.next(), parts.next()),
        (Some(std::path::Component::Normal(_)), None)
    ) && !name.contains('/')
}

/// Grades the class as `options` say; returns every student's result.
pub fn grade(options: &ClassOptions) -> Result<Vec<Graded>, Trouble> {
    let (found, skipped) = submissions(&options.dir)?;
    if found.is_empty() {
        return Err(Trouble::Usage(
            Failure::new(options.dir.display().to_string(), "holds no submission")
                .hint("put NAME.rs, NAME/server.rs or NAME/skeleton/src/bin/server.rs in it"),
        ));
    }
    for unknown in &options.regrade {
        if !found.iter().any(|submission| &submission.name == unknown) {
            return Err(Trouble::Usage(Failure::new(
                format!("--regrade {}", quote(unknown)),
                "no submission of that name",
            )));
        }
    }
    if options.merge && !options.out.is_dir() {
        return Err(Trouble::Usage(
            Failure::new(options.out.display().to_string(), "is no folder of results")
                .hint("--merge reads OUT/NAME/results.json: give the folder the gradings wrote"),
        ));
    }
    fs::create_dir_all(&options.out)
        .with_context(|| format!("creating {}", options.out.display()))?;
    for name in skipped {
        println!("class: {} is no submission (not graded)", quote(&name));
    }
    let me = std::env::current_exe().context("finding the checker's own binary")?;
    let mut graded = Vec::new();
    for (index, submission) in found.iter().enumerate() {
        let dir = options.out.join(&submission.name);
        let results = dir.join("results.json");
        let again = options.regrade.contains(&submission.name);
        if options.merge {
            graded.push(Graded {
                name: submission.name.clone(),
                result: if results.is_file() {
                    read_result(&results)
                } else {
                    Err(no_result(&dir))
                },
                graded_now: false,
            });
            continue;
        }
        if results.is_file() && !again {
            graded.push(Graded {
                name: submission.name.clone(),
                result: read_result(&results),
                graded_now: false,
            });
            continue;
        }
        println!(
            "class: [{}/{}] {}",
            index + 1,
            found.len(),
            quote(&submission.name)
        );
        let result = grade_one(&me, submission, &dir, &options.passed_on)?;
        graded.push(Graded {
            name: submission.name.clone(),
            result,
            graded_now: true,
        });
    }
    write_book(&options.out.join("grades.csv"), &graded)?;
    let summary = Summary::of(&graded);
    fs::write(options.out.join("summary.md"), summary.markdown())
        .with_context(|| format!("writing {}", options.out.join("summary.md").display()))?;
    summary
        .draw(&options.out.join("summary.svg"))
        .map_err(|why| Failure::new("drawing summary.svg", why))?;
    Ok(graded)
}

/// Grades one submission in a checker process of its own; its results, or why it could
/// not be graded (the checker's trouble, exit status 2 or 3).
fn grade_one(
    me: &Path,
    submission: &Submission,
    dir: &Path,
    passed_on: &[String],
) -> Result<Result<Value, String>, Trouble> {
    if dir.exists() {
        fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let results = dir.join("results.json");
    let report = fs::File::create(dir.join("report.txt")).context("writing report.txt")?;
    let errors = fs::File::create(dir.join("errors.txt")).context("writing errors.txt")?;
    let status = Command::new(me)
        .arg("--submission")
        .arg(&submission.file)
        .arg("--json")
        .arg(&results)
        .args(["--json-format", "lab", "--log-dir"])
        .arg(dir)
        .args(passed_on)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(report)
        .stderr(errors)
        .status()
        .context("starting the checker for a submission")?;
    if status.code().is_some_and(|code| code <= 1) && results.is_file() {
        return Ok(read_result(&results));
    }
    let said = fs::read_to_string(dir.join("errors.txt")).unwrap_or_default();
    let why = said
        .lines()
        .find_map(|line| line.strip_prefix("checker: "))
        .unwrap_or("it said nothing");
    Ok(Err(format!(
        "not graded (exit status {}): {}",
        status.code().unwrap_or(-1),
        quote(why)
    )))
}

/// Why a student merged from elsewhere has no result: the first line of their
/// `ungraded.txt` (what their grading job said), or that nothing came back.
fn no_result(dir: &Path) -> String {
    fs::read_to_string(dir.join("ungraded.txt"))
        .ok()
        .and_then(|said| said.lines().next().map(|line| quote(line).into_owned()))
        .filter(|line| !line.is_empty())
        .unwrap_or_else(|| "not graded: no result came back".to_owned())
}

/// A student's lab JSON, checked to be one: version 1, a whole number of points, and the
/// verdicts. Anything else (another platform's shape, a file cut short, a hand-made one)
/// is no grade, and the student's row says so.
fn read_result(path: &Path) -> Result<Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&text)
        .map_err(|e| format!("not graded: {} is no JSON ({e})", path.display()))?;
    let is_lab =
        value["version"] == 1 && value["score"]["points"].is_u64() && value["verdicts"].is_array();
    if is_lab {
        Ok(value)
    } else {
        Err(format!(
            "not graded: {} is no result of the lab's checker (--json-format lab, version 1)",
            path.display()
        ))
    }
}

/// Writes the grade book: a row per student (`report::csv`).
fn write_book(path: &Path, graded: &[Graded]) -> lab::Result<()> {
    crate::report::csv::write_book(
        path,
        graded
            .iter()
            .map(|student| crate::report::csv::row(&student.name, &student.result)),
    )
}

/// The class at a glance.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// For each check (in the table's order): how many passed, failed, were not checked.
    pub checks: Vec<(String, [usize; 3])>,
    /// For each finding slug: who hit it.
    pub findings: BTreeMap<String, Vec<String>>,
    /// For each total: how many students had it.
    pub totals: BTreeMap<u64, usize>,
    /// Students the checker could not grade, with why.
    pub not_graded: Vec<(String, String)>,
}

impl Summary {
    pub fn of(graded: &[Graded]) -> Self {
        let mut summary = Summary::default();
        for student in graded {
            let result = match &student.result {
                Ok(result) => result,
                Err(why) => {
                    summary.not_graded.push((student.name.clone(), why.clone()));
                    continue;
                }
            };
            let points = result["score"]["points"].as_u64().unwrap_or(0);
            *summary.totals.entry(points).or_default() += 1;
            for verdict in result["verdicts"].as_array().into_iter().flatten() {
                let check = verdict["name"].as_str().unwrap_or("?").to_owned();
                let column = match verdict["status"].as_str() {
                    Some("passed") => 0,
                    Some("failed") => 1,
                    _ => 2,
                };
                match summary.checks.iter_mut().find(|(name, _)| *name == check) {
                    Some((_, counts)) => counts[column] += 1,
                    None => {
                        let mut counts = [0; 3];
                        counts[column] = 1;
                        summary.checks.push((check, counts));
                    }
                }
                if let Some(finding) = verdict["finding"].as_str() {
                    let who = summary.findings.entry(finding.to_owned()).or_default();
                    if !who.contains(&student.name) {
                        who.push(student.name.clone());
                    }
                }
            }
        }
        summary
    }

    /// The summary as Markdown: a table of checks, one of findings, one of totals.
    pub fn markdown(&self) -> String {
        let cell = |text: &str| inert(text).replace('|', "\\|");
        let mut out = String::from("# The class at a glance\n\n");
        out.push_str("| check | passed | failed | not checked |\n|---|---|---|---|\n");
        for (check, [passed, failed, not_checked]) in &self.checks {
            out.push_str(&format!(
                "| {} | {passed} | {failed} | {not_checked} |\n",
                cell(check)
            ));
        }
        out.push_str("\n| finding | students | who |\n|---|---|---|\n");
        let mut findings: Vec<_> = self.findings.iter().collect();
        findings.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (finding, who) in findings {
            let names: Vec<String> = who.iter().map(|name| cell(name)).collect();
            out.push_str(&format!(
                "| `{}` | {} | {} |\n",
                cell(finding),
                who.len(),
                names.join(", ")
            ));
        }
        out.push_str("\n| total | students |\n|---|---|\n");
        for (total, count) in self.totals.iter().rev() {
            out.push_str(&format!("| {total} | {count} |\n"));
        }
        if !self.not_graded.is_empty() {
            out.push_str("\nNot graded (the checker's trouble, no verdict):\n\n");
            for (name, why) in &self.not_graded {
                out.push_str(&format!("- {}: {}\n", cell(name), cell(why)));
            }
        }
        out
    }

    /// The findings as bars, most often hit first.
    pub fn draw(&self, path: &Path) -> Result<(), String> {
        self.draw_bars(path)
            .map_err(|e| format!("drawing {}: {e}", path.display()))
    }

    fn draw_bars(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let mut findings: Vec<(&String, usize)> = self
            .findings
            .iter()
            .map(|(slug, who)| (slug, who.len()))
            .collect();
        findings.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let height = 80 + 28 * findings.len().max(1) as u32;
        let root = SVGBackend::new(path, (760, height)).into_drawing_area();
        root.fill(&WHITE)?;
        let most = findings.first().map_or(1, |(_, count)| *count).max(1);
        let students: usize = self.totals.values().sum();
        root.draw(&Text::new(
            format!("What the class's servers were found doing ({students} graded)"),
            (14, 14),
            ("sans-serif", 16).into_font(),
        ))?;
        for (row, (slug, count)) in findings.iter().enumerate() {
            let top = 50 + 28 * row as i32;
            let width = (420 * count / most) as i32;
            root.draw(&Text::new(
                slug.to_string(),
                (14, top + 4),
                ("sans-serif", 13).into_font(),
            ))?;
            root.draw(&Rectangle::new(
                [(300, top), (300 + width.max(2), top + 18)],
                RGBColor(66, 133, 244).filled(),
            ))?;
            root.draw(&Text::new(
                count.to_string(),
                (306 + width.max(2), top + 4),
                ("sans-serif", 13).into_font(),
            ))?;
        }
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
}
