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
mod in_turn;
pub(crate) mod judge;
mod lasting;
pub mod many_clients;
mod one_loop;
pub(crate) mod printed;
pub mod read_sizes;
mod reaper;
mod watch;

use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::checks::evidence::{Cut, Snapshot, Stopped};
use crate::checks::finding::{Finding, Limit};
use crate::checks::lasting::Lasting;
use crate::checks::printed::Printed;
use crate::clients::{ClientLog, Plan, Uploads};
use crate::grade::{CheckId, Gate, Outcome, Selection, Verdict};
use crate::inspect;
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
    judged.set(
        CheckId::KeepsServing,
        Outcome::of(judge::keeps_serving(&in_turn)),
    );
    let at_once = at_once::gather(session, whole, 4)?;
    judged.set(
        CheckId::WholeUpload,
        Outcome::of(judge::whole_upload(&at_once)),
    );
    // Task 2 is judged whatever the selection: the bonus's gate reads its verdict.
    for (check, judgement) in [
        (CheckId::Concurrent, judge::concurrent as fn(&_) -> _),
        (CheckId::ProcessPerClient, judge::process_per_client),
    ] {
        let outcome = match judged.gate(check, &in_turn) {
            Ok(()) => Outcome::of(judgement(&at_once)),
            Err(why) => Outcome::NotChecked(why),
        };
        judged.set(check, outcome);
    }
    let mut bonus_log = None;
    if selection.includes(CheckId::NoZombies) {
        let outcome = match judged.gate(CheckId::NoZombies, &in_turn) {
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
    }
    let mut not_observed = Vec::new();
    let mut task_three_log = None;
    if selection.includes(CheckId::AsyncUploads) {
        let outcome = match judged.gate(CheckId::AsyncUploads, &in_turn) {
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
    let verdicts: Vec<Verdict> = selection
        .checks()
        .iter()
        .filter_map(|&check| {
            Some(Verdict {
                check,
                outcome: judged.take(check)?,
            })
        })
        .collect();
    let failed_log_start = verdicts
        .iter()
        .find(|verdict| matches!(verdict.outcome, Outcome::Failed(_)))
        .and_then(|verdict| section_of(verdict.check));
    Ok(Graded {
        verdicts,
        failed_log_start,
        not_observed,
    })
}

/// The outcomes judged so far in a run, by check, with when each was decided.
#[derive(Default)]
struct Outcomes(Vec<(CheckId, Outcome, Instant)>);

impl Outcomes {
    fn set(&mut self, check: CheckId, outcome: Outcome) {
        self.0.retain(|(judged, _, _)| *judged != check);
        self.0.push((check, outcome, Instant::now()));
    }

    fn take(&mut self, check: CheckId) -> Option<Outcome> {
        let at = self.0.iter().position(|(judged, _, _)| *judged == check)?;
        Some(self.0.remove(at).1)
    }

    fn passed(&self, check: CheckId) -> bool {
        self.0
            .iter()
            .any(|(judged, outcome, _)| *judged == check && *outcome == Outcome::Passed)
    }

    /// Whether `check` can be judged, by its gate in the grading table; if not, why.
    fn gate(&self, check: CheckId, in_turn: &evidence::InTurn) -> judge::Judged {
        match check.gate() {
            Gate::Builds => Ok(()),
            Gate::TaskOne => judge::task_two_judged(self.passed(CheckId::WholeUpload), in_turn),
            Gate::Passed(other) if self.passed(other) => Ok(()),
            Gate::Passed(other) => Err(judge::needs_passed(check, other)),
        }
    }

    /// The run's time limit decides no verdict: a check that did not pass, decided once
    /// the limit had been reached (its scenario was cut by it, or never ran), says that it
    /// was not decided within the limit, whatever the cut looked like. So a longer
    /// `--timeout` can only turn "not decided" into a verdict, never change one.
    fn not_decided_past_the_time_limit(&mut self) {
        for (_, outcome, decided) in &mut self.0 {
            let Some(limit) = guard::limit_reached_before(*decided) else {
                continue;
            };
            let finding = Finding::Limit(Limit::Time { limit });
            *outcome = match outcome {
                Outcome::Passed => continue,
                Outcome::Failed(_) => Outcome::Failed(finding),
                Outcome::NotChecked(_) => Outcome::NotChecked(finding),
            };
        }
    }

    /// A check that failed on a server one of whose processes reached the memory cap
    /// (its section of the log, `section` of the check, holds Rust's word of the refused
    /// allocation) names that cap, whatever the cut looked like (a reset connection, a
    /// server that stopped).
    fn name_the_memory_cap(&mut self, section: impl Fn(CheckId) -> Option<Vec<String>>) {
        for (check, outcome, _) in &mut self.0 {
            if !matches!(outcome, Outcome::Failed(_)) {
                continue;
            }
            let refused = section(*check).and_then(|lines| {
                lines
                    .iter()
                    .find_map(|line| crate::server::allocation_failed(line))
            });
            if let Some(asked) = refused {
                *outcome = Outcome::Failed(Finding::Limit(Limit::Memory {
                    asked,
                    cap: crate::contain::limits::SERVER_MEMORY,
                }));
            }
        }
    }
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

/// Waits until the server has printed at least `count` upload reports; returns them all,
/// or the cut that says they did not come. Gives up early once the server has sat idle in
/// epoll_wait with no child left for a second: then no report is on its way.
fn wait_for_reports(
    server: &mut ServerUnderTest,
    count: usize,
    timeout: Duration,
) -> Result<Vec<u64>, evidence::Cut> {
    wait_for_reports_or(server, count, timeout, |_| false)
}

/// The same, also giving up as soon as `hopeless` says no report is on its way (it is
/// told how many reports have come).
fn wait_for_reports_or(
    server: &mut ServerUnderTest,
    count: usize,
    timeout: Duration,
    mut hopeless: impl FnMut(usize) -> bool,
) -> Result<Vec<u64>, evidence::Cut> {
    let started = Instant::now();
    let mut quiet = Lasting::new(Duration::from_secs(1));
    loop {
        let counts = Printed::of(&server.output()).received;
        if counts.len() >= count {
            return Ok(counts);
        }
        server
            .check_running()
            .map_err(evidence::Cut::ServerStopped)?;
        let idle = inspect::activity(server.pid) == inspect::Activity::EpollWait
            && inspect::children(server.pid)
                .iter()
                .all(inspect::Process::is_zombie);
        if started.elapsed() > timeout || quiet.holds(idle).is_some() || hopeless(counts.len()) {
            return Err(evidence::Cut::ReportsMissing {
                waited: started.elapsed(),
                reported: counts.len(),
                expected: count,
                seen: Box::new(snapshot(server)),
            });
        }
        thread::sleep(watch::TICK);
    }
}

/// Where the server and each of its live children are, now.
fn snapshot(server: &ServerUnderTest) -> Snapshot {
    let listener = inspect::listening_socket(server.port);
    Snapshot {
        server: inspect::whereabouts(server.pid, listener),
        children: inspect::children(server.pid)
            .iter()
            .filter(|child| !child.is_zombie())
            .map(|child| inspect::whereabouts(child.pid, listener))
            .collect(),
    }
}

/// Polls `probe` until it is true or `timeout` passes; returns its last answer.
fn eventually(timeout: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if probe() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(watch::TICK);
    }
}

/// Waits (`timeout` at most) until the server sits in epoll_wait with no child left
/// running, seen so on two looks in a row; returns where it was at the last look and how
/// long the wait took. A server blocked in one call outside epoll_wait for a second is
/// not waited for any longer: it is not coming back.
fn wait_until_idle(
    server: &ServerUnderTest,
    timeout: Duration,
) -> (inspect::Whereabouts, Duration) {
    let (pid, started) = (server.pid, Instant::now());
    let listener = inspect::listening_socket(server.port);
    let mut looks = 0;
    let mut at = inspect::whereabouts(pid, listener);
    let mut stuck = Lasting::new(Duration::from_secs(1));
    eventually(timeout, || {
        at = inspect::whereabouts(pid, listener);
        let idle = at.activity == inspect::Activity::EpollWait
            && inspect::children(pid)
                .iter()
                .all(inspect::Process::is_zombie);
        looks = if idle { looks + 1 } else { 0 };
        let blocked = at
            .is_blocked_outside_the_loop()
            .then_some((at.call, at.first_arg));
        looks == 2 || stuck.holds_as(blocked).is_some()
    });
    (at, started.elapsed())
}

/// How long a server with nothing to do is watched for spinning.
const IDLE_WINDOW: Duration = Duration::from_millis(300);

/// How long a server must be seen asleep in epoll_wait, not once given the CPU, with no
/// child left running, for the watch for spinning to end early: it waits for an event, and
/// with nothing to do none comes.
const ASLEEP: Duration = Duration::from_millis(100);

/// How long the server runs or waits to run in 300 ms with nothing to do (its CPU time
/// and its time on a run queue: a machine too busy to give a spinning server the CPU
/// still shows it wanting it). The window opens once the server sleeps in epoll_wait with
/// no child left running (after 50 ms at most), and closes early once /proc shows it
/// asleep there for [`ASLEEP`] without running once (/proc/PID/schedstat): a spinning
/// server is never seen so, and is watched for the whole window.
fn idle_cpu(pid: i32) -> Duration {
    let idle = || {
        inspect::activity(pid) == inspect::Activity::EpollWait
            && inspect::children(pid)
                .iter()
                .all(inspect::Process::is_zombie)
    };
    eventually(Duration::from_millis(50), idle);
    let (before, started) = (inspect::busy_time(pid).unwrap_or_default(), Instant::now());
    let mut asleep = Lasting::new(ASLEEP);
    loop {
        // The count first: asleep after it, the server did not run since the last look
        // when the count is still the same.
        let runs = inspect::times_run(pid);
        let quiet = runs.is_some() && idle();
        let window_left = IDLE_WINDOW.saturating_sub(started.elapsed());
        if asleep.holds_as(quiet.then_some(runs)).is_some() || window_left.is_zero() {
            break;
        }
        thread::sleep(watch::TICK.min(window_left));
    }
    inspect::busy_time(pid)
        .unwrap_or_default()
        .saturating_sub(before)
}

/// The server's open descriptors once it sits idle (two equal counts in a row).
fn settled_descriptors(pid: i32) -> Option<usize> {
    let mut last = None;
    eventually(Duration::from_secs(1), || {
        let now = inspect::open_descriptors(pid);
        let settled = now.is_some() && now == last;
        last = now;
        settled
    });
    last
}
