//! Why a scenario ended early, whose code stopped a server, why a check was not judged,
//! and which of the checker's limits a server reached: the words of [`Cut`], which
//! several findings hold, and of the findings that are a cut or a limit.

use std::time::Duration;

use gen_testfile::human_size;

use super::words::{list, plural, seconds};
use crate::checks::evidence::{Blame, ClientFailure, Cut, EarlyReport, Origin, Snapshot, Stopped};
use crate::checks::finding::{Advice, Limit};
use crate::clients::upload_with_socket;
use crate::grade::CheckId;
use crate::inspect::Whereabouts;
use crate::report::quote;

/// The most a client can send that nobody reads: its send buffer and the server's
/// receive window, which grows only when the server reads. More sent means it read.
const UNREAD_MOST: u64 = lab::MIB;

/// The words of `Finding::NeedsEveryClientAccepted`.
pub(super) fn needs_every_client_accepted(cut: &Cut) -> String {
    format!(
        "the server must first accept every client (seen in \"keeps serving\"): {}",
        cut_reason(cut)
    )
}

/// The words of `Finding::NeedsPassed`.
pub(super) fn needs_passed(check: CheckId, on: CheckId) -> String {
    format!(
        "{} is judged only on a server that passed \"{}\"",
        match check {
            CheckId::NoZombies => "the bonus",
            _ => "this check",
        },
        on.title()
    )
}

/// A limit of the checker's that the server reached, with its number and what to change.
pub(super) fn limit_reached(limit: &Limit) -> String {
    match limit {
        Limit::Time { limit } => format!(
            "not decided: the run reached its time limit of {} s (the checker's limit) before this check was \
             decided, so the checker stopped the server. A server that is right but slow needs more time: \
             --timeout SECONDS (the default grows with --size and --clients)",
            limit.as_secs()
        ),
        Limit::Memory { asked, cap } => format!(
            "a process of the server asked for {asked} bytes of memory more and was refused, so it ended: a process \
             of a server may map {} MiB at most (the checker's limit), and a server of this lab needs a few MiB. \
             Look for memory that grows as the upload goes on (a buffer made per read and kept, the whole upload kept)",
            cap / lab::MIB
        ),
    }
}

/// Why a scenario ended early.
pub(super) fn cut_reason(cut: &Cut) -> String {
    match cut {
        Cut::ServerStopped(stopped) => stopped_reason(stopped),
        Cut::StoppedAfterPause(stopped) => format!(
            "{}, right after the checker paused and resumed it while it sat idle (SIGSTOP, then SIGCONT: what Ctrl-Z and `fg` do). \
             That interrupts epoll_wait, which then fails with EINTR: no error, just wait again (TODO 2)",
            stopped.how
        ),
        Cut::NoProgress {
            after,
            milestone,
            most_sent,
            seen,
        } => format!(
            "after {} no client had sent {} (the most any had sent: {most_sent} bytes): {}. {}",
            seconds(*after),
            human_size(*milestone),
            if *most_sent > UNREAD_MOST {
                "the server reads the uploads, but far too slowly"
            } else {
                "the server does not read the uploads"
            },
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
        } => not_accepted(*waiting, *pid, *lasted),
        Cut::NotWatched { fds, pid, lasted } => not_watched(fds, *pid, *lasted),
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
        Cut::ClientFailed(failure) => client_failed(failure, false),
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

/// The words of `Cut::NotAccepted`.
fn not_accepted(waiting: u64, pid: i32, lasted: Duration) -> String {
    format!(
        "{} waited {} to be accepted while the server sat idle in epoll_wait (/proc/net/tcp showed {waiting} in the listener's queue, /proc/{pid}/wchan showed epoll_wait): \
         the server does not accept every client that knocks. Accept whenever epoll reports the listener (TODO 3), \
         and keep the listener level-triggered, as lab::w_epoll::add registers it, so that epoll reports it for as long as clients wait (TODO 1)",
        plural(waiting as usize, "connection", "connections"),
        seconds(lasted)
    )
}

/// The words of `Cut::NotWatched`.
fn not_watched(fds: &[i32], pid: i32, lasted: Duration) -> String {
    format!(
        "the server accepted the {} {} but does not watch {}: not in its epoll interest list (/proc/{pid}/fdinfo), \
         while the data sat unread for {} and the server waited in epoll_wait. Add every accepted client to epoll (TODO 3)",
        if fds.len() == 1 {
            "client on socket"
        } else {
            "clients on sockets"
        },
        list(fds),
        if fds.len() == 1 { "it" } else { "them" },
        seconds(lasted)
    )
}

/// How a server stopped, and whose code stopped it where the evidence tells.
pub(super) fn stopped_reason(stopped: &Stopped) -> String {
    let how = &stopped.how;
    let origin = match &stopped.blame {
        Blame::Checker => return how.clone(),
        // The words that say the run could not tell are added to every such finding.
        Blame::Untold => return how.clone(),
        Blame::Todo(origin) => origin,
    };
    match origin {
        // The panic quoted names the TODO.
        Origin::NotYetDone(_) => how.clone(),
        Origin::NoChildLeft { after } => {
            let after = match after.as_deref().and_then(lab::Line::parse) {
                Some(lab::Line::ProcessExited { .. } | lab::Line::ProcessKilled { .. }) => format!(
                    ", as right after the last child was reaped (the error came after `{}`)",
                    quote(after.as_deref().unwrap_or_default())
                ),
                Some(_) => format!(
                    " (the error came after `{}`)",
                    quote(after.as_deref().unwrap_or_default())
                ),
                None => String::new(),
            };
            format!(
                "{how}. waitpid fails with ECHILD when the server has no child left at all{after}: that ends the reaping, \
                 and is no error. Stop at ECHILD as at StillAlive (TODO 7)"
            )
        }
        Origin::AddedAgain { added, accepted } => {
            let connected = format!("`<< New client connected on socket {accepted} >>`");
            match added {
                Some(added) if added != accepted => format!(
                    "{how}. The error came right after {connected}: descriptor {added} was added to epoll instead of the new client's socket {accepted}, \
                     and epoll refuses a descriptor already in its interest list (EEXIST). Add the accepted client's socket (TODO 3)"
                ),
                _ => format!(
                    "{how}. The error came right after {connected}: on accepting that client the server added a descriptor that epoll already watches (EEXIST). \
                     Add each accepted client's socket once (TODO 3)"
                ),
            }
        }
    }
}

/// `upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes
/// (not yet 10 MiB)`: the evidence of [`Cut::OneAtATime`].
pub(super) fn left_behind(
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
pub(super) fn client_failed(failure: &ClientFailure, in_task_three: bool) -> String {
    let ClientFailure {
        client,
        socket,
        error,
        server_errors,
        closed_unread,
        reported_early,
    } = failure;
    let client = upload_with_socket(*client, *socket);
    let error = quote(error);
    if let Some(EarlyReport { fd, bytes }) = reported_early {
        return format!(
            "{client} was cut off ({error}) while the server had already reported an upload of no more than it had sent: \
             `Received {bytes} bytes from [Client {fd}]`. The server took an upload for ended before its client closed the connection, \
             and closed it. Only a read that returns 0 is the end of an upload{where_}",
            where_ = match in_task_three {
                true =>
                    ": a read that fails with WouldBlock (EAGAIN) means \"nothing more for now\", so return Piece::More for it and Piece::End only for 0 (TODO 9)",
                false => "",
            }
        );
    }
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
pub(super) fn where_they_were(seen: &Snapshot) -> String {
    let mut text = format!("The server was {}", seen.server.describe());
    match seen.children.as_slice() {
        [] => text.push_str(", with no child running"),
        children => {
            let each: Vec<String> = children.iter().map(Whereabouts::describe).collect();
            text.push_str(&format!("; its children: {}", each.join("; ")));
        }
    }
    text.push('.');
    if let Some(advice) = Advice::of(&seen.server) {
        text.push(' ');
        text.push_str(&advice.to_string());
    }
    text
}
