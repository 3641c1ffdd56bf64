//! "Keeps serving".

use crate::checks::evidence::InTurn;
use crate::checks::judge::{
    NOT_EPOLL, SPIN, advice_for, cut_reason, plural, seconds, spinning, stale_message,
};
use crate::clients::upload_name;
use crate::inspect::Activity;
use crate::report::quote;

/// Task 1, "keeps serving".
pub fn keeps_serving(seen: &InTurn) -> Result<(), String> {
    if let Some(cut) = &seen.cut {
        return Err(cut_reason(cut));
    }
    if let Some(wrong) = seen.wrong_count {
        return Err(format!(
            "{} sent {} bytes, but the server reported {}",
            upload_name(wrong.client),
            wrong.sent,
            wrong.reported
        ));
    }
    if seen.idle_cpu > SPIN
        && let Some(reason) = spinning(seen.pid, seen.idle_cpu, &seen.interest, seen.signals)
    {
        return Err(reason);
    }
    if seen.handled != seen.connections || seen.reported != seen.connections {
        return Err(format!(
            "{}, but the server handled {} (`wants to send a file`) and reported {}: \
             each connection must be handled once, then removed from epoll and closed (TODO 4)",
            plural(seen.connections, "connection", "connections"),
            seen.handled,
            plural(seen.reported, "upload", "uploads")
        ));
    }
    // Error lines while the server itself kept running came from its children: that is
    // judged in "a process per client".
    if let Some(error) = seen.errors.first()
        && !(seen.forked && seen.server_alive)
    {
        return Err(format!("the server printed an error: {}", quote(error)));
    }
    if !seen.interest.listener {
        return Err(NOT_EPOLL.to_owned());
    }
    if !seen.interest.stale.is_empty() && seen.children_alive == 0 {
        return Err(stale_message(seen.pid, &seen.interest.stale));
    }
    let Some(at) = &seen.paused_in else {
        return Err("the checker never paused the server while it sat idle".to_owned());
    };
    let advice = match (&at.activity, advice_for(at)) {
        (Activity::EpollWait, _) => return Ok(()),
        (_, Some(advice)) => advice,
        (Activity::Running, None) => "With nothing to do it must block in epoll_wait (TODO 2)",
        (_, None) => "With nothing to do it must block in epoll_wait",
    };
    Err(format!(
        "once started, the server never sat idle in epoll_wait: after {} it was {}. {advice}",
        seconds(seen.idle_wait),
        at.describe(),
    ))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::evidence::{Cut, Snapshot};
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
                with(|seen| seen.cut = Some(Cut::StoppedAfterPause("the server stopped".into()))),
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
