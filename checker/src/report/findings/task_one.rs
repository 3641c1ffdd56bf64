//! The words of the findings of any scenario and of task 1: the listener in epoll, a
//! server that spins, registrations left behind, the counts of the first uploads, and a
//! server that never sits idle.

use std::time::Duration;

use super::words::{list, plural, seconds};
use crate::checks::evidence::{AcceptedUnreported, Registered};
use crate::checks::finding::{Advice, SilentCause, Spin};
use crate::clients::{upload_name, upload_with_socket};
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

/// The words of `Finding::HandledSilentClient`.
pub(super) fn handled_silent_client(client: usize, fd: i32, cause: SilentCause) -> String {
    let why = match cause {
        SilentCause::AtAccept(Registered::ForOutput) => "On the fresh server no earlier wait \
             can have named it. Its registration asks for output too (EPOLLOUT in \
             /proc/PID/fdinfo of the epoll instance), and a connected socket is ready for \
             output at once: register clients for input, as `lab::w_epoll::add` does (TODO 3)"
            .to_owned(),
        SilentCause::AtAccept(_) => "On the fresh server no earlier wait can have named it: \
             it was served as soon as it was accepted, or it was registered for output too \
             (EPOLLOUT), which a connected socket is at once (the run did not see its \
             registration to tell which). A client is served once epoll reports it readable: \
             add it to epoll for input only, with `lab::w_epoll::add`, and leave it to the \
             loop (TODO 3)"
            .to_owned(),
        SilentCause::LeftOverEntries => "No wait can have returned it: the fresh server's \
             first client, held silent the same way, was registered for input only and left \
             alone. The loop went through entries of `events` past the count the wait \
             returned: they are left over from earlier waits and name the clients those \
             waits returned, or whoever has their socket number now. `wait_for_events` must \
             return the number epoll_wait returned, not the buffer's length (TODO 2)"
            .to_owned(),
        SilentCause::Untold => "A socket with nothing to read is never ready for input. \
             Either the loop went through entries of `events` past the count the wait \
             returned (`wait_for_events` must return that count, TODO 2), or the client \
             was registered for more than input (TODO 3): the run did not see a silent \
             client's registration to tell which"
            .to_owned(),
    };
    format!(
        "{} had connected and sent nothing, its connection open, yet the server announced \
         it (`Client {fd} wants to send a file`). {why}",
        upload_with_socket(client, Some(fd)),
    )
}

/// The words of `Finding::AcceptedUnreported`.
pub(super) fn accepted_unreported(seen: &AcceptedUnreported) -> String {
    format!(
        "the server's epoll_wait has a timeout of {} ms (/proc/{}/syscall). Once it had timed \
         out with silent clients connected and nobody knocking, it was {}, with no \
         connection waiting: no wait returned the listener, so the loop went through entries \
         of `events` past the count the wait returned, left over from earlier waits. A wait \
         that times out returns 0: `wait_for_events` must return the number epoll_wait \
         returned, not the buffer's length (TODO 2)",
        seen.timeout.as_millis(),
        seen.at.pid,
        seen.at.describe(),
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
