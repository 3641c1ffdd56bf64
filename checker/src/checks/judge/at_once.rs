//! "Uploads at once": task 1's whole upload and both checks of task 2.

use crate::checks::evidence::{AtOnce, Cut, InTurn};
use crate::checks::finding::Finding;
use crate::checks::judge::{Judged, fds_of};
use crate::grade::CheckId;

/// Task 1, "receives a whole upload": epoll is used, and the first upload was received
/// whole.
pub fn whole_upload(seen: &AtOnce) -> Judged {
    if !seen.listener_registered {
        return Err(match &seen.cut {
            Some(cut @ Cut::ServerStopped(_)) => Finding::Cut(cut.clone()),
            _ => Finding::ListenerNotInEpoll,
        });
    }
    match seen.reports.first() {
        // The count is wrong because more than one process read the upload: say why.
        Some(&first) if first != seen.size && !seen.forks.at_accept.is_empty() => {
            let forks = &seen.forks.at_accept;
            let reported = forks.iter().find(|fork| !fork.reports.is_empty());
            Err(Finding::ForkedAtAccept(
                reported.unwrap_or(&forks[0]).clone(),
            ))
        }
        Some(&first) if first != seen.size => Err(Finding::WholeUploadMiscounted {
            reported: first,
            sent: seen.size,
        }),
        // A report is only believed if a client really got its whole file through.
        Some(_) if seen.some_sent_all => Ok(()),
        _ => Err(seen
            .cut
            .clone()
            .map_or(Finding::NoWholeUpload, Finding::Cut)),
    }
}

/// Whether task 2 (or task 3) can be judged at all; if not, why.
pub fn task_two_judged(whole_upload_passed: bool, in_turn: &InTurn) -> Judged {
    if !whole_upload_passed {
        return Err(Finding::NeedsWholeUpload);
    }
    if let Some(cut @ Cut::NotAccepted { .. }) = &in_turn.cut {
        return Err(Finding::NeedsEveryClientAccepted(cut.clone()));
    }
    Ok(())
}

/// Why `check` was not judged: `on`, which it builds on, did not pass.
pub fn needs_passed(check: CheckId, on: CheckId) -> Finding {
    Finding::NeedsPassed { check, on }
}

/// Task 2, "concurrent uploads": every upload ran side by side and was reported once,
/// with the right size.
pub fn concurrent(seen: &AtOnce) -> Judged {
    if let Some(fork) = seen.forks.after_report.first() {
        return Err(Finding::ForkedAfterReceiving(fork.clone()));
    }
    if let Some(cut) = seen.not_accepted.as_ref().or(seen.cut.as_ref()) {
        return Err(Finding::Cut(cut.clone()));
    }
    let (clients, size) = (seen.clients, seen.size);
    if seen.reports.len() == clients && seen.reports.iter().all(|&bytes| bytes == size) {
        return Ok(());
    }
    Err(Finding::UploadsMisreported {
        uploads: clients,
        size,
        reports: seen.reports.clone(),
    })
}

/// Task 2, "a process per client".
pub fn process_per_client(seen: &AtOnce) -> Judged {
    let (n, pid) = (seen.clients, seen.pid);
    let children = seen.children_while_running;
    // Children there were, but only after each upload: the lines tell.
    if let Some(fork) = seen.forks.after_report.first() {
        return Err(Finding::ForkedAfterReceiving(fork.clone()));
    }
    // What cut the uploads short is the story, but for serving one at a time: the
    // children were counted before the first upload finished.
    if let Some(cut) = &seen.cut
        && !matches!(cut, Cut::OneAtATime { .. })
    {
        return Err(Finding::Cut(cut.clone()));
    }
    if children == 0 && seen.most_threads > 1 {
        return Err(Finding::Threads {
            pid,
            uploads: n,
            threads: seen.most_threads,
        });
    }
    if children == 0 && n != 0 {
        return Err(Finding::NoChild { uploads: n });
    }
    if children != n {
        return Err(Finding::WrongChildCount {
            uploads: n,
            children,
        });
    }
    if !seen.stale_while_running.is_empty() {
        return Err(Finding::StaleRegistrations {
            pid,
            fds: fds_of(&seen.stale_while_running),
        });
    }
    if let Some(cut) = &seen.cut {
        return Err(Finding::Cut(cut.clone()));
    }
    if let Some(child) = &seen.child_in_loop {
        return Err(Finding::ChildInLoop(child.clone()));
    }
    if !seen.children_left.is_empty() {
        return Err(Finding::ChildrenLeft(seen.children_left.clone()));
    }
    if let Some(error) = seen.child_errors.first() {
        return Err(Finding::ChildErrorLine {
            pid,
            line: error.clone(),
        });
    }
    if seen.handled > n {
        return Err(Finding::HandledAgain {
            handled: seen.handled,
            connections: n,
        });
    }
    if let Some(finding) = created_line_names_no_child(seen) {
        return Err(finding);
    }
    let Some(before) = seen.descriptors_before else {
        return Err(Finding::DescriptorsNotCounted);
    };
    if let Some(after) = seen.descriptors_after
        && after != before
    {
        return Err(Finding::ParentKeepsCopies { before, after });
    }
    if !seen.stale_after.is_empty() {
        return Err(Finding::StaleRegistrations {
            pid,
            fds: fds_of(&seen.stale_after),
        });
    }
    Ok(())
}

/// A `<< Process <pid> created ... >>` line whose pid is none of the children, judged
/// only where one look saw every child alive at once (one per upload), so that the
/// children it names are all there were.
fn created_line_names_no_child(seen: &AtOnce) -> Option<Finding> {
    let server = seen.own_pid_in_log?;
    let children = &seen.children_in_log;
    if children.len() != seen.clients || seen.children_while_running != seen.clients {
        return None;
    }
    let &(printed, fd) = seen
        .created
        .iter()
        .find(|(pid, _)| !children.contains(pid))?;
    let mut children = children.clone();
    children.sort_unstable();
    Some(Finding::CreatedLineNamesNoChild {
        printed,
        fd,
        server,
        children,
    })
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
                        reported_early: None,
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
                        reported_early: None,
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
                with(|seen| {
                    seen.stale_while_running = vec![Registration {
                        fd: 6,
                        inode: 9,
                        events: 0x19,
                    }]
                }),
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
        let why = task_two_judged(true, &edge).unwrap_err().to_string();
        assert!(
            why.contains("accept every client") && !why.contains("TODO 5"),
            "{why}"
        );
    }

    #[test]
    fn a_created_line_is_held_against_the_children_seen() {
        let with = |created: Vec<(i32, i32)>, children: Vec<i32>| {
            let mut seen = served_at_once();
            seen.own_pid_in_log = Some(2);
            seen.children_in_log = children;
            seen.created = created;
            process_per_client(&seen)
        };
        check_table(vec![
            (
                "the children's pids",
                with(vec![(3, 5), (4, 6)], vec![4, 3]),
                None,
            ),
            (
                "the parent's own pid",
                with(vec![(2, 5), (2, 6)], vec![3, 4]),
                Some(
                    "but 2 is the server's own pid (the parent's), not a child's; its children while the uploads ran were 3, 4",
                ),
            ),
            (
                "a pid of no child",
                with(vec![(3, 5), (9, 6)], vec![3, 4]),
                Some("no child of the server had pid 9"),
            ),
            // Not every child seen at one look: the pids seen are not all there were.
            (
                "a child not seen",
                with(vec![(3, 5), (9, 6)], vec![3]),
                None,
            ),
        ]);
    }
}
