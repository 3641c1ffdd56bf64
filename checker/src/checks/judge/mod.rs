//! The judgements: pure functions from what a scenario saw to a verdict and its reason.
//! Every reason names the TODO to look at and quotes the evidence, since the processes it
//! was read from are gone by the time a student reads it. One module per scenario; what
//! they share (the words for a cut, for spinning, for a stale registration) is here. A
//! line the server printed is quoted through [`crate::report::quote`]: cut to a length a
//! report holds, and inert.

mod at_once;
mod in_turn;
mod one_loop;
mod reaper;

pub use at_once::{concurrent, needs_passed, process_per_client, task_two_judged, whole_upload};
pub use in_turn::{handles_reported_events_only, keeps_serving, unobserved_silent_clients};
pub use one_loop::{async_uploads, unobserved_read_sizes, unobserved_turns};
pub use reaper::no_zombies;

use std::time::Duration;

use crate::checks::finding::{Finding, Spin};
use crate::inspect::{InterestList, Signals};

/// More CPU than this in 300 ms with nothing to do is spinning.
pub(super) const SPIN: Duration = Duration::from_millis(150);

/// What a judgement returns: nothing, or what it found.
pub type Judged = Result<(), Finding>;

/// The descriptors of a stale registration list.
pub(super) fn fds_of(stale: &[crate::inspect::Registration]) -> Vec<i32> {
    stale.iter().map(|registration| registration.fd).collect()
}

/// Why a server uses CPU with nothing to do, from its interest list and signal state;
/// `None` when the cause is the bonus's unread signalfd, which task 1 does not judge.
pub(super) fn spin_cause(
    pid: i32,
    interest: &InterestList,
    signals: Option<Signals>,
) -> Option<Spin> {
    if !interest.clients.is_empty() || !interest.stale.is_empty() {
        let mut fds = interest.clients.clone();
        fds.extend(fds_of(&interest.stale));
        return Some(Spin::FinishedClients { pid, fds });
    }
    if interest.signalfd && signals.is_some_and(|signals| signals.sigchld_pending()) {
        return None;
    }
    Some(Spin::NoWait {
        signalfd: interest.signalfd,
    })
}

/// What the judgements' tests share: evidence of correct servers, and a table runner.
#[cfg(test)]
pub(crate) mod table {
    use std::time::Duration;

    use crate::checks::evidence::{AtOnce, InTurn, OneLoop, Reaping, Turns};
    use crate::checks::read_sizes::ReadSizes;
    use crate::inspect::{Activity, CallKind, InterestList, Signals, Waited, Whereabouts};

    /// Pid 42 blocked in `call` with `first_arg`, on `on`.
    pub fn at(call: CallKind, first_arg: i64, on: Option<Waited>) -> Whereabouts {
        Whereabouts {
            pid: 42,
            activity: Activity::Blocked("do_wait".into()),
            wchan: "do_wait".into(),
            call: Some(call),
            first_arg,
            on,
        }
    }

    /// The evidence of a correct server in "keeps serving".
    pub fn served_in_turn() -> InTurn {
        InTurn {
            pid: 42,
            connections: 3,
            handled: 3,
            reported: 3,
            paused_in: Some(Whereabouts {
                activity: Activity::EpollWait,
                call: Some(CallKind::EpollWait),
                ..at(CallKind::EpollWait, 4, Some(Waited::Epoll))
            }),
            idle_cpu: Duration::from_millis(1),
            interest: InterestList {
                listener: true,
                ..InterestList::default()
            },
            server_alive: true,
            ..InTurn::default()
        }
    }

    /// The evidence of a correct task 2 server in "uploads at once".
    pub fn served_at_once() -> AtOnce {
        AtOnce {
            clients: 2,
            size: 100,
            pid: 42,
            listener_registered: true,
            some_sent_all: true,
            reports: vec![100, 100],
            children_while_running: 2,
            most_threads: 1,
            descriptors_before: Some(6),
            descriptors_after: Some(6),
            ..AtOnce::default()
        }
    }

    /// The evidence of a correct bonus.
    pub fn reaped() -> Reaping {
        Reaping {
            pid: 42,
            late_served_in: Some(Duration::from_millis(80)),
            late_limit: Duration::from_secs(2),
            interest: InterestList {
                listener: true,
                signalfd: true,
                ..InterestList::default()
            },
            signals: Some(Signals {
                blocked: 1 << 16,
                pending: 0,
            }),
            ..Reaping::default()
        }
    }

    /// The evidence of a correct task 3 server.
    pub fn served_in_one_loop() -> OneLoop {
        OneLoop {
            clients: 3,
            size: 100,
            pid: 42,
            reports: vec![100, 100, 100],
            handled: 3,
            most_threads: 1,
            turns: Some(Ok(Turns {
                calls: 400,
                reads: 380,
                turns: 3,
                single: 0,
            })),
            buf_size: 12,
            read_sizes: Some(Ok(ReadSizes {
                calls: 80,
                reads: 32,
                asked: vec![12],
            })),
            idle_cpu: Duration::from_millis(1),
            interest: InterestList {
                listener: true,
                ..InterestList::default()
            },
            descriptors_before: Some(5),
            descriptors_after: Some(5),
            ..OneLoop::default()
        }
    }

    pub const SIGCHLD_PENDING: Signals = Signals {
        blocked: 1 << 16,
        pending: 1 << 16,
    };

    /// `seen` with one change.
    pub fn changed<T>(mut seen: T, change: fn(&mut T)) -> T {
        change(&mut seen);
        seen
    }

    /// Checks a table of judgements: `None` means it passes, `Some(text)` that it fails
    /// with a reason that holds `text`.
    pub fn check_table(rows: Vec<(&str, super::Judged, Option<&str>)>) {
        for (case, judged, expected) in rows {
            match (&judged, expected) {
                (Ok(()), None) => {}
                (Err(finding), Some(text)) => {
                    let reason = finding.to_string();
                    assert!(reason.contains(text), "{case}: {reason:?} lacks {text:?}")
                }
                _ => panic!("{case}: judged {judged:?}, expected {expected:?}"),
            }
        }
    }
}
