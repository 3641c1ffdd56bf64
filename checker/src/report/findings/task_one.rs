//! The words of the findings of any scenario and of task 1: the listener in epoll, a
//! server that spins, registrations left behind, the counts of the first uploads, and a
//! server that never sits idle.

use std::time::Duration;

use super::words::{list, plural, seconds};
use crate::checks::finding::{Advice, Spin};
use crate::clients::upload_name;
use crate::inspect::{Activity, Whereabouts};

/// The words of `Finding::Spins`.
pub(super) fn spins(busy: Duration, cause: &Spin, after_uploads: bool) -> String {
    let spin = spinning(busy, cause);
    if after_uploads {
        format!("after the uploads {spin}")
    } else {
        spin
    }
}

/// The words of `Finding::StaleRegistrations`.
pub(super) fn stale_registrations(pid: i32, fds: &[i32]) -> String {
    format!(
        "the server's epoll instance still watches descriptor(s) {} for sockets the server has already closed \
         (another process still holds them, so epoll keeps the registrations and keeps reporting them; /proc/{pid}/fdinfo lists them). \
         Remove a client from epoll before closing it (TODO 4)",
        list(fds)
    )
}

/// The words of `Finding::WholeUploadMiscounted`.
pub(super) fn whole_upload_miscounted(reported: u64, sent: u64) -> String {
    format!(
        "the server reported {reported} bytes, but the client sent {sent}: it must read until the client closes the connection (read returns 0)"
    )
}

/// The words of `Finding::UploadMiscounted`.
pub(super) fn upload_miscounted(client: usize, sent: u64, reported: u64) -> String {
    format!(
        "{} sent {sent} bytes, but the server reported {reported}",
        upload_name(client)
    )
}

/// The words of `Finding::HandledNotOnce`.
pub(super) fn handled_not_once(connections: usize, handled: usize, reported: usize) -> String {
    format!(
        "{}, but the server handled {handled} (`wants to send a file`) and reported {}: \
         each connection must be handled once, then removed from epoll and closed (TODO 4)",
        plural(connections, "connection", "connections"),
        plural(reported, "upload", "uploads")
    )
}

/// The words of `Finding::NeverIdle`.
pub(super) fn never_idle(after: Duration, at: &Whereabouts) -> String {
    let advice = match (&at.activity, Advice::of(at)) {
        (_, Some(advice)) => advice.to_string(),
        (Activity::Running, None) => {
            "With nothing to do it must block in epoll_wait (TODO 2)".to_owned()
        }
        (_, None) => "With nothing to do it must block in epoll_wait".to_owned(),
    };
    format!(
        "once started, the server never sat idle in epoll_wait: after {} it was {}. {advice}",
        seconds(after),
        at.describe(),
    )
}

/// Why a server spins, with the time it ran or waited to run.
pub(super) fn spinning(busy: Duration, cause: &Spin) -> String {
    let used = format!(
        "with nothing to do the server was running or ready to run for {} ms of 300 ms (/proc/<pid>/schedstat)",
        busy.as_millis()
    );
    match cause {
        Spin::FinishedClients { pid, fds } => format!(
            "the server is spinning: {used}, and its epoll instance still watches descriptor(s) {} of finished clients (/proc/{pid}/fdinfo), \
             which it keeps reporting as readable. Remove a finished client from epoll, then close it (TODO 4)",
            list(fds)
        ),
        Spin::NoWait { signalfd } => format!(
            "the server is spinning: {used}, although its epoll instance watches only the listener{}. \
             Does it wait with a timeout of zero? Wait with EpollTimeout::NONE (TODO 2)",
            if *signalfd { " and the signalfd" } else { "" }
        ),
        Spin::UnreadSignalfd { pid } => format!(
            "the server spins once a child has exited: with nothing to do it was running or ready to run for {} ms of 300 ms, its epoll instance watches only \
             the listener and the signalfd, and SIGCHLD is still pending (/proc/{pid}/status SigPnd/ShdPnd): the signalfd stays readable \
             because nobody reads it. Read the signals with read_signal until it returns None (TODO 7)",
            busy.as_millis()
        ),
    }
}
