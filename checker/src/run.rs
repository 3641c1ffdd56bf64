//! One run of the checker, from the options to its value: what it graded, what it said
//! on the way, the verdicts or the experiment's rows, and where its logs and pictures
//! are. The run prints nothing; its observer hears what happens as it happens, and the
//! report, the JSON, the CSV row and the exit status are each rendered from the value.

use std::cell::RefCell;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::ValueEnum;
use gen_testfile::DEFAULT_SIZE;
use lab::Context;
use serde::{Serialize, Serializer};

use crate::checks::experiment::{self, Measured};
use crate::checks::finding::Finding;
use crate::checks::many_clients::{self, LoadRows};
use crate::checks::{self, Session};
use crate::cli::{Experiment, Options};
use crate::clients::ClientLog;
use crate::contain::{self, Isolation};
use crate::grade::{Score, Selection, Status, Verdict};
use crate::observe::{Both, Observer};
use crate::picture::{self, Recorder};
use crate::server::{self, guard, log};
use crate::target::{self, Choice, NotBuilt, TestFile};
use crate::trouble::Trouble;

/// How many lines of the failed server's log the report shows.
const TAIL_LINES: usize = 12;

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

/// The notes of a run: kept for its value, and told to the observer at once.
struct Transcript<'a> {
    notes: RefCell<Vec<Note>>,
    observer: &'a dyn Observer,
}

impl Transcript<'_> {
    fn say(&self, note: Note) {
        self.observer.note(&note);
        self.notes.borrow_mut().push(note);
    }
}

/// Runs what `options` ask for in the lab at `root`, telling `observer` as it goes.
/// Fails only with the checker's own trouble (or bad usage found late).
pub fn run(options: &Options, root: &Path, observer: &dyn Observer) -> Result<RunResult, Trouble> {
    let started = Instant::now();
    if let Some(port) = options.port {
        server::port_is_free(port)?;
    }
    let choice = Choice::of(options, root)?;
    let said = Transcript {
        notes: RefCell::default(),
        observer,
    };
    if let Some(what) = choice.describe() {
        said.say(match options.experiment {
            Some(_) => Note::Measuring(what),
            None => Note::Grading(what),
        });
    }
    if matches!(choice, Choice::Submission(_)) {
        let removed = crate::build::scratch::remove_abandoned();
        if removed > 0 {
            said.say(Note::RemovedScratch(removed));
        }
    }
    let isolation = contain::probe();
    if let Isolation::Unavailable(why) = &isolation {
        // Someone else's code with the instructor's rights: only when asked for.
        if matches!(choice, Choice::Submission(_)) && !options.allow_uncontained {
            return Err(Trouble::Checker(
                lab::Failure::new("containing the submission", why.clone()).hint(
                    "this machine cannot contain untrusted code: it needs unprivileged user \
                     namespaces (sysctl kernel.unprivileged_userns_clone=1 or \
                     user.max_user_namespaces > 0, and no AppArmor rule against them), \
                     Landlock (Linux 5.13 or later, lsm=landlock) and seccomp; grade on such a \
                     machine, or pass --allow-uncontained to run it with your rights anyway",
                ),
            ));
        }
        said.say(Note::NotContained(why.clone()));
    }
    let contained = isolation == Isolation::Full;
    guard::stop_after(time_limit(options));
    let built = target::build(&choice, root, contained)?;
    if !matches!(choice, Choice::Binary(_)) {
        said.say(Note::Built {
            passed: built.binary.is_ok(),
        });
    }
    let log_dir = choice.default_log_dir(root);
    let log_dir = options.log_dir.clone().unwrap_or(log_dir);
    let logs = open_logs(&log_dir)?;
    let finish = |outcome| RunResult {
        selection: options.task,
        source: choice.source(),
        name: options.name.clone().unwrap_or_else(|| choice.name()),
        notes: said.notes.borrow().clone(),
        outcome,
        contained: isolation == Isolation::Full,
        took: started.elapsed(),
    };
    let binary = match &built.binary {
        Ok(binary) => binary,
        Err(not_built) => {
            // The logs of an earlier run would tell a story that is no longer true.
            for log in [&logs.server, &logs.client] {
                log::write_not_compiled(log)
                    .with_context(|| format!("writing {}", log.display()))?;
            }
            let outcome = match not_built {
                NotBuilt::DoesNotCompile(errors) => RunOutcome::DoesNotCompile {
                    errors: errors.clone(),
                    verdicts: Verdict::none_checked(options.task, &Finding::DoesNotCompile),
                },
                NotBuilt::Stopped(why) => RunOutcome::BuildUnfinished {
                    why: why.clone(),
                    verdicts: Verdict::none_checked(
                        options.task,
                        &Finding::BuildStopped(why.clone()),
                    ),
                },
            };
            return Ok(finish(outcome));
        }
    };
    let log_dir = logs.server.parent().unwrap_or(Path::new(".")).to_owned();
    let (test_file, note) = TestFile::prepare(root, &log_dir, options.size)?;
    said.say(Note::TestFile(note));
    let file = test_file.path();
    let recorder = Recorder::default();
    let watchers = Both(&recorder, observer);
    let client_log = fs::File::create(&logs.client)
        .with_context(|| format!("writing {}", logs.client.display()))?;
    let session = Session {
        binary,
        port: options.port,
        file: &file,
        size: options.size,
        server_log: &logs.server,
        client_log: Arc::new(ClientLog::new(client_log, started)),
        observer: &watchers,
        contained,
    };
    let outcome = if options.experiment == Some(Experiment::BufSize) {
        let read_sizes = if options.buf_sizes.is_empty() {
            experiment::DEFAULT_SIZES.to_vec()
        } else {
            options.buf_sizes.clone()
        };
        said.say(Note::MeasuringReadSizes {
            size: options.size,
            read_sizes: read_sizes.clone(),
        });
        let rows = experiment::buf_size(&session, &read_sizes)?;
        let picture = rows.as_ref().ok().map(|rows| {
            let path = log_dir.join("buf-size.svg");
            picture::draw_buf_sizes(rows, &path).map(|()| path)
        });
        RunOutcome::Measured {
            rows: Measurement::ReadSizes(rows),
            logs,
            picture,
        }
    } else if options.experiment == Some(Experiment::Clients) {
        let counts = if options.client_counts.is_empty() {
            many_clients::DEFAULT_COUNTS.to_vec()
        } else {
            options.client_counts.clone()
        };
        said.say(Note::MeasuringClients {
            upload: many_clients::UPLOAD,
            counts: counts.clone(),
        });
        let rows = many_clients::compare(&session, &counts)?;
        let picture = rows.as_ref().ok().map(|rows| {
            let path = log_dir.join("clients.svg");
            picture::draw_clients(rows, &path).map(|()| path)
        });
        RunOutcome::Measured {
            rows: Measurement::Clients(rows),
            logs,
            picture,
        }
    } else {
        let clients = usize::from(options.clients);
        let (whole, then_async) = checks::uploads_of(options.task, options.size, clients);
        said.say(Note::Uploading {
            size: options.size,
            clients: whole,
            then_async,
        });
        let graded = checks::run(&session, options.task, clients)?;
        for what in &graded.not_observed {
            said.say(Note::NotObserved(what.clone()));
        }
        if let Some(cut) = log::cut_in(&logs.server) {
            said.say(Note::LogCut(cut));
        }
        let failed_server_tail = graded
            .failed_log_start
            .map(|start| log::section_tail(&logs.server, start, TAIL_LINES))
            .unwrap_or_default();
        // Drawn after the verdicts, from what the scenarios recorded: no wait in the checks.
        let path = log_dir.join("uploads.svg");
        let picture = recorder.draw(&path).map(|()| path);
        RunOutcome::Graded {
            verdicts: graded.verdicts,
            failed_server_tail,
            logs,
            picture,
        }
    };
    drop(test_file);
    Ok(finish(outcome))
}

/// Makes the log directory and empties both logs.
fn open_logs(dir: &Path) -> lab::Result<Logs> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize().context("finding the log directory")?;
    let logs = Logs {
        server: dir.join("server_output.log"),
        client: dir.join("client_output.log"),
    };
    for log in [&logs.server, &logs.client] {
        fs::write(log, "").with_context(|| format!("writing {}", log.display()))?;
    }
    Ok(logs)
}

/// The run's time limit: `--timeout`, or two minutes, more when the uploads are larger
/// than the default two of 100 MiB (20 s per 100 MiB uploaded, plus a minute).
fn time_limit(options: &Options) -> Duration {
    let seconds = options.timeout.unwrap_or_else(|| {
        let uploaded = u64::from(options.clients) * options.size;
        120.max(60 + 20 * uploaded / DEFAULT_SIZE)
    });
    Duration::from_secs(seconds)
}

/// The schema's version (see [`RunResult`]).
pub const SCHEMA_VERSION: u32 = 1;

impl Serialize for RunResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let score = self.score();
        let logs = match &self.outcome {
            RunOutcome::Graded { logs, .. } | RunOutcome::Measured { logs, .. } => Some(logs),
            RunOutcome::DoesNotCompile { .. } | RunOutcome::BuildUnfinished { .. } => None,
        };
        Schema {
            version: SCHEMA_VERSION,
            name: &self.name,
            source: self.source.as_deref(),
            selection: self
                .selection
                .to_possible_value()
                .map(|value| value.get_name().to_owned())
                .unwrap_or_default(),
            contained: self.contained,
            seconds: self.took.as_secs_f64(),
            outcome: match &self.outcome {
                RunOutcome::Graded { .. } => "graded",
                RunOutcome::DoesNotCompile { .. } => "does-not-compile",
                RunOutcome::BuildUnfinished { .. } => "build-unfinished",
                RunOutcome::Measured { .. } => "measured",
            },
            passed: self.passed(),
            score: ScoreSchema {
                points: score.points,
                max: score.max,
                all_passed: score.all_passed,
                bonus: score.bonus.map(status_slug),
                task_three: score.task_three.map(status_slug),
            },
            verdicts: self.verdicts().iter().map(VerdictSchema::of).collect(),
            logs: logs.map(|logs| LogsSchema {
                server: &logs.server,
                client: &logs.client,
            }),
        }
        .serialize(serializer)
    }
}

fn status_slug(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::NotChecked => "not-checked",
    }
}

#[derive(Serialize)]
struct Schema<'a> {
    version: u32,
    name: &'a str,
    source: Option<&'a str>,
    selection: String,
    contained: bool,
    seconds: f64,
    outcome: &'static str,
    passed: bool,
    score: ScoreSchema,
    verdicts: Vec<VerdictSchema>,
    logs: Option<LogsSchema<'a>>,
}

#[derive(Serialize)]
struct ScoreSchema {
    points: u32,
    max: u32,
    all_passed: bool,
    bonus: Option<&'static str>,
    task_three: Option<&'static str>,
}

#[derive(Serialize)]
struct VerdictSchema {
    check: &'static str,
    name: &'static str,
    status: &'static str,
    attempted: bool,
    points: u32,
    max_points: u32,
    concerns: &'static [u8],
    finding: Option<&'static str>,
    todos: Vec<u8>,
    reason: Option<String>,
}

impl VerdictSchema {
    fn of(verdict: &Verdict) -> Self {
        let finding = verdict.outcome.finding();
        VerdictSchema {
            check: verdict.check.slug(),
            name: verdict.check.name(),
            status: status_slug(verdict.outcome.status()),
            attempted: verdict.attempted(),
            points: verdict.points(),
            max_points: verdict.check.max_points(),
            concerns: verdict.check.todos(),
            finding: finding.map(Finding::slug),
            todos: finding.map(Finding::todos).unwrap_or_default(),
            // Inert: a reason may quote the server's lines.
            reason: finding.map(|finding| crate::report::reason(&finding.to_string()).into_owned()),
        }
    }
}

#[derive(Serialize)]
struct LogsSchema<'a> {
    server: &'a Path,
    client: &'a Path,
}
