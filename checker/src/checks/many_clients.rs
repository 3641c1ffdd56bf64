//! `--experiment clients`: the two designs of the lab side by side, on the same binary.
//! For each number of clients, a fresh server with `--mode blocking` (a process per
//! client, once task 2 is done) and one with `--mode async` (task 3's one loop) each take
//! the same small uploads, all started together, while the checker samples the server and
//! its children: memory (PSS), processes and context switches.
//!
//! A child of a small upload lives a few milliseconds, and reading the memory of hundreds
//! of processes takes longer than that: looks alone would see a handful of children come
//! and go, and a memory ratio of whatever they happened to catch. So every client pauses
//! halfway through its upload, its connection open, until the checker has seen the server
//! with every client under way at once (a child per client, for a process per client) and
//! measured it then; the clock stops meanwhile. Where that moment never comes, the row says
//! how many processes were seen at most, and no memory is compared for it.

mod samples;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use self::samples::{Samples, listen_overflows};
use crate::checks::finding::Finding;
use crate::checks::lasting::Lasting;
use crate::checks::printed::Printed;
use crate::checks::{REPORT_WAIT, Session, Started};
use crate::clients::{Hold, Plan, Uploads};
use crate::observe::Observer;
use crate::server::{ServerUnderTest, guard};
use crate::trouble::Trouble;

/// The numbers of clients tried when none are given.
pub const DEFAULT_COUNTS: [usize; 4] = [1, 10, 100, 500];

/// The most clients one run may start: each is a thread of the checker and a socket.
pub const MOST_CLIENTS: usize = 1000;

/// What each client uploads: small, so that many clients are about connections and
/// processes, not about bytes.
pub const UPLOAD: u64 = 256 * 1024;

/// How often the experiment looks at the server and its children.
const LOOK: Duration = Duration::from_millis(2);

/// No byte moved for this long: the run is cut short.
const STALL: Duration = Duration::from_secs(10);

/// How long the checker waits, every client held halfway, for the server to have every
/// client under way at once (a process per client: a live child per client).
const TOGETHER: Duration = Duration::from_secs(5);

/// No byte moved for this long before every client reached its pause: the clients that
/// are not there yet wait for the server, and the look at everyone under way is taken
/// as things are.
const NO_MORE_ARRIVING: Duration = Duration::from_secs(1);

/// A design of the server, by the `--mode` that selects it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Design {
    /// `--mode blocking`: each upload received by a child process of its own (task 2).
    Processes,
    /// `--mode async`: every upload received by the server's one loop (task 3).
    OneLoop,
}

impl Design {
    pub const BOTH: [Design; 2] = [Design::Processes, Design::OneLoop];

    pub fn name(self) -> &'static str {
        match self {
            Design::Processes => "a process per client",
            Design::OneLoop => "one loop",
        }
    }

    fn mode(self) -> &'static str {
        match self {
            Design::Processes => "blocking",
            Design::OneLoop => "async",
        }
    }
}

/// One design at one number of clients.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadRow {
    pub clients: usize,
    pub design: Design,
    pub load: Result<Load, String>,
}

/// What one design took for one number of clients.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Load {
    /// From the first client's start to the last report.
    pub seconds: f64,
    /// The most memory the server and its children held at one look, in bytes: the sum
    /// of their PSS (each page shared by n processes counted 1/n in each).
    pub peak_memory: u64,
    /// The same as the sum of their resident sets (a shared page counted in each).
    pub peak_resident: u64,
    /// The most processes at one look: the server and its live children.
    pub processes: usize,
    /// The processes expected at once with every client under way: the server and a child
    /// per client for a process per client, the server alone for one loop. Fewer seen
    /// (`processes`) means the peaks measure fewer clients than the row's.
    pub expected_processes: usize,
    /// Context switches of the server and every child seen, voluntary and not. A child
    /// that ends between two looks is not seen: for the processes this is a lower bound.
    pub switches: u64,
    /// How many connections the kernel dropped meanwhile because the listener's queue of
    /// connections not yet accepted was full (/proc/net/netstat, ListenOverflows): each
    /// one makes a client wait a second before it tries again.
    pub overflows: u64,
}

/// The experiment's rows, or why it could not start (what the server did wrong).
pub type LoadRows = Result<Vec<LoadRow>, String>;

/// Runs every design at every count in `counts`. Fails only with the checker's own
/// trouble; a run that a server or a limit cut short is a row with its reason.
pub fn compare(session: &Session, counts: &[usize]) -> Result<LoadRows, Trouble> {
    // Hundreds of progress bars say nothing: the experiment's table is its output.
    let quiet = Quiet;
    let session = Session {
        observer: &quiet,
        contained: session.contained,
        client_log: session.client_log.clone(),
        ..*session
    };
    let mut rows = Vec::new();
    let mut first = 1;
    for &clients in counts {
        for design in Design::BOTH {
            let load = run_once(&session, design, clients, first)?;
            first += clients;
            if let Err(why) = &load
                && clients == counts[0]
                && design == Design::Processes
                && why.starts_with("the server")
            {
                return Ok(Err(why.clone()));
            }
            rows.push(LoadRow {
                clients,
                design,
                load,
            });
        }
    }
    Ok(Ok(rows))
}

struct Quiet;

impl Observer for Quiet {}

/// One fresh server of `design`, `clients` uploads started together, sampled throughout.
fn run_once(
    session: &Session,
    design: Design,
    clients: usize,
    first: usize,
) -> Result<Result<Load, String>, Trouble> {
    let mut server = match start_design(session, design, clients)? {
        Ok(server) => server,
        Err(cut) => return Ok(Err(Finding::Cut(cut).to_string())),
    };
    let pid = server.pid;
    let hold = Hold::new(UPLOAD / 2);
    let plan = Plan {
        drain_at: None,
        closing: None,
        hold: Some(Arc::clone(&hold)),
        ..session.plan(UPLOAD, UPLOAD)
    };
    let expected_processes = match design {
        Design::Processes => clients + 1,
        Design::OneLoop => 1,
    };
    let overflows_before = listen_overflows();
    let mut samples = Samples::default();
    let started = Instant::now();
    let uploads = session.uploads(&server, &plan, first, clients);
    let watched = watch_uploads(
        &mut server,
        &uploads,
        &hold,
        &mut samples,
        clients,
        expected_processes,
    );
    let held_for = match watched {
        Ok(held_for) => held_for,
        Err(why) => return Ok(Err(why)),
    };
    let reports = match last_reports(&mut server, &mut samples, clients) {
        Ok(reports) => reports,
        Err(why) => return Ok(Err(why)),
    };
    let seconds = started
        .elapsed()
        .saturating_sub(held_for.unwrap_or_default())
        .as_secs_f64();
    samples.take(pid);
    let overflows = listen_overflows().saturating_sub(overflows_before);
    match reports {
        reports if reports.iter().any(|&bytes| bytes != UPLOAD) => Ok(Err(format!(
            "the server reported other sizes than the {UPLOAD} bytes each client sent"
        ))),
        _ => Ok(Ok(Load {
            seconds,
            peak_memory: samples.peak_memory,
            peak_resident: samples.peak_resident,
            processes: samples.processes,
            expected_processes,
            switches: samples.switches.values().sum(),
            overflows,
        })),
    }
}

/// Starts a fresh server of `design` for `clients` clients, allowed a process per client
/// on top of the usual limit for a process per client.
fn start_design(session: &Session, design: Design, clients: usize) -> Result<Started, Trouble> {
    let title = format!(
        "experiment: {clients} clients, {} (--mode {})",
        design.name(),
        design.mode()
    );
    session.client_log.note(&title);
    let args = ["--mode".to_owned(), design.mode().to_owned()];
    // A process per client, and the usual allowance on top: the experiment's own limit.
    let processes = (design == Design::Processes).then_some(clients + guard::MAX_PROCESSES);
    session.start_server_allowing(&title, &args, processes)
}

/// Samples the server until every client has ended. Once every client waits at its
/// pause (or no more arrive), looks until everyone is under way and lets the clients go
/// on; returns how long that took, which the clock leaves out. Fails with why the run was
/// cut short: the server stopped, no byte moved for [`STALL`], or a client failed.
fn watch_uploads(
    server: &mut ServerUnderTest,
    uploads: &Uploads,
    hold: &Hold,
    samples: &mut Samples,
    clients: usize,
    expected_processes: usize,
) -> Result<Option<Duration>, String> {
    let pid = server.pid;
    // Looks as often as they take: the watch of the graded checks reads much more of
    // every process per look, and would see a child of a short upload once at most.
    let (mut arriving, mut still) = (Lasting::new(NO_MORE_ARRIVING), Lasting::new(STALL));
    let mut held_for = None;
    while uploads.ended() < clients {
        samples.take(pid);
        if held_for.is_none()
            && (all_held(uploads, hold.at)
                || arriving.holds_as(Some(uploads.total_sent())).is_some())
        {
            held_for = Some(everyone_under_way(samples, pid, expected_processes));
            hold.release();
            still = Lasting::new(STALL);
        }
        server.check_running().map_err(|stopped| stopped.how)?;
        let total = uploads.total_sent();
        if still.holds_as(Some(total)).is_some() {
            return Err(format!(
                "no byte moved for {} s (the clients had sent {total} of {} bytes)",
                STALL.as_secs(),
                clients as u64 * UPLOAD
            ));
        }
        thread::sleep(LOOK);
    }
    if let Some(error) = uploads
        .uploads
        .iter()
        .find_map(|upload| upload.ended()?.as_ref().err())
    {
        return Err(format!("a client failed: {error}"));
    }
    Ok(held_for)
}

/// The server's reports of every upload, looked for as often as the samples are taken:
/// the clock stops at the last. Fails with why they did not all come.
fn last_reports(
    server: &mut ServerUnderTest,
    samples: &mut Samples,
    clients: usize,
) -> Result<Vec<u64>, String> {
    let waited = Instant::now();
    loop {
        let reports = Printed::of(&server.output()).received;
        if reports.len() >= clients {
            return Ok(reports);
        }
        server.check_running().map_err(|stopped| stopped.how)?;
        if waited.elapsed() > REPORT_WAIT {
            return Err(format!(
                "the clients sent everything, but after {} s the server had reported {} of {clients} uploads",
                REPORT_WAIT.as_secs(),
                reports.len()
            ));
        }
        samples.take(server.pid);
        thread::sleep(LOOK);
    }
}

/// Whether every client has sent `at` bytes (and so waits at its pause) or has ended.
fn all_held(uploads: &Uploads, at: u64) -> bool {
    uploads
        .uploads
        .iter()
        .all(|upload| upload.sent() >= at || upload.ended().is_some())
}

/// With every client paused, looks at the server until `expected` processes are seen at
/// once ([`TOGETHER`] at most); returns how long that took, which the clock leaves out.
fn everyone_under_way(samples: &mut Samples, pid: i32, expected: usize) -> Duration {
    let since = Instant::now();
    while samples.last_processes < expected && since.elapsed() < TOGETHER {
        thread::sleep(LOOK);
        samples.take(pid);
    }
    since.elapsed()
}

/// What the rows say, in one sentence: the designs compared at the largest count that
/// both went through.
pub fn summary(rows: &[LoadRow]) -> Option<String> {
    let both = |clients: usize| {
        let find = |design| {
            rows.iter()
                .find(|row| row.clients == clients && row.design == design)
                .and_then(|row| row.load.as_ref().ok())
        };
        Some((find(Design::Processes)?, find(Design::OneLoop)?))
    };
    let (clients, (processes, one_loop)) = rows
        .iter()
        .rev()
        .find_map(|row| Some((row.clients, both(row.clients)?)))?;
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
    // Peaks compare only where every client was seen under way at once in both designs.
    let memory = if processes.all_seen() && one_loop.all_seen() {
        format!(
            "with {:.1} times less memory ({} process against {})",
            ratio(processes.peak_memory as f64, one_loop.peak_memory as f64),
            one_loop.processes,
            processes.processes,
        )
    } else {
        let (design, seen) = if processes.all_seen() {
            (Design::OneLoop, one_loop)
        } else {
            (Design::Processes, processes)
        };
        format!(
            "memory not compared (the checker saw at most {} of the {} processes of {} at once, so its peak \
             is not that of {clients} clients)",
            seen.processes,
            seen.expected_processes,
            design.name()
        )
    };
    Some(format!(
        "At {clients} clients one loop took {:.2} times the time of a process per client, {memory} and {:.1} times \
         fewer context switches.",
        ratio(one_loop.seconds, processes.seconds),
        ratio(processes.switches as f64, one_loop.switches as f64),
    ))
}

impl Load {
    /// Whether every process the row's clients call for was seen at once.
    pub fn all_seen(&self) -> bool {
        self.processes >= self.expected_processes
    }
}
