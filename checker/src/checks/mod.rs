//! The graded checks. Three scenarios each start a fresh server, run clients against it,
//! and gather what they saw into a struct of evidence (`evidence`); the verdicts are pure
//! functions of that evidence (`judge`).
//!
//! | scenario    | evidence  | judges                                          |
//! |-------------|-----------|-------------------------------------------------|
//! | `in_turn`   | `InTurn`  | keeps serving; whether every client is accepted |
//! | `at_once`   | `AtOnce`  | whole upload, concurrent uploads, per client    |
//! | `reaper`    | `Reaping` | the bonus, only after "a process per client"    |
//! | `one_loop`  | `OneLoop` | task 3, only after "receives a whole upload"    |

mod at_once;
pub mod evidence;
pub mod experiment;
pub mod finding;
mod idle;
mod in_turn;
pub(crate) mod judge;
mod lasting;
pub mod many_clients;
mod one_loop;
mod outcomes;
pub(crate) mod printed;
pub mod read_sizes;
mod reaper;
mod silent;
mod watch;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::checks::evidence::{Cut, Stopped};
use crate::checks::outcomes::Outcomes;
use crate::clients::{ClientLog, Plan, Uploads};
use crate::grade::{CheckId, Outcome, Selection, Verdict};
use crate::observe::Observer;
use crate::server::{ServerUnderTest, free_port, guard, log};
use crate::trouble::Trouble;

/// Where every client waits once for the server to read all it has sent.
const DRAIN_AT: u64 = 64 * 1024;

/// How long the server may take to print its report after a client has sent everything.
const REPORT_WAIT: Duration = Duration::from_secs(15);

/// Everything the scenarios share: the server to run, the file to upload, the logs, and
/// whoever watches.
pub struct Session<'a> {
    pub binary: &'a Path,
    pub port: Option<u16>,
    pub file: &'a Path,
    pub size: u64,
    pub server_log: &'a Path,
    pub client_log: Arc<ClientLog>,
    pub observer: &'a dyn Observer,
    /// How each server is contained; `None` where this machine cannot.
    /// Whether servers run contained (see `contain`).
    pub contained: bool,
}

/// The verdicts of a run, in the order of the grading table, and where in the server log
/// the section of the server behind the first failed check begins.
pub struct Graded {
    pub verdicts: Vec<Verdict>,
    pub failed_log_start: Option<u64>,
    /// What a check could not observe on this run, and why (it was judged without it).
    pub not_observed: Vec<String>,
}

/// A server the checker started: listening, or the cut that says why not.
type Started = Result<ServerUnderTest, Cut>;

/// What task 3's scenario uploads: `clients` uploads of `size` bytes at once, to a server
/// started with `--mode async`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AsyncUploads {
    pub size: u64,
    pub clients: usize,
}

/// The uploads of the scenarios a selection runs: `clients` whole uploads at once (one
/// where task 2 is not graded: task 1 and task 3 need one whole upload), then task 3's.
pub fn uploads_of(
    selection: Selection,
    size: u64,
    clients: usize,
) -> (usize, Option<AsyncUploads>) {
    let whole = match selection {
        Selection::TaskOne | Selection::TaskThree => 1,
        _ => clients,
    };
    let then_async = selection
        .includes(CheckId::AsyncUploads)
        .then(|| one_loop::uploads(size, clients));
    (whole, then_async)
}

/// Runs the scenarios that `selection` needs and returns the verdicts on its checks.
/// "Keeps serving" runs first in every selection: it is quick, and it is where the checker
/// learns whether the server accepts every client. Fails only with the checker's own
/// trouble.
pub fn run(session: &Session, selection: Selection, clients: usize) -> Result<Graded, Trouble> {
    let (whole, then_async) = uploads_of(selection, session.size, clients);
    let in_turn = in_turn::gather(session, 1)?;
    let mut judged = Outcomes::default();
    let mut not_observed = Vec::new();
    let keeps_serving = Outcome::of(judge::keeps_serving(&in_turn));
    if keeps_serving == Outcome::Passed {
        not_observed.extend(judge::unobserved_silent_clients(&in_turn));
    }
    judged.set(CheckId::KeepsServing, keeps_serving);
    let at_once = at_once::gather(session, whole, 4)?;
    judged.set(
        CheckId::WholeUpload,
        Outcome::of(judge::whole_upload(&at_once)),
    );
    judge_task_two(&mut judged, &in_turn, &at_once);
    let mut bonus_log = None;
    if selection.includes(CheckId::NoZombies) {
        bonus_log = judge_bonus(session, &mut judged, &in_turn, clients)?;
    }
    let mut task_three_log = None;
    if selection.includes(CheckId::AsyncUploads) {
        task_three_log = judge_task_three(
            session,
            &mut judged,
            &in_turn,
            then_async,
            clients,
            &mut not_observed,
        )?;
    }
    judged.not_decided_past_the_time_limit();
    // Where in the server log each check's server is.
    let section_of = |check: CheckId| match check {
        CheckId::KeepsServing => in_turn.log_start,
        CheckId::NoZombies => bonus_log,
        CheckId::AsyncUploads => task_three_log,
        CheckId::WholeUpload | CheckId::Concurrent | CheckId::ProcessPerClient => at_once.log_start,
    };
    judged.name_the_memory_cap(|check| {
        section_of(check).map(|start| log::section(session.server_log, start))
    });
    Ok(judged.graded(selection, section_of, not_observed))
}

/// Task 2's checks, judged on the uploads at once whatever the selection: the bonus's
/// gate reads their verdicts.
fn judge_task_two(judged: &mut Outcomes, in_turn: &evidence::InTurn, at_once: &evidence::AtOnce) {
    for (check, judgement) in [
        (CheckId::Concurrent, judge::concurrent as fn(&_) -> _),
        (CheckId::ProcessPerClient, judge::process_per_client),
    ] {
        let outcome = match judged.gate(check, in_turn) {
            Ok(()) => Outcome::of(judgement(at_once)),
            Err(why) => Outcome::NotChecked(why),
        };
        judged.set(check, outcome);
    }
}

/// The bonus, "no zombies", when its gate lets it be judged; returns where its server's
/// section of the log starts.
fn judge_bonus(
    session: &Session,
    judged: &mut Outcomes,
    in_turn: &evidence::InTurn,
    clients: usize,
) -> Result<Option<u64>, Trouble> {
    let mut bonus_log = None;
    let gate = judged
        .gate(CheckId::NoZombies, in_turn)
        .and_then(|()| judge::handles_reported_events_only(in_turn));
    let outcome = match gate {
        Err(why) => Outcome::NotChecked(why),
        Ok(()) => {
            // Children that exit together are made to by pausing the server: only for
            // a server that "keeps serving" saw survive a pause (its EINTR costs task 1
            // alone).
            let survives_pause = !matches!(in_turn.cut, Some(Cut::StoppedAfterPause(_)));
            let reaping = reaper::gather(session, 4 + clients, survives_pause)?;
            bonus_log = reaping.log_start;
            Outcome::of(judge::no_zombies(&reaping))
        }
    };
    judged.set(CheckId::NoZombies, outcome);
    Ok(bonus_log)
}

/// Task 3, with its uploads (`then_async`, or as many as `clients` asks for), when its
/// gate lets it be judged; adds what a pass could not observe to `not_observed` and
/// returns where its server's section of the log starts.
fn judge_task_three(
    session: &Session,
    judged: &mut Outcomes,
    in_turn: &evidence::InTurn,
    then_async: Option<AsyncUploads>,
    clients: usize,
    not_observed: &mut Vec<String>,
) -> Result<Option<u64>, Trouble> {
    let mut task_three_log = None;
    let outcome = match judged.gate(CheckId::AsyncUploads, in_turn) {
        Err(why) => Outcome::NotChecked(why),
        Ok(()) => {
            let survives_pause = !matches!(in_turn.cut, Some(Cut::StoppedAfterPause(_)));
            let planned = then_async.unwrap_or(one_loop::uploads(session.size, clients));
            let seen = one_loop::gather(session, planned, 12 + clients, survives_pause)?;
            let outcome = judge::async_uploads(&seen);
            if outcome == Outcome::Passed {
                not_observed.extend(judge::unobserved_turns(&seen));
                not_observed.extend(judge::unobserved_read_sizes(&seen));
            }
            task_three_log = seen.log_start;
            outcome
        }
    };
    judged.set(CheckId::AsyncUploads, outcome);
    Ok(task_three_log)
}

impl Session<'_> {
    fn start_server(&self, title: &str) -> Result<Started, Trouble> {
        self.start_server_with(title, &[])
    }

    /// Starts a server for the scenario `title`, with `args` after `--port PORT`, and
    /// waits until it listens. Finding a port and starting the binary are the checker's
    /// business; a server that does not come to listen is the server's.
    fn start_server_with(&self, title: &str, args: &[String]) -> Result<Started, Trouble> {
        self.start_server_allowing(title, args, None)
    }

    /// The same, allowing the server `processes` processes instead of the usual limit.
    fn start_server_allowing(
        &self,
        title: &str,
        args: &[String],
        processes: Option<usize>,
    ) -> Result<Started, Trouble> {
        if let Some(why) = guard::timed_out() {
            return Ok(Err(Cut::ServerStopped(Stopped::by_checker(format!(
                "not run: {why} before this part of the checks"
            )))));
        }
        let port = match self.port {
            Some(port) => port,
            None => free_port()?,
        };
        let mut server = ServerUnderTest::start(
            self.binary,
            port,
            args,
            self.server_log,
            title,
            processes,
            self.contained,
        )?;
        if let Err(stopped) = server.wait_until_listening(Duration::from_secs(5)) {
            server.containment_failure()?;
            return Ok(Err(Cut::ServerStopped(stopped)));
        }
        self.observer.server_started(title);
        Ok(Ok(server))
    }

    /// Ends a scenario early with a verdict: the log and the picture say where.
    fn stop_with_verdict(&self, server: &mut ServerUnderTest, cut: &Cut) {
        server.verdict = Some(cut.summary());
        self.observer.server_stopped(cut.summary());
    }

    /// What each client uploads: the first `bytes` of the test file.
    fn plan(&self, bytes: u64, milestone: u64) -> Plan {
        Plan {
            file: self.file.to_owned(),
            bytes,
            milestone,
            hold: None,
            drain_at: Some(DRAIN_AT.min(bytes / 2)),
            closing: None,
        }
    }

    fn uploads(
        &self,
        server: &ServerUnderTest,
        plan: &Plan,
        first: usize,
        count: usize,
    ) -> Uploads {
        let uploads = Uploads::start(
            &self.client_log,
            server.port,
            server.sockets.clone(),
            &server.stopped_by_checker,
            server.pid,
            plan,
            first,
            count,
        );
        self.observer.uploads_started(&uploads);
        uploads
    }
}
