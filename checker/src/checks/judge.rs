//! The judgements: pure functions from what a scenario saw to a verdict and its reason.
//! Every reason names the TODO to look at and quotes the evidence, since the processes it
//! was read from are gone by the time a student reads it.

use std::time::Duration;

use gen_testfile::human_size;

use crate::checks::evidence::{AtOnce, ChildSeen, Cut, InTurn, Reaping};
use crate::grade::Outcome;
use crate::inspect::{Activity, InterestList, Registration, Signals};

/// More CPU than this in 300 ms with nothing to do is spinning.
const SPIN: Duration = Duration::from_millis(150);

const NOT_EPOLL: &str = "the listening socket is not registered in any epoll instance of the server \
(/proc/<pid>/fdinfo shows no registration for it), so the server does not wait with epoll. Look at TODO 1";

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// Why a scenario ended early, in words.
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
        } => format!(
            "after {} no client had sent {} (the most any had sent: {most_sent} bytes): the server does not read the uploads",
            seconds(*after),
            human_size(*milestone)
        ),
        Cut::Stalled { after, sent, of } => format!(
            "no data moved for {}: the server stopped reading the uploads (the clients had sent {sent} of {of} bytes)",
            seconds(*after)
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
                "client {finished} finished its upload while client {behind} had sent only {behind_sent} bytes (not yet {}): \
                 the server serves one client at a time. {why}",
                human_size(*milestone)
            )
        }
        Cut::ClientFailed { client, error } => {
            format!("client {client} failed while the server kept running: {error}")
        }
        Cut::ReportsMissing {
            waited,
            reported,
            expected,
        } => format!(
            "the clients sent everything, but after {} the server had reported {reported} of {expected} uploads (`Received <bytes> bytes from [Client <fd>]`)",
            seconds(*waited)
        ),
    }
}

fn list(fds: &[i32]) -> String {
    let mut fds = fds.to_vec();
    fds.sort_unstable();
    fds.dedup();
    fds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn stale_message(pid: i32, stale: &[Registration]) -> String {
    let fds: Vec<_> = stale.iter().map(|registration| registration.fd).collect();
    format!(
        "the server's epoll instance still watches descriptor(s) {} for sockets the server has already closed \
         (another process still holds them, so epoll keeps the registrations and keeps reporting them; /proc/{pid}/fdinfo lists them). \
         Remove a client from epoll before closing it (TODO 4)",
        list(&fds)
    )
}

/// Why a server uses CPU with nothing to do, from its interest list and signal state;
/// `None` when the cause is the bonus's unread signalfd, which task 1 does not judge.
fn spinning(
    pid: i32,
    cpu: Duration,
    interest: &InterestList,
    signals: Option<Signals>,
) -> Option<String> {
    let used = format!(
        "with nothing to do the server used {} ms of CPU in 300 ms",
        cpu.as_millis()
    );
    if !interest.clients.is_empty() || !interest.stale.is_empty() {
        let mut fds = interest.clients.clone();
        fds.extend(interest.stale.iter().map(|registration| registration.fd));
        return Some(format!(
            "the server is spinning: {used}, and its epoll instance still watches descriptor(s) {} of finished clients (/proc/{pid}/fdinfo), \
             which it keeps reporting as readable. Remove a finished client from epoll, then close it (TODO 4)",
            list(&fds)
        ));
    }
    if interest.signalfd && signals.is_some_and(|signals| signals.sigchld_pending()) {
        return None;
    }
    Some(format!(
        "the server is spinning: {used}, although its epoll instance watches only the listener{}. \
         Does it wait with a timeout of zero? Wait with EpollTimeout::NONE (TODO 2)",
        if interest.signalfd {
            " and the signalfd"
        } else {
            ""
        }
    ))
}

/// Task 1, "keeps serving".
pub fn keeps_serving(seen: &InTurn) -> Result<(), String> {
    if let Some(cut) = &seen.cut {
        return Err(cut_reason(cut));
    }
    if let Some(wrong) = seen.wrong_count {
        return Err(format!(
            "client {} sent {} bytes, but the server reported {}",
            wrong.client, wrong.sent, wrong.reported
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
        return Err(format!("the server printed an error: {error}"));
    }
    if !seen.interest.listener {
        return Err(NOT_EPOLL.to_owned());
    }
    if !seen.interest.stale.is_empty() && seen.children_alive == 0 {
        return Err(stale_message(seen.pid, &seen.interest.stale));
    }
    match &seen.paused_in {
        Some(Activity::EpollWait) => Ok(()),
        Some(other) => Err(format!(
            "once started, the server never sat idle in epoll_wait: for 3 s it was {} \
             (/proc/{}/wchan). With nothing to do it must block in epoll_wait (TODO 2)",
            other.describe(),
            seen.pid
        )),
        None => Err("the checker never paused the server while it sat idle".to_owned()),
    }
}

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

/// Whether task 2 can be judged at all; if not, why.
pub fn task_two_judged(whole: &Outcome, in_turn: &InTurn) -> Result<(), String> {
    if *whole != Outcome::Passed {
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

fn describe_child(child: &ChildSeen) -> String {
    format!(
        "pid {}: {}{}",
        child.pid,
        child.activity.describe(),
        if child.holds_listener {
            ", holding the listening socket"
        } else {
            ""
        }
    )
}

const CHILD_MUST_EXIT: &str = "After its upload a child must end with std::process::exit and never return into the server's loop (TODO 5)";

/// Task 2, "a process per client".
pub fn process_per_client(seen: &AtOnce) -> Result<(), String> {
    let (n, pid) = (seen.clients, seen.pid);
    let children = seen.children_while_running;
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
            "a child printed `{error}` after its upload, while the server (pid {pid}) kept running: \
             the child went on into the server's code and failed there. {CHILD_MUST_EXIT}"
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

/// The bonus: children are reaped, by a reaper that never blocks the loop and leaves
/// nothing to spin on.
pub fn no_zombies(seen: &Reaping) -> Result<(), String> {
    let pid = seen.pid;
    if let Some(cut) = &seen.cut {
        return Err(cut_reason(cut));
    }
    if seen.late_served_in.is_none() {
        let doing = seen
            .server_while_late
            .as_ref()
            .map_or("running".to_owned(), Activity::describe);
        let advice = if seen.server_while_late == Some(Activity::ChildWait) {
            "The reaper blocks the loop until every child has exited: call waitpid with WaitPidFlag::WNOHANG and stop at StillAlive (TODO 7)"
        } else {
            "Something keeps the loop from accepting it; a reaper must never wait for a child that is still running: use WaitPidFlag::WNOHANG (TODO 7)"
        };
        return Err(format!(
            "a client that connected while one upload still ran, after another child had exited, was not served within {}: \
             meanwhile the server was {doing} (/proc/{pid}/wchan). {advice}",
            seconds(seen.late_limit)
        ));
    }
    if seen.zombies > 0 {
        let zombies = plural(
            seen.zombies,
            "finished child is still a zombie",
            "finished children are still zombies",
        );
        let blocked = seen.signals.map(|signals| signals.sigchld_blocked());
        return Err(if !seen.interest.signalfd {
            format!(
                "{zombies} a second after the last upload: nobody collected their exit status. Reap them (TODO 6 and TODO 7)"
            )
        } else if blocked == Some(false) {
            format!(
                "{zombies} a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked \
                 (/proc/{pid}/status SigBlk: {:016x}), so the signal never reaches the signalfd. Block SIGCHLD before creating it (TODO 6)",
                seen.signals.map_or(0, |signals| signals.blocked)
            )
        } else {
            format!(
                "{zombies} a second after the last upload, although the signalfd woke the server: \
                 call waitpid with WNOHANG until it reports StillAlive, since one signal can stand for several exits (TODO 7)"
            )
        });
    }
    if seen.idle_cpu > SPIN {
        return Err(spinning(pid, seen.idle_cpu, &seen.interest, seen.signals).unwrap_or_else(|| {
            format!(
                "the server spins once a child has exited: with nothing to do it used {} ms of CPU in 300 ms, its epoll instance watches only \
                 the listener and the signalfd, and SIGCHLD is still pending (/proc/{pid}/status SigPnd/ShdPnd): the signalfd stays readable \
                 because nobody reads it. Read the signals with read_signal until it returns None (TODO 7)",
                seen.idle_cpu.as_millis()
            )
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The evidence of a correct server in "keeps serving".
    fn served_in_turn() -> InTurn {
        InTurn {
            pid: 42,
            connections: 3,
            handled: 3,
            reported: 3,
            paused_in: Some(Activity::EpollWait),
            idle_cpu: Duration::from_millis(1),
            interest: InterestList {
                listener: true,
                ..InterestList::default()
            },
            server_alive: true,
            ..InTurn::default()
        }
    }

    /// The evidence of a correct task 2 server in "uploads at once".
    fn served_at_once() -> AtOnce {
        AtOnce {
            clients: 2,
            size: 100,
            pid: 42,
            listener_registered: true,
            some_sent_all: true,
            reports: vec![100, 100],
            children_while_running: 2,
            most_threads: 1,
            descriptors_before: Some(6),
            descriptors_after: Some(6),
            ..AtOnce::default()
        }
    }

    /// The evidence of a correct bonus.
    fn reaped() -> Reaping {
        Reaping {
            pid: 42,
            late_served_in: Some(Duration::from_millis(80)),
            late_limit: Duration::from_secs(2),
            interest: InterestList {
                listener: true,
                signalfd: true,
                ..InterestList::default()
            },
            signals: Some(Signals {
                blocked: 1 << 16,
                pending: 0,
            }),
            ..Reaping::default()
        }
    }

    const SIGCHLD_PENDING: Signals = Signals {
        blocked: 1 << 16,
        pending: 1 << 16,
    };

    /// `seen` with one change.
    fn changed<T>(mut seen: T, change: fn(&mut T)) -> T {
        change(&mut seen);
        seen
    }

    /// Checks a table of judgements: `None` means it passes, `Some(text)` that it fails
    /// with a reason that holds `text`.
    fn check_table(rows: Vec<(&str, Result<(), String>, Option<&str>)>) {
        for (case, judged, expected) in rows {
            match (&judged, expected) {
                (Ok(()), None) => {}
                (Err(reason), Some(text)) => {
                    assert!(reason.contains(text), "{case}: {reason:?} lacks {text:?}")
                }
                _ => panic!("{case}: judged {judged:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn keeps_serving_names_the_todo_of_each_defect() {
        let with = |change: fn(&mut InTurn)| keeps_serving(&changed(served_in_turn(), change));
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "never idle in epoll_wait",
                with(|seen| seen.paused_in = Some(Activity::Blocked("hrtimer_nanosleep".into()))),
                Some(
                    "blocked in the kernel's hrtimer_nanosleep (/proc/42/wchan). With nothing to do it must block in epoll_wait (TODO 2)",
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
                Some("while the server (pid 42) kept running"),
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
        assert!(task_two_judged(&Outcome::Passed, &served_in_turn()).is_ok());
        let failed = Outcome::Failed("x".into());
        assert!(task_two_judged(&failed, &served_in_turn()).is_err());
        let mut edge = served_in_turn();
        edge.cut = Some(Cut::NotAccepted {
            waiting: 1,
            pid: 42,
            lasted: Duration::from_secs(1),
        });
        let why = task_two_judged(&Outcome::Passed, &edge).unwrap_err();
        assert!(
            why.contains("accept every client") && !why.contains("TODO 5"),
            "{why}"
        );
    }

    #[test]
    fn the_bonus_names_the_reaper_defect() {
        let with = |change: fn(&mut Reaping)| no_zombies(&changed(reaped(), change));
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "a blocking reaper",
                with(|seen| {
                    seen.late_served_in = None;
                    seen.server_while_late = Some(Activity::ChildWait);
                }),
                Some(
                    "waiting for a child in waitpid (/proc/42/wchan). The reaper blocks the loop until every child has exited: call waitpid with WaitPidFlag::WNOHANG",
                ),
            ),
            (
                "no reaper",
                with(|seen| {
                    seen.zombies = 2;
                    seen.interest.signalfd = false;
                }),
                Some("2 finished children are still zombies"),
            ),
            (
                "SIGCHLD not blocked",
                with(|seen| {
                    seen.zombies = 1;
                    seen.signals = Some(Signals::default());
                }),
                Some(
                    "1 finished child is still a zombie a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked",
                ),
            ),
            (
                "an unread signalfd",
                with(|seen| {
                    seen.idle_cpu = Duration::from_millis(300);
                    seen.signals = Some(SIGCHLD_PENDING);
                }),
                Some("Read the signals with read_signal until it returns None (TODO 7)"),
            ),
        ]);
    }
}
