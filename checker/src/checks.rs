//! The graded checks. Each scenario starts a fresh server, runs clients against it, and
//! judges the server from what /proc shows and from the byte counts it reports. A new
//! check is one `Check` constant, one function that judges it, and the evidence its
//! scenario gathers (in [`Observed`] for the uploads at once).

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gen_testfile::human_size;
use lab::MIB;

use crate::clients::{ClientLog, Uploads};
use crate::inspect;
use crate::report::Progress;
use crate::supervise::{ServerUnderTest, free_port};

/// One line of the grading table.
#[derive(Debug)]
pub struct Check {
    pub name: &'static str,
    /// Points out of 100; 0 for the bonus, which is reported but not counted.
    pub points: u32,
}

impl Check {
    /// A check worth 25 of the 100 points.
    const fn graded(name: &'static str) -> Self {
        Check { name, points: 25 }
    }
}

pub const WHOLE_UPLOAD: Check = Check::graded("task 1: receives a whole upload");
pub const KEEPS_SERVING: Check = Check::graded("task 1: keeps serving");
pub const CONCURRENT: Check = Check::graded("task 2: concurrent uploads");
pub const PROCESS_PER_CLIENT: Check = Check::graded("task 2: a process per client");
pub const NO_ZOMBIES: Check = Check {
    name: "bonus: no zombies",
    points: 0,
};

/// The verdict on one check: passed, or failed with the reason in plain words.
#[derive(Debug)]
pub struct Verdict {
    pub check: &'static Check,
    pub failure: Option<String>,
}

impl Verdict {
    fn of(check: &'static Check, outcome: Result<(), String>) -> Self {
        Verdict {
            check,
            failure: outcome.err(),
        }
    }

    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }
}

/// No byte moved for this long: the server has stopped reading.
const STALL: Duration = Duration::from_secs(5);
/// The first progress report must come this soon.
const FIRST_PROGRESS: Duration = Duration::from_secs(10);
/// How long the server may take to print its report after a client has sent everything.
const REPORT_WAIT: Duration = Duration::from_secs(15);
/// How often the checker looks at the server while uploads run.
const TICK: Duration = Duration::from_millis(20);

/// Everything the scenarios share: the server to run, the file to upload, the logs.
pub struct Session<'a> {
    pub binary: &'a Path,
    pub port: Option<u16>,
    pub file: &'a Path,
    pub size: u64,
    pub server_log: &'a Path,
    pub client_log: Arc<ClientLog>,
    pub progress: &'a Progress,
}

impl Session<'_> {
    fn start_server(&self, title: &str) -> Result<ServerUnderTest, String> {
        let port = match self.port {
            Some(port) => port,
            None => free_port().map_err(|e| format!("cannot find a free port: {e}"))?,
        };
        let mut server = ServerUnderTest::start(self.binary, port, self.server_log, title)?;
        server.wait_until_listening(Duration::from_secs(5))?;
        Ok(server)
    }

    fn uploads(
        &self,
        server: &ServerUnderTest,
        first: usize,
        count: usize,
        bytes: u64,
        milestone: u64,
    ) -> Uploads {
        Uploads::start(
            &self.client_log,
            server.port,
            (self.file, bytes),
            first,
            count,
            milestone,
        )
    }

    /// Watches running uploads until all have ended. Every tick, `look` may end the watch
    /// early with a reason; so do a stopped server and a stall.
    fn watch(
        &self,
        server: &mut ServerUnderTest,
        uploads: &Uploads,
        mut look: impl FnMut(&mut ServerUnderTest, &Uploads) -> ControlFlow<String>,
    ) -> Result<(), String> {
        let (mut last_total, mut last_move) = (0, Instant::now());
        let outcome = loop {
            self.progress.show(uploads);
            let all_ended = uploads.all_ended();
            if let Err(stopped) = server.check_running() {
                break Err(stopped);
            }
            if let ControlFlow::Break(reason) = look(server, uploads) {
                break Err(reason);
            }
            if all_ended {
                break Ok(());
            }
            let total = uploads.total_sent();
            if total != last_total {
                (last_total, last_move) = (total, Instant::now());
            } else if last_move.elapsed() > STALL {
                break Err(format!(
                    "no data moved for {} s: the server stopped reading the uploads (clients had sent {} of {} bytes)",
                    STALL.as_secs(),
                    total,
                    uploads.uploads.len() as u64 * uploads.bytes
                ));
            }
            thread::sleep(TICK);
        };
        self.progress.clear();
        outcome?;
        for upload in &uploads.uploads {
            if let Some(Err(error)) = upload.ended() {
                server.check_running()?;
                return Err(format!("client {} failed: {error}", upload.number));
            }
        }
        Ok(())
    }
}

/// The byte counts of the server's `Received <bytes> bytes from [Client <fd>]` lines.
fn received_counts(output: &[String]) -> Vec<u64> {
    output
        .iter()
        .filter_map(|line| {
            let rest = line.strip_prefix("Received ")?;
            let (bytes, client) = rest.split_once(" bytes from [Client ")?;
            client.strip_suffix(']')?;
            bytes.parse().ok()
        })
        .collect()
}

/// Lines that report an error: a panic, or `<program>: <what failed>...`.
fn error_lines(output: &[String]) -> Vec<&String> {
    output
        .iter()
        .filter(|line| {
            line.contains("panicked at")
                || line
                    .split_once(' ')
                    .is_some_and(|(first, _)| first.len() > 1 && first.ends_with(':'))
        })
        .collect()
}

/// Waits until the server has printed at least `count` upload reports; returns them all.
fn wait_for_reports(
    server: &mut ServerUnderTest,
    count: usize,
    timeout: Duration,
) -> Result<Vec<u64>, String> {
    let deadline = Instant::now() + timeout;
    loop {
        let counts = received_counts(&server.output());
        if counts.len() >= count {
            return Ok(counts);
        }
        server.check_running()?;
        if Instant::now() > deadline {
            return Err(format!(
                "the clients sent everything, but after {} s the server has reported {} of {count} uploads (`Received <bytes> bytes from [Client <fd>]`)",
                timeout.as_secs(),
                counts.len()
            ));
        }
        thread::sleep(TICK);
    }
}

/// Polls `probe` until it is true or `timeout` passes; returns its last answer.
fn eventually(timeout: Duration, mut probe: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if probe() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        thread::sleep(TICK);
    }
}

const NOT_EPOLL: &str = "the listening socket is not registered in any epoll instance of the server \
(/proc/<pid>/fdinfo shows no registration for it), so the server does not wait with epoll. Look at TODO 1";

/// What the checker saw while the uploads ran.
#[derive(Default)]
struct Observed {
    /// Whether the listening socket was ever seen in an epoll instance of the server.
    listener_registered: bool,
    /// The most live children seen at any moment before an upload ended.
    most_children: usize,
    /// Live children and stale registrations once every client was past the milestone.
    peak: Option<(usize, Vec<inspect::Registration>)>,
    /// Why the uploads did not run at the same time, if they did not.
    serialized: Option<String>,
}

/// The main scenario: `clients` whole uploads started together on a fresh server. The
/// first upload received judges task 1; all of them together judge task 2 and the bonus.
/// Returns the verdicts on whole upload, concurrent uploads, a process per client and
/// no zombies.
pub fn uploads_at_once(session: &Session, clients: usize) -> [Verdict; 4] {
    let size = session.size;
    let title = format!("{clients} whole uploads of {} at once", human_size(size));
    session.client_log.note(&title);
    let mut server = match session.start_server(&title) {
        Ok(server) => server,
        Err(reason) => return task_one_first(Verdict::of(&WHOLE_UPLOAD, Err(reason))),
    };
    let pid = server.pid;
    let mut seen = Observed {
        listener_registered: eventually(Duration::from_millis(500), || {
            inspect::listener_registered(pid, server.port)
        }),
        ..Observed::default()
    };
    let before = settled_descriptors(pid);
    // A quarter of a small file: enough to tell side by side from one after the other (a
    // waiting client gets a few hundred KiB into the kernel's buffers), while a busy
    // machine can make one of two healthy uploads half as fast as the other.
    let milestone = if clients == 1 { size } else { size / 4 }.min(lab::PROGRESS_STEP);
    let uploads = session.uploads(&server, 1, clients, size, milestone);
    let watched = session.watch(&mut server, &uploads, |server, uploads| {
        observe(server, uploads, milestone, &mut seen)
    });
    let reports = match &watched {
        Ok(()) => wait_for_reports(&mut server, clients, REPORT_WAIT),
        // Whatever went wrong, what the server reported for the first upload still tells
        // whether it received that one whole.
        Err(reason) => {
            wait_for_reports(&mut server, 1, Duration::from_secs(1)).map_err(|_| reason.clone())
        }
    };
    seen.listener_registered =
        seen.listener_registered || inspect::listener_registered(pid, server.port);

    let sent_all = uploads.uploads.iter().any(|upload| upload.finished());
    let whole = whole_upload(sent_all, size, &seen, &watched, &reports);
    if whole.is_err() {
        return task_one_first(Verdict::of(&WHOLE_UPLOAD, whole));
    }
    let concurrent = match (seen.serialized.take(), &watched, &reports) {
        (Some(serialized), _, _) => Err(serialized),
        (None, Err(reason), _) | (None, Ok(()), Err(reason)) => Err(reason.clone()),
        (None, Ok(()), Ok(counts)) => all_reported_once(counts, clients, size),
    };
    let per_client = process_per_client(&mut server, clients, before, &seen, &watched);
    let no_zombies = if seen.most_children == 0 {
        Err("not checked: the server forked no child processes".to_owned())
    } else {
        no_zombies_left(pid)
    };
    [
        Verdict::of(&WHOLE_UPLOAD, whole),
        Verdict::of(&CONCURRENT, concurrent),
        Verdict::of(&PROCESS_PER_CLIENT, per_client),
        Verdict::of(&NO_ZOMBIES, no_zombies),
    ]
}

/// The verdicts when the first upload already failed: task 2 is not judged.
fn task_one_first(whole: Verdict) -> [Verdict; 4] {
    let not_run = |check| {
        let why = "not checked: the server must first receive a whole upload (task 1)";
        Verdict::of(check, Err(why.to_owned()))
    };
    [
        whole,
        not_run(&CONCURRENT),
        not_run(&PROCESS_PER_CLIENT),
        not_run(&NO_ZOMBIES),
    ]
}

/// Task 1, first check: epoll is used, and the first upload was received whole.
fn whole_upload(
    sent_all: bool,
    size: u64,
    seen: &Observed,
    watched: &Result<(), String>,
    reports: &Result<Vec<u64>, String>,
) -> Result<(), String> {
    if !seen.listener_registered {
        return Err(NOT_EPOLL.to_owned());
    }
    match (reports, watched) {
        (Ok(counts), _) if counts[0] != size => Err(format!(
            "the server reported {} bytes, but the client sent {size}: it must read until the client closes the connection (read returns 0)",
            counts[0]
        )),
        // A report is only believed if a client really got its whole file through.
        (Ok(_), _) if sent_all => Ok(()),
        (_, Err(reason)) | (Err(reason), Ok(())) => Err(reason.clone()),
        (Ok(_), Ok(())) => Err("no client got its whole file through".to_owned()),
    }
}

/// Task 2, first check: every upload reported once, with the right size.
fn all_reported_once(counts: &[u64], clients: usize, size: u64) -> Result<(), String> {
    if counts.len() == clients && counts.iter().all(|&bytes| bytes == size) {
        return Ok(());
    }
    Err(format!(
        "{clients} uploads of {size} bytes each, but the server reported {counts:?}: each upload must be reported once, by the process that received it"
    ))
}

/// One look at the server while the uploads run.
fn observe(
    server: &ServerUnderTest,
    uploads: &Uploads,
    milestone: u64,
    seen: &mut Observed,
) -> ControlFlow<String> {
    let pid = server.pid;
    seen.listener_registered =
        seen.listener_registered || inspect::listener_registered(pid, server.port);
    let live = inspect::children(pid)
        .iter()
        .filter(|child| !child.is_zombie())
        .count();
    let any_ended = uploads
        .uploads
        .iter()
        .any(|upload| upload.ended().is_some());
    if !any_ended {
        seen.most_children = seen.most_children.max(live);
    }
    let all_past = uploads
        .uploads
        .iter()
        .all(|upload| upload.reached_milestone());
    if all_past && !any_ended && seen.peak.is_none() {
        seen.peak = Some((live, inspect::stale_registrations(pid)));
    }
    let none_past = uploads
        .uploads
        .iter()
        .all(|upload| !upload.reached_milestone());
    if none_past && uploads.started.elapsed() > FIRST_PROGRESS {
        return ControlFlow::Break(format!(
            "after {} s no client had sent {} MiB (the most any had sent: {} bytes): the server does not read the uploads",
            FIRST_PROGRESS.as_secs(),
            milestone / MIB,
            uploads
                .uploads
                .iter()
                .map(|upload| upload.sent())
                .max()
                .unwrap_or(0)
        ));
    }
    let finished = uploads.uploads.iter().find(|upload| upload.finished());
    let behind = uploads
        .uploads
        .iter()
        .find(|upload| !upload.reached_milestone());
    if let (Some(finished), Some(behind)) = (finished, behind) {
        seen.serialized = Some(format!(
            "client {} finished its upload while client {} had sent only {} bytes (not yet {} MiB): the server serves one client at a time",
            finished.number,
            behind.number,
            behind.sent(),
            milestone / MIB
        ));
        return ControlFlow::Break("the uploads did not run at the same time".to_owned());
    }
    ControlFlow::Continue(())
}

/// Task 1, second check: two small uploads one after the other on a fresh server, which
/// must then sit idle with nothing left over. Clients are numbered from `first`.
pub fn keeps_serving(session: &Session, first: usize) -> Verdict {
    Verdict::of(&KEEPS_SERVING, two_clients_in_turn(session, first))
}

fn two_clients_in_turn(session: &Session, first: usize) -> Result<(), String> {
    let title = "two small uploads one after the other";
    session.client_log.note(title);
    let mut server = session.start_server(title)?;
    let bytes = session.size.min(MIB);
    for turn in 0..2 {
        let uploads = session.uploads(&server, first + turn, 1, bytes, bytes);
        session.watch(&mut server, &uploads, |_, _| ControlFlow::Continue(()))?;
        let counts = wait_for_reports(&mut server, turn + 1, REPORT_WAIT)?;
        if counts[turn] != bytes {
            return Err(format!(
                "client {} sent {bytes} bytes, but the server reported {}",
                first + turn,
                counts[turn]
            ));
        }
    }
    let cpu = idle_cpu(server.pid);
    server.check_running()?;
    if cpu > Duration::from_millis(150) {
        return Err(format!(
            "the server is spinning: with no client connected it used {} ms of CPU in 300 ms. A finished client is still in epoll, which keeps reporting it: remove it, then close it (TODO 4)",
            cpu.as_millis()
        ));
    }
    let output = server.output();
    let wants = output
        .iter()
        .filter(|line| line.ends_with(" wants to send a file"))
        .count();
    let reports = received_counts(&output).len();
    if wants != 2 || reports != 2 {
        return Err(format!(
            "2 connections, but the server handled {wants} (`wants to send a file`) and reported {reports} uploads: each connection must be handled once, then removed from epoll and closed (TODO 4)"
        ));
    }
    if let Some(error) = error_lines(&output).first() {
        return Err(format!("the server printed an error: {error}"));
    }
    if !inspect::listener_registered(server.pid, server.port) {
        return Err(NOT_EPOLL.to_owned());
    }
    stale_registrations(server.pid)
}

/// CPU time the server uses in 300 ms with nothing to do.
fn idle_cpu(pid: i32) -> Duration {
    thread::sleep(Duration::from_millis(50));
    let before = inspect::cpu_time(pid).unwrap_or_default();
    thread::sleep(Duration::from_millis(300));
    inspect::cpu_time(pid)
        .unwrap_or_default()
        .saturating_sub(before)
}

fn stale_registrations(pid: i32) -> Result<(), String> {
    match inspect::stale_registrations(pid).as_slice() {
        [] => Ok(()),
        stale => Err(stale_registrations_message(pid, stale)),
    }
}

fn process_per_client(
    server: &mut ServerUnderTest,
    n: usize,
    before: Option<usize>,
    seen: &Observed,
    watched: &Result<(), String>,
) -> Result<(), String> {
    let pid = server.pid;
    let children = seen
        .peak
        .as_ref()
        .map_or(seen.most_children, |(live, _)| *live);
    if children != n {
        let advice = if children == 0 {
            "it received the uploads itself. Fork a child per upload (TODO 5)"
        } else {
            "there must be one child per running upload (TODO 5)"
        };
        return Err(format!(
            "while {n} uploads ran the server had {children} child processes: {advice}"
        ));
    }
    if let Some((_, stale)) = &seen.peak
        && !stale.is_empty()
    {
        return Err(stale_registrations_message(pid, stale));
    }
    watched.clone()?;
    eventually(REPORT_WAIT, || {
        inspect::children(pid).iter().all(|child| child.is_zombie())
    });
    let Some(before) = before else {
        return Err("could not count the server's descriptors before the clients".to_owned());
    };
    let mut after = None;
    eventually(Duration::from_secs(2), || {
        after = inspect::open_descriptors(pid);
        after == Some(before)
    });
    server.check_running()?;
    if let Some(after) = after
        && after != before
    {
        return Err(format!(
            "the server had {before} open descriptors before the clients and {after} after they were all done: \
             the parent keeps its copy of each client socket. After the fork, remove it from epoll and close it (TODO 4, TODO 5)"
        ));
    }
    stale_registrations(pid)
}

fn stale_registrations_message(pid: i32, stale: &[inspect::Registration]) -> String {
    let mut fds: Vec<_> = stale.iter().map(|registration| registration.fd).collect();
    fds.sort_unstable();
    fds.dedup();
    let fds: Vec<_> = fds.iter().map(ToString::to_string).collect();
    format!(
        "the server's epoll instance still watches descriptor(s) {} for sockets the server has already closed \
         (another process still holds them, so epoll keeps the registrations and keeps reporting them; see /proc/{pid}/fdinfo). \
                  Remove a client from epoll before closing it (TODO 4)",
        fds.join(", ")
    )
}

/// The server's open descriptors once it sits idle (two equal counts in a row).
fn settled_descriptors(pid: i32) -> Option<usize> {
    let mut last = None;
    eventually(Duration::from_secs(1), || {
        let now = inspect::open_descriptors(pid);
        let settled = now.is_some() && now == last;
        last = now;
        settled
    });
    last
}

fn no_zombies_left(pid: i32) -> Result<(), String> {
    let zombies = || {
        inspect::children(pid)
            .iter()
            .filter(|child| child.is_zombie())
            .count()
    };
    if eventually(Duration::from_secs(1), || zombies() == 0) {
        return Ok(());
    }
    Err(format!(
        "{} finished children of the server are still zombies a second after the last upload: nobody collected their exit status. Reap them (TODO 6 and TODO 7)",
        zombies()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn reports_are_read_only_from_the_exact_line() {
        let output = lines(
            "Received 10 bytes from [Client 5]\nReceived 3 bytes\nReceived 0 bytes from [Client 6]",
        );
        assert_eq!(received_counts(&output), [10, 0]);
    }

    #[test]
    fn error_lines_are_panics_and_program_prefixes() {
        let output = lines(
            "Server listening on 127.0.0.1:5000\n<< New client connected on socket 4 >>\nserver: receiving from client 4: reset\nthread 'main' panicked at x.rs:1:1:",
        );
        assert_eq!(error_lines(&output).len(), 2);
    }
}
