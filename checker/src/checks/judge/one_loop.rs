//! Task 3, "async uploads": every upload served side by side by the server's one loop.

use crate::checks::evidence::{Cut, OneLoop};
use crate::checks::judge::cuts::left_behind;
use crate::checks::judge::{SPIN, cut_reason, list, plural, spinning};
use crate::grade::Outcome;
use crate::report::quote;

/// What the task asks of a server that serves from its loop alone.
const ONE_LOOP: &str =
    "In task 3 the loop itself serves every upload: no fork, no thread (TODOs 8 and 9)";

/// The verdict: not checked when the server has no `--mode async` at all.
pub fn async_uploads(seen: &OneLoop) -> Outcome {
    if seen.no_mode {
        return Outcome::NotChecked(
            "the server does not take `--mode async` (its command line refused it): it was written before task 3".to_owned(),
        );
    }
    Outcome::of(judge(seen))
}

fn judge(seen: &OneLoop) -> Result<(), String> {
    let (n, size, pid) = (seen.clients, seen.size, seen.pid);
    if let Some(line) = seen.errors.iter().find(|line| is_would_block(line)) {
        return Err(format!(
            "the server printed `{}`: it took EAGAIN for an error. On a non-blocking socket a read that finds nothing \
             fails with EAGAIN (io::ErrorKind::WouldBlock) to say \"nothing more for now\": return Piece::More and let epoll \
             report the socket again (TODO 9)",
            quote(line)
        ));
    }
    if seen.most_children > 0 || seen.most_threads > 1 {
        return Err(format!(
            "while {} ran in --mode async the server had {} and {} (/proc/{pid}/task). {ONE_LOOP}",
            plural(n, "upload", "uploads"),
            plural(seen.most_children, "child process", "child processes"),
            plural(seen.most_threads, "thread", "threads"),
        ));
    }
    if !seen.blocking.is_empty() {
        let while_ = match &seen.cut {
            Some(cut) => format!(" Meanwhile: {}", task_three_cut(cut)),
            None => String::new(),
        };
        return Err(format!(
            "client socket(s) {} of the server were blocking while the uploads ran (their flags in /proc/{pid}/fdinfo lack O_NONBLOCK): \
             a read with nothing to read then waits for that one client while every other client waits for the loop. \
             Make each client's socket non-blocking when it is accepted (TODO 8).{while_}",
            list(&seen.blocking)
        ));
    }
    if !seen.ended_unclosed.is_empty() {
        let spin = if seen.idle_cpu >= SPIN {
            format!(
                ", and the server was running or ready to run for {} ms of 300 ms with nothing else to do: epoll keeps reporting a socket at its end",
                seen.idle_cpu.as_millis()
            )
        } else {
            String::new()
        };
        return Err(format!(
            "the clients had closed their connections and the server had read every byte, yet it still held socket(s) {} \
             (CLOSE_WAIT in /proc/net/tcp) without a report{spin}. A read that returns 0 is the end of the upload: \
             return Piece::End (TODO 9)",
            list(&seen.ended_unclosed)
        ));
    }
    if let Some(Ok(turns)) = seen.turns
        && turns.turns >= 10
        && turns.single == turns.turns
    {
        return Err(format!(
            "the server read each client once per event: traced for {} system calls while the uploads ran, it made {} reads of \
             client sockets in {} turns, each a single read followed by another epoll_wait (or another client). \
             Level-triggered epoll reports the rest again, so nothing is lost, but every 10 bytes cost a second system call. \
             Read until WouldBlock (EAGAIN) or the fair share (TODO 9)",
            turns.calls, turns.reads, turns.turns
        ));
    }
    if let Some(cut) = seen.not_accepted.as_ref().or(seen.cut.as_ref()) {
        return Err(task_three_cut(cut));
    }
    if let Some(&wrong) = seen.reports.iter().find(|&&bytes| bytes != size)
        && seen.reports.len() == n
    {
        let why = if wrong < size {
            "A report comes only after the end of the upload, and the end is read only after every byte before it: \
             the server read them all but lost count of some. The count must outlive each event: add to \
             `client.received`, which lives as long as the connection, not to a variable of TODO 9, which starts again at zero \
             on every event (TODO 9)"
        } else {
            "It counted more than it read: add what each read returns, not the buffer's size (TODO 9)"
        };
        return Err(format!(
            "{} of {size} bytes each were sent, but the server reported {:?}. {why}",
            plural(n, "upload", "uploads"),
            seen.reports
        ));
    }
    if seen.reports.len() != n {
        return Err(format!(
            "{} of {size} bytes each, but the server reported {:?}: each upload must be reported once",
            plural(n, "upload", "uploads"),
            seen.reports
        ));
    }
    if seen.handled != n {
        return Err(format!(
            "{} were served, but the server printed `Client <fd> wants to send a file` {} times: once per client",
            plural(n, "upload", "uploads"),
            seen.handled
        ));
    }
    if seen.idle_cpu >= SPIN
        && let Some(why) = spinning(pid, seen.idle_cpu, &seen.interest, seen.signals)
    {
        return Err(format!("after the uploads {why}"));
    }
    if !seen.interest.clients.is_empty() || !seen.interest.stale.is_empty() {
        let mut fds = seen.interest.clients.clone();
        fds.extend(
            seen.interest
                .stale
                .iter()
                .map(|registration| registration.fd),
        );
        return Err(format!(
            "after every upload was reported, the server's epoll instance still watched descriptor(s) {} (/proc/{pid}/fdinfo): \
             only the listener (and the signalfd) should be left. A finished client is removed, then closed (TODO 4)",
            list(&fds)
        ));
    }
    match (seen.descriptors_before, seen.descriptors_after) {
        (Some(before), Some(after)) if after > before => Err(format!(
            "the server had {before} descriptors open before the uploads and {after} after them, every upload reported: \
             something of the finished clients stays open (`ls -l /proc/<pid>/fd` of a server started by hand shows what)"
        )),
        _ => Ok(()),
    }
}

/// What a passing task 3 could not be judged on, said in the report: its reads per event,
/// where they could not be counted.
pub fn unobserved_turns(seen: &OneLoop) -> Option<String> {
    let why = match &seen.turns {
        Some(Ok(turns)) if turns.turns >= 10 || turns.single < turns.turns => return None,
        Some(Ok(turns)) => format!(
            "only {} turns of reads were seen in {} traced system calls",
            turns.turns, turns.calls
        ),
        Some(Err(why)) => why.clone(),
        None => "the uploads never all ran at once before one ended".to_owned(),
    };
    Some(format!(
        "task 3: how many reads the server makes per event was not counted ({why}), so a server that reads once per event would pass"
    ))
}

/// Whether an error line of the server is a read of a client's that would have blocked
/// (EAGAIN), as the given code of task 3 prints it.
fn is_would_block(line: &str) -> bool {
    let signs = [
        "os error 11)",
        "Resource temporarily unavailable",
        "WouldBlock",
        "EAGAIN",
    ];
    line.starts_with("server: receiving from client ")
        && signs.iter().any(|sign| line.contains(sign))
}

/// Why a cut ends task 3, in task 3's words where they differ from task 2's.
fn task_three_cut(cut: &Cut) -> String {
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
        _ => cut_reason(cut),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::evidence::{ClientFailure, Turns};
    use crate::checks::judge::table::{changed, check_table, served_in_one_loop};
    use crate::inspect::{Call, CallKind};

    #[test]
    fn task_three_is_judged_on_what_the_run_saw() {
        let seen = served_in_one_loop;
        let rows = vec![
            ("a correct server", judge(&seen()), None),
            (
                "EAGAIN taken for an error",
                judge(&changed(seen(), |s| {
                    s.errors = vec![
                        "server: receiving from client 6: Resource temporarily unavailable (os error 11) after 65536 bytes".into(),
                    ];
                    s.cut = Some(Cut::ClientFailed(ClientFailure {
                        client: 13,
                        socket: Some(6),
                        error: "Broken pipe".into(),
                        server_errors: s.errors.clone(),
                        closed_unread: None,
                    }));
                })),
                Some("it took EAGAIN for an error"),
            ),
            (
                "a child per upload",
                judge(&changed(seen(), |s| s.most_children = 3)),
                Some("3 child processes and 1 thread"),
            ),
            (
                "blocking sockets",
                judge(&changed(seen(), |s| s.blocking = vec![7, 6])),
                Some("client socket(s) 6, 7 of the server were blocking"),
            ),
            (
                "the end of the upload missed",
                judge(&changed(seen(), |s| {
                    s.ended_unclosed = vec![6];
                    s.idle_cpu = Duration::from_millis(290);
                })),
                Some("return Piece::End (TODO 9)"),
            ),
            (
                "a count that starts again at every event",
                judge(&changed(seen(), |s| s.reports = vec![100, 64, 100])),
                Some("lost count of some"),
            ),
            (
                "one read per event",
                judge(&changed(seen(), |s| {
                    s.turns = Some(Ok(Turns {
                        calls: 400,
                        reads: 200,
                        turns: 200,
                        single: 200,
                    }))
                })),
                Some("each a single read"),
            ),
            (
                "reads that could not be counted judge nothing",
                judge(&changed(seen(), |s| s.turns = Some(Err("refused".into())))),
                None,
            ),
            (
                "one at a time",
                judge(&changed(seen(), |s| {
                    s.cut = Some(Cut::OneAtATime {
                        finished: 13,
                        behind: 14,
                        sockets: (Some(6), Some(7)),
                        behind_sent: 1000,
                        milestone: 25,
                        server_waited_for_child: false,
                    })
                })),
                Some("lab::FAIR_SHARE"),
            ),
            (
                "a finished client still watched",
                judge(&changed(seen(), |s| s.interest.clients = vec![6])),
                Some("still watched descriptor(s) 6"),
            ),
            (
                "descriptors kept",
                judge(&changed(seen(), |s| s.descriptors_after = Some(7))),
                Some("5 descriptors open before the uploads and 7 after them"),
            ),
        ];
        check_table(rows);
    }

    #[test]
    fn a_server_without_the_option_is_not_checked() {
        let seen = changed(served_in_one_loop(), |s| s.no_mode = true);
        assert!(
            matches!(async_uploads(&seen), Outcome::NotChecked(why) if why.contains("before task 3"))
        );
    }

    #[test]
    fn reads_are_counted_in_turns_of_one_client() {
        let call = |kind, first_arg| Call { kind, first_arg };
        let (read, wait) = (CallKind::Read, CallKind::EpollWait);
        let calls = [
            call(wait, 4),
            call(read, 6),
            call(read, 6),
            call(read, 7),
            call(wait, 4),
            call(read, 6),
            call(read, 5),
        ];
        // Descriptor 5 is no client's: its read ends the turn and is not counted.
        let turns = Turns::of(&calls, &[6, 7]);
        assert_eq!(
            turns,
            Turns {
                calls: 7,
                reads: 4,
                turns: 3,
                single: 2
            }
        );
        assert!(unobserved_turns(&changed(served_in_one_loop(), |s| s.turns = None)).is_some());
        assert!(unobserved_turns(&served_in_one_loop()).is_none());
    }
}
