//! The words of the findings of task 2, a child process per upload: the children seen
//! against the uploads, a child that runs on into the server's loop, the parent's copies
//! of the sockets, and where the server's own lines place the fork.

use super::words::{describe_child, list, plural};
use crate::checks::evidence::ChildSeen;
use crate::checks::printed::ForkSeen;
use crate::report::quote;

const CHILD_MUST_EXIT: &str = "After its upload a child must end with std::process::exit and never return into the server's loop (TODO 5)";

/// The words of `Finding::UploadsMisreported`.
pub(super) fn uploads_misreported(uploads: usize, size: u64, reports: &[u64]) -> String {
    format!(
        "{} of {size} bytes each, but the server reported {reports:?}: each upload must be reported once, by the process that received it",
        plural(uploads, "upload", "uploads"),
    )
}

/// The words of `Finding::Threads`.
pub(super) fn threads(pid: i32, uploads: usize, threads: usize) -> String {
    format!(
        "while {} ran the server had no child process but {threads} threads (/proc/{pid}/task): threads, not processes. \
         Fork a child per upload (TODO 5)",
        plural(uploads, "upload", "uploads"),
    )
}

/// The words of `Finding::NoChild`.
pub(super) fn no_child(uploads: usize) -> String {
    format!(
        "while {} ran the server had {}: it received the uploads itself. Fork a child per upload (TODO 5)",
        plural(uploads, "upload", "uploads"),
        plural(0, "child process", "child processes")
    )
}

/// The words of `Finding::WrongChildCount`.
pub(super) fn wrong_child_count(uploads: usize, children: usize) -> String {
    format!(
        "while {} ran the server had {}: there must be one child per running upload (TODO 5)",
        plural(uploads, "upload", "uploads"),
        plural(children, "child process", "child processes")
    )
}

/// The words of `Finding::ChildInLoop`.
pub(super) fn child_in_loop(child: &ChildSeen) -> String {
    format!(
        "a child of the server was seen running the server's loop ({}). {CHILD_MUST_EXIT}",
        describe_child(child)
    )
}

/// The words of `Finding::ChildrenLeft`.
pub(super) fn children_left(children: &[ChildSeen]) -> String {
    let each: Vec<_> = children.iter().map(describe_child).collect();
    format!(
        "{} still alive 2 s after the last upload was reported ({}). {CHILD_MUST_EXIT}",
        plural(each.len(), "child was", "children were"),
        each.join("; ")
    )
}

/// The words of `Finding::ChildErrorLine`.
pub(super) fn child_error_line(pid: i32, line: &str) -> String {
    format!(
        "the server (pid {pid}) kept running, yet `{}` was printed: the lab's error line ends the process \
         that prints it, and this one is no receive's, so a child printed it after its upload, in the loop's code. {CHILD_MUST_EXIT}",
        quote(line)
    )
}

/// The words of `Finding::HandledAgain`.
pub(super) fn handled_again(handled: usize, connections: usize) -> String {
    format!(
        "the server printed `Client <fd> wants to send a file` {handled} times for {}: a connection was handled again, \
         by a child that ran on into the loop with its parent's events. {CHILD_MUST_EXIT}",
        plural(connections, "connection", "connections")
    )
}

/// The words of `Finding::ParentKeepsCopies`.
pub(super) fn parent_keeps_copies(before: usize, after: usize) -> String {
    format!(
        "the server had {before} open descriptors before the clients and {after} after they were all done: \
         the parent keeps its copy of each client socket. After the fork, remove it from epoll and close it (TODO 4, TODO 5)"
    )
}

/// The words of `Finding::ForkedAtAccept`.
pub(super) fn forked_at_accept(fork: &ForkSeen) -> String {
    format!(
        "the server forked a child for client {fd} as soon as it accepted it (`<< Process {pid} created to handle client {fd} >>` \
         came before `Client {fd} wants to send a file`), and then handled the client in its loop as well: more than one process \
         read the one upload, each a part of it{reported}. Accepting is all TODO 3 does: \
         accept, print, add the socket to epoll and return it (TODO 3); the fork belongs where the upload is received (TODO 5)",
        fd = fork.fd,
        pid = fork.pid,
        reported = match fork.reports.as_slice() {
            [] => String::new(),
            reports => format!(
                ", and the server reported {reports:?} for socket {}",
                fork.fd
            ),
        },
    )
}

/// The words of `Finding::ForkedAfterReceiving`.
pub(super) fn forked_after_receiving(fork: &ForkSeen) -> String {
    format!(
        "the server forked only after it had received the upload itself: `Received {first} bytes from [Client {fd}]` came before \
         `<< Process {pid} created to handle client {fd} >>`, and the child, with nothing left to read, reported the upload again \
         (the server reported {reports:?} for socket {fd}): every upload was received by the parent, one at a time, and reported twice. \
         The given `lab::receive_upload` call must move into the child, after the fork (TODO 5)",
        first = fork.reports.first().copied().unwrap_or_default(),
        fd = fork.fd,
        pid = fork.pid,
        reports = fork.reports,
    )
}

/// The words of `Finding::CreatedLineNamesNoChild`.
pub(super) fn created_line_names_no_child(
    printed: i32,
    fd: i32,
    server: i32,
    children: &[i32],
) -> String {
    let whose = if printed == server {
        format!("{printed} is the server's own pid (the parent's), not a child's")
    } else {
        format!("no child of the server had pid {printed}")
    };
    format!(
        "the server printed `<< Process {printed} created to handle client {fd} >>`, but {whose}; \
         its children while the uploads ran were {} (pids as the server log shows them). \
         The parent must print the pid that fork returned to it for the child (TODO 5)",
        list(children)
    )
}
