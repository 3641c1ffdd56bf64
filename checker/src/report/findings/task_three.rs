//! The words of the findings of task 3, one loop that serves every upload: blocking
//! sockets, the end of an upload missed, reads and counts, clients left in the interest
//! list, and a cut told in task 3's words.

use std::time::Duration;

use super::cuts::{client_failed, cut_reason, left_behind};
use super::words::{list, plural};
use crate::checks::evidence::{Cut, Turns};
use crate::report::quote;

/// What the task asks of a server that serves from its loop alone.
const ONE_LOOP: &str =
    "In task 3 the loop itself serves every upload: no fork, no thread (TODOs 8 and 9)";

/// The words of `Finding::EagainTakenForError`.
pub(super) fn eagain_taken_for_error(line: &str) -> String {
    format!(
        "the server printed `{}`: it took EAGAIN for an error. On a non-blocking socket a read that finds nothing \
         fails with EAGAIN (io::ErrorKind::WouldBlock) to say \"nothing more for now\": return Piece::More and let epoll \
         report the socket again (TODO 9)",
        quote(line)
    )
}

/// The words of `Finding::NotOneLoop`.
pub(super) fn not_one_loop(pid: i32, uploads: usize, children: usize, threads: usize) -> String {
    format!(
        "while {} ran in --mode async the server had {} and {} (/proc/{pid}/task). {ONE_LOOP}",
        plural(uploads, "upload", "uploads"),
        plural(children, "child process", "child processes"),
        plural(threads, "thread", "threads"),
    )
}

/// The words of `Finding::BlockingSockets`.
pub(super) fn blocking_sockets(pid: i32, fds: &[i32], meanwhile: Option<&Cut>) -> String {
    let while_ = match meanwhile {
        Some(cut) => format!(" Meanwhile: {}", loop_cut_reason(cut)),
        None => String::new(),
    };
    format!(
        "client socket(s) {} of the server were blocking while the uploads ran (their flags in /proc/{pid}/fdinfo lack O_NONBLOCK): \
         a read with nothing to read then waits for that one client while every other client waits for the loop. \
         Make each client's socket non-blocking when it is accepted (TODO 8).{while_}",
        list(fds)
    )
}

/// The words of `Finding::EndOfUploadMissed`.
pub(super) fn end_of_upload_missed(fds: &[i32], busy: Option<Duration>) -> String {
    let spin = match busy {
        Some(busy) => format!(
            ", and the server was running or ready to run for {} ms of 300 ms with nothing else to do: epoll keeps reporting a socket at its end",
            busy.as_millis()
        ),
        None => String::new(),
    };
    format!(
        "the clients had closed their connections and the server had read every byte, yet it still held socket(s) {} \
         (CLOSE_WAIT in /proc/net/tcp) without a report{spin}. A read that returns 0 is the end of the upload: \
         return Piece::End (TODO 9)",
        list(fds)
    )
}

/// The words of `Finding::OneReadPerEvent`.
pub(super) fn one_read_per_event(turns: &Turns) -> String {
    format!(
        "the server read each client once per event: traced for {} system calls while the uploads ran, it made {} reads of \
         client sockets in {} turns, each a single read followed by another epoll_wait (or another client). \
         Level-triggered epoll reports the rest again, so nothing is lost, but every 10 bytes cost a second system call. \
         Read until WouldBlock (EAGAIN) or the fair share (TODO 9)",
        turns.calls, turns.reads, turns.turns
    )
}

/// The words of `Finding::CountLost`.
pub(super) fn count_lost(uploads: usize, size: u64, reports: &[u64]) -> String {
    format!(
        "{} of {size} bytes each were sent, but the server reported {reports:?}. \
         A report comes only after the end of the upload, and the end is read only after every byte before it: \
         the server read them all but lost count of some. Every byte a read returns must be added to \
         `client.received`, which lives as long as the connection. Two ways to lose bytes: a count kept in a variable \
         of TODO 9, which starts again at zero on every event; or a read that takes bytes and then fails, as \
         `read_exact` does when it meets EAGAIN partway (use `read`, which says how many bytes it took) (TODO 9)",
        plural(uploads, "upload", "uploads"),
    )
}

/// The words of `Finding::CountedMore`.
pub(super) fn counted_more(uploads: usize, size: u64, reports: &[u64]) -> String {
    format!(
        "{} of {size} bytes each were sent, but the server reported {reports:?}. \
         It counted more than it read: add what each read returns, not the buffer's size (TODO 9)",
        plural(uploads, "upload", "uploads"),
    )
}

/// The words of `Finding::LoopUploadsMisreported`.
pub(super) fn loop_uploads_misreported(uploads: usize, size: u64, reports: &[u64]) -> String {
    format!(
        "{} of {size} bytes each, but the server reported {reports:?}: each upload must be reported once",
        plural(uploads, "upload", "uploads"),
    )
}

/// The words of `Finding::LoopHandledNotOnce`.
pub(super) fn loop_handled_not_once(uploads: usize, handled: usize) -> String {
    format!(
        "{} were served, but the server printed `Client <fd> wants to send a file` {handled} times: once per client",
        plural(uploads, "upload", "uploads"),
    )
}

/// The words of `Finding::FinishedClientsWatched`.
pub(super) fn finished_clients_watched(pid: i32, fds: &[i32]) -> String {
    format!(
        "after every upload was reported, the server's epoll instance still watched descriptor(s) {} (/proc/{pid}/fdinfo): \
         only the listener (and the signalfd) should be left. A finished client is removed, then closed (TODO 4)",
        list(fds)
    )
}

/// The words of `Finding::DescriptorsKept`.
pub(super) fn descriptors_kept(before: usize, after: usize) -> String {
    format!(
        "the server had {before} descriptors open before the uploads and {after} after them, every upload reported: \
         something of the finished clients stays open (`ls -l /proc/<pid>/fd` of a server started by hand shows what)"
    )
}

/// The words of `Finding::BufSizeIgnored`.
pub(super) fn buf_size_ignored(buf_size: u32, asked: &[u64], reads: usize) -> String {
    let sizes = asked
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ");
    let against = if asked.iter().any(|&size| size > u64::from(buf_size)) {
        format!("more than the {buf_size} it was given")
    } else {
        format!("never {buf_size}")
    };
    format!(
        "the server was started with --buf-size {buf_size}, but its reads of client sockets asked for {sizes} bytes, \
         {against} ({reads} reads traced as the uploads began). Read into a buffer of buf_size bytes, \
         the size the command line gives (TODO 9)"
    )
}

/// Why a cut ends task 3, in task 3's words where they differ from task 2's.
pub(super) fn loop_cut_reason(cut: &Cut) -> String {
    match cut {
        Cut::OneAtATime {
            finished,
            behind,
            sockets,
            behind_sent,
            milestone,
            ..
        } => format!(
            "{}: the loop served one client at a time, though its sockets were non-blocking. One event may read what its client has sent so far, and at most \
             lab::FAIR_SHARE bytes of it, then go back to epoll_wait: \
             with 10-byte reads the server reads more slowly than a client sends, so \"until EAGAIN\" alone can keep the loop on one \
             client to its end (TODO 9)",
            left_behind(*finished, *behind, *sockets, *behind_sent, *milestone)
        ),
        Cut::ClientFailed(failure) => client_failed(failure, true),
        _ => cut_reason(cut),
    }
}
