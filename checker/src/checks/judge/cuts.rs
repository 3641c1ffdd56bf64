//! Why a scenario ended early, in words: each cut with the evidence it was cut on, and
//! where the server and its children were blocked when that is what stopped them.

use gen_testfile::human_size;

use crate::checks::evidence::{ClientFailure, Cut, Snapshot};
use crate::checks::judge::{list, plural, seconds};
use crate::clients::upload_with_socket;
use crate::inspect::{CallKind, Waited, Whereabouts};
use crate::report::quote;

/// Why a scenario ended early.
pub fn cut_reason(cut: &Cut) -> String {
    match cut {
        Cut::ServerStopped(how) => how.clone(),
        Cut::StoppedAfterPause(how) => format!(
            "{how}, right after the checker paused and resumed it while it sat idle (SIGSTOP, then SIGCONT: what Ctrl-Z and `fg` do). \
             That interrupts epoll_wait, which then fails with EINTR: no error, just wait again (TODO 2)"
        ),
        Cut::NoProgress {
            after,
            milestone,
            most_sent,
            seen,
        } => format!(
            "after {} no client had sent {} (the most any had sent: {most_sent} bytes): the server does not read the uploads. {}",
            seconds(*after),
            human_size(*milestone),
            where_they_were(seen)
        ),
        Cut::Stalled {
            after,
            sent,
            of,
            seen,
        } => format!(
            "no data moved for {}: the server stopped reading the uploads (the clients had sent {sent} of {of} bytes). {}",
            seconds(*after),
            where_they_were(seen)
        ),
        Cut::Stuck { lasted, seen } => format!(
            "for {} the server was blocked outside epoll_wait while clients waited and no byte moved. {}",
            seconds(*lasted),
            where_they_were(seen)
        ),
        Cut::NotAccepted {
            waiting,
            pid,
            lasted,
        } => format!(
            "{} waited {} to be accepted while the server sat idle in epoll_wait (/proc/net/tcp showed {waiting} in the listener's queue, /proc/{pid}/wchan showed epoll_wait): \
             the server does not accept every client that knocks. Accept whenever epoll reports the listener (TODO 3), \
             and keep the listener level-triggered, as lab::w_epoll::add registers it, so that epoll reports it for as long as clients wait (TODO 1)",
            plural(*waiting as usize, "connection", "connections"),
            seconds(*lasted)
        ),
        Cut::NotWatched { fds, pid, lasted } => format!(
            "the server accepted the {} {} but does not watch {}: not in its epoll interest list (/proc/{pid}/fdinfo), \
             while the data sat unread for {} and the server waited in epoll_wait. Add every accepted client to epoll (TODO 3)",
            if fds.len() == 1 {
                "client on socket"
            } else {
                "clients on sockets"
            },
            list(fds),
            if fds.len() == 1 { "it" } else { "them" },
            seconds(*lasted)
        ),
        Cut::OneAtATime {
            finished,
            behind,
            sockets,
            behind_sent,
            milestone,
            server_waited_for_child,
        } => {
            let why = if *server_waited_for_child {
                "The server was seen waiting for its child in waitpid (/proc/<pid>/wchan: do_wait) while the upload ran: \
                 the parent must return to the loop at once and let the child work alone (TODO 5)"
            } else {
                "Receive each upload in a child process of its own (TODO 5)"
            };
            format!(
                "{}: the server serves one client at a time. {why}",
                left_behind(*finished, *behind, *sockets, *behind_sent, *milestone)
            )
        }
        Cut::ClientFailed(failure) => client_failed(failure),
        Cut::ReportsMissing {
            waited,
            reported,
            expected,
            seen,
        } => format!(
            "the clients sent everything, but after {} the server had reported {reported} of {expected} uploads (`Received <bytes> bytes from [Client <fd>]`). {}",
            seconds(*waited),
            where_they_were(seen)
        ),
    }
}

/// `upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes
/// (not yet 10 MiB)`: the evidence of [`Cut::OneAtATime`].
pub fn left_behind(
    finished: usize,
    behind: usize,
    sockets: (Option<i32>, Option<i32>),
    behind_sent: u64,
    milestone: u64,
) -> String {
    format!(
        "{} finished while {} had sent only {behind_sent} bytes (not yet {})",
        upload_with_socket(finished, sockets.0),
        upload_with_socket(behind, sockets.1),
        human_size(milestone)
    )
}

/// What the server did to a client whose connection broke, as far as the evidence goes.
fn client_failed(failure: &ClientFailure) -> String {
    let ClientFailure {
        client,
        socket,
        error,
        server_errors,
        closed_unread,
    } = failure;
    let client = upload_with_socket(*client, *socket);
    let error = quote(error);
    if let Some(counts) = closed_unread {
        return format!(
            "{client} was cut off ({error}): the server printed {} but only {} (`Client <fd> wants to send a file`), \
             and no process of the server holds the client's socket any more: it closed the connection before reading from it. \
             Keep every accepted client in `clients` until its upload is handled (TODO 3)",
            plural(
                counts.accepted,
                "`<< New client connected ... >>` line",
                "`<< New client connected ... >>` lines"
            ),
            counts.handled
        );
    }
    match server_errors.as_slice() {
        [] => format!("{client} failed while the server kept running: {error}"),
        [only] => format!(
            "{client} failed ({error}) while the server kept running, which had printed: `{}`",
            quote(only)
        ),
        [first, ..] if server_errors.iter().all(|line| line == first) => format!(
            "{client} failed ({error}) while the server kept running, which had printed `{}` {} times",
            quote(first),
            server_errors.len()
        ),
        [first, .., last] => format!(
            "{client} failed ({error}) while the server kept running, which had printed {} error lines, the first `{}` and the last `{}`",
            server_errors.len(),
            quote(first),
            quote(last)
        ),
    }
}

/// Where the server and each child were, and what that says to fix, if it says anything
/// the evidence can back.
pub fn where_they_were(seen: &Snapshot) -> String {
    let mut text = format!("The server was {}", seen.server.describe());
    match seen.children.as_slice() {
        [] => text.push_str(", with no child running"),
        children => {
            let each: Vec<String> = children.iter().map(Whereabouts::describe).collect();
            text.push_str(&format!("; its children: {}", each.join("; ")));
        }
    }
    text.push('.');
    if let Some(advice) = advice_for(&seen.server) {
        text.push(' ');
        text.push_str(advice);
    }
    text
}

/// What a server blocked where `at` says must change, when the place itself is the
/// evidence; `None` where it says no more than where the server was.
pub fn advice_for(at: &Whereabouts) -> Option<&'static str> {
    match (at.call?, &at.on) {
        (CallKind::Read, Some(Waited::SignalFd)) => Some(
            "Reading a blocking signalfd waits for the next child to exit: create it non-blocking, \
             with SfdFlags::SFD_NONBLOCK (TODO 6), and read until read_signal returns None (TODO 7)",
        ),
        (CallKind::Wait, _) if at.first_arg == -1 => Some(
            "waitpid without WNOHANG waits until a child exits, and meanwhile the loop serves nobody: \
             pass WaitPidFlag::WNOHANG and stop at StillAlive (TODO 7)",
        ),
        (CallKind::Wait, _) => Some(
            "The parent waits for one child, so it serves one client at a time: return to the loop right after the fork \
             and let the child work alone (TODO 5)",
        ),
        (CallKind::Accept, Some(Waited::Listener)) => Some(
            "accept blocks when no client is waiting: accept once each time epoll reports the listener (TODO 3)",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_named_by_letter_with_the_socket_the_server_gave_them() {
        let cut = Cut::OneAtATime {
            finished: 5,
            behind: 4,
            sockets: (Some(6), None),
            behind_sent: 196_608,
            milestone: 10 * lab::MIB,
            server_waited_for_child: false,
        };
        assert!(
            cut_reason(&cut).starts_with(
                "upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes (not yet 10 MiB)"
            ),
            "{}",
            cut_reason(&cut)
        );
    }
}
