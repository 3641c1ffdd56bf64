//! Why a scenario was cut short, as evidence: the cut itself, how a server came to stop
//! and whose code the stop is put down to, where the server stood at one look, and a
//! client that failed while the server ran.

use std::time::Duration;

use crate::inspect::Whereabouts;

/// Why the checker stopped watching uploads before they all ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    /// The server exited; how, with its own last error or panic.
    ServerStopped(Stopped),
    /// The server exited after being paused and resumed while it sat idle.
    StoppedAfterPause(Stopped),
    /// No client reached the milestone in time.
    NoProgress {
        after: Duration,
        milestone: u64,
        most_sent: u64,
        seen: Box<Snapshot>,
    },
    /// No byte moved for a while.
    Stalled {
        after: Duration,
        sent: u64,
        of: u64,
        seen: Box<Snapshot>,
    },
    /// The server sat blocked in one call, outside epoll_wait, while clients waited and
    /// no byte moved.
    Stuck {
        lasted: Duration,
        seen: Box<Snapshot>,
    },
    /// Connections waited in the listener's queue while the server sat in epoll_wait.
    NotAccepted {
        waiting: u64,
        pid: i32,
        lasted: Duration,
    },
    /// Accepted client sockets with data waiting that the server's epoll does not watch,
    /// while the server sat in epoll_wait.
    NotWatched {
        fds: Vec<i32>,
        pid: i32,
        lasted: Duration,
    },
    /// One client finished while another had not reached the milestone.
    OneAtATime {
        finished: usize,
        behind: usize,
        /// The sockets the server gave them, where /proc showed them.
        sockets: (Option<i32>, Option<i32>),
        behind_sent: u64,
        milestone: u64,
        /// The server was seen waiting for a child while an upload ran.
        server_waited_for_child: bool,
    },
    /// A client failed while the server kept running.
    ClientFailed(ClientFailure),
    /// The clients sent everything, but the reports did not all come.
    ReportsMissing {
        waited: Duration,
        reported: usize,
        expected: usize,
        seen: Box<Snapshot>,
    },
}

/// How a server came to stop, and whose code stopped it as far as the evidence goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stopped {
    /// How, in words, with the server's own last error or panic quoted.
    pub how: String,
    pub blame: Blame,
}

/// What a server's stop is put down to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blame {
    /// The checker stopped it, or one of its limits did; `how` says which.
    Checker,
    /// The code of a TODO, as the evidence shows.
    Todo(Origin),
    /// The server's own doing, and nothing in this run tells which TODO's code it was.
    Untold,
}

/// Which TODO's code stopped a server, and the evidence: the server's last error line
/// (or panic), what that error can come from, and the lab's line it followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A `todo!("TODO <n>: ...")` panicked: TODO n is not done yet.
    NotYetDone(u8),
    /// waitpid failed with ECHILD, which says only that no child is left to wait for,
    /// and the error ended the server: the reaper's (TODO 7). `after` is the lab's line
    /// before the error.
    NoChildLeft { after: Option<String> },
    /// epoll refused to add a descriptor already in its interest list (EEXIST) right
    /// after the server accepted the client on socket `accepted`: TODO 3, which adds
    /// that client. `added` is the descriptor the error line names, where it names one.
    AddedAgain { added: Option<i32>, accepted: i32 },
}

impl Stopped {
    /// A stop that the checker made, or that it reports in words of its own.
    pub fn by_checker(how: impl Into<String>) -> Stopped {
        Stopped {
            how: how.into(),
            blame: Blame::Checker,
        }
    }
}

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.how)
    }
}

/// Where the server and each of its children were, at one look: the evidence of where a
/// server that stopped making progress is blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub server: Whereabouts,
    pub children: Vec<Whereabouts>,
}

/// A client whose connection broke while the server kept running, and what the server
/// had said and done by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientFailure {
    pub client: usize,
    /// The socket the server gave it, where /proc showed it.
    pub socket: Option<i32>,
    /// What the client saw (the send that failed).
    pub error: String,
    /// The lab's error lines the server's processes had printed by then.
    pub server_errors: Vec<String>,
    /// Set when the server accepted more connections than it handled (its own lines
    /// say so) and no process of the server holds this client's socket any more: it
    /// closed the connection before reading from it.
    pub closed_unread: Option<Handled>,
    /// The bytes the server had reported for this client's connection
    /// (`Received <bytes> bytes from [Client <fd>]`) although the client was still
    /// sending: the server took the upload for ended before it was.
    pub reported_early: Option<EarlyReport>,
}

/// A report of an upload printed before its client had sent everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EarlyReport {
    /// The socket the report names.
    pub fd: i32,
    pub bytes: u64,
}

/// The server's own count of connections, from its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handled {
    /// `<< New client connected ... >>` lines.
    pub accepted: usize,
    /// `Client <fd> wants to send a file` lines.
    pub handled: usize,
}

impl Cut {
    /// A server that stopped right after a pause and resume: interrupted `epoll_wait`
    /// is the likely cause, unless its own error names another (an error of the reaper
    /// that a child's exit during the pause set off, say).
    pub fn after_pause(stopped: Stopped) -> Cut {
        match stopped.blame {
            Blame::Todo(Origin::NoChildLeft { .. } | Origin::AddedAgain { .. }) => {
                Cut::ServerStopped(stopped)
            }
            _ => Cut::StoppedAfterPause(stopped),
        }
    }

    /// A few words for the server log, where the checker says why it stopped the server.
    pub fn summary(&self) -> &'static str {
        match self {
            Cut::ServerStopped(_) | Cut::StoppedAfterPause(_) => "the server stopped",
            Cut::NoProgress { .. } => "timed out: no client reached its milestone",
            Cut::Stalled { .. } => "timed out: no data moved",
            Cut::Stuck { .. } => "the server was blocked outside epoll_wait",
            Cut::NotAccepted { .. } => "connections were left waiting to be accepted",
            Cut::NotWatched { .. } => "accepted clients were not watched",
            Cut::OneAtATime { .. } => "the clients were served one at a time",
            Cut::ClientFailed { .. } => "a client failed",
            Cut::ReportsMissing { .. } => "timed out waiting for the server's reports",
        }
    }
}

#[cfg(test)]
mod stop_tests {
    use super::*;

    #[test]
    fn a_stop_after_a_pause_is_put_down_to_eintr_unless_its_error_names_another_cause() {
        let stopped = |blame| Stopped {
            how: "the server stopped (exit status 1)".into(),
            blame,
        };
        assert!(matches!(
            Cut::after_pause(stopped(Blame::Untold)),
            Cut::StoppedAfterPause(_)
        ));
        assert!(matches!(
            Cut::after_pause(stopped(Blame::Todo(Origin::NoChildLeft { after: None }))),
            Cut::ServerStopped(_)
        ));
    }
}
