//! One run of the checker, from the options to its value: what it graded, what it said
//! on the way, the verdicts or the experiment's rows, and where its logs and pictures
//! are. The run prints nothing; its observer hears what happens as it happens, and the
//! report, the JSON, the CSV row and the exit status are each rendered from the value.

use std::cell::RefCell;
use std::fs;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gen_testfile::DEFAULT_SIZE;
use lab::Context;

use crate::checks::experiment;
use crate::checks::finding::Finding;
use crate::checks::many_clients;
use crate::checks::{self, Session};
use crate::cli::{Experiment, Options};
use crate::clients::ClientLog;
use crate::contain::{self, Isolation};
use crate::grade::Verdict;
use crate::observe::{Both, Observer};
use crate::picture::{self, Recorder};
use crate::server::guard::Grading;
use crate::server::{self, log};
use crate::target::{self, Choice, NotBuilt, TestFile};
use crate::trouble::Trouble;

mod schema;
mod value;

pub use value::{Logs, Measurement, Note, Picture, RunOutcome, RunResult, TestFileNote};

/// How many lines of the failed server's log the report shows.
const TAIL_LINES: usize = 12;

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

/// Runs what `options` ask for in the lab at `root` as `grading` (which gets the run's
/// time limit), telling `observer` as it goes. Fails only with the checker's own trouble
/// (or bad usage found late).
pub fn run(
    options: &Options,
    root: &Path,
    observer: &dyn Observer,
    grading: &Arc<Grading>,
) -> Result<RunResult, Trouble> {
    let started = Instant::now();
    if let Some(port) = options.port {
        server::port_is_free(port)?;
    }
    let choice = Choice::of(options, root)?;
    let said = Transcript {
        notes: RefCell::default(),
        observer,
    };
    introduce(&choice, options, &said);
    let contained = isolation(&choice, options, &said)? == Isolation::Full;
    grading.stop_after(time_limit(options));
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
        contained,
        took: started.elapsed(),
    };
    let binary = match &built.binary {
        Ok(binary) => binary,
        Err(not_built) => return Ok(finish(not_built_outcome(not_built, &logs, options)?)),
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
    let outcome = match options.experiment {
        Some(Experiment::BufSize) => measure_read_sizes(&session, options, &said, &logs)?,
        Some(Experiment::Clients) => measure_clients(&session, options, &said, &logs)?,
        None => grade(&session, options, &said, &recorder, &logs)?,
    };
    drop(test_file);
    Ok(finish(outcome))
}

/// The notes that open the run: what it grades or measures, and the scratch copies of
/// killed checkers it removed.
fn introduce(choice: &Choice, options: &Options, said: &Transcript) {
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
}

/// Whether this machine can contain the servers; someone else's code it cannot contain
/// is refused, unless the options allow it.
fn isolation(choice: &Choice, options: &Options, said: &Transcript) -> Result<Isolation, Trouble> {
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
    Ok(isolation)
}

/// How a run ends whose server was not built: every selected check not checked, and
/// logs that say so.
fn not_built_outcome(
    not_built: &NotBuilt,
    logs: &Logs,
    options: &Options,
) -> Result<RunOutcome, Trouble> {
    // The logs of an earlier run would tell a story that is no longer true.
    for log in [&logs.server, &logs.client] {
        log::write_not_compiled(log).with_context(|| format!("writing {}", log.display()))?;
    }
    Ok(match not_built {
        NotBuilt::DoesNotCompile(errors) => RunOutcome::DoesNotCompile {
            errors: errors.clone(),
            verdicts: Verdict::none_checked(options.task, &Finding::DoesNotCompile),
        },
        NotBuilt::Stopped(why) => RunOutcome::BuildUnfinished {
            why: why.clone(),
            verdicts: Verdict::none_checked(options.task, &Finding::BuildStopped(why.clone())),
        },
    })
}

/// `--experiment buf-size`: the upload once per read size, and its picture.
fn measure_read_sizes(
    session: &Session,
    options: &Options,
    said: &Transcript,
    logs: &Logs,
) -> Result<RunOutcome, Trouble> {
    let read_sizes = if options.buf_sizes.is_empty() {
        experiment::DEFAULT_SIZES.to_vec()
    } else {
        options.buf_sizes.clone()
    };
    said.say(Note::MeasuringReadSizes {
        size: options.size,
        read_sizes: read_sizes.clone(),
    });
    let rows = experiment::buf_size(session, &read_sizes)?;
    let picture = rows.as_ref().ok().map(|rows| {
        let path = log_dir_of(logs).join("buf-size.svg");
        picture::draw_buf_sizes(rows, &path).map(|()| path)
    });
    Ok(RunOutcome::Measured {
        rows: Measurement::ReadSizes(rows),
        logs: logs.clone(),
        picture,
    })
}

/// `--experiment clients`: a process per client against one loop, and its picture.
fn measure_clients(
    session: &Session,
    options: &Options,
    said: &Transcript,
    logs: &Logs,
) -> Result<RunOutcome, Trouble> {
    let counts = if options.client_counts.is_empty() {
        many_clients::DEFAULT_COUNTS.to_vec()
    } else {
        options.client_counts.clone()
    };
    said.say(Note::MeasuringClients {
        upload: many_clients::UPLOAD,
        counts: counts.clone(),
    });
    let rows = many_clients::compare(session, &counts)?;
    let picture = rows.as_ref().ok().map(|rows| {
        let path = log_dir_of(logs).join("clients.svg");
        picture::draw_clients(rows, &path).map(|()| path)
    });
    Ok(RunOutcome::Measured {
        rows: Measurement::Clients(rows),
        logs: logs.clone(),
        picture,
    })
}

/// The grading: the selected checks, what they could not observe, the failed server's
/// last lines, and the picture of the uploads.
fn grade(
    session: &Session,
    options: &Options,
    said: &Transcript,
    recorder: &Recorder,
    logs: &Logs,
) -> Result<RunOutcome, Trouble> {
    let clients = usize::from(options.clients);
    let (whole, then_async) = checks::uploads_of(options.task, options.size, clients);
    said.say(Note::Uploading {
        size: options.size,
        clients: whole,
        then_async,
    });
    let graded = checks::run(session, options.task, clients)?;
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
    let path = log_dir_of(logs).join("uploads.svg");
    let picture = recorder.draw(&path).map(|()| path);
    Ok(RunOutcome::Graded {
        verdicts: graded.verdicts,
        failed_server_tail,
        logs: logs.clone(),
        picture,
    })
}

/// The folder of the logs, where the pictures go too.
fn log_dir_of(logs: &Logs) -> &Path {
    logs.server.parent().unwrap_or(Path::new("."))
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
