//! The report as text: the notes of the run, one line per check, the total, the next step,
//! the details of failures and where the logs are. Status words carry colour escapes,
//! which the terminal's writer drops where colour is off and [`plain`] removes. Text from
//! the submission (its name, its server's lines, reasons that quote them, the compiler's
//! errors) goes through [`quote`] or [`reason`] first, so the only escapes left are the
//! checker's own.

use gen_testfile::human_size;

use crate::checks::AsyncUploads;
use crate::checks::experiment::Row;
use crate::checks::many_clients::{self, Design, LoadRow};
use crate::grade::{CheckId, Outcome, Status, Verdict, Weight, status_of};
use crate::report::{hints, quote, reason, strip_ansi, styled};
use crate::run::{Logs, Measurement, Note, Picture, RunOutcome, RunResult, TestFileNote};
use crate::server::log::{self, LogCut};

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

/// One note of the run.
pub fn note_line(note: &Note) -> String {
    match note {
        // `submission: <its path>`: the file's name is the submission's.
        Note::Grading(what) => format!("Grading {}", quote(what)),
        Note::Measuring(what) => format!("Measuring {}", quote(what)),
        Note::Built { passed } => format!(
            "{} {}",
            dotted("builds"),
            styled(if *passed {
                Status::Passed
            } else {
                Status::Failed
            })
        ),
        Note::TestFile(TestFileNote::Shared { path, size }) => {
            format!("Test file: {} ({})", path.display(), human_size(*size))
        }
        Note::TestFile(TestFileNote::Written { path, found, size }) => {
            let why = match found {
                Some(other) => format!("has {other} bytes, not {size}"),
                None => "is missing".to_owned(),
            };
            format!(
                "Test file: {} {why}; writing a new one of {}",
                path.display(),
                human_size(*size)
            )
        }
        Note::TestFile(TestFileNote::Temporary { size }) => format!(
            "Test file: a temporary one of {} (removed at the end)",
            human_size(*size)
        ),
        Note::Uploading {
            size,
            clients,
            then_async,
        } => {
            let whole = match clients {
                1 => format!("Uploading {} from one client", human_size(*size)),
                _ => format!(
                    "Uploading {} from {clients} clients at once",
                    human_size(*size)
                ),
            };
            match then_async {
                Some(AsyncUploads { size, clients }) => format!(
                    "{whole}, then {} from each of {clients} clients at once (--mode async)...",
                    human_size(*size)
                ),
                None => format!("{whole}..."),
            }
        }
        Note::NotContained(why) => format!(
            "Isolation: none ({why}): each server runs as the checker's child in a process group of its own, and can reach what the checker can"
        ),
        Note::RemovedScratch(1) => {
            "Removed a scratch copy left by a checker that was killed".to_owned()
        }
        Note::RemovedScratch(count) => {
            format!("Removed {count} scratch copies left by checkers that were killed")
        }
        Note::NotObserved(what) => format!("Not observed: {what}"),
        Note::LogCut(cut) => {
            let (whole, most) = (log::MAX_LOG / lab::MIB, 2 * log::MAX_LOG / lab::MIB);
            let kept = match cut {
                LogCut::KeptTheLabsLines => format!(
                    "from there on it kept only the lab's own lines and errors (up to {most} MiB)"
                ),
                LogCut::KeptNothingMore => format!(
                    "from there on it kept only the lab's own lines and errors, and past {most} MiB nothing at all"
                ),
            };
            format!(
                "Server log: cut where a server printed more than {whole} MiB, the most the log keeps whole (the \
                 checker's limit); {kept}, as the log says where. A debug line per read is millions of lines for one \
                 upload: print less, and the log keeps everything"
            )
        }
        Note::MeasuringClients { upload, counts } => format!(
            "Uploading {} from each of {} clients at once, with a process per client (--mode blocking) and with one loop (--mode async)",
            human_size(*upload),
            counts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Note::MeasuringReadSizes { size, read_sizes } => format!(
            "Uploading {} once per read size: {}",
            human_size(*size),
            read_sizes
                .iter()
                .map(|&size| human_size(size))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
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
                    first.outcome.status(),
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
        styled(verdict.outcome.status())
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
        lines.push(format!(
            "{} {}:",
            verdict.check.name(),
            verdict.outcome.status()
        ));
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

/// The table of `--experiment clients`, what each limit did, and what the rows show.
fn load_table(rows: &[LoadRow]) -> Vec<String> {
    let mut lines = vec![format!(
        "\n{:>7}  {:<20}  {:>8}  {:>10}  {:>10}  {:>9}  {:>12}",
        "clients", "design", "seconds", "peak PSS", "peak RSS", "processes", "ctx switches"
    )];
    let mut findings = Vec::new();
    for row in rows {
        let design = row.design.name();
        match &row.load {
            Ok(load) => {
                lines.push(format!(
                    "{:>7}  {design:<20}  {:>8.2}  {:>10}  {:>10}  {:>9}  {:>12}",
                    row.clients,
                    load.seconds,
                    human_size(load.peak_memory),
                    human_size(load.peak_resident),
                    load.processes,
                    load.switches
                ));
                if load.overflows > 0 {
                    findings.push(format!(
                        "{} clients, {design}: a listener's queue (its backlog) was full {} times meanwhile, so those connections \
                         were dropped and tried again a second later (/proc/net/netstat ListenOverflows, counted for the whole \
                         machine): that time is the limit's, not the design's",
                        row.clients, load.overflows
                    ));
                }
                if row.design == Design::Processes && row.clients > 1 && load.processes == 1 {
                    findings.push(format!(
                        "{} clients, {design}: the server had no child at any look, so this row measures a server that \
                         receives the uploads itself, one after the other",
                        row.clients
                    ));
                } else if !load.all_seen() {
                    findings.push(format!(
                        "{} clients, {design}: with every client paused halfway through its upload, the checker saw at \
                         most {} of the {} processes it expected at once, so the peaks of this row are those of fewer \
                         clients",
                        row.clients, load.processes, load.expected_processes
                    ));
                }
            }
            Err(why) => {
                lines.push(format!(
                    "{:>7}  {design:<20}  {:>8}",
                    row.clients, "cut short"
                ));
                findings.push(format!(
                    "{} clients, {design}: {}",
                    row.clients,
                    reason(why)
                ));
            }
        }
    }
    if !findings.is_empty() {
        lines.push(String::new());
        lines.extend(findings.into_iter().map(|finding| format!("- {finding}")));
    }
    lines.push(
        "\nPeak PSS and RSS: the most memory of the server and its live children at one look, as the sum of their \
         proportional set sizes (a page shared by n processes counts 1/n in each) and of their resident sets (a shared \
         page counts in every process), taken while every client is paused halfway through its upload, so that every \
         process is there at once (the seconds leave that pause out). Context switches: the last count seen of every \
         process (a child's last moments after the last look are missed, so for a process per client this is a lower \
         bound)."
            .to_owned(),
    );
    lines.extend(many_clients::summary(rows));
    lines
}

/// The experiment's table, its fastest size, and what the first and last rows show.
fn experiment_table(rows: &[Row]) -> Vec<String> {
    let mut lines = vec![format!(
        "\n{:>10}  {:>9}  {:>9}  {:>16}",
        "read size", "seconds", "MiB/s", "reads per upload"
    )];
    lines.extend(rows.iter().map(|row| {
        format!(
            "{:>10}  {:>9.3}  {:>9.1}  {:>16}",
            human_size(row.read_size),
            row.seconds,
            row.throughput,
            row.fewest_reads
        )
    }));
    if let Some(fastest) = rows
        .iter()
        .max_by(|a, b| a.throughput.total_cmp(&b.throughput))
    {
        lines.push(format!(
            "\nFastest: reads of {} ({:.1} MiB/s).",
            human_size(fastest.read_size),
            fastest.throughput
        ));
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        lines.push(format!(
            "Reads of {} are {:.0} times as fast as reads of {}: each read is a system call, whatever its size.",
            human_size(last.read_size),
            last.throughput / first.throughput,
            human_size(first.read_size)
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Selection;
    use crate::report::samples;

    #[test]
    fn a_passing_run_lists_every_check_and_where_the_logs_are() {
        assert_eq!(
            plain(&samples::passing()),
            "\
Grading skeleton: skeleton/src/bin/server.rs
builds ...................................... passed
Test file: /lab/test-file.txt (100 MiB)
Uploading 100 MiB from 2 clients at once, then 8 MiB from each of 3 clients at once (--mode async)...
task 1: receives a whole upload ............. passed ... 25/25
task 1: keeps serving ....................... passed ... 25/25
task 2: concurrent uploads .................. passed ... 25/25
task 2: a process per client ................ passed ... 25/25
bonus: no zombies ........................... passed ... bonus
task 3: async uploads ....................... passed ... optional
Total: 100/100, bonus passed, task 3 passed

Server log: /lab/skeleton/server_output.log
Client log: /lab/skeleton/client_output.log
Uploads picture: /lab/skeleton/uploads.svg
"
        );
    }

    /// The first lines say what the run does: an experiment grades nothing, and the
    /// uploads named are the ones the selected checks make.
    #[test]
    fn the_notes_say_what_is_measured_and_uploaded() {
        assert_eq!(
            note_line(&Note::Measuring(
                "skeleton: skeleton/src/bin/server.rs".into()
            )),
            "Measuring skeleton: skeleton/src/bin/server.rs"
        );
        let uploading = |selection, clients| {
            let (clients, then_async) =
                crate::checks::uploads_of(selection, 100 * lab::MIB, clients);
            note_line(&Note::Uploading {
                size: 100 * lab::MIB,
                clients,
                then_async,
            })
        };
        assert_eq!(
            uploading(Selection::TaskThree, 2),
            "Uploading 100 MiB from one client, then 8 MiB from each of 3 clients at once (--mode async)..."
        );
        assert_eq!(
            uploading(Selection::TaskOne, 2),
            "Uploading 100 MiB from one client..."
        );
        assert_eq!(
            uploading(Selection::TaskTwo, 4),
            "Uploading 100 MiB from 4 clients at once..."
        );
        assert_eq!(
            uploading(Selection::All, 5),
            "Uploading 100 MiB from 5 clients at once, then 8 MiB from each of 5 clients at once (--mode async)..."
        );
    }

    /// A server that outgrew the log is told so, with the checker's limit and what to
    /// change.
    #[test]
    fn a_cut_log_is_named_as_the_checkers_limit() {
        assert_eq!(
            note_line(&Note::LogCut(LogCut::KeptTheLabsLines)),
            "Server log: cut where a server printed more than 16 MiB, the most the log keeps whole (the checker's \
             limit); from there on it kept only the lab's own lines and errors (up to 32 MiB), as the log says where. \
             A debug line per read is millions of lines for one upload: print less, and the log keeps everything"
        );
        assert!(
            note_line(&Note::LogCut(LogCut::KeptNothingMore))
                .contains("(the checker's limit); from there on it kept only the lab's own lines and errors, and past 32 MiB nothing at all")
        );
    }

    #[test]
    fn a_failing_run_gives_the_next_step_the_reasons_and_the_log_tail() {
        let text = plain(&samples::task_one_done());
        let after_total = text
            .split_once("Total: 50/100, bonus not checked, task 3 failed\n")
            .unwrap()
            .1;
        assert!(
            after_total.starts_with(
                "Task 1 is done. Next: task 2, TODO 5 in skeleton/src/bin/server.rs.\n\n\
                 task 2: concurrent uploads failed:\n  upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes \
                 (not yet 10 MiB): the server serves one client at a time. Receive each upload in a child process of its own (TODO 5)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "bonus: no zombies not checked:\n  the bonus is judged only on a server that passed"
            ),
            "{text}"
        );
        // Each cause's hint once, under the check it first failed, and where to read more.
        assert_eq!(text.matches("\n  hint: ").count(), 3, "{text}");
        assert!(
            text.contains(
                "own (TODO 5)\n  hint: The loop stays inside one upload until it ends: task 2 hands each upload to a process of its own.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("\nMore on TODO 5: cargo run -p checker -- hint 5\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "\nLast lines of the server log:\n  | Client 5 wants to send a file\n\nServer log: "
            ),
            "{text}"
        );
    }

    #[test]
    fn the_short_screen_has_the_checks_the_total_and_the_first_failure() {
        let screen = strip_ansi(&short(&samples::task_one_done()));
        assert!(
            screen.starts_with("task 1: receives a whole upload ............. passed ... 25/25\n"),
            "{screen}"
        );
        assert!(
            screen.ends_with(
                "Total: 50/100, bonus not checked, task 3 failed\n\
                 Task 1 is done. Next: task 2, TODO 5 in skeleton/src/bin/server.rs.\n\n\
                 task 2: concurrent uploads failed:\n  upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes \
                 (not yet 10 MiB): the server serves one client at a time. Receive each upload in a child process of its own (TODO 5)\n  \
                 hint: The loop stays inside one upload until it ends: task 2 hands each upload to a process of its own.\n\n\
                 More on TODO 5: cargo run -p checker -- hint 5\n"
            ),
            "{screen}"
        );
        let broken = strip_ansi(&short(&samples::does_not_compile(Selection::TaskOne)));
        assert!(
            broken.ends_with("Total: 0/50\n\nerror[E0308]: mismatched types\n"),
            "{broken}"
        );
    }

    #[test]
    fn escapes_and_carriage_returns_from_the_server_are_shown_not_obeyed() {
        let run = samples::hostile_output();
        let text = plain(&run);
        assert!(
            text.starts_with("Grading submission: evil\\x1b[8m.rs\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "task 1: receives a whole upload failed:\n  the server stopped (exit status 101): it panicked at evil.rs:1:1: \\x1b]0;pwned\\x07boom\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "\nLast lines of the server log:\n  | Server listening on 127.0.0.1:5000\\x1b[2J\\x1b[H\n  | \\rtask 1: receives a whole upload ............. passed ... 25/25\n"
            ),
            "{text}"
        );
        // The terminal's text still has the checker's own colours, and nothing else.
        let coloured = render(&run);
        assert!(coloured.contains("\x1b[31m"), "{coloured:?}");
        assert_eq!(
            coloured.matches('\x1b').count(),
            2 * 2 + 2 * 2,
            "{coloured:?}"
        );
        assert!(!coloured.contains('\r') && !coloured.contains('\x07'));
        let screen = short(&run);
        assert!(
            screen.contains("it panicked at evil.rs:1:1: \\x1b]0;pwned\\x07boom"),
            "{screen}"
        );
    }

    #[test]
    fn a_flood_from_the_server_is_cut() {
        let mut run = samples::task_one_failing();
        if let RunOutcome::Graded {
            failed_server_tail, ..
        } = &mut run.outcome
        {
            failed_server_tail[0] = "x".repeat(100_000);
        }
        let text = plain(&run);
        assert!(
            text.contains(&format!(
                "  | {}… (99700 more characters)\n",
                "x".repeat(300)
            )),
            "{text}"
        );
    }

    #[test]
    fn task_1_alone_is_scored_out_of_50() {
        let text = plain(&samples::task_one_failing());
        assert!(text.contains("\nTotal: 0/50\n"), "{text}");
        assert!(!text.contains("task 2:"), "{text}");
        assert!(!text.contains("Task 1 is done"), "{text}");
    }

    #[test]
    fn a_finished_lab_points_to_task_three() {
        let mut run = samples::passing();
        if let RunOutcome::Graded { verdicts, .. } = &mut run.outcome {
            verdicts[5].outcome = samples::stopped("it panicked at TODO 8");
        }
        let screen = strip_ansi(&short(&run));
        assert!(
            screen.contains(
                "Total: 100/100, bonus passed, task 3 failed\n\
                 The lab is done. Beyond it, if you like: task 3 (optional, `--mode async`), TODOs 8 and 9 in skeleton/src/bin/server.rs.\n"
            ),
            "{screen}"
        );
    }

    #[test]
    fn the_bonus_alone_has_its_own_total() {
        let text = plain(&samples::bonus_alone());
        assert!(text.contains("bonus: no zombies ........................... passed ... bonus\nTotal: bonus passed\n"), "{text}");
    }

    #[test]
    fn a_build_failure_is_scored_like_any_run() {
        let text = plain(&samples::does_not_compile(Selection::TaskOne));
        assert!(
            text.ends_with(
                "builds ...................................... failed\n\n\
                 skeleton/src/bin/server.rs does not compile: fix the errors the compiler reported\n\
                 Total: 0/50\n"
            ),
            "{text}"
        );
        let all = plain(&samples::does_not_compile(Selection::All));
        assert!(
            all.ends_with("Total: 0/100, bonus not checked, task 3 not checked\n"),
            "{all}"
        );
    }
}
