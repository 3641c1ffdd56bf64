//! Task 3, "async uploads": every upload served side by side by the server's one loop.

use crate::checks::evidence::OneLoop;
use crate::checks::finding::Finding;
use crate::checks::judge::{Judged, SPIN, fds_of, spin_cause};
use crate::grade::Outcome;

/// The verdict: not checked when the server has no `--mode async` at all.
pub fn async_uploads(seen: &OneLoop) -> Outcome {
    if seen.no_mode {
        return Outcome::NotChecked(Finding::NoAsyncMode);
    }
    Outcome::of(judge(seen))
}

fn judge(seen: &OneLoop) -> Judged {
    how_it_served(seen)?;
    if let Some(cut) = seen.not_accepted.as_ref().or(seen.cut.as_ref()) {
        return Err(Finding::LoopCut(cut.clone()));
    }
    what_it_reported(seen)?;
    how_it_was_left(seen)
}

/// What the looks and traces saw while the uploads ran: error lines, children or threads,
/// blocking sockets, ends of uploads missed, one read per event, the buffer size ignored.
fn how_it_served(seen: &OneLoop) -> Judged {
    let (n, pid) = (seen.clients, seen.pid);
    if let Some(line) = seen.errors.iter().find(|line| is_would_block(line)) {
        return Err(Finding::EagainTakenForError { line: line.clone() });
    }
    if seen.most_children > 0 || seen.most_threads > 1 {
        return Err(Finding::NotOneLoop {
            pid,
            uploads: n,
            children: seen.most_children,
            threads: seen.most_threads,
        });
    }
    if !seen.blocking.is_empty() {
        return Err(Finding::BlockingSockets {
            pid,
            fds: seen.blocking.clone(),
            meanwhile: seen.cut.clone().map(Box::new),
        });
    }
    if !seen.ended_unclosed.is_empty() {
        return Err(Finding::EndOfUploadMissed {
            fds: seen.ended_unclosed.clone(),
            busy: (seen.idle_cpu >= SPIN).then_some(seen.idle_cpu),
        });
    }
    if let Some(Ok(turns)) = seen.turns
        && turns.turns >= 10
        && turns.single == turns.turns
    {
        return Err(Finding::OneReadPerEvent(turns));
    }
    if let Some(Ok(sizes)) = &seen.read_sizes
        && sizes.ignore(seen.buf_size)
    {
        return Err(Finding::BufSizeIgnored {
            buf_size: seen.buf_size,
            asked: sizes.asked.clone(),
            reads: sizes.reads,
        });
    }
    Ok(())
}

/// Whether the server reported every upload, once, with its size.
fn what_it_reported(seen: &OneLoop) -> Judged {
    let (n, size) = (seen.clients, seen.size);
    let reports = seen.reports.clone();
    if let Some(&wrong) = seen.reports.iter().find(|&&bytes| bytes != size)
        && seen.reports.len() == n
    {
        return Err(if wrong < size {
            Finding::CountLost {
                uploads: n,
                size,
                reports,
            }
        } else {
            Finding::CountedMore {
                uploads: n,
                size,
                reports,
            }
        });
    }
    if seen.reports.len() != n {
        return Err(Finding::LoopUploadsMisreported {
            uploads: n,
            size,
            reports,
        });
    }
    if seen.handled != n {
        return Err(Finding::LoopHandledNotOnce {
            uploads: n,
            handled: seen.handled,
        });
    }
    Ok(())
}

/// The server once every upload was over: not spinning, watching no finished client, and
/// holding no more descriptors than before.
fn how_it_was_left(seen: &OneLoop) -> Judged {
    let pid = seen.pid;
    if seen.idle_cpu >= SPIN
        && let Some(cause) = spin_cause(pid, &seen.interest, seen.signals)
    {
        return Err(Finding::Spins {
            busy: seen.idle_cpu,
            cause,
            after_uploads: true,
        });
    }
    if !seen.interest.clients.is_empty() || !seen.interest.stale.is_empty() {
        let mut fds = seen.interest.clients.clone();
        fds.extend(fds_of(&seen.interest.stale));
        return Err(Finding::FinishedClientsWatched { pid, fds });
    }
    match (seen.descriptors_before, seen.descriptors_after) {
        (Some(before), Some(after)) if after > before => {
            Err(Finding::DescriptorsKept { before, after })
        }
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

/// What a passing task 3 could not be judged on, said in the report: the sizes its reads
/// ask for, where no read of a client socket was traced.
pub fn unobserved_read_sizes(seen: &OneLoop) -> Option<String> {
    let why = match &seen.read_sizes {
        Some(Ok(sizes)) if sizes.reads > 0 => return None,
        Some(Ok(sizes)) => format!(
            "{} system calls were traced as the uploads began, no read of a client socket among them that says its size",
            sizes.calls
        ),
        Some(Err(why)) => why.clone(),
        None => "the server was not traced".to_owned(),
    };
    Some(format!(
        "task 3: the bytes the server's reads ask for were not held against --buf-size {} ({why}), so a server that ignores the option would pass",
        seen.buf_size
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::evidence::{ClientFailure, Cut, Turns};
    use crate::checks::judge::table::{changed, check_table, served_in_one_loop};
    use crate::checks::read_sizes::ReadSizes;
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
                        reported_early: None,
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
    fn read_sizes_other_than_buf_size_are_sent_to_todo_9() {
        let asked = |asked: Vec<u64>| {
            let mut seen = served_in_one_loop();
            if let Some(Ok(sizes)) = &mut seen.read_sizes {
                sizes.asked = asked;
            }
            judge(&seen)
        };
        check_table(vec![
            ("buf_size on every read", asked(vec![12]), None),
            ("less for the rest of a share", asked(vec![5, 12]), None),
            (
                "a fixed buffer",
                asked(vec![4096]),
                Some(
                    "with --buf-size 12, but its reads of client sockets asked for 4096 bytes, more than the 12",
                ),
            ),
            (
                "a smaller fixed buffer",
                asked(vec![8]),
                Some("asked for 8 bytes, never 12 (32 reads"),
            ),
            (
                "reads that were not traced judge nothing",
                judge(&changed(served_in_one_loop(), |s| {
                    s.read_sizes = Some(Err("refused".into()))
                })),
                None,
            ),
        ]);
        let untraced = changed(served_in_one_loop(), |s| {
            s.read_sizes = Some(Ok(ReadSizes::default()))
        });
        assert!(
            unobserved_read_sizes(&untraced)
                .is_some_and(|why| why.contains("not held against --buf-size 12 (0 system calls"))
        );
        assert!(unobserved_read_sizes(&served_in_one_loop()).is_none());
    }

    #[test]
    fn a_server_without_the_option_is_not_checked() {
        let seen = changed(served_in_one_loop(), |s| s.no_mode = true);
        assert!(
            matches!(async_uploads(&seen), Outcome::NotChecked(why) if why.to_string().contains("before task 3"))
        );
    }

    #[test]
    fn reads_are_counted_in_turns_of_one_client() {
        let call = |kind, first_arg: i64| Call::entered(kind, [first_arg as u64, 0, 0]);
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
