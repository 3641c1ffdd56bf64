//! Clients that connect and then send nothing for a while, in "keeps serving". A
//! connected client that has sent nothing is never readable, so epoll never reports it
//! for input, and the given loop must not announce it (`Client <fd> wants to send a
//! file`). Two looks tell why a loop does:
//!
//! - The first look holds the fresh server's first client silent until the server sits
//!   idle, and reads its registration in /proc/PID/fdinfo of the epoll instance. On a
//!   fresh server no earlier wait can have named the client, so a loop that announces
//!   it serves it at accept, or registered it for output, which is ready at once: TODO 3.
//! - The last stage makes the entries an earlier wait left in the event buffer name a
//!   silent client on every run: two silent clients send together while the server is
//!   paused, so that one wait returns both; then two newcomers connect one at a time and
//!   stay silent, and the second gets the socket number that the buffer's second entry
//!   still holds, while the wait that accepts it returns one event. A loop that goes
//!   through more entries than the wait returned (TODO 2 returning the buffer's length)
//!   announces it.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lab::Line;

use crate::checks::evidence::{
    AcceptedUnreported, Cut, FirstLook, Registered, Silent, SilentAnnounced, WrongCount,
};
use crate::checks::idle::{
    eventually, has_live_child, sits_idle, wait_for_reports, wait_until_idle,
};
use crate::checks::in_turn::RESUME_GRACE;
use crate::checks::{REPORT_WAIT, Session};
use crate::clients::{Hold, Plan, Upload, Uploads};
use crate::inspect;
use crate::server::ServerUnderTest;

/// The number of the stage's first client in the logs (`upload W` to `upload Z`).
pub const FIRST: usize = 23;
/// What each client of the stage uploads once released.
const BYTES: u64 = 1000;
/// How long the server may take to accept a client, and to sit idle again after.
const ACCEPT_WAIT: Duration = Duration::from_secs(2);
const IDLE_WAIT: Duration = Duration::from_secs(1);
/// The longest timeout of a server's epoll_wait that the silent clients are held past,
/// and how long after it the server may take to go through its loop.
const LONGEST_TIMEOUT: Duration = Duration::from_millis(1500);
const TIMEOUT_MARGIN: Duration = Duration::from_millis(300);
/// epoll's EPOLLOUT bit, as /proc/PID/fdinfo writes a registration's events (in hex).
const EPOLLOUT: u32 = 0x4;

/// One client of the stage: connected and silent until released, then sending all it has
/// and holding the connection open until the server's loop is done with it: a child
/// that could end its upload before its parent removed the client from epoll would
/// make a race of TODO 5's order.
struct Quiet {
    hold: Arc<Hold>,
    closing: Arc<Hold>,
    uploads: Uploads,
    /// The socket the server announced it under, and where that line is in its output.
    accepted: Option<(i32, usize)>,
    released: bool,
}

impl Quiet {
    fn upload(&self) -> &Upload {
        &self.uploads.uploads[0]
    }

    /// Lets it send its upload; it still holds the connection open until `closing`.
    fn release(&mut self) {
        self.hold.release();
        self.released = true;
    }
}

/// Runs the stage on a server that has served every upload so far; adds its connections
/// to `connections` and returns what it saw, or the cut that ended it.
pub fn probe(
    session: &Session,
    server: &mut ServerUnderTest,
    connections: &mut usize,
    wrong_count: &mut Option<WrongCount>,
) -> Result<Silent, Cut> {
    session
        .client_log
        .note("keeps serving: clients that connect and send nothing for a while");
    let mut stage = Stage {
        clients: Vec::new(),
        silent: Silent::default(),
    };
    // Children of the server share its epoll instance and listener: while one lives on
    // after its upload (TODO 5's mistake, which "a process per client" judges), what
    // happens to a silent client tells nothing of the parent's loop.
    wait_until_idle(server, IDLE_WAIT);
    if has_live_child(server.pid) {
        stage.silent.not_probed =
            Some("a child of the server was still running after its upload".into());
        return Ok(stage.silent);
    }
    let outcome = stage.run(session, server, connections);
    // Every client sends and ends, whatever happened: none is left waiting on a hold.
    for client in &mut stage.clients {
        client.release();
    }
    stage.end_uploads(server);
    outcome?;
    if stage.silent.accepted_unreported.is_some() {
        // Blocked in accept, it serves nobody until another client knocks: the finding
        // is made, and the checker stops the server.
        return Ok(stage.silent);
    }
    wait_for_reports(server, *connections, REPORT_WAIT)?;
    if wrong_count.is_none() {
        let accepted: Vec<_> = stage
            .clients
            .iter()
            .filter_map(|client| Some((client.accepted?, client.upload().number)))
            .collect();
        *wrong_count = miscounted(&accepted, &server.output());
    }
    wait_until_idle(server, IDLE_WAIT);
    Ok(stage.silent)
}

struct Stage {
    clients: Vec<Quiet>,
    silent: Silent,
}

impl Stage {
    fn run(
        &mut self,
        session: &Session,
        server: &mut ServerUnderTest,
        connections: &mut usize,
    ) -> Result<(), Cut> {
        for _ in 0..2 {
            if !self.connect(session, server, connections)? {
                return Ok(());
            }
        }
        // Both send while the server is paused, so that one wait returns both.
        server.pause().map_err(Cut::after_pause)?;
        for client in &mut self.clients {
            client.release();
        }
        let delivered = eventually(Duration::from_secs(1), || {
            self.clients.iter().all(|client| delivered(server, client))
        });
        server
            .resume(RESUME_GRACE, || {})
            .map_err(Cut::after_pause)?;
        self.end_uploads(server);
        if !delivered {
            self.silent.not_probed =
                Some("the paused server's two clients did not send in time".into());
            return Ok(());
        }
        wait_for_reports(server, *connections, REPORT_WAIT)?;
        wait_until_idle(server, IDLE_WAIT);
        for _ in 0..2 {
            if !self.connect(session, server, connections)? {
                return Ok(());
            }
        }
        self.silent.probed = true;
        if self.silent.announced.is_none() {
            self.past_the_timeout(server);
        }
        Ok(())
    }

    /// A wait with a timeout goes through the loop with nothing ready each time it times
    /// out: the silent clients are held past one timeout (the server's epoll_wait shows
    /// it in /proc/PID/syscall), and then must still be silent and the server idle.
    fn past_the_timeout(&mut self, server: &ServerUnderTest) {
        let Some(timeout) =
            inspect::epoll_timeout(server.pid).and_then(|ms| u64::try_from(ms).ok())
        else {
            return;
        };
        let timeout = Duration::from_millis(timeout);
        if timeout.is_zero() {
            // A wait that never sleeps: the watch for spinning judges it.
            return;
        }
        if timeout > LONGEST_TIMEOUT {
            self.silent.not_probed = Some(format!(
                "its epoll_wait's timeout of {} ms is longer than the {} ms the checker holds a \
                 client silent",
                timeout.as_millis(),
                LONGEST_TIMEOUT.as_millis()
            ));
            self.silent.probed = false;
            return;
        }
        let pid = server.pid;
        let runs = inspect::times_run(pid);
        // Woken by the timeout and asleep again, or blocked elsewhere.
        eventually(timeout + TIMEOUT_MARGIN, || {
            inspect::times_run(pid) > runs && inspect::activity(pid) != inspect::Activity::Running
        });
        self.silent.announced = self.announced(&server.output());
        let listener = inspect::listening_socket(server.port);
        let at = inspect::whereabouts(pid, listener);
        let nobody_knocks = inspect::listener(server.port).is_some_and(|row| row.queued == 0);
        if at.activity == inspect::Activity::Accept
            && at.on == Some(inspect::Waited::Listener)
            && nobody_knocks
        {
            self.silent.accepted_unreported = Some(AcceptedUnreported { timeout, at });
        }
    }

    /// Connects one more silent client and waits until the server has accepted it and
    /// sits idle again; false when the stage cannot go on (`not_probed` says why). A
    /// silent client the server announced is noted and released: a server that then
    /// reads it in its loop can go on, and later silent clients show how the server
    /// registers them.
    fn connect(
        &mut self,
        session: &Session,
        server: &mut ServerUnderTest,
        connections: &mut usize,
    ) -> Result<bool, Cut> {
        let (hold, closing) = (Hold::new(0), Hold::new(BYTES));
        let plan = Plan {
            file: session.file.to_owned(),
            bytes: BYTES,
            milestone: BYTES,
            hold: Some(hold.clone()),
            drain_at: None,
            closing: Some(closing.clone()),
        };
        let number = FIRST + self.clients.len();
        let before = accepted_lines(&server.output()).len();
        let uploads = session.uploads(server, &plan, number, 1);
        *connections += 1;
        self.clients.push(Quiet {
            hold,
            closing,
            uploads,
            accepted: None,
            released: false,
        });
        let accepted = wait_until_accepted(server, before);
        server.check_running().map_err(Cut::ServerStopped)?;
        let Some(accepted) = accepted else {
            self.silent.not_probed = Some(format!(
                "the server printed no `<< New client connected on socket <fd> >>` for a silent \
                 client within {} s",
                ACCEPT_WAIT.as_secs()
            ));
            return Ok(false);
        };
        self.clients.last_mut().expect("just pushed").accepted = Some(accepted);
        wait_until_idle_or_announced(server, accepted);
        let announced = self.announced(&server.output());
        if let Some(announced) = announced {
            self.silent.announced.get_or_insert(announced);
            for client in &mut self.clients {
                if client.upload().number == announced.client {
                    client.release();
                    client.closing.release();
                }
            }
            wait_until_idle(server, IDLE_WAIT);
        }
        server.check_running().map_err(Cut::ServerStopped)?;
        Ok(true)
    }

    /// Lets the released clients end their uploads once the server's loop is done with
    /// them (one second at most): every one announced and the server back in epoll_wait,
    /// or the server blocked elsewhere, receiving an upload itself (task 1).
    fn end_uploads(&self, server: &ServerUnderTest) {
        eventually(IDLE_WAIT, || {
            let output = server.output();
            match inspect::activity(server.pid) {
                inspect::Activity::Running => false,
                inspect::Activity::EpollWait => self
                    .clients
                    .iter()
                    .filter(|client| client.released)
                    .filter_map(|client| client.accepted)
                    .all(|(fd, at)| announced_after(&output, fd, at)),
                _ => true,
            }
        });
        for client in self.clients.iter().filter(|client| client.released) {
            client.closing.release();
        }
    }

    /// The first client still held silent that the server announced all the same.
    fn announced(&self, output: &[String]) -> Option<SilentAnnounced> {
        self.clients.iter().find_map(|client| {
            let (fd, at) = client.accepted.filter(|_| !client.released)?;
            (announced_after(output, fd, at) && client.upload().sent() == 0).then_some(
                SilentAnnounced {
                    client: client.upload().number,
                    fd,
                },
            )
        })
    }
}

/// The sockets of the `<< New client connected on socket <fd> >>` lines in `output`, and
/// each line's place.
fn accepted_lines(output: &[String]) -> Vec<(i32, usize)> {
    output
        .iter()
        .enumerate()
        .filter_map(|(at, line)| match Line::parse(line) {
            Some(Line::Connected { fd }) => Some((fd, at)),
            _ => None,
        })
        .collect()
}

/// Whether `client` has sent its whole file and the kernel has put it all in the server's
/// socket: nothing it sent is still unacknowledged.
fn delivered(server: &ServerUnderTest, client: &Quiet) -> bool {
    let upload = client.upload();
    let Some(port) = upload.local_port() else {
        return false;
    };
    upload.sent() == BYTES
        && match inspect::connection(&inspect::tcp_table(), server.port, port) {
            (Some(ours), _) => ours.unsent == 0,
            (None, _) => true,
        }
}

/// The first look: the fresh server's first upload, `uploads`, is held silent (`hold` at
/// 0) until the server has accepted it (its first line of acceptance) and sits idle, or
/// has announced it. Releases it.
pub fn first_look(server: &ServerUnderTest, uploads: &Uploads, hold: &Hold) -> FirstLook {
    let mut look = FirstLook {
        client: uploads.uploads[0].number,
        ..FirstLook::default()
    };
    if let Some(accepted) = wait_until_accepted(server, 0) {
        wait_until_idle_or_announced(server, accepted);
        let (fd, at) = accepted;
        look.fd = Some(fd);
        look.registered = registered(server.pid, fd);
        look.announced =
            uploads.uploads[0].sent() == 0 && announced_after(&server.output(), fd, at);
    }
    hold.release();
    look
}

/// What the registration of `fd` in the epoll instances of `pid` asks for, if it is there.
fn registered(pid: i32, fd: i32) -> Registered {
    match inspect::epoll_registrations(pid)
        .iter()
        .find(|registration| registration.fd == fd)
    {
        Some(registration) if registration.events & EPOLLOUT != 0 => Registered::ForOutput,
        Some(_) => Registered::InputOnly,
        None => Registered::NotSeen,
    }
}

/// Waits until the server prints acceptance line number `before` (counted from 0);
/// returns its socket and place.
fn wait_until_accepted(server: &ServerUnderTest, before: usize) -> Option<(i32, usize)> {
    let mut accepted = None;
    eventually(ACCEPT_WAIT, || {
        accepted = accepted_lines(&server.output()).get(before).copied();
        accepted.is_some()
    });
    accepted
}

/// Waits until the server sits idle, or has announced the client it accepted on socket
/// `fd` at line `at` (whose handler may then wait for it).
fn wait_until_idle_or_announced(server: &ServerUnderTest, (fd, at): (i32, usize)) {
    let mut looks = 0;
    eventually(IDLE_WAIT, || {
        looks = if sits_idle(server.pid) { looks + 1 } else { 0 };
        looks == 2 || announced_after(&server.output(), fd, at)
    });
}

/// Whether `output` announces socket `fd` after line `at`.
fn announced_after(output: &[String], fd: i32, at: usize) -> bool {
    output
        .iter()
        .skip(at + 1)
        .any(|line| Line::parse(line) == Some(Line::WantsToSend { fd }))
}

/// The first report of a client of the stage that is not the size it sent. `accepted`:
/// each client's acceptance line (its socket and place in `output`) and its number; a
/// report belongs to the client last accepted on its socket.
fn miscounted(accepted: &[((i32, usize), usize)], output: &[String]) -> Option<WrongCount> {
    let mut owner = HashMap::new();
    for (at, line) in output.iter().enumerate() {
        match Line::parse(line) {
            Some(Line::Connected { fd }) => {
                match accepted.iter().find(|(line, _)| *line == (fd, at)) {
                    Some(&(_, client)) => owner.insert(fd, client),
                    None => owner.remove(&fd),
                };
            }
            Some(Line::Received { bytes, fd }) if bytes != BYTES => {
                if let Some(&client) = owner.get(&fd) {
                    return Some(WrongCount {
                        client,
                        sent: BYTES,
                        reported: bytes,
                    });
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrong_report_is_put_down_to_the_client_last_accepted_on_its_socket() {
        let output: Vec<String> = [
            "<< New client connected on socket 6 >>",
            "Received 999 bytes from [Client 6]",
            "<< New client connected on socket 6 >>",
            "<< New client connected on socket 7 >>",
            "Received 1000 bytes from [Client 7]",
            "Received 12 bytes from [Client 6]",
        ]
        .iter()
        .map(|line| (*line).to_owned())
        .collect();
        // The first line is an earlier client's, not the stage's: its report is not judged.
        let stage = [((6, 2), 25), ((7, 3), 26)];
        assert_eq!(
            miscounted(&stage, &output),
            Some(WrongCount {
                client: 25,
                sent: BYTES,
                reported: 12
            })
        );
        assert_eq!(miscounted(&stage, &output[..5]), None);
    }
}
