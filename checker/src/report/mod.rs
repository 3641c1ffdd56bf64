//! Renderings of a run's value, each a pure function of it: the text report (`text`), the
//! JSON for Gradescope or PrairieLearn (`json`) and the class grade book's row (`csv`);
//! and the one observer that draws on the terminal while the run goes on (`terminal`).
//! Whatever of the value came from the submission is made inert (`inert`) where it is
//! rendered.

pub mod csv;
mod findings;
pub mod hints;
mod inert;
pub mod json;
pub mod terminal;
pub mod text;

use anstyle::AnsiColor;

use crate::grade::{Standing, Status};

pub use inert::{inert, quote, reason};

/// The text of a line coloured for a terminal, without its escapes.
pub fn strip_ansi(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

/// How each status word looks. The escapes are always written; `anstream` drops them
/// when stdout is no terminal or NO_COLOR is set, and the files get [`strip_ansi`]'s text.
fn styled(standing: impl Into<Standing>) -> String {
    let standing = standing.into();
    let style = match standing {
        Standing::Is(Status::Passed) => AnsiColor::Green.on_default(),
        Standing::Is(Status::Failed) => AnsiColor::Red.on_default().bold(),
        Standing::Is(Status::NotChecked) | Standing::NotBegun => AnsiColor::Yellow.on_default(),
    };
    format!("{style}{standing}{style:#}")
}

/// Runs made up for the renderings' tests: the value alone, no server.
#[cfg(test)]
pub mod samples {
    use std::path::PathBuf;
    use std::time::Duration;

    use crate::checks::evidence::{Blame, Cut, Origin, Stopped};
    use crate::checks::finding::Finding;
    use crate::grade::{CheckId, Outcome, Selection, Verdict};
    use crate::run::{Logs, Note, RunOutcome, RunResult, TestFileNote};

    /// A failure on a server that stopped, as `how` says.
    pub fn stopped(how: &str) -> Outcome {
        Outcome::Failed(Finding::Cut(Cut::ServerStopped(Stopped {
            how: how.to_owned(),
            // Words that say it all, whoever stopped it.
            blame: Blame::Checker,
        })))
    }

    fn verdicts(outcomes: [Outcome; 6]) -> Vec<Verdict> {
        CheckId::ALL
            .into_iter()
            .zip(outcomes)
            .map(|(check, outcome)| Verdict { check, outcome })
            .collect()
    }

    fn result(selection: Selection, outcome: RunOutcome) -> RunResult {
        RunResult {
            selection,
            source: Some("skeleton/src/bin/server.rs".into()),
            name: "alice".into(),
            notes: vec![
                Note::Grading("skeleton: skeleton/src/bin/server.rs".into()),
                Note::Built {
                    passed: !matches!(outcome, RunOutcome::DoesNotCompile { .. }),
                },
            ],
            outcome,
            contained: false,
            took: Duration::from_millis(12_340),
        }
    }

    fn graded(selection: Selection, verdicts: Vec<Verdict>, tail: &[&str]) -> RunResult {
        let mut run = result(
            selection,
            RunOutcome::Graded {
                verdicts,
                failed_server_tail: tail.iter().map(|line| (*line).to_owned()).collect(),
                logs: Logs {
                    server: PathBuf::from("/lab/skeleton/server_output.log"),
                    client: PathBuf::from("/lab/skeleton/client_output.log"),
                },
                picture: Ok(PathBuf::from("/lab/skeleton/uploads.svg")),
            },
        );
        run.notes.push(Note::TestFile(TestFileNote::Shared {
            path: PathBuf::from("/lab/test-file.txt"),
            size: 100 * lab::MIB,
        }));
        run.notes.push(Note::Uploading {
            size: 100 * lab::MIB,
            clients: 2,
            then_async: Some(crate::checks::AsyncUploads {
                size: 8 * lab::MIB,
                clients: 3,
            }),
        });
        run
    }

    /// Everything passed, the bonus and task 3 too.
    pub fn passing() -> RunResult {
        graded(
            Selection::All,
            verdicts([(); 6].map(|()| Outcome::Passed)),
            &[],
        )
    }

    /// Task 1 done, task 2 not.
    pub fn task_one_done() -> RunResult {
        let not_yet = || {
            Outcome::Failed(Finding::Cut(Cut::OneAtATime {
                finished: 5,
                behind: 4,
                sockets: (Some(6), None),
                behind_sent: 196_608,
                milestone: 10 * lab::MIB,
                server_waited_for_child: false,
            }))
        };
        graded(
            Selection::All,
            verdicts([
                Outcome::Passed,
                Outcome::Passed,
                not_yet(),
                not_yet(),
                Outcome::NotChecked(Finding::NeedsPassed {
                    check: CheckId::NoZombies,
                    on: CheckId::ProcessPerClient,
                }),
                stopped("it panicked at TODO 8"),
            ]),
            &["Client 5 wants to send a file"],
        )
    }

    /// `--task 1` on a server that stops at TODO 1.
    /// Task 1 done, task 2 not, and task 3 stopped on the skeleton's own `todo!()` of
    /// TODO 8: never begun.
    pub fn task_three_never_begun() -> RunResult {
        let mut run = task_one_done();
        if let RunOutcome::Graded { verdicts, .. } = &mut run.outcome {
            verdicts[5].outcome = Outcome::Failed(Finding::Cut(Cut::ServerStopped(Stopped {
                how: "it panicked at server.rs:274:5: not yet implemented: TODO 8: make it non-blocking"
                    .into(),
                blame: Blame::Todo(Origin::NotYetDone(8)),
            })));
        }
        run
    }

    pub fn task_one_failing() -> RunResult {
        let mut all = verdicts([(); 6].map(|()| stopped("it panicked at TODO 1")));
        all.truncate(2);
        graded(Selection::TaskOne, all, &["thread 'main' panicked"])
    }

    /// `--task bonus` on a server whose reaper passes.
    pub fn bonus_alone() -> RunResult {
        let mut run = passing();
        run.selection = Selection::Bonus;
        if let RunOutcome::Graded { verdicts, .. } = &mut run.outcome {
            verdicts.retain(|verdict| verdict.check == CheckId::NoZombies);
        }
        run
    }

    /// A server whose lines, panic and file name hold escape sequences and carriage
    /// returns: what a hostile submission would print to take over a grader's terminal.
    pub fn hostile_output() -> RunResult {
        let panicked = "the server stopped (exit status 101): it panicked at evil.rs:1:1: \x1b]0;pwned\x07boom";
        let mut all = verdicts([(); 6].map(|()| stopped(panicked)));
        all.truncate(2);
        let mut run = graded(
            Selection::TaskOne,
            all,
            &[
                "Server listening on 127.0.0.1:5000\x1b[2J\x1b[H",
                "\rtask 1: receives a whole upload ............. passed ... 25/25",
            ],
        );
        run.source = Some("evil\x1b[8m.rs".into());
        run.notes[0] = Note::Grading("submission: evil\x1b[8m.rs".into());
        run
    }

    /// A submission that does not compile, graded with `selection`.
    pub fn does_not_compile(selection: Selection) -> RunResult {
        result(
            selection,
            RunOutcome::DoesNotCompile {
                errors: vec!["error[E0308]: mismatched types".into()],
                verdicts: Verdict::none_checked(selection, &Finding::DoesNotCompile),
            },
        )
    }
}
