//! "Uploads at once": task 1's whole upload and both checks of task 2.

use crate::checks::evidence::{AtOnce, Cut, InTurn};
use crate::checks::judge::{
    CHILD_MUST_EXIT, NOT_EPOLL, cut_reason, describe_child, plural, stale_message,
};
use crate::grade::CheckId;
use crate::report::quote;

/// Task 1, "receives a whole upload": epoll is used, and the first upload was received
/// whole.
pub fn whole_upload(seen: &AtOnce) -> Result<(), String> {
    if !seen.listener_registered {
        return Err(match &seen.cut {
            Some(cut @ Cut::ServerStopped(_)) => cut_reason(cut),
            _ => NOT_EPOLL.to_owned(),
        });
    }
    match seen.reports.first() {
        Some(&first) if first != seen.size => Err(format!(
            "the server reported {first} bytes, but the client sent {}: it must read until the client closes the connection (read returns 0)",
            seen.size
        )),
        // A report is only believed if a client really got its whole file through.
        Some(_) if seen.some_sent_all => Ok(()),
        _ => Err(seen.cut.as_ref().map_or_else(
            || "no client got its whole file through".to_owned(),
            cut_reason,
        )),
    }
}

/// Whether task 2 (or task 3) can be judged at all; if not, why.
pub fn task_two_judged(whole_upload_passed: bool, in_turn: &InTurn) -> Result<(), String> {
    if !whole_upload_passed {
        return Err("the server must first receive a whole upload (task 1)".to_owned());
    }
    if let Some(cut @ Cut::NotAccepted { .. }) = &in_turn.cut {
        return Err(format!(
            "the server must first accept every client (seen in \"keeps serving\"): {}",
            cut_reason(cut)
        ));
    }
    Ok(())
}

/// Why `check` was not judged: `other`, which it builds on, did not pass.
pub fn needs_passed(check: CheckId, other: CheckId) -> String {
    let what = match check {
        CheckId::NoZombies => "the bonus",
        _ => "this check",
    };
    format!(
        "{what} is judged only on a server that passed \"{}\"",
        other.name()
    )
}

/// Task 2, "concurrent uploads": every upload ran side by side and was reported once,
/// with the right size.
pub fn concurrent(seen: &AtOnce) -> Result<(), String> {
    if let Some(cut) = seen.not_accepted.as_ref().or(seen.cut.as_ref()) {
        return Err(cut_reason(cut));
    }
    let (clients, size) = (seen.clients, seen.size);
    if seen.reports.len() == clients && seen.reports.iter().all(|&bytes| bytes == size) {
        return Ok(());
    }
    Err(format!(
        "{} of {size} bytes each, but the server reported {:?}: each upload must be reported once, by the process that received it",
        plural(clients, "upload", "uploads"),
        seen.reports
    ))
}

/// Task 2, "a process per client".
pub fn process_per_client(seen: &AtOnce) -> Result<(), String> {
    let (n, pid) = (seen.clients, seen.pid);
    let children = seen.children_while_running;
    // What cut the uploads short is the story, but for serving one at a time: the
    // children were counted before the first upload finished.
    if let Some(cut) = &seen.cut
        && !matches!(cut, Cut::OneAtATime { .. })
    {
        return Err(cut_reason(cut));
    }
    if children == 0 && seen.most_threads > 1 {
        return Err(format!(
            "while {} ran the server had no child process but {} threads (/proc/{pid}/task): threads, not processes. \
             Fork a child per upload (TODO 5)",
            plural(n, "upload", "uploads"),
            seen.most_threads
        ));
    }
    if children != n {
        let advice = if children == 0 {
            "it received the uploads itself. Fork a child per upload (TODO 5)"
        } else {
            "there must be one child per running upload (TODO 5)"
        };
        return Err(format!(
            "while {} ran the server had {}: {advice}",
            plural(n, "upload", "uploads"),
            plural(children, "child process", "child processes")
        ));
    }
    if !seen.stale_while_running.is_empty() {
        return Err(stale_message(pid, &seen.stale_while_running));
    }
    if let Some(cut) = &seen.cut {
        return Err(cut_reason(cut));
    }
    if let Some(child) = &seen.child_in_loop {
        return Err(format!(
            "a child of the server was seen running the server's loop ({}). {CHILD_MUST_EXIT}",
            describe_child(child)
        ));
    }
    if !seen.children_left.is_empty() {
        let children: Vec<_> = seen.children_left.iter().map(describe_child).collect();
        return Err(format!(
            "{} still alive 2 s after the last upload was reported ({}). {CHILD_MUST_EXIT}",
            plural(children.len(), "child was", "children were"),
            children.join("; ")
        ));
    }
    if let Some(error) = seen.child_errors.first() {
        return Err(format!(
            "the server (pid {pid}) kept running, yet `{}` was printed: the lab's error line ends the process \
             that prints it, and this one is no receive's, so a child printed it after its upload, in the loop's code. {CHILD_MUST_EXIT}",
            quote(error)
        ));
    }
    if seen.handled > n {
        return Err(format!(
            "the server printed `Client <fd> wants to send a file` {} times for {}: a connection was handled again, \
             by a child that ran on into the loop with its parent's events. {CHILD_MUST_EXIT}",
            seen.handled,
            plural(n, "connection", "connections")
        ));
    }
    let Some(before) = seen.descriptors_before else {
        return Err("could not count the server's descriptors before the clients".to_owned());
    };
    if let Some(after) = seen.descriptors_after
        && after != before
    {
        return Err(format!(
            "the server had {before} open descriptors before the clients and {after} after they were all done: \
             the parent keeps its copy of each client socket. After the fork, remove it from epoll and close it (TODO 4, TODO 5)"
        ));
    }
    if !seen.stale_after.is_empty() {
        return Err(stale_message(pid, &seen.stale_after));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::evidence::{ChildSeen, ClientFailure, Handled};
    use crate::checks::judge::table::*;
    use crate::inspect::{Activity, Registration};

    #[test]
    fn a_whole_upload_needs_epoll_and_the_true_count() {
        let with = |change: fn(&mut AtOnce)| whole_upload(&changed(served_at_once(), change));
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "no epoll",
                with(|seen| seen.listener_registered = false),
                Some("Look at TODO 1"),
            ),
            (
                "a short count",
                with(|seen| seen.reports = vec![50]),
                Some("the server reported 50 bytes, but the client sent 100"),
            ),
            (
                "a client closed before any read",
                with(|seen| {
                    seen.reports = vec![];
                    seen.cut = Some(Cut::ClientFailed(ClientFailure {
                        client: 4,
                        socket: None,
                        error: "Connection reset by peer".into(),
                        server_errors: vec![],
                        closed_unread: Some(Handled {
                            accepted: 1,
                            handled: 0,
                        }),
                    }));
                }),
                Some(
                    "the server printed 1 `<< New client connected ... >>` line but only 0 (`Client <fd> wants to send a file`), \
                     and no process of the server holds the client's socket any more: it closed the connection before reading from it. \
                     Keep every accepted client in `clients` until its upload is handled (TODO 3)",
                ),
            ),
            (
                "a report no client backs",
                with(|seen| seen.some_sent_all = false),
                Some("no client got its whole file through"),
            ),
        ]);
    }

    #[test]
    fn a_process_per_client_names_what_the_children_did() {
        let with = |change: fn(&mut AtOnce)| process_per_client(&changed(served_at_once(), change));
        let in_loop = ChildSeen {
            pid: 77,
            activity: Activity::EpollWait,
            holds_listener: true,
        };
        let lingering = AtOnce {
            children_left: vec![in_loop.clone()],
            ..served_at_once()
        };
        let looping = AtOnce {
            child_in_loop: Some(in_loop),
            ..served_at_once()
        };
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "threads",
                with(|seen| {
                    seen.children_while_running = 0;
                    seen.most_threads = 3;
                }),
                Some("threads, not processes. Fork a child per upload (TODO 5)"),
            ),
            (
                "no fork",
                with(|seen| seen.children_while_running = 0),
                Some("it received the uploads itself"),
            ),
            (
                "children that live on",
                process_per_client(&lingering),
                Some(
                    "pid 77: waiting in epoll_wait, holding the listening socket). After its upload a child must end",
                ),
            ),
            (
                "a child in the loop",
                process_per_client(&looping),
                Some("seen running the server's loop"),
            ),
            (
                "a child that failed in the parent's code",
                with(|seen| {
                    seen.child_errors =
                        vec!["server: removing descriptor 6 from epoll: ENOENT".into()]
                }),
                Some(
                    "the server (pid 42) kept running, yet `server: removing descriptor 6 from epoll: ENOENT` was printed",
                ),
            ),
            (
                "a connection handled twice",
                with(|seen| seen.handled = 3),
                Some("`Client <fd> wants to send a file` 3 times for 2 connections"),
            ),
            (
                "a failed client is the story, not the count of children",
                with(|seen| {
                    seen.children_while_running = 0;
                    seen.cut = Some(Cut::ClientFailed(ClientFailure {
                        client: 4,
                        socket: None,
                        error: "sending to the server after 65536 bytes: Broken pipe".into(),
                        server_errors: vec![
                            "server: receiving from client 6: Resource temporarily unavailable (os error 11) after 65536 bytes".into(),
                        ],
                        closed_unread: None,
                    }));
                }),
                Some(
                    "upload D failed (sending to the server after 65536 bytes: Broken pipe) while the server kept running, which had printed: \
                     `server: receiving from client 6: Resource temporarily unavailable",
                ),
            ),
            (
                "the parent keeps its copies",
                with(|seen| seen.descriptors_after = Some(8)),
                Some("(TODO 4, TODO 5)"),
            ),
            (
                "closed without removing",
                with(|seen| seen.stale_while_running = vec![Registration { fd: 6, inode: 9 }]),
                Some("Remove a client from epoll before closing it (TODO 4)"),
            ),
        ]);
    }

    #[test]
    fn task_two_waits_for_task_1_and_for_every_client_accepted() {
        assert!(task_two_judged(true, &served_in_turn()).is_ok());
        assert!(task_two_judged(false, &served_in_turn()).is_err());
        let mut edge = served_in_turn();
        edge.cut = Some(Cut::NotAccepted {
            waiting: 1,
            pid: 42,
            lasted: Duration::from_secs(1),
        });
        let why = task_two_judged(true, &edge).unwrap_err();
        assert!(
            why.contains("accept every client") && !why.contains("TODO 5"),
            "{why}"
        );
    }
}
