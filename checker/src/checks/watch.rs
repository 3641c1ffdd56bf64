//! Watching running uploads: the server looked at every tick, and the conditions that
//! end the watch early (the server stopped, nothing moved, a client waits unserved).

use std::ops::ControlFlow;
use std::thread;
use std::time::{Duration, Instant};

use crate::checks::Session;
use crate::checks::evidence::{ChildSeen, ClientFailure, Cut, EarlyReport, Handled, Snapshot};
use crate::checks::idle::snapshot;
use crate::checks::lasting::Lasting;
use crate::checks::printed::Printed;
use crate::clients::Uploads;
use crate::inspect::{self, Activity, CallKind, TcpRow, Whereabouts};
use crate::server::ServerUnderTest;

/// How often the checker looks at the server while uploads run.
pub const TICK: Duration = Duration::from_millis(20);
/// How long the first looks at running uploads come every [`TICK`]: what a look catches
/// in passing (a child started, a client accepted, a line printed) happens at the start.
const EARLY: Duration = Duration::from_secs(1);
/// How often the checker looks once the uploads are under way: a server that reads 10
/// bytes at a time is bound by its system calls, and every look takes the processor from
/// it. Every condition the watch holds against a server lasts a second or more first.
const LATER: Duration = Duration::from_millis(100);
/// No byte moved for this long: the server has stopped reading.
const STALL: Duration = Duration::from_secs(5);
/// How long a client may wait unserved while the server sits idle before it counts.
const UNSERVED: Duration = Duration::from_secs(1);

/// The server under test at one moment.
pub struct Look {
    /// The server's pid, as the checker sees it (to look it up by).
    pub pid: i32,
    pub activity: Activity,
    /// Where the server itself sleeps.
    pub server_at: Whereabouts,
    /// Its live children.
    pub children: Vec<ChildSeen>,
    pub threads: usize,
    /// The sockets on 127.0.0.1 (/proc/net/tcp), and the server's listener among them.
    pub tcp: Vec<TcpRow>,
    pub listener: Option<TcpRow>,
}

impl Look {
    pub fn take(server: &ServerUnderTest) -> Self {
        let tcp = inspect::tcp_table();
        let listener = inspect::listener_in(&tcp, server.port);
        let children = inspect::children(server.pid)
            .into_iter()
            .filter(|child| !child.is_zombie())
            .map(|child| {
                let activity = inspect::activity(child.pid);
                // Only a child seen in the loop is worth the walk through its descriptors.
                let in_loop = matches!(activity, Activity::EpollWait | Activity::Accept);
                ChildSeen {
                    pid: child.pid,
                    holds_listener: in_loop
                        && listener.is_some_and(|listener| {
                            inspect::holds_socket(child.pid, listener.inode)
                        }),
                    activity,
                }
            })
            .collect();
        let server_at = inspect::whereabouts(server.pid, listener.map(|row| row.inode));
        Look {
            pid: server.pid,
            activity: server_at.activity.clone(),
            server_at,
            children,
            threads: inspect::threads(server.pid),
            tcp,
            listener,
        }
    }

    /// Where the server and each live child are: the server as this look saw it, the
    /// children read now.
    pub fn snapshot(&self) -> Snapshot {
        let listener = self.listener.map(|row| row.inode);
        Snapshot {
            server: self.server_at.clone(),
            children: self
                .children
                .iter()
                .map(|child| inspect::whereabouts(child.pid, listener))
                .collect(),
        }
    }

    /// A child that waits where only the server's own loop waits.
    pub fn child_in_loop(&self) -> Option<&ChildSeen> {
        self.children
            .iter()
            .find(|child| matches!(child.activity, Activity::EpollWait | Activity::Accept))
    }
}

/// What to do about connections that wait in the listener's queue while the server
/// sits idle.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Unaccepted {
    /// End the watch with [`Cut::NotAccepted`].
    Cut,
    /// Note it, and end the watch once every accepted client has ended.
    Note,
}

/// How a watch ended.
#[derive(Default)]
pub struct Watched {
    pub cut: Option<Cut>,
    pub not_accepted: Option<Cut>,
}

impl Session<'_> {
    /// Watches running uploads until all have ended, or until something ends the watch
    /// early: the server stops, nothing moves, a client waits unserved, or `look` says so.
    pub fn watch(
        &self,
        server: &mut ServerUnderTest,
        uploads: &Uploads,
        unaccepted: Unaccepted,
        mut look: impl FnMut(&Look, &Uploads) -> ControlFlow<Cut>,
    ) -> Watched {
        let mut watched = Watched::default();
        let (mut waiting, mut forgotten) = (Lasting::new(UNSERVED), Lasting::new(UNSERVED));
        let (mut stuck, mut still) = (Lasting::new(UNSERVED), Lasting::new(STALL));
        let pid = server.pid;
        let started = Instant::now();
        let cut = loop {
            self.observer.uploads(uploads);
            let ended = uploads.ended();
            if let Err(stopped) = server.check_running() {
                break Some(Cut::ServerStopped(stopped));
            }
            let now = Look::take(server);
            name_sockets(server, &now, uploads);
            let idle = now.activity == Activity::EpollWait;
            let queued = now.listener.map_or(0, |listener| listener.queued);
            if let Some(lasted) = waiting.holds(idle && queued > 0) {
                let cut = Cut::NotAccepted {
                    waiting: queued,
                    pid: inspect::shown_pid(pid),
                    lasted,
                };
                if unaccepted == Unaccepted::Cut {
                    break Some(cut);
                }
                watched.not_accepted.get_or_insert(cut);
            }
            let unwatched = unwatched_clients(pid, &now, idle);
            if let Some(lasted) = forgotten.holds(!unwatched.is_empty()) {
                break Some(Cut::NotWatched {
                    fds: unwatched,
                    pid: inspect::shown_pid(pid),
                    lasted,
                });
            }
            if let ControlFlow::Break(cut) = look(&now, uploads) {
                break Some(cut);
            }
            let waiting_for_good = match &watched.not_accepted {
                Some(Cut::NotAccepted { waiting, .. }) => *waiting as usize,
                _ => 0,
            };
            if ended + waiting_for_good >= uploads.uploads.len() {
                break None;
            }
            if let Some(cut) = stopped_moving(server, &now, uploads, &mut stuck, &mut still) {
                break Some(cut);
            }
            thread::sleep(if started.elapsed() < EARLY {
                TICK
            } else {
                LATER
            });
        };
        self.observer.uploads_over(uploads);
        watched.cut = cut.or_else(|| client_failure(server, uploads));
        watched
    }
}

/// The client sockets a server with one thread sits idle without watching: with one
/// thread only, a socket outside the interest list is read by nobody.
fn unwatched_clients(pid: i32, now: &Look, idle: bool) -> Vec<i32> {
    if idle && now.threads == 1 {
        let listener = now.listener.map(|listener| listener.inode);
        inspect::unwatched_clients(pid, &now.tcp, listener)
    } else {
        Vec::new()
    }
}

/// The cut once the uploads stopped moving: the server blocked in one call outside
/// epoll_wait for [`UNSERVED`] (`stuck`), or no byte moved for [`STALL`] (`still`).
fn stopped_moving(
    server: &ServerUnderTest,
    now: &Look,
    uploads: &Uploads,
    stuck: &mut Lasting<(CallKind, i64, u64)>,
    still: &mut Lasting<u64>,
) -> Option<Cut> {
    let total = uploads.total_sent();
    // Blocked in one call outside epoll_wait, with no byte moving, while clients
    // wait: a second of that is enough to know the server will not go on.
    let blocked = now.server_at.is_blocked_outside_the_loop().then(|| {
        let call = now.server_at.call.unwrap_or(CallKind::Other(-1));
        (call, now.server_at.first_arg, total)
    });
    if let Some(lasted) = stuck.holds_as(blocked) {
        return Some(Cut::Stuck {
            lasted,
            seen: Box::new(snapshot(server)),
        });
    }
    if still.holds_as(Some(total)).is_some() {
        return Some(Cut::Stalled {
            after: STALL,
            sent: total,
            of: uploads.uploads.len() as u64 * uploads.bytes,
            seen: Box::new(snapshot(server)),
        });
    }
    None
}

/// Finds, for each client not yet named, the socket the server (or a child) holds its
/// connection under: the row of /proc/net/tcp whose remote port is the client's.
fn name_sockets(server: &ServerUnderTest, now: &Look, uploads: &Uploads) {
    for upload in &uploads.uploads {
        if upload.server_socket().is_some() {
            continue;
        }
        let Some(port) = upload.local_port() else {
            continue;
        };
        let (_, theirs) = inspect::connection(&now.tcp, server.port, port);
        let Some(inode) = theirs.map(|row| row.inode).filter(|&inode| inode != 0) else {
            continue;
        };
        let holders = std::iter::once(server.pid).chain(now.children.iter().map(|child| child.pid));
        let found = holders
            .flat_map(inspect::descriptors)
            .find_map(|(fd, kind)| (kind == inspect::FileKind::Socket(inode)).then_some(fd));
        if let Some(fd) = found {
            upload.found_server_socket(fd);
        }
    }
}

/// The first client that failed, unless the server stopped (then that is the story),
/// with what the server had said and done about it.
fn client_failure(server: &mut ServerUnderTest, uploads: &Uploads) -> Option<Cut> {
    let (upload, error) = uploads
        .uploads
        .iter()
        .find_map(|upload| match upload.ended() {
            // The error without the lab client's hint, which guesses at a crash.
            Some(Err(error)) => Some((upload, error.lines().next()?.to_owned())),
            _ => None,
        })?;
    if let Err(stopped) = server.check_running() {
        return Some(Cut::ServerStopped(stopped));
    }
    let printed = Printed::of(&server.output());
    let counts = Handled {
        accepted: printed.accepted,
        handled: printed.handled,
    };
    let closed_unread = (counts.accepted > counts.handled
        && upload
            .local_port()
            .is_some_and(|port| !server_holds_connection(server, port)))
    .then_some(counts);
    let reported_early =
        reported_before_the_end(&server.output(), upload.server_socket(), upload.sent());
    Some(Cut::ClientFailed(ClientFailure {
        client: upload.number,
        socket: upload.server_socket(),
        error,
        server_errors: printed.errors,
        closed_unread,
        reported_early,
    }))
}

/// What the server reported for the connection of a client that had sent `sent` bytes
/// and not finished, on the server's socket `fd` where /proc showed it: a report of at
/// most that much is a report before the end (a report of more, or on another socket, is
/// another connection's). Where the socket is not known, any report of at most `sent`
/// bytes: no whole upload is that small, since this one was not whole yet.
fn reported_before_the_end(output: &[String], fd: Option<i32>, sent: u64) -> Option<EarlyReport> {
    output.iter().find_map(|line| match lab::Line::parse(line) {
        Some(lab::Line::Received {
            bytes,
            fd: reported,
        }) if fd.is_none_or(|fd| fd == reported) && bytes <= sent => Some(EarlyReport {
            fd: reported,
            bytes,
        }),
        _ => None,
    })
}

/// Whether the server or a child of it still holds its end of the connection from the
/// client's port `client`.
fn server_holds_connection(server: &ServerUnderTest, client: u16) -> bool {
    let table = inspect::tcp_table();
    let (_, theirs) = inspect::connection(&table, server.port, client);
    let Some(theirs) = theirs else {
        return false;
    };
    std::iter::once(server.pid)
        .chain(inspect::children(server.pid).iter().map(|child| child.pid))
        .any(|pid| inspect::holds_socket(pid, theirs.inode))
}
