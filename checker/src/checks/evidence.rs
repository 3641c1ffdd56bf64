//! What the scenarios saw, as plain data. The scenarios fill these structs; the
//! judgements in `judge` read them and nothing else, so every verdict can be tested on a
//! table of evidence without running a server.

use std::time::Duration;

use crate::checks::printed::Forks;
use crate::checks::read_sizes::ReadSizes;
use crate::inspect::{Activity, Call, CallKind, InterestList, Registration, Signals, Whereabouts};

mod cut;

pub use cut::{Blame, ClientFailure, Cut, EarlyReport, Handled, Origin, Snapshot, Stopped};

/// A child process of the server, as seen at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildSeen {
    pub pid: i32,
    pub activity: Activity,
    pub holds_listener: bool,
}

impl ChildSeen {
    /// The child with the pid the server's log shows for it, for evidence that a reason
    /// quotes (see [`crate::inspect::shown_pid`]); it is no longer looked up by pid.
    pub fn shown(self) -> ChildSeen {
        ChildSeen {
            pid: crate::inspect::shown_pid(self.pid),
            ..self
        }
    }
}

/// "Keeps serving": a pause while idle, one small upload, then two small uploads that
/// connect while the server is paused, then a moment of nothing to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InTurn {
    /// Where the server's section of the log begins.
    pub log_start: Option<u64>,
    pub pid: i32,
    /// The scenario ended early, and why.
    pub cut: Option<Cut>,
    /// A client's byte count against the server's report, when they differ.
    pub wrong_count: Option<WrongCount>,
    /// Connections made, `wants to send a file` lines, and upload reports.
    pub connections: usize,
    pub handled: usize,
    pub reported: usize,
    /// What the fresh server was doing when the checker paused it: the pause tests an
    /// interrupted `epoll_wait` only if it sat there.
    pub paused_in: Option<Whereabouts>,
    /// How long the checker waited for the fresh server to sit idle.
    pub idle_wait: Duration,
    /// Time running or ready to run in 300 ms with nothing to do (a shorter look once
    /// /proc showed the server asleep, see `idle_cpu`).
    pub idle_cpu: Duration,
    /// The server's interest list and signal masks once idle.
    pub interest: InterestList,
    pub signals: Option<Signals>,
    /// Lines in the log that report an error.
    pub errors: Vec<String>,
    /// Whether the server forked children during the scenario.
    pub forked: bool,
    /// Whether the server itself was still running at the end (so its children printed
    /// any error lines that appeared).
    pub server_alive: bool,
    /// Children still alive at the end.
    pub children_alive: usize,
    /// Forks that the server's lines place where no fork belongs.
    pub forks: Forks,
    /// What the stage of silent clients saw (see `checks::silent`).
    pub silent: Silent,
}

/// What "keeps serving" saw of clients that connect and send nothing (see
/// `checks::silent`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Silent {
    /// The fresh server's first client, held silent.
    pub first: FirstLook,
    /// Whether the last stage ran to its end: its last silent client was accepted.
    pub probed: bool,
    /// Why it could not, when it could not.
    pub not_probed: Option<String>,
    /// The first client of the last stage announced while it had sent nothing, its
    /// connection open.
    pub announced: Option<SilentAnnounced>,
    /// A server whose epoll_wait has a timeout, held with silent clients past it: blocked
    /// in accept on the listener with no connection waiting, and the timeout.
    pub accepted_unreported: Option<AcceptedUnreported>,
}

/// A server found blocked in accept on the listener with no connection waiting, once its
/// wait had timed out with only silent clients connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedUnreported {
    /// The timeout of its epoll_wait.
    pub timeout: Duration,
    /// Where it was.
    pub at: Whereabouts,
}

/// The fresh server's first client, held silent until the server sat idle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FirstLook {
    /// Its number in the logs.
    pub client: usize,
    /// Its socket in the server, once the server announced its acceptance.
    pub fd: Option<i32>,
    /// What its registration asked for, as /proc/PID/fdinfo showed it.
    pub registered: Registered,
    /// Whether the server announced it while it had sent nothing.
    pub announced: bool,
}

/// What a client's registration asks for, as /proc/PID/fdinfo of the epoll instance
/// showed it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Registered {
    /// Not in the interest list when the checker looked.
    #[default]
    NotSeen,
    /// Input and not output.
    InputOnly,
    /// Output too (EPOLLOUT): a connected socket is ready for output at once.
    ForOutput,
}

/// A silent client the server announced all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SilentAnnounced {
    /// The client's number in the logs.
    pub client: usize,
    /// Its socket in the server.
    pub fd: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongCount {
    pub client: usize,
    pub sent: u64,
    pub reported: u64,
}

/// "Uploads at once": N whole uploads started together on a fresh server.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AtOnce {
    /// Where the server's section of the log begins.
    pub log_start: Option<u64>,
    pub clients: usize,
    pub size: u64,
    pub pid: i32,
    /// Whether the listening socket was seen in an epoll instance of the server.
    pub listener_registered: bool,
    pub cut: Option<Cut>,
    /// Whether some client got its whole file through.
    pub some_sent_all: bool,
    /// The byte counts the server reported, in order.
    pub reports: Vec<u64>,
    /// Connections still waiting to be accepted while the server sat idle (the uploads
    /// of the accepted clients went on).
    pub not_accepted: Option<Cut>,
    /// Live children, stale registrations and threads when every client was under way.
    pub children_while_running: usize,
    pub stale_while_running: Vec<Registration>,
    /// The server's own pid and its children's at that look, as the server's PID
    /// namespace numbers them (the pids its lines print).
    pub own_pid_in_log: Option<i32>,
    pub children_in_log: Vec<i32>,
    /// `<< Process <pid> created to handle client <fd> >>` lines: the pid and the fd.
    pub created: Vec<(i32, i32)>,
    pub most_threads: usize,
    /// A child seen waiting in the server's own loop (epoll_wait or accept).
    pub child_in_loop: Option<ChildSeen>,
    /// Children still alive two seconds after the last upload was reported.
    pub children_left: Vec<ChildSeen>,
    /// The lab's error lines from outside a receive, printed while the server itself
    /// kept running (so by its children).
    pub child_errors: Vec<String>,
    /// `Client <fd> wants to send a file` lines: more than there were clients means a
    /// connection was handled twice.
    pub handled: usize,
    /// The server's open descriptors before the clients and after they were all done.
    pub descriptors_before: Option<usize>,
    pub descriptors_after: Option<usize>,
    pub stale_after: Vec<Registration>,
    /// Forks that the server's lines place where no fork belongs.
    pub forks: Forks,
}

/// The bonus: a long upload held open, a short one that ends (its child exits), then a
/// late client that must be served at once; then nothing to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reaping {
    /// Where the server's section of the log begins.
    pub log_start: Option<u64>,
    pub pid: i32,
    pub cut: Option<Cut>,
    /// How long the late client waited for its report; `None` if it never came in time.
    pub late_served_in: Option<Duration>,
    /// How long the checker gave it.
    pub late_limit: Duration,
    /// Where the server was while the late client waited (blocked, at the last look).
    pub server_while_late: Option<Whereabouts>,
    /// How many children exited together, while the checker held the server paused, so
    /// that their SIGCHLDs arrived as one.
    pub exited_together: usize,
    /// Zombie children a moment after the last upload: their pids.
    pub zombies: Vec<i32>,
    /// The descriptor of a signalfd the server holds (/proc/<pid>/fd) where its epoll
    /// instance does not watch one.
    pub unwatched_signalfd: Option<i32>,
    pub idle_cpu: Duration,
    pub interest: InterestList,
    pub signals: Option<Signals>,
}

/// Task 3: uploads started together on a server run with `--mode async`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OneLoop {
    /// Where the server's section of the log begins.
    pub log_start: Option<u64>,
    pub clients: usize,
    /// The bytes of each upload.
    pub size: u64,
    pub pid: i32,
    /// The server refused `--mode async` on its command line: it has no task 3.
    pub no_mode: bool,
    pub cut: Option<Cut>,
    pub not_accepted: Option<Cut>,
    /// The byte counts the server reported, in order.
    pub reports: Vec<u64>,
    /// `Client <fd> wants to send a file` lines.
    pub handled: usize,
    /// The most live children and threads seen at one look while uploads ran.
    pub most_children: usize,
    pub most_threads: usize,
    /// Client sockets of the server seen blocking (no O_NONBLOCK) while uploads ran.
    pub blocking: Vec<i32>,
    /// Client sockets whose end the server had read (CLOSE_WAIT, nothing queued) while it
    /// still held them and their reports had not come.
    pub ended_unclosed: Vec<i32>,
    /// The server's error lines and panics.
    pub errors: Vec<String>,
    /// Its reads counted for a moment while every upload ran, or why they could not be.
    pub turns: Option<Result<Turns, String>>,
    /// The `--buf-size` it was started with.
    pub buf_size: u32,
    /// The sizes its first reads of client sockets asked for, or why they were not traced.
    pub read_sizes: Option<Result<ReadSizes, String>>,
    /// Time running or ready to run in 300 ms with nothing to do (a shorter look once
    /// /proc showed the server asleep, see `idle_cpu`).
    pub idle_cpu: Duration,
    pub interest: InterestList,
    pub signals: Option<Signals>,
    pub descriptors_before: Option<usize>,
    pub descriptors_after: Option<usize>,
}

/// The reads of client sockets in a traced stretch of the loop, in turns: a turn is the
/// reads of one client one after the other, ended by any other call (epoll_wait, most
/// often) or by a read of another client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Turns {
    pub calls: usize,
    pub reads: usize,
    pub turns: usize,
    /// Turns of a single read.
    pub single: usize,
}

impl Turns {
    /// Counts the turns in `calls`, with `clients` the descriptors of client sockets.
    pub fn of(calls: &[Call], clients: &[i32]) -> Self {
        let mut turns = Turns {
            calls: calls.len(),
            ..Turns::default()
        };
        let mut current: Option<(i64, usize)> = None;
        let close = |run: Option<(i64, usize)>, turns: &mut Turns| {
            if let Some((_, length)) = run {
                turns.turns += 1;
                turns.single += usize::from(length == 1);
            }
        };
        for call in calls {
            let client_read = call.kind == CallKind::Read
                && clients.iter().any(|&fd| i64::from(fd) == call.first_arg);
            if !client_read {
                close(current.take(), &mut turns);
                continue;
            }
            turns.reads += 1;
            current = match current {
                Some((fd, length)) if fd == call.first_arg => Some((fd, length + 1)),
                run => {
                    close(run, &mut turns);
                    Some((call.first_arg, 1))
                }
            };
        }
        close(current, &mut turns);
        turns
    }
}
