use std::time::Duration;

use crate::checks::evidence::{
    AcceptedUnreported, Blame, ChildSeen, ClientFailure, Cut, EarlyReport, Handled, Origin,
    Registered, Snapshot, Stopped, Turns,
};
use crate::checks::finding::{Finding, Limit, SilentCause, Spin};
use crate::checks::printed::ForkSeen;
use crate::grade::CheckId;
use crate::inspect::{Activity, CallKind, Signals, Waited, Whereabouts};

use crate::checks::judge::table::at;

fn snapshot(server: Whereabouts) -> Box<Snapshot> {
    Box::new(Snapshot {
        server,
        children: vec![at(CallKind::Sleep, 0, None)],
    })
}

fn one_at_a_time(server_waited_for_child: bool) -> Cut {
    Cut::OneAtATime {
        finished: 5,
        behind: 4,
        sockets: (Some(6), None),
        behind_sent: 196_608,
        milestone: 10 * lab::MIB,
        server_waited_for_child,
    }
}

fn client_failed(server_errors: &[&str], closed_unread: Option<Handled>) -> Cut {
    Cut::ClientFailed(ClientFailure {
        client: 4,
        socket: Some(6),
        error: "Broken pipe".into(),
        server_errors: server_errors
            .iter()
            .map(|line| (*line).to_owned())
            .collect(),
        closed_unread,
        reported_early: None,
    })
}

/// A cut of every kind, with evidence that leads to each piece of advice.
fn every_cut() -> Vec<Cut> {
    let second = Duration::from_secs(1);
    vec![
        Cut::ServerStopped(Stopped {
            how: "the server stopped (exit status 101)".into(),
            blame: Blame::Untold,
        }),
        Cut::StoppedAfterPause(Stopped {
            how: "the server stopped (exit status 1)".into(),
            blame: Blame::Untold,
        }),
        Cut::NoProgress {
            after: second,
            milestone: 10 * lab::MIB,
            most_sent: 60,
            seen: snapshot(at(CallKind::Sleep, 0, None)),
        },
        Cut::Stalled {
            after: second,
            sent: 10,
            of: 20,
            seen: snapshot(at(CallKind::Wait, -1, None)),
        },
        Cut::Stuck {
            lasted: second,
            seen: snapshot(at(CallKind::Read, 5, Some(Waited::SignalFd))),
        },
        Cut::NotAccepted {
            waiting: 2,
            pid: 42,
            lasted: second,
        },
        Cut::NotWatched {
            fds: vec![7, 6],
            pid: 42,
            lasted: second,
        },
        one_at_a_time(false),
        one_at_a_time(true),
        client_failed(&[], None),
        client_failed(&["server: receiving from client 6: EIO"], None),
        client_failed(&["server: a", "server: a"], None),
        client_failed(&["server: a", "server: b"], None),
        client_failed(
            &[],
            Some(Handled {
                accepted: 1,
                handled: 0,
            }),
        ),
        Cut::ReportsMissing {
            waited: second,
            reported: 1,
            expected: 2,
            seen: snapshot(at(CallKind::Wait, 77, None)),
        },
    ]
}

/// A finding of every kind (and every cut inside the kinds that hold one).
pub(crate) fn every_finding() -> Vec<Finding> {
    let busy = Duration::from_millis(290);
    let child = ChildSeen {
        pid: 77,
        activity: Activity::EpollWait,
        holds_listener: true,
    };
    let reports = vec![100, 64];
    let mut findings = vec![
        Finding::DoesNotCompile,
        Finding::BuildStopped("the build took longer than 120 s".into()),
        Finding::NeedsWholeUpload,
        Finding::NeedsPassed {
            check: CheckId::NoZombies,
            on: CheckId::ProcessPerClient,
        },
        Finding::NoAsyncMode,
        Finding::ListenerNotInEpoll,
        Finding::StaleRegistrations {
            pid: 42,
            fds: vec![6],
        },
        Finding::ServerError {
            line: "server: accepting: EMFILE".into(),
        },
        Finding::WholeUploadMiscounted {
            reported: 50,
            sent: 100,
        },
        Finding::NoWholeUpload,
        Finding::UploadMiscounted {
            client: 1,
            sent: 100,
            reported: 50,
        },
        Finding::HandledNotOnce {
            connections: 3,
            handled: 4,
            reported: 3,
        },
        Finding::NeverPaused,
        Finding::NeverIdle {
            after: Duration::from_secs(1),
            at: at(CallKind::Sleep, 0, None),
        },
        Finding::NeverIdle {
            after: Duration::from_secs(1),
            at: Whereabouts {
                activity: Activity::Running,
                call: None,
                ..at(CallKind::Sleep, 0, None)
            },
        },
        Finding::NeverIdle {
            after: Duration::from_secs(1),
            at: at(CallKind::Accept, 3, Some(Waited::Listener)),
        },
        Finding::UploadsMisreported {
            uploads: 2,
            size: 100,
            reports: reports.clone(),
        },
        Finding::Threads {
            pid: 42,
            uploads: 2,
            threads: 3,
        },
        Finding::NoChild { uploads: 2 },
        Finding::WrongChildCount {
            uploads: 2,
            children: 1,
        },
        Finding::ChildInLoop(child.clone()),
        Finding::ChildrenLeft(vec![child.clone(), child]),
        Finding::ChildErrorLine {
            pid: 42,
            line: "server: removing descriptor 6 from epoll: ENOENT".into(),
        },
        Finding::HandledAgain {
            handled: 3,
            connections: 2,
        },
        Finding::DescriptorsNotCounted,
        Finding::ParentKeepsCopies {
            before: 6,
            after: 8,
        },
        Finding::LateClientNotServed {
            pid: 42,
            limit: Duration::from_secs(2),
            server: None,
        },
        Finding::LateClientNotServed {
            pid: 42,
            limit: Duration::from_secs(2),
            server: Some(at(CallKind::Wait, -1, None)),
        },
        Finding::ZombiesWithoutReaper {
            zombies: vec![7, 8],
        },
        Finding::SigchldNotBlocked {
            pid: 42,
            zombies: vec![7],
            signals: Some(Signals::default()),
        },
        Finding::OneReapedPerSignal {
            zombies: vec![7, 8],
            exited_together: 3,
        },
        Finding::ZombiesLeft { zombies: vec![7] },
        Finding::EagainTakenForError {
            line: "server: receiving from client 6: Resource temporarily unavailable (os error 11)"
                .into(),
        },
        Finding::NotOneLoop {
            pid: 42,
            uploads: 3,
            children: 3,
            threads: 1,
        },
        Finding::BlockingSockets {
            pid: 42,
            fds: vec![7, 6],
            meanwhile: None,
        },
        Finding::BlockingSockets {
            pid: 42,
            fds: vec![6],
            meanwhile: Some(Box::new(one_at_a_time(false))),
        },
        Finding::EndOfUploadMissed {
            fds: vec![6],
            busy: Some(busy),
        },
        Finding::EndOfUploadMissed {
            fds: vec![6],
            busy: None,
        },
        Finding::OneReadPerEvent(Turns {
            calls: 400,
            reads: 200,
            turns: 200,
            single: 200,
        }),
        Finding::CountLost {
            uploads: 2,
            size: 100,
            reports: reports.clone(),
        },
        Finding::CountedMore {
            uploads: 2,
            size: 100,
            reports: vec![100, 120],
        },
        Finding::LoopUploadsMisreported {
            uploads: 2,
            size: 100,
            reports: vec![100],
        },
        Finding::LoopHandledNotOnce {
            uploads: 3,
            handled: 4,
        },
        Finding::FinishedClientsWatched {
            pid: 42,
            fds: vec![6],
        },
        Finding::DescriptorsKept {
            before: 5,
            after: 7,
        },
    ];
    for cause in [
        Spin::FinishedClients {
            pid: 42,
            fds: vec![6, 6],
        },
        Spin::NoWait { signalfd: true },
        Spin::NoWait { signalfd: false },
        Spin::UnreadSignalfd { pid: 42 },
    ] {
        for after_uploads in [false, true] {
            findings.push(Finding::Spins {
                busy,
                cause: cause.clone(),
                after_uploads,
            });
        }
    }
    for cut in every_cut() {
        findings.push(Finding::Cut(cut.clone()));
        findings.push(Finding::LoopCut(cut.clone()));
        findings.push(Finding::NeedsEveryClientAccepted(cut));
    }
    findings.extend(findings_of_where_the_mistake_is());
    // The checker's limits.
    findings.push(Finding::Limit(Limit::Time {
        limit: Duration::from_secs(30),
    }));
    findings.push(Finding::Limit(Limit::Memory {
        asked: 1 << 30,
        cap: 512 * lab::MIB,
    }));
    // What a line says against what /proc showed.
    findings.push(Finding::CreatedLineNamesNoChild {
        printed: 2,
        fd: 5,
        server: 2,
        children: vec![3, 4],
    });
    findings.push(Finding::CreatedLineNamesNoChild {
        printed: 9,
        fd: 5,
        server: 2,
        children: vec![3, 4],
    });
    // The sizes task 3's reads asked for against --buf-size.
    findings.push(Finding::BufSizeIgnored {
        buf_size: 12,
        asked: vec![4096],
        reads: 32,
    });
    findings.push(Finding::BufSizeIgnored {
        buf_size: 12,
        asked: vec![8],
        reads: 32,
    });
    // A silent client announced, by what tells why.
    findings.push(Finding::HandledSilentClient {
        client: 26,
        fd: 6,
        cause: SilentCause::LeftOverEntries,
    });
    findings.push(Finding::HandledSilentClient {
        client: 1,
        fd: 5,
        cause: SilentCause::AtAccept(Registered::ForOutput),
    });
    findings.push(Finding::HandledSilentClient {
        client: 1,
        fd: 5,
        cause: SilentCause::AtAccept(Registered::NotSeen),
    });
    findings.push(Finding::HandledSilentClient {
        client: 26,
        fd: 6,
        cause: SilentCause::Untold,
    });
    findings.push(Finding::NeedsReportedEventsOnly);
    findings.push(Finding::AcceptedUnreported(AcceptedUnreported {
        timeout: Duration::from_millis(200),
        at: at(CallKind::Accept, 3, Some(Waited::Listener)),
    }));
    findings
}

/// Findings that say which TODO's code a mistake is in, from where the server's lines
/// place a fork and whose code stopped a server (after the others, so that their
/// snapshots keep their numbers).
fn findings_of_where_the_mistake_is() -> Vec<Finding> {
    let stopped = |how: &str, blame: Blame| {
        Finding::Cut(Cut::ServerStopped(Stopped {
            how: how.into(),
            blame,
        }))
    };
    vec![
        Finding::ForkedAtAccept(ForkSeen {
            fd: 5,
            pid: 3,
            reports: vec![60, 40],
        }),
        Finding::ForkedAfterReceiving(ForkSeen {
            fd: 5,
            pid: 3,
            reports: vec![100, 0],
        }),
        stopped(
            "the server stopped (exit status 101): it panicked at src/bin/server.rs:81:5: not yet implemented: TODO 1: create an epoll instance",
            Blame::Todo(Origin::NotYetDone(1)),
        ),
        stopped(
            "the server stopped (exit status 1): server: reaping: ECHILD: No child processes",
            Blame::Todo(Origin::NoChildLeft {
                after: Some("<< Process 3 exited with status 0 >>".into()),
            }),
        ),
        stopped(
            "the server stopped (exit status 1): server: reaping: ECHILD: No child processes",
            Blame::Todo(Origin::NoChildLeft { after: None }),
        ),
        stopped(
            "the server stopped (exit status 1): server: adding descriptor 3 to epoll: EEXIST: File exists",
            Blame::Todo(Origin::AddedAgain {
                added: Some(3),
                accepted: 5,
            }),
        ),
        stopped(
            "the server stopped (exit status 1): server: watching the client: File exists (os error 17)",
            Blame::Todo(Origin::AddedAgain {
                added: None,
                accepted: 5,
            }),
        ),
        stopped(
            "the checker stopped the server: it ran longer than the time limit",
            Blame::Checker,
        ),
        Finding::SignalfdNotWatched {
            pid: 2,
            fd: 4,
            zombies: vec![3, 4],
        },
        Finding::LoopCut(Cut::ClientFailed(ClientFailure {
            client: 14,
            socket: None,
            error: "sending to the server after 131072 bytes: Broken pipe (os error 32)".into(),
            server_errors: vec![],
            closed_unread: None,
            reported_early: Some(EarlyReport {
                fd: 6,
                bytes: 65536,
            }),
        })),
        Finding::Cut(Cut::ClientFailed(ClientFailure {
            client: 1,
            socket: Some(5),
            error: "sending to the server after 1048576 bytes: Broken pipe (os error 32)".into(),
            server_errors: vec![],
            closed_unread: None,
            reported_early: Some(EarlyReport {
                fd: 5,
                bytes: 524288,
            }),
        })),
        Finding::ForkedAtAccept(ForkSeen {
            fd: 6,
            pid: 4,
            reports: vec![],
        }),
    ]
}

/// The variant of `finding`, as a number: written without a wildcard, so that a new
/// variant does not compile until it is counted here (and given a sample above).
fn kind(finding: &Finding) -> usize {
    match finding {
        Finding::DoesNotCompile => 0,
        Finding::BuildStopped(_) => 1,
        Finding::NeedsWholeUpload => 2,
        Finding::NeedsEveryClientAccepted(_) => 3,
        Finding::NeedsPassed { .. } => 4,
        Finding::NoAsyncMode => 5,
        Finding::Cut(_) => 6,
        Finding::ListenerNotInEpoll => 7,
        Finding::Spins { .. } => 8,
        Finding::StaleRegistrations { .. } => 9,
        Finding::ServerError { .. } => 10,
        Finding::WholeUploadMiscounted { .. } => 11,
        Finding::NoWholeUpload => 12,
        Finding::UploadMiscounted { .. } => 13,
        Finding::HandledNotOnce { .. } => 14,
        Finding::NeverPaused => 15,
        Finding::NeverIdle { .. } => 16,
        Finding::UploadsMisreported { .. } => 17,
        Finding::Threads { .. } => 18,
        Finding::NoChild { .. } => 19,
        Finding::WrongChildCount { .. } => 20,
        Finding::ChildInLoop(_) => 21,
        Finding::ChildrenLeft(_) => 22,
        Finding::ChildErrorLine { .. } => 23,
        Finding::HandledAgain { .. } => 24,
        Finding::DescriptorsNotCounted => 25,
        Finding::ParentKeepsCopies { .. } => 26,
        Finding::LateClientNotServed { .. } => 27,
        Finding::ZombiesWithoutReaper { .. } => 28,
        Finding::SigchldNotBlocked { .. } => 29,
        Finding::OneReapedPerSignal { .. } => 30,
        Finding::ZombiesLeft { .. } => 31,
        Finding::EagainTakenForError { .. } => 32,
        Finding::NotOneLoop { .. } => 33,
        Finding::BlockingSockets { .. } => 34,
        Finding::EndOfUploadMissed { .. } => 35,
        Finding::OneReadPerEvent(_) => 36,
        Finding::LoopCut(_) => 37,
        Finding::CountLost { .. } => 38,
        Finding::CountedMore { .. } => 39,
        Finding::LoopUploadsMisreported { .. } => 40,
        Finding::LoopHandledNotOnce { .. } => 41,
        Finding::FinishedClientsWatched { .. } => 42,
        Finding::DescriptorsKept { .. } => 43,
        Finding::ForkedAtAccept(_) => 44,
        Finding::ForkedAfterReceiving(_) => 45,
        Finding::SignalfdNotWatched { .. } => 46,
        Finding::Limit(_) => 47,
        Finding::CreatedLineNamesNoChild { .. } => 48,
        Finding::BufSizeIgnored { .. } => 49,
        Finding::HandledSilentClient { .. } => 50,
        Finding::NeedsReportedEventsOnly => 51,
        Finding::AcceptedUnreported(_) => 52,
    }
}
const KINDS: usize = 53;

/// The TODO numbers a text names: `TODO 4`, `(TODO 4, TODO 5)`, `TODOs 8 and 9`.
pub(crate) fn todos_named(text: &str) -> Vec<u8> {
    let mut todos = Vec::new();
    for (at, _) in text.match_indices("TODO") {
        let mut rest = text[at + "TODO".len()..].trim_start_matches('s');
        loop {
            let digits: String = rest
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let Ok(number) = digits.parse() else { break };
            todos.push(number);
            rest = &rest.trim_start()[digits.len()..];
            match rest.strip_prefix(" and ") {
                Some(next) if next.starts_with(|c: char| c.is_ascii_digit()) => rest = next,
                _ => break,
            }
        }
    }
    todos.sort_unstable();
    todos.dedup();
    todos
}

#[test]
fn todos_are_read_from_each_way_a_reason_names_them() {
    assert_eq!(todos_named("(TODO 4, TODO 5)"), [4, 5]);
    assert_eq!(todos_named("Reap them (TODO 6 and TODO 7)"), [6, 7]);
    assert_eq!(todos_named("no fork, no thread (TODOs 8 and 9)"), [8, 9]);
    assert_eq!(todos_named("Look at TODO 1"), [1]);
    assert!(todos_named("no TODO named").is_empty());
}

#[test]
fn every_finding_renders_has_a_slug_and_names_exactly_its_todos() {
    let findings = every_finding();
    let mut seen = [false; KINDS];
    for finding in &findings {
        seen[kind(finding)] = true;
        let text = finding.to_string();
        assert!(!text.is_empty(), "{finding:?}");
        let slug = finding.slug();
        assert!(
            !slug.is_empty()
                && slug
                    .split('-')
                    .all(|word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase())),
            "{slug:?} is no kebab-case slug"
        );
        assert_eq!(
            finding.todos(),
            todos_named(&text),
            "{slug}: todos() against the text {text:?}"
        );
    }
    let missing: Vec<usize> = (0..KINDS).filter(|&kind| !seen[kind]).collect();
    assert!(missing.is_empty(), "kinds without a sample: {missing:?}");
}

/// The words of every sample finding, one snapshot each, named by its place among the
/// samples and its slug: a changed word shows as a changed snapshot in review. The
/// snapshots live in `report/snapshots/`, beside `findings.rs`, not in a folder of this
/// file's own.
#[test]
fn every_finding_reads_as_its_snapshot() {
    for (at, finding) in every_finding().iter().enumerate() {
        let name = format!("{at:02}-{}", finding.slug());
        insta::with_settings!({ snapshot_path => "../snapshots" }, {
            insta::assert_snapshot!(name, finding.to_string());
        });
    }
}

/// A server that read more than the kernel's buffers hold is not said to read nothing.
#[test]
fn no_progress_tells_a_slow_reader_from_one_that_does_not_read() {
    let cut = |most_sent| {
        Finding::Cut(Cut::NoProgress {
            after: Duration::from_secs(10),
            milestone: 10 * lab::MIB,
            most_sent,
            seen: snapshot(at(CallKind::EpollWait, 4, None)),
        })
        .to_string()
    };
    assert!(
        cut(1_900_544).contains("(the most any had sent: 1900544 bytes): the server reads the uploads, but far too slowly."),
        "{}",
        cut(1_900_544)
    );
    assert!(cut(60).contains("the server does not read the uploads."));
}

#[test]
fn findings_of_different_kinds_have_different_slugs() {
    let mut by_slug = std::collections::HashMap::new();
    for finding in every_finding() {
        // A finding that holds a cut may share the cut's slug: the cut is the story.
        if matches!(finding, Finding::Cut(_) | Finding::LoopCut(_)) {
            continue;
        }
        let kind = kind(&finding);
        let earlier = *by_slug.entry(finding.slug()).or_insert(kind);
        assert_eq!(earlier, kind, "{} names two kinds", finding.slug());
    }
}

#[test]
fn uploads_are_named_by_letter_with_the_socket_the_server_gave_them() {
    let reason = Finding::Cut(one_at_a_time(false)).to_string();
    assert!(
        reason.starts_with(
            "upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes (not yet 10 MiB)"
        ),
        "{reason}"
    );
}
