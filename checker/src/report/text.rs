//! The report as text: the notes of the run, one line per check, the total, the next step,
//! the details of failures and where the logs are. Status words carry colour escapes,
//! which the terminal's writer drops where colour is off and [`plain`] removes. Text from
//! the submission (its name, its server's lines, reasons that quote them, the compiler's
//! errors) goes through [`quote`] or [`reason`] first, so the only escapes left are the
//! checker's own.

mod notes;
mod tables;

use crate::grade::{CheckId, Outcome, Status, Verdict, Weight, status_of};
use crate::report::{hints, quote, reason, strip_ansi, styled};
use crate::run::{Logs, Measurement, Note, Picture, RunOutcome, RunResult};

pub use notes::note_line;
use tables::{experiment_table, load_table};

/// The whole report, as the terminal shows it (the notes as they came, then
/// [`after_notes`]).
#[cfg(test)]
pub fn render(result: &RunResult) -> String {
    let mut text: String = result
        .notes
        .iter()
        .map(|note| format!("{}\n", note_line(note)))
        .collect();
    text.push_str(&after_notes(result));
    text
}

/// The whole report without colour escapes: what the JSON and the class's report files
/// hold.
#[cfg(test)]
pub fn plain(result: &RunResult) -> String {
    strip_ansi(&render(result))
}

/// The report as a grading platform shows it to a student: plain, and without the
/// grading machine's paths (the test file, the logs, the picture), which live in a
/// container that is gone when the student reads it. The server log's last lines stay:
/// they are in the report itself wherever a check failed.
pub fn for_platform(result: &RunResult) -> String {
    let notes: String = result
        .notes
        .iter()
        .filter(|note| !matches!(note, Note::TestFile(_)))
        .map(|note| format!("{}\n", note_line(note)))
        .collect();
    strip_ansi(&(notes + &after_notes_with(result, false)))
}

/// Everything after the notes: what the run found.
pub fn after_notes(result: &RunResult) -> String {
    after_notes_with(result, true)
}

/// What the run found; with `paths`, where its logs and pictures are.
fn after_notes_with(result: &RunResult, paths: bool) -> String {
    let mut lines: Vec<String> = Vec::new();
    match &result.outcome {
        RunOutcome::DoesNotCompile { .. } => {
            let what = result.source.as_deref().map_or("the server".into(), quote);
            lines.push(format!(
                "\n{what} does not compile: fix the errors the compiler reported"
            ));
            lines.push(result.score().total_line());
        }
        RunOutcome::BuildUnfinished { why, .. } => {
            lines.push(format!("\nThe server was not graded: {why}"));
            lines.push(result.score().total_line());
        }
        RunOutcome::Graded {
            verdicts,
            failed_server_tail,
            logs,
            picture,
        } => {
            lines.extend(verdicts.iter().map(check_line));
            lines.push(result.score().total_line());
            lines.extend(next_step(verdicts, result.source.as_deref()));
            lines.extend(failures(verdicts, failed_server_tail));
            if result.contained && !failed_server_tail.is_empty() {
                lines.push(
                    "  (the server ran in a PID namespace of its own: the pids in its lines, and in the reasons above, are that namespace's)"
                        .to_owned(),
                );
            }
            if paths {
                lines.extend(log_lines(logs));
                lines.push(match picture {
                    Ok(path) => format!("Uploads picture: {}", path.display()),
                    Err(why) => format!("Uploads picture: none ({why})"),
                });
            }
        }
        RunOutcome::Measured { rows, picture, .. } => match rows {
            Measurement::ReadSizes(Ok(rows)) => {
                lines.extend(experiment_table(rows));
                lines.extend(picture.as_ref().map(picture_line));
            }
            Measurement::ReadSizes(Err(why)) => lines.push(format!(
                "\nThe experiment needs a server that receives whole uploads (task 1): {}",
                reason(why)
            )),
            Measurement::Clients(Ok(rows)) => {
                lines.extend(load_table(rows));
                lines.extend(picture.as_ref().map(picture_line));
            }
            Measurement::Clients(Err(why)) => lines.push(format!(
                "\nThe experiment needs a server that receives whole uploads (task 1): {}",
                reason(why)
            )),
        },
    }
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// The short screen of `--watch`: the check lines, the total, the next step and the
/// first failure with its reason (or the compiler's first error). The full report is
/// the run's text, kept in a file.
pub fn short(result: &RunResult) -> String {
    let mut lines: Vec<String> = Vec::new();
    match &result.outcome {
        RunOutcome::DoesNotCompile { errors, .. } => {
            lines.push(format!("{} {}", dotted("builds"), styled(Status::Failed)));
            lines.push(result.score().total_line());
            if let Some(first) = errors.first() {
                lines.push(String::new());
                lines.extend(first.lines().take(20).map(|line| quote(line).into_owned()));
            }
        }
        RunOutcome::BuildUnfinished { why, .. } => {
            lines.push(result.score().total_line());
            lines.push(format!("\n{why}"));
        }
        RunOutcome::Graded { verdicts, .. } => {
            lines.extend(verdicts.iter().map(check_line));
            lines.push(result.score().total_line());
            lines.extend(next_step(verdicts, result.source.as_deref()));
            if let Some(first) = verdicts.iter().find(|verdict| !verdict.passed()) {
                lines.push(format!(
                    "\n{} {}:\n  {}",
                    first.check.name(),
                    first.standing(),
                    reason(&said(first))
                ));
                lines.extend(
                    first
                        .outcome
                        .finding()
                        .map(|finding| format!("  hint: {}", hints::short(finding))),
                );
                lines.extend(more_help(&[first]));
            }
        }
        RunOutcome::Measured { .. } => lines.push(after_notes(result)),
    }
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// Where the longer hint is, for the first TODO that a failed check's finding names.
fn more_help(verdicts: &[&Verdict]) -> Option<String> {
    let todo = verdicts
        .iter()
        .filter_map(|verdict| match &verdict.outcome {
            Outcome::Failed(finding) => finding.todos().first().copied(),
            _ => None,
        })
        .next()?;
    Some(format!(
        "\nMore on TODO {todo}: cargo run -p checker -- hint {todo}"
    ))
}

/// What the verdict's finding says, if it did not pass.
fn said(verdict: &Verdict) -> String {
    verdict
        .outcome
        .finding()
        .map(ToString::to_string)
        .unwrap_or_default()
}

/// The line of one check: `<name> ........ passed ... 25/25`.
pub fn check_line(verdict: &Verdict) -> String {
    let score = match verdict.check.weight() {
        Weight::Bonus => "bonus".to_owned(),
        Weight::Optional => "optional".to_owned(),
        Weight::Points(_) => format!("{}/{}", verdict.points(), verdict.check.max_points()),
    };
    format!(
        "{} {} ... {score}",
        dotted(verdict.check.name()),
        styled(verdict.standing())
    )
}

/// A check's name followed by dots, so that every status starts in the same column.
fn dotted(name: &str) -> String {
    format!("{name} {}", ".".repeat(44usize.saturating_sub(name.len())))
}

/// What to do next: when task 1 is done and task 2 is not, task 2; when the lab is done
/// and task 3 is not, task 3.
fn next_step(verdicts: &[Verdict], source: Option<&str>) -> Option<String> {
    let status = |check| status_of(verdicts, check);
    let passed = |checks: &[CheckId]| {
        checks
            .iter()
            .all(|&check| status(check) == Some(Status::Passed))
    };
    let task_one_done = passed(&[CheckId::WholeUpload, CheckId::KeepsServing]);
    // `, TODO 5 in skeleton/src/bin/server.rs` where the file is known, ` (TODO 5)` if not.
    let todos = |which: &str| match source {
        Some(file) => format!(", {which} in {}", quote(file)),
        None => format!(" ({which})"),
    };
    if task_one_done && status(CheckId::Concurrent) == Some(Status::Failed) {
        return Some(format!("Task 1 is done. Next: task 2{}.", todos("TODO 5")));
    }
    if passed(&CheckId::ALL[..5]) && status(CheckId::AsyncUploads) == Some(Status::Failed) {
        return Some(format!(
            "The lab is done. Beyond it, if you like: task 3 (optional, `--mode async`){}.",
            todos("TODOs 8 and 9")
        ));
    }
    None
}

/// The details of every check that did not pass, and the last lines of the log of the
/// server behind the first failure.
fn failures(verdicts: &[Verdict], server_tail: &[String]) -> Vec<String> {
    let failed: Vec<_> = verdicts
        .iter()
        .filter(|verdict| !verdict.passed())
        .collect();
    if failed.is_empty() {
        return Vec::new();
    }
    let mut lines = vec![String::new()];
    let mut hinted = Vec::new();
    for verdict in &failed {
        lines.push(format!("{} {}:", verdict.check.name(), verdict.standing()));
        lines.push(format!("  {}", reason(&said(verdict))));
        // A hint said once is enough: checks that fail for one cause share it.
        if let Some(hint) = verdict.outcome.finding().map(hints::short)
            && !hinted.contains(&hint)
        {
            hinted.push(hint);
            lines.push(format!("  hint: {hint}"));
        }
    }
    lines.extend(more_help(&failed));
    if !server_tail.is_empty() {
        lines.push("\nLast lines of the server log:".to_owned());
        lines.extend(
            server_tail
                .iter()
                .map(|line| format!("  | {}", quote(line))),
        );
    }
    lines
}

fn log_lines(logs: &Logs) -> [String; 2] {
    [
        format!("\nServer log: {}", logs.server.display()),
        format!("Client log: {}", logs.client.display()),
    ]
}

fn picture_line(picture: &Picture) -> String {
    match picture {
        Ok(path) => format!("Picture: {}", path.display()),
        Err(why) => format!("Picture: none ({why})"),
    }
}

#[cfg(test)]
mod tests;
