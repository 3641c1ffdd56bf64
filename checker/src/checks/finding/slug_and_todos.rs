//! What tools read of a finding: its slug, the TODOs it sends a student to, and the TODO
//! whose given code it shows untouched. `slug()` and `todos()` are each one match over
//! every variant, with no catch-all arm, so a new finding does not compile until it has
//! both.

use super::{Advice, Finding, Limit, SilentCause, Spin};
use crate::checks::evidence::{Blame, ClientFailure, Cut, Origin, Snapshot};

impl Finding {
    /// A stable name for the finding, in kebab case, for scripts and kits.
    pub fn slug(&self) -> &'static str {
        match self {
            Finding::DoesNotCompile => "does-not-compile",
            Finding::BuildStopped(_) => "build-stopped",
            Finding::NeedsWholeUpload => "needs-whole-upload",
            Finding::NeedsEveryClientAccepted(_) => "needs-every-client-accepted",
            Finding::NeedsPassed { .. } => "needs-passed",
            Finding::NeedsReportedEventsOnly => "needs-reported-events-only",
            Finding::NoAsyncMode => "no-async-mode",
            Finding::Cut(cut) => cut_slug(cut),
            Finding::ListenerNotInEpoll => "listener-not-in-epoll",
            Finding::Spins { cause, .. } => match cause {
                Spin::FinishedClients { .. } => "spins-on-finished-clients",
                Spin::NoWait { .. } => "spins-without-waiting",
                Spin::UnreadSignalfd { .. } => "spins-on-unread-signalfd",
            },
            Finding::StaleRegistrations { .. } => "stale-registrations",
            Finding::ServerError { .. } => "server-error",
            Finding::WholeUploadMiscounted { .. } => "whole-upload-miscounted",
            Finding::NoWholeUpload => "no-whole-upload",
            Finding::UploadMiscounted { .. } => "upload-miscounted",
            Finding::HandledNotOnce { .. } => "handled-not-once",
            Finding::HandledSilentClient { .. } => "handled-silent-client",
            Finding::AcceptedUnreported(_) => "accepted-unreported",
            Finding::NeverPaused => "never-paused",
            Finding::NeverIdle { .. } => "never-idle",
            Finding::UploadsMisreported { .. } => "uploads-misreported",
            Finding::Threads { .. } => "threads-not-processes",
            Finding::NoChild { .. } => "no-child-process",
            Finding::WrongChildCount { .. } => "wrong-child-count",
            Finding::ChildInLoop(_) => "child-in-loop",
            Finding::ChildrenLeft(_) => "children-left",
            Finding::ChildErrorLine { .. } => "child-error-line",
            Finding::HandledAgain { .. } => "handled-again",
            Finding::DescriptorsNotCounted => "descriptors-not-counted",
            Finding::ParentKeepsCopies { .. } => "parent-keeps-copies",
            Finding::LateClientNotServed { .. } => "late-client-not-served",
            Finding::ZombiesWithoutReaper { .. } => "zombies-without-reaper",
            Finding::SigchldNotBlocked { .. } => "sigchld-not-blocked",
            Finding::OneReapedPerSignal { .. } => "one-reaped-per-signal",
            Finding::ZombiesLeft { .. } => "zombies-left",
            Finding::EagainTakenForError { .. } => "eagain-taken-for-error",
            Finding::NotOneLoop { .. } => "not-one-loop",
            Finding::BlockingSockets { .. } => "blocking-sockets",
            Finding::EndOfUploadMissed { .. } => "end-of-upload-missed",
            Finding::OneReadPerEvent(_) => "one-read-per-event",
            Finding::LoopCut(Cut::OneAtATime { .. }) => "loop-serves-one-at-a-time",
            Finding::LoopCut(cut) => cut_slug(cut),
            Finding::CountLost { .. } => "count-lost",
            Finding::CountedMore { .. } => "counted-more",
            Finding::LoopUploadsMisreported { .. } => "loop-uploads-misreported",
            Finding::LoopHandledNotOnce { .. } => "loop-handled-not-once",
            Finding::FinishedClientsWatched { .. } => "finished-clients-watched",
            Finding::DescriptorsKept { .. } => "descriptors-kept",
            Finding::ForkedAtAccept(_) => "forked-at-accept",
            Finding::ForkedAfterReceiving(_) => "forked-after-receiving",
            Finding::SignalfdNotWatched { .. } => "signalfd-not-watched",
            Finding::CreatedLineNamesNoChild { .. } => "created-line-names-no-child",
            Finding::BufSizeIgnored { .. } => "buf-size-ignored",
            Finding::Limit(Limit::Time { .. }) => "time-limit",
            Finding::Limit(Limit::Memory { .. }) => "memory-limit",
        }
    }

    /// The TODO whose given code the run found untouched, if the finding shows one: the
    /// server stopped on the skeleton's own `todo!("TODO n: ...")` (`Origin::NotYetDone`),
    /// or the bonus's given code ran (no signalfd at all: TODO 6 as handed out returns
    /// none). Platforms use it to show optional work that was never started without a
    /// failure.
    pub fn untouched_todo(&self) -> Option<u8> {
        match self {
            Finding::Cut(Cut::ServerStopped(stopped) | Cut::StoppedAfterPause(stopped))
            | Finding::LoopCut(Cut::ServerStopped(stopped) | Cut::StoppedAfterPause(stopped))
            | Finding::NeedsEveryClientAccepted(Cut::ServerStopped(stopped)) => {
                match stopped.blame {
                    Blame::Todo(Origin::NotYetDone(todo)) => Some(todo),
                    _ => None,
                }
            }
            Finding::ZombiesWithoutReaper { .. } => Some(6),
            _ => None,
        }
    }

    /// The TODOs the finding sends a student to, in order: the one place a finding's TODO
    /// numbers are decided (its words, in `report::findings`, are tested to agree).
    pub fn todos(&self) -> Vec<u8> {
        let mut todos: Vec<u8> = match self {
            Finding::NeedsEveryClientAccepted(cut) | Finding::Cut(cut) => cut_todos(cut),
            Finding::ListenerNotInEpoll => vec![1],
            Finding::NeedsReportedEventsOnly | Finding::AcceptedUnreported(_) => vec![2],
            Finding::Spins { cause, .. } => match cause {
                Spin::FinishedClients { .. } => vec![4],
                Spin::NoWait { .. } => vec![2],
                Spin::UnreadSignalfd { .. } => vec![7],
            },
            Finding::StaleRegistrations { .. } | Finding::HandledNotOnce { .. } => vec![4],
            Finding::HandledSilentClient { cause, .. } => match cause {
                SilentCause::LeftOverEntries => vec![2],
                SilentCause::AtAccept(_) => vec![3],
                SilentCause::Untold => vec![2, 3],
            },
            Finding::NeverIdle { at, .. } => match Advice::of(at) {
                Some(advice) => advice.todos().to_vec(),
                None if at.activity == crate::inspect::Activity::Running => vec![2],
                None => vec![],
            },
            Finding::Threads { .. }
            | Finding::NoChild { .. }
            | Finding::WrongChildCount { .. }
            | Finding::ChildInLoop(_)
            | Finding::ChildrenLeft(_)
            | Finding::ChildErrorLine { .. }
            | Finding::HandledAgain { .. } => vec![5],
            Finding::ParentKeepsCopies { .. } => vec![4, 5],
            Finding::LateClientNotServed { server, .. } => server
                .as_ref()
                .and_then(Advice::of)
                .map_or_else(Vec::new, |advice| advice.todos().to_vec()),
            Finding::ZombiesWithoutReaper { .. } => vec![6, 7],
            Finding::SigchldNotBlocked { .. } => vec![6],
            Finding::OneReapedPerSignal { .. } | Finding::ZombiesLeft { .. } => vec![7],
            Finding::EagainTakenForError { .. }
            | Finding::EndOfUploadMissed { .. }
            | Finding::OneReadPerEvent(_)
            | Finding::CountLost { .. }
            | Finding::CountedMore { .. } => vec![9],
            Finding::NotOneLoop { .. } => vec![8, 9],
            Finding::BlockingSockets { meanwhile, .. } => {
                let mut todos = vec![8];
                todos.extend(meanwhile.iter().flat_map(|cut| loop_cut_todos(cut)));
                todos
            }
            Finding::LoopCut(cut) => loop_cut_todos(cut),
            Finding::FinishedClientsWatched { .. } => vec![4],
            Finding::ForkedAtAccept(_) => vec![3, 5],
            Finding::ForkedAfterReceiving(_) => vec![5],
            Finding::SignalfdNotWatched { .. } => vec![6],
            Finding::CreatedLineNamesNoChild { .. } => vec![5],
            Finding::BufSizeIgnored { .. } => vec![9],
            Finding::DoesNotCompile
            | Finding::BuildStopped(_)
            | Finding::NeedsWholeUpload
            | Finding::NeedsPassed { .. }
            | Finding::NoAsyncMode
            | Finding::ServerError { .. }
            | Finding::WholeUploadMiscounted { .. }
            | Finding::NoWholeUpload
            | Finding::UploadMiscounted { .. }
            | Finding::NeverPaused
            | Finding::UploadsMisreported { .. }
            | Finding::DescriptorsNotCounted
            | Finding::LoopUploadsMisreported { .. }
            | Finding::LoopHandledNotOnce { .. }
            | Finding::DescriptorsKept { .. }
            | Finding::Limit(_) => vec![],
        };
        todos.sort_unstable();
        todos.dedup();
        todos
    }
}

fn cut_slug(cut: &Cut) -> &'static str {
    match cut {
        Cut::ServerStopped(_) => "server-stopped",
        Cut::StoppedAfterPause(_) => "stopped-after-pause",
        Cut::NoProgress { .. } => "no-progress",
        Cut::Stalled { .. } => "stalled",
        Cut::Stuck { .. } => "stuck",
        Cut::NotAccepted { .. } => "not-accepted",
        Cut::NotWatched { .. } => "not-watched",
        Cut::OneAtATime {
            server_waited_for_child: true,
            ..
        } => "waits-for-child",
        Cut::OneAtATime { .. } => "one-at-a-time",
        Cut::ClientFailed(ClientFailure {
            closed_unread: Some(_),
            ..
        }) => "closed-unread",
        Cut::ClientFailed(ClientFailure {
            reported_early: Some(_),
            ..
        }) => "reported-before-the-end",
        Cut::ClientFailed(_) => "client-failed",
        Cut::ReportsMissing { .. } => "reports-missing",
    }
}

fn cut_todos(cut: &Cut) -> Vec<u8> {
    let at = |seen: &Snapshot| {
        Advice::of(&seen.server).map_or_else(Vec::new, |advice| advice.todos().to_vec())
    };
    match cut {
        Cut::ServerStopped(stopped) => match &stopped.blame {
            Blame::Todo(Origin::NotYetDone(todo)) => vec![*todo],
            Blame::Todo(Origin::NoChildLeft { .. }) => vec![7],
            Blame::Todo(Origin::AddedAgain { .. }) => vec![3],
            Blame::Checker | Blame::Untold => vec![],
        },
        Cut::StoppedAfterPause(_) => vec![2],
        Cut::NoProgress { seen, .. }
        | Cut::Stalled { seen, .. }
        | Cut::Stuck { seen, .. }
        | Cut::ReportsMissing { seen, .. } => at(seen),
        Cut::NotAccepted { .. } => vec![1, 3],
        Cut::NotWatched { .. } => vec![3],
        Cut::OneAtATime { .. } => vec![5],
        Cut::ClientFailed(failure) if failure.closed_unread.is_some() => vec![3],
        Cut::ClientFailed(_) => vec![],
    }
}

fn loop_cut_todos(cut: &Cut) -> Vec<u8> {
    match cut {
        Cut::OneAtATime { .. } => vec![9],
        Cut::ClientFailed(failure) if failure.reported_early.is_some() => vec![9],
        cut => cut_todos(cut),
    }
}
