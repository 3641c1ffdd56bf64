//! Waits on a running server: for its upload reports, until it sits idle in epoll_wait,
//! until its descriptors settle, and how busy it is with nothing to do. Each wait ends
//! on what /proc shows, or at its time limit.

use std::thread;
use std::time::{Duration, Instant};

use crate::checks::evidence::{Cut, Snapshot};
use crate::checks::lasting::Lasting;
use crate::checks::printed::Printed;
use crate::checks::watch;
use crate::inspect;
use crate::server::ServerUnderTest;

/// Waits until the server has printed at least `count` upload reports; returns them all,
/// or the cut that says they did not come. Gives up early once the server has sat idle in
/// epoll_wait with no child left for a second: then no report is on its way.
pub(super) fn wait_for_reports(
    server: &mut ServerUnderTest,
    count: usize,
    timeout: Duration,
) -> Result<Vec<u64>, Cut> {
    wait_for_reports_or(server, count, timeout, |_| false)
}

/// The same, also giving up as soon as `hopeless` says no report is on its way (it is
/// told how many reports have come).
pub(super) fn wait_for_reports_or(
    server: &mut ServerUnderTest,
    count: usize,
    timeout: Duration,
    mut hopeless: impl FnMut(usize) -> bool,
) -> Result<Vec<u64>, Cut> {
    let started = Instant::now();
    let mut quiet = Lasting::new(Duration::from_secs(1));
    loop {
        let counts = Printed::of(&server.output()).received;
        if counts.len() >= count {
            return Ok(counts);
        }
        server.check_running().map_err(Cut::ServerStopped)?;
        let idle = sits_idle(server.pid);
        if started.elapsed() > timeout || quiet.holds(idle).is_some() || hopeless(counts.len()) {
            return Err(Cut::ReportsMissing {
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
pub(super) fn snapshot(server: &ServerUnderTest) -> Snapshot {
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

/// Whether `pid` sleeps in epoll_wait with no child left running: idle in its loop.
pub(super) fn sits_idle(pid: i32) -> bool {
    inspect::activity(pid) == inspect::Activity::EpollWait && !has_live_child(pid)
}

/// Whether a child of `pid` is alive (running or asleep, not a zombie).
pub(super) fn has_live_child(pid: i32) -> bool {
    inspect::children(pid)
        .iter()
        .any(|child| !child.is_zombie())
}

/// Polls `probe` until it is true or `timeout` passes; returns its last answer.
pub(super) fn eventually(timeout: Duration, mut probe: impl FnMut() -> bool) -> bool {
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
pub(super) fn wait_until_idle(
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
        let idle = at.activity == inspect::Activity::EpollWait && !has_live_child(pid);
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
pub(super) fn idle_cpu(pid: i32) -> Duration {
    let idle = || sits_idle(pid);
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
pub(super) fn settled_descriptors(pid: i32) -> Option<usize> {
    let mut last = None;
    eventually(Duration::from_secs(1), || {
        let now = inspect::open_descriptors(pid);
        let settled = now.is_some() && now == last;
        last = now;
        settled
    });
    last
}
