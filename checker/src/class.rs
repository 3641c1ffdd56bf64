//! `checker class DIR OUT`: a whole class graded one submission at a time, the grade book
//! written with the `csv` crate, and the class at a glance: how many passed each check,
//! which findings the class hit and who hit them, and the spread of totals, as Markdown
//! and as a picture.
//!
//! Each submission is graded by the checker's own binary started again (one process per
//! submission, so nothing of one grading can reach the next), writing the lab's JSON
//! (`--json-format lab`), which this module reads back: the findings are counted by their
//! slugs, never by their words.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use lab::{Context, Failure};
use serde_json::Value;

mod summary;

pub use summary::Summary;

use crate::report::quote;
use crate::trouble::Trouble;

/// `checker class`: the class graded, the exit status 0 when everyone got a grade.
pub fn run_verb(root: Option<std::path::PathBuf>, class: &ClassOptions) -> ExitCode {
    match crate::target::require_root(root).and_then(|_| grade(class)) {
        Ok(graded) => {
            println!(
                "class: {} graded; grades in {}, the class at a glance in {}",
                graded
                    .iter()
                    .filter(|student| student.result.is_ok())
                    .count(),
                class.out.join("grades.csv").display(),
                class.out.join("summary.md").display()
            );
            if graded.iter().all(|student| student.result.is_ok()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Err(trouble) => ExitCode::from(crate::exit::told(trouble)),
    }
}

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

#[cfg(test)]
mod tests;
