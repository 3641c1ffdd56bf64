//! "Keeps serving".

use crate::checks::evidence::{InTurn, Registered, Silent};
use crate::checks::finding::{Finding, SilentCause};
use crate::checks::judge::{Judged, SPIN, fds_of, spin_cause};
use crate::inspect::Activity;

/// Task 1, "keeps serving".
pub fn keeps_serving(seen: &InTurn) -> Judged {
    if let Some(cut) = &seen.cut {
        return Err(Finding::Cut(cut.clone()));
    }
    let miscounted = seen.wrong_count.is_some()
        || seen.handled != seen.connections
        || seen.reported != seen.connections;
    if let Some(fork) = seen.forks.at_accept.first()
        && miscounted
    {
        return Err(Finding::ForkedAtAccept(fork.clone()));
    }
    // Reports twice over, from a fork after each receive: TODO 5's mistake, which task 2
    // judges; task 1's loop served every client.
    let counted_in_task_two = !seen.forks.after_report.is_empty();
    if let Some(wrong) = seen.wrong_count.filter(|_| !counted_in_task_two) {
        return Err(Finding::UploadMiscounted {
            client: wrong.client,
            sent: wrong.sent,
            reported: wrong.reported,
        });
    }
    if let Some(finding) = silent_client_handled(seen) {
        return Err(finding);
    }
    if seen.idle_cpu > SPIN
        && let Some(cause) = spin_cause(seen.pid, &seen.interest, seen.signals)
    {
        return Err(Finding::Spins {
            busy: seen.idle_cpu,
            cause,
            after_uploads: false,
        });
    }
    if !counted_in_task_two
        && (seen.handled != seen.connections || seen.reported != seen.connections)
    {
        return Err(Finding::HandledNotOnce {
            connections: seen.connections,
            handled: seen.handled,
            reported: seen.reported,
        });
    }
    // Error lines while the server itself kept running came from its children: that is
    // judged in "a process per client".
    if let Some(error) = seen.errors.first()
        && !(seen.forked && seen.server_alive)
    {
        return Err(Finding::ServerError {
            line: error.clone(),
        });
    }
    if !seen.interest.listener {
        return Err(Finding::ListenerNotInEpoll);
    }
    if !seen.interest.stale.is_empty() && seen.children_alive == 0 {
        return Err(Finding::StaleRegistrations {
            pid: seen.pid,
            fds: fds_of(&seen.interest.stale),
        });
    }
    let Some(at) = &seen.paused_in else {
        return Err(Finding::NeverPaused);
    };
    if at.activity == Activity::EpollWait {
        return Ok(());
    }
    Err(Finding::NeverIdle {
        after: seen.idle_wait,
        at: at.clone(),
    })
}

/// What a passing "keeps serving" could not be judged on, said in the report: whether the
/// loop handles only what each wait returned, where the stage of silent clients did not
/// run to its end.
pub fn unobserved_silent_clients(seen: &InTurn) -> Option<String> {
    if seen.silent.probed {
        return None;
    }
    let why = seen
        .silent
        .not_probed
        .as_deref()
        .unwrap_or("the stage did not run");
    Some(format!(
        "keeps serving: whether the loop handles only the events each wait returned was not \
         seen ({why}), so a wait_for_events that returns the buffer's length would pass"
    ))
}

/// The bonus's second gate: the loop handles only the events each wait returned, as far
/// as "keeps serving" could tell. One that goes through entries left over from earlier
/// waits can block in accept or read whenever they name a socket with nothing for it,
/// and then leaves its children unreaped, in one run and not the next.
pub fn handles_reported_events_only(seen: &InTurn) -> Judged {
    match silent_client_handled(seen) {
        Some(Finding::HandledSilentClient {
            cause: SilentCause::LeftOverEntries | SilentCause::Untold,
            ..
        })
        | Some(Finding::AcceptedUnreported(_)) => Err(Finding::NeedsReportedEventsOnly),
        _ => Ok(()),
    }
}

/// A client that had sent nothing announced all the same, with what tells why.
fn silent_client_handled(seen: &InTurn) -> Option<Finding> {
    let Silent {
        first, announced, ..
    } = &seen.silent;
    if first.announced
        && let Some(fd) = first.fd
    {
        return Some(Finding::HandledSilentClient {
            client: first.client,
            fd,
            cause: SilentCause::AtAccept(first.registered),
        });
    }
    let Some(announced) = announced else {
        return seen
            .silent
            .accepted_unreported
            .clone()
            .map(Finding::AcceptedUnreported);
    };
    Some(Finding::HandledSilentClient {
        client: announced.client,
        fd: announced.fd,
        cause: match first.registered {
            Registered::InputOnly => SilentCause::LeftOverEntries,
            Registered::ForOutput | Registered::NotSeen => SilentCause::Untold,
        },
    })
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::evidence::{
        AcceptedUnreported, Blame, Cut, FirstLook, SilentAnnounced, Snapshot, Stopped,
    };
    use crate::checks::judge::table::*;
    use crate::inspect::{CallKind, Waited};

    #[test]
    fn keeps_serving_names_the_todo_of_each_defect() {
        let with = |change: fn(&mut InTurn)| keeps_serving(&changed(served_in_turn(), change));
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "never idle in epoll_wait",
                with(|seen| {
                    seen.paused_in = Some(at(CallKind::Sleep, 0, None));
                    seen.idle_wait = Duration::from_secs(1);
                }),
                Some(
                    "after 1.0 s it was pid 42: sleeping (nanosleep) (/proc/42/wchan: do_wait). With nothing to do it must block in epoll_wait",
                ),
            ),
            (
                "died after SIGSTOP and SIGCONT",
                with(|seen| {
                    seen.cut = Some(Cut::StoppedAfterPause(Stopped {
                        how: "the server stopped".into(),
                        blame: Blame::Untold,
                    }))
                }),
                Some("EINTR: no error, just wait again (TODO 2)"),
            ),
            (
                "a finished client still registered",
                with(|seen| {
                    seen.idle_cpu = Duration::from_millis(290);
                    seen.interest.clients = vec![6];
                }),
                Some("descriptor(s) 6 of finished clients (/proc/42/fdinfo)"),
            ),
            (
                "an unread signalfd is the bonus's business",
                with(|seen| {
                    seen.idle_cpu = Duration::from_millis(290);
                    seen.interest.signalfd = true;
                    seen.signals = Some(SIGCHLD_PENDING);
                }),
                None,
            ),
            (
                "blocked on a blocking signalfd",
                with(|seen| {
                    seen.cut = Some(Cut::Stuck {
                        lasted: Duration::from_secs(1),
                        seen: Box::new(Snapshot {
                            server: at(CallKind::Read, 5, Some(Waited::SignalFd)),
                            children: vec![],
                        }),
                    })
                }),
                Some(
                    "for 1.0 s the server was blocked outside epoll_wait while clients waited and no byte moved. \
                     The server was pid 42: blocked in read on the signalfd (descriptor 5; /proc/42/wchan: do_wait), with no child running. \
                     Reading a blocking signalfd waits for the next child to exit",
                ),
            ),
            (
                "stuck somewhere that backs no TODO",
                with(|seen| {
                    seen.cut = Some(Cut::Stuck {
                        lasted: Duration::from_secs(1),
                        seen: Box::new(Snapshot {
                            server: at(CallKind::Sleep, 0, None),
                            children: vec![],
                        }),
                    })
                }),
                Some(
                    "pid 42: sleeping (nanosleep) (/proc/42/wchan: do_wait), with no child running.",
                ),
            ),
            (
                "spinning with only the listener",
                with(|seen| seen.idle_cpu = Duration::from_millis(290)),
                Some("EpollTimeout::NONE (TODO 2)"),
            ),
            (
                "a connection left in the queue",
                with(|seen| {
                    seen.cut = Some(Cut::NotAccepted {
                        waiting: 1,
                        pid: 42,
                        lasted: Duration::from_secs(1),
                    })
                }),
                Some("(TODO 3)"),
            ),
            (
                "a silent client announced at accept on the fresh server",
                with(|seen| {
                    seen.silent.first = FirstLook {
                        client: 1,
                        fd: Some(5),
                        registered: Registered::NotSeen,
                        announced: true,
                    }
                }),
                Some(
                    "upload A (socket 5 in the server) had connected and sent nothing, its connection open, \
                     yet the server announced it (`Client 5 wants to send a file`). On the fresh server",
                ),
            ),
            (
                "a later silent client announced, the first one registered for input",
                with(|seen| {
                    seen.silent.first.registered = Registered::InputOnly;
                    seen.silent.announced = Some(SilentAnnounced { client: 26, fd: 6 });
                }),
                Some("not the buffer's length (TODO 2)"),
            ),
            (
                "a later silent client announced, the first one not seen",
                with(|seen| seen.silent.announced = Some(SilentAnnounced { client: 26, fd: 6 })),
                Some("(TODO 3): the run did not see"),
            ),
            (
                "blocked in accept once its wait timed out",
                with(|seen| {
                    seen.silent.accepted_unreported = Some(AcceptedUnreported {
                        timeout: Duration::from_millis(200),
                        at: at(CallKind::Accept, 3, Some(Waited::Listener)),
                    })
                }),
                Some("no wait returned the listener"),
            ),
            (
                "handled twice",
                with(|seen| seen.handled = 4),
                Some("each connection must be handled once"),
            ),
            (
                "an error printed by the server itself",
                with(|seen| seen.errors = vec!["server: accepting: EMFILE".into()]),
                Some("the server printed an error: server: accepting"),
            ),
            (
                "errors of children while the server kept running",
                with(|seen| {
                    seen.errors = vec!["server: removing descriptor 6 from epoll: ENOENT".into()];
                    seen.forked = true;
                }),
                None,
            ),
        ]);
    }
}
