//! The value of one run: what it graded, what it said on the way (its notes), how it
//! ended (verdicts, or an experiment's rows), and where its logs and pictures are.

use std::path::PathBuf;
use std::time::Duration;

use crate::checks::experiment::Measured;
use crate::checks::many_clients::LoadRows;
use crate::grade::{Score, Selection, Verdict};

/// What the run says before any verdict, in the order it says it.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// What is graded: `skeleton: skeleton/src/bin/server.rs`, `submission: alice.rs`.
    Grading(String),
    /// What an experiment measures (it grades nothing), named as [`Note::Grading`] names it.
    Measuring(String),
    /// Whether the server compiled.
    Built {
        passed: bool,
    },
    TestFile(TestFileNote),
    /// The uploads of the grading scenarios begin: `clients` of `size` at once, then, when
    /// task 3 is graded, `async_clients` of `async_size` at once with `--mode async`.
    Uploading {
        size: u64,
        clients: usize,
        then_async: Option<crate::checks::AsyncUploads>,
    },
    /// The experiment begins.
    MeasuringReadSizes {
        size: u64,
        read_sizes: Vec<u64>,
    },
    /// The experiment with many clients begins.
    MeasuringClients {
        upload: u64,
        counts: Vec<usize>,
    },
    /// This machine cannot contain the servers: why.
    NotContained(String),
    /// Scratch copies that killed checkers had left behind were removed: how many.
    RemovedScratch(usize),
    /// Something a check looks at that this run could not observe: what, and why. The
    /// check was judged without it.
    NotObserved(String),
    /// A server printed more than the server log keeps (the checker's limit): how much was
    /// left out.
    LogCut(crate::server::log::LogCut),
}

/// Which test file the clients upload.
#[derive(Debug, Clone, PartialEq)]
pub enum TestFileNote {
    /// The lab's test-file.txt, which had the right size.
    Shared { path: PathBuf, size: u64 },
    /// The lab's test-file.txt, written anew: it was missing, or had `found` bytes.
    Written {
        path: PathBuf,
        found: Option<u64>,
        size: u64,
    },
    /// A temporary file of another size, removed at the end.
    Temporary { size: u64 },
}

/// Where a run's logs are.
#[derive(Debug, Clone, PartialEq)]
pub struct Logs {
    pub server: PathBuf,
    pub client: PathBuf,
}

/// A picture the run drew: where, or why there is none.
pub type Picture = Result<PathBuf, String>;

/// How the run ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The server does not compile: the compiler's errors, and every selected check not
    /// checked because of it.
    DoesNotCompile {
        errors: Vec<String>,
        verdicts: Vec<Verdict>,
    },
    /// The build did not end within the run's time limit and was stopped.
    BuildUnfinished { why: String, verdicts: Vec<Verdict> },
    /// The checks ran.
    Graded {
        verdicts: Vec<Verdict>,
        /// The last lines of the log of the server behind the first failed check.
        failed_server_tail: Vec<String>,
        logs: Logs,
        picture: Picture,
    },
    /// The experiment ran.
    Measured {
        rows: Measurement,
        logs: Logs,
        picture: Option<Picture>,
    },
}

/// What an experiment measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Measurement {
    ReadSizes(Measured),
    Clients(LoadRows),
}

impl Measurement {
    /// Whether the experiment went through (a row a limit cut short is a finding).
    pub fn went_through(&self) -> bool {
        match self {
            Measurement::ReadSizes(rows) => rows.is_ok(),
            Measurement::Clients(rows) => rows.is_ok(),
        }
    }
}

/// The value of one run.
///
/// It serialises (`--json-format lab`) to the lab's own JSON, whose shape is this
/// schema, version 1; a field is added without changing the version, and one changed or
/// removed changes it:
///
/// ```json
/// {
///   "version": 1,
///   "name": "alice",                          // what was graded, as in the grade book
///   "source": "skeleton/src/bin/server.rs",   // or null
///   "selection": "all",                       // --task: "1", "2", "bonus", "3", "all"
///   "contained": true,                        // whether the servers ran contained
///   "seconds": 12.3,                          // the run, build included
///   "outcome": "graded",                      // or "does-not-compile",
///                                             // "build-unfinished", "measured"
///   "passed": false,                          // what the exit status says
///   "score": { "points": 50, "max": 100, "all_passed": false,
///              "bonus": "not-checked", "task_three": "failed" },  // each or null
///   "verdicts": [                             // in the grading table's order
///     { "check": "concurrent-uploads",        // grade::TABLE's slug
///       "name": "task 2: concurrent uploads",
///       "status": "failed",                   // "passed", "failed", "not-checked"
///       "attempted": true,                    // false: not checked, or the given code of
///                                             // its TODOs found untouched (a todo!() ran)
///       "points": 0, "max_points": 25,
///       "concerns": [5],                      // the TODOs the check judges (TABLE)
///       "finding": "one-at-a-time",           // Finding::slug(); null when passed
///       "todos": [5],                         // Finding::todos(); [] when passed
///       "reason": "upload E ... (TODO 5)" }   // the finding in words; null when passed
///   ],
///   "logs": { "server": "/path/server_output.log", "client": "..." }  // or null
/// }
/// ```
///
/// Scripts read the slugs and numbers; `reason` is for people and may change wording.
#[derive(Debug, Clone, PartialEq)]
pub struct RunResult {
    pub selection: Selection,
    /// The file to point students at in hints, if it is one of the lab's.
    pub source: Option<String>,
    /// The name of what was graded, for the class grade book.
    pub name: String,
    pub notes: Vec<Note>,
    pub outcome: RunOutcome,
    /// Whether each server ran contained (namespaces, read-only files, Landlock).
    pub contained: bool,
    /// From the start of the checker to the end of the run, build included.
    pub took: Duration,
}

impl RunResult {
    /// The verdicts, in the order of the grading table (none for an experiment).
    pub fn verdicts(&self) -> &[Verdict] {
        match &self.outcome {
            RunOutcome::DoesNotCompile { verdicts, .. }
            | RunOutcome::BuildUnfinished { verdicts, .. }
            | RunOutcome::Graded { verdicts, .. } => verdicts,
            RunOutcome::Measured { .. } => &[],
        }
    }

    pub fn score(&self) -> Score {
        Score::of(self.verdicts())
    }

    /// Whether the run found what it looked for: every graded check passed, or every
    /// upload of the experiment went through.
    pub fn passed(&self) -> bool {
        match &self.outcome {
            RunOutcome::Measured { rows, .. } => rows.went_through(),
            _ => self.score().all_passed,
        }
    }
}
