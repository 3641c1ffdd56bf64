//! The judgements: pure functions from what a scenario saw to a verdict and its reason.
//! Every reason names the TODO to look at and quotes the evidence, since the processes it
//! was read from are gone by the time a student reads it. One module per scenario; what
//! they share (the words for a cut, for spinning, for a stale registration) is here. A
//! line the server printed is quoted through [`crate::report::quote`]: cut to a length a
//! report holds, and inert.

mod at_once;
mod cuts;
mod in_turn;
mod one_loop;
mod reaper;

pub use at_once::{concurrent, needs_passed, process_per_client, task_two_judged, whole_upload};
pub use cuts::{advice_for, cut_reason};
pub use in_turn::keeps_serving;
pub use one_loop::{async_uploads, unobserved_turns};
pub use reaper::no_zombies;

use std::time::Duration;

use crate::checks::evidence::ChildSeen;
use crate::inspect::{InterestList, Registration, Signals};

/// More CPU than this in 300 ms with nothing to do is spinning.
pub(super) const SPIN: Duration = Duration::from_millis(150);

pub(super) const NOT_EPOLL: &str = "the listening socket is not registered in any epoll instance of the server \
(/proc/<pid>/fdinfo shows no registration for it), so the server does not wait with epoll. Look at TODO 1";

pub(super) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

pub(super) fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

pub(super) fn list(fds: &[i32]) -> String {
    let mut fds = fds.to_vec();
    fds.sort_unstable();
    fds.dedup();
    fds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn stale_message(pid: i32, stale: &[Registration]) -> String {
    let fds: Vec<_> = stale.iter().map(|registration| registration.fd).collect();
    format!(
        "the server's epoll instance still watches descriptor(s) {} for sockets the server has already closed \
         (another process still holds them, so epoll keeps the registrations and keeps reporting them; /proc/{pid}/fdinfo lists them). \
         Remove a client from epoll before closing it (TODO 4)",
        list(&fds)
    )
}

/// Why a server uses CPU with nothing to do, from its interest list and signal state;
/// `None` when the cause is the bonus's unread signalfd, which task 1 does not judge.
pub(super) fn spinning(
    pid: i32,
    cpu: Duration,
    interest: &InterestList,
    signals: Option<Signals>,
) -> Option<String> {
    let used = format!(
        "with nothing to do the server was running or ready to run for {} ms of 300 ms (/proc/<pid>/schedstat)",
        cpu.as_millis()
    );
    if !interest.clients.is_empty() || !interest.stale.is_empty() {
        let mut fds = interest.clients.clone();
        fds.extend(interest.stale.iter().map(|registration| registration.fd));
        return Some(format!(
            "the server is spinning: {used}, and its epoll instance still watches descriptor(s) {} of finished clients (/proc/{pid}/fdinfo), \
             which it keeps reporting as readable. Remove a finished client from epoll, then close it (TODO 4)",
            list(&fds)
        ));
    }
    if interest.signalfd && signals.is_some_and(|signals| signals.sigchld_pending()) {
        return None;
    }
    Some(format!(
        "the server is spinning: {used}, although its epoll instance watches only the listener{}. \
         Does it wait with a timeout of zero? Wait with EpollTimeout::NONE (TODO 2)",
        if interest.signalfd {
            " and the signalfd"
        } else {
            ""
        }
    ))
}

pub(super) fn describe_child(child: &ChildSeen) -> String {
    format!(
        "pid {}: {}{}",
        child.pid,
        child.activity.describe(),
        if child.holds_listener {
            ", holding the listening socket"
        } else {
            ""
        }
    )
}

pub(super) const CHILD_MUST_EXIT: &str = "After its upload a child must end with std::process::exit and never return into the server's loop (TODO 5)";

/// What the judgements' tests share: evidence of correct servers, and a table runner.
#[cfg(test)]
pub(super) mod table {
    use std::time::Duration;

    use crate::checks::evidence::{AtOnce, InTurn, OneLoop, Reaping, Turns};
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
    pub fn check_table(rows: Vec<(&str, Result<(), String>, Option<&str>)>) {
        for (case, judged, expected) in rows {
            match (&judged, expected) {
                (Ok(()), None) => {}
                (Err(reason), Some(text)) => {
                    assert!(reason.contains(text), "{case}: {reason:?} lacks {text:?}")
                }
                _ => panic!("{case}: judged {judged:?}, expected {expected:?}"),
            }
        }
    }
}
