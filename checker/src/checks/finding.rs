//! What a judgement found, as a value: why a check failed or was not judged, with the
//! evidence it was decided on as fields. Tests, scripts and kits read a finding's slug
//! and its TODOs; the words a student reads are rendered from it in one place,
//! `report::findings`, and nothing reads them back.

use std::time::Duration;

use crate::checks::evidence::{
    AcceptedUnreported, Blame, ChildSeen, Cut, Registered, Stopped, Turns,
};
use crate::checks::printed::ForkSeen;
use crate::grade::CheckId;
use crate::inspect::{CallKind, Signals, Waited, Whereabouts};

mod slug_and_todos;

/// Why a check did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    // Not judged.
    /// The server does not compile.
    DoesNotCompile,
    /// The build was stopped before it ended: why.
    BuildStopped(String),
    /// What the check builds on: a whole upload received (task 1).
    NeedsWholeUpload,
    /// What the check builds on: every client accepted, which "keeps serving" saw fail.
    NeedsEveryClientAccepted(Cut),
    /// `check` is judged only on a server that passed `on`.
    NeedsPassed { check: CheckId, on: CheckId },
    /// The bonus is judged only on a loop that handles the events each wait returned and
    /// no others: "keeps serving" saw this one announce a client no wait returned.
    NeedsReportedEventsOnly,
    /// The server refused `--mode async`: it was written before task 3.
    NoAsyncMode,

    // Any scenario.
    /// The scenario was cut short, and the cut is the whole story.
    Cut(Cut),
    /// The listening socket is in no epoll instance of the server.
    ListenerNotInEpoll,
    /// The server uses CPU with nothing to do; `after_uploads` when task 3 saw it.
    Spins {
        busy: Duration,
        cause: Spin,
        after_uploads: bool,
    },
    /// The epoll instance watches descriptors of sockets already closed.
    StaleRegistrations { pid: i32, fds: Vec<i32> },
    /// One of the lab's error lines, from the server itself.
    ServerError { line: String },

    // Task 1.
    /// The first upload's report is not the size sent.
    WholeUploadMiscounted { reported: u64, sent: u64 },
    /// No client got its whole file through, and nothing cut the scenario short.
    NoWholeUpload,
    /// A client's count against the server's report.
    UploadMiscounted {
        client: usize,
        sent: u64,
        reported: u64,
    },
    /// Connections against `wants to send a file` lines and reports.
    HandledNotOnce {
        connections: usize,
        handled: usize,
        reported: usize,
    },
    /// A client that had sent nothing, its connection open, announced all the same.
    HandledSilentClient {
        client: usize,
        fd: i32,
        cause: SilentCause,
    },
    /// Once its wait had timed out with only silent clients, blocked in accept on the
    /// listener with no connection waiting.
    AcceptedUnreported(AcceptedUnreported),
    /// The checker found no moment when the server sat idle to pause it.
    NeverPaused,
    /// Where a fresh server was, instead of idle in epoll_wait.
    NeverIdle { after: Duration, at: Whereabouts },

    // Task 2.
    /// The upload reports against the uploads.
    UploadsMisreported {
        uploads: usize,
        size: u64,
        reports: Vec<u64>,
    },
    /// Threads where there should be children.
    Threads {
        pid: i32,
        uploads: usize,
        threads: usize,
    },
    /// Not one child while the uploads ran.
    NoChild { uploads: usize },
    /// Some children, but not one per upload.
    WrongChildCount { uploads: usize, children: usize },
    /// A child seen in the server's own loop.
    ChildInLoop(ChildSeen),
    /// Children alive well after the last report.
    ChildrenLeft(Vec<ChildSeen>),
    /// An error line that only a child running the loop's code could have printed.
    ChildErrorLine { pid: i32, line: String },
    /// More `wants to send a file` lines than connections.
    HandledAgain { handled: usize, connections: usize },
    /// The descriptors before the clients could not be counted.
    DescriptorsNotCounted,
    /// The parent's descriptors grew over the uploads.
    ParentKeepsCopies { before: usize, after: usize },

    // The bonus.
    /// A late client waited while the server was `server` (`None`: running).
    LateClientNotServed {
        pid: i32,
        limit: Duration,
        server: Option<Whereabouts>,
    },
    /// Zombies, and no signalfd to reap them by.
    ZombiesWithoutReaper { zombies: Vec<i32> },
    /// Zombies, a signalfd, and SIGCHLD not blocked.
    SigchldNotBlocked {
        pid: i32,
        zombies: Vec<i32>,
        signals: Option<Signals>,
    },
    /// Zombies after several children exited at once: one reaped per signal.
    OneReapedPerSignal {
        zombies: Vec<i32>,
        exited_together: usize,
    },
    /// Zombies, although the signalfd woke the server.
    ZombiesLeft { zombies: Vec<i32> },

    // Task 3.
    /// An EAGAIN read printed as an error.
    EagainTakenForError { line: String },
    /// Children or threads in the one loop's place.
    NotOneLoop {
        pid: i32,
        uploads: usize,
        children: usize,
        threads: usize,
    },
    /// Client sockets without O_NONBLOCK, and what cut the uploads meanwhile.
    BlockingSockets {
        pid: i32,
        fds: Vec<i32>,
        meanwhile: Option<Box<Cut>>,
    },
    /// Sockets at their end (CLOSE_WAIT) still held; `busy` when the server spun on them.
    EndOfUploadMissed {
        fds: Vec<i32>,
        busy: Option<Duration>,
    },
    /// Every turn of reads a single read.
    OneReadPerEvent(Turns),
    /// The scenario cut short, told in task 3's words.
    LoopCut(Cut),
    /// Every upload reported, some with fewer bytes than sent: a count that restarts.
    CountLost {
        uploads: usize,
        size: u64,
        reports: Vec<u64>,
    },
    /// Every upload reported, some with more bytes than sent.
    CountedMore {
        uploads: usize,
        size: u64,
        reports: Vec<u64>,
    },
    /// Task 3's reports against its uploads.
    LoopUploadsMisreported {
        uploads: usize,
        size: u64,
        reports: Vec<u64>,
    },
    /// Task 3's `wants to send a file` lines against its uploads.
    LoopHandledNotOnce { uploads: usize, handled: usize },
    /// Clients still in the interest list after every report.
    FinishedClientsWatched { pid: i32, fds: Vec<i32> },
    /// More descriptors after the uploads than before.
    DescriptorsKept { before: usize, after: usize },

    // Where the server forked, as its own lines place the fork.
    /// Forked where the client is accepted, and handled the client in the loop as well.
    ForkedAtAccept(ForkSeen),
    /// Forked only after receiving and reporting the upload; the child reported it again.
    ForkedAfterReceiving(ForkSeen),
    /// Zombies, and a signalfd that the server holds as descriptor `fd` but never added
    /// to its epoll instance.
    SignalfdNotWatched {
        pid: i32,
        fd: i32,
        zombies: Vec<i32>,
    },
    /// A `<< Process <printed> created to handle client <fd> >>` line that names none
    /// of the children seen while every upload ran (`server` is the parent's own pid);
    /// all pids as the server's PID namespace numbers them.
    CreatedLineNamesNoChild {
        printed: i32,
        fd: i32,
        server: i32,
        children: Vec<i32>,
    },
    /// Task 3's first reads of client sockets, traced, asked for other sizes than the
    /// `--buf-size` the server was given: more than it, or never it (`asked`: each size
    /// once; `reads`: how many reads were seen).
    BufSizeIgnored {
        buf_size: u32,
        asked: Vec<u64>,
        reads: usize,
    },

    // The checker's own limits.
    /// The server reached one of the checker's limits before the check was decided.
    Limit(Limit),
}

/// A limit of the checker's that a server reached: the check says so instead of a
/// verdict it could not reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Limit {
    /// The run's time limit (`--timeout`, or its default) passed before the check was
    /// decided.
    Time { limit: Duration },
    /// A process of the server asked for `asked` bytes more than the `cap` each process
    /// may map, and was refused (Rust's runtime said so, then aborted it).
    Memory { asked: u64, cap: u64 },
}

/// Why a server spins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Spin {
    /// Its epoll instance still watches finished clients (or closed ones).
    FinishedClients { pid: i32, fds: Vec<i32> },
    /// It watches only the listener (and the signalfd): it waits with no timeout.
    NoWait { signalfd: bool },
    /// An unread SIGCHLD keeps the signalfd readable.
    UnreadSignalfd { pid: i32 },
}

/// What a place where a server sat blocked says to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Advice {
    /// A read of a blocking signalfd.
    BlockingSignalfd,
    /// waitpid for any child, without WNOHANG.
    BlockingWaitpid,
    /// waitpid for one child.
    WaitsForOneChild,
    /// accept with nobody waiting.
    AcceptBlocks,
}

impl Advice {
    /// What being blocked where `at` says must change, when the place itself is the
    /// evidence; `None` where it says no more than where the server was.
    pub fn of(at: &Whereabouts) -> Option<Advice> {
        match (at.call?, &at.on) {
            (CallKind::Read, Some(Waited::SignalFd)) => Some(Advice::BlockingSignalfd),
            (CallKind::Wait, _) if at.first_arg == -1 => Some(Advice::BlockingWaitpid),
            (CallKind::Wait, _) => Some(Advice::WaitsForOneChild),
            (CallKind::Accept, Some(Waited::Listener)) => Some(Advice::AcceptBlocks),
            _ => None,
        }
    }

    pub fn todos(self) -> &'static [u8] {
        match self {
            Advice::BlockingSignalfd => &[6, 7],
            Advice::BlockingWaitpid => &[7],
            Advice::WaitsForOneChild => &[5],
            Advice::AcceptBlocks => &[3],
        }
    }
}

impl Finding {
    /// Whether the finding puts a failure down to the server's code, so that its reason
    /// must name the TODO to look at or say that the run could not tell. Not so for a
    /// check not judged (it points at another), a build's outcome, or a stop that the
    /// checker made or its limits did (its words say which).
    pub fn blames_the_server(&self) -> bool {
        match self {
            Finding::DoesNotCompile
            | Finding::BuildStopped(_)
            | Finding::NeedsWholeUpload
            | Finding::NeedsPassed { .. }
            | Finding::NeedsReportedEventsOnly
            | Finding::NoAsyncMode
            | Finding::Limit(Limit::Time { .. }) => false,
            Finding::NeedsEveryClientAccepted(cut) | Finding::Cut(cut) | Finding::LoopCut(cut) => {
                !matches!(
                    cut,
                    Cut::ServerStopped(Stopped {
                        blame: Blame::Checker,
                        ..
                    })
                )
            }
            _ => true,
        }
    }
}

/// Why a server announced a client that had sent nothing, as the two looks at silent
/// clients tell it (see `checks::silent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SilentCause {
    /// On the fresh server, where no earlier wait could have named it: served at accept,
    /// or registered for output; what its registration showed.
    AtAccept(Registered),
    /// The fresh server left its silent client alone, registered for input only; a later
    /// one was announced: the loop went through entries earlier waits left in the buffer.
    LeftOverEntries,
    /// A later one was announced, and the fresh server's registration was not seen.
    Untold,
}
