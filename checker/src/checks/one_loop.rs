//! The scenario of task 3: a fresh server started with `--mode async`, several uploads at
//! once, and the server watched throughout: it must serve them side by side from its one
//! loop, with no child process and no second thread, and be idle afterwards.

use std::time::Duration;

use gen_testfile::human_size;

use crate::checks::at_once::{no_progress, one_at_a_time};
use crate::checks::evidence::{Cut, OneLoop, Turns};
use crate::checks::idle::{
    eventually, idle_cpu, settled_descriptors, wait_for_reports_or, wait_until_idle,
};
use crate::checks::lasting::Lasting;
use crate::checks::printed::Printed;
use crate::checks::read_sizes::{self, TASK_THREE_BUF_SIZE};
use crate::checks::watch::{Look, Unaccepted};
use crate::checks::{AsyncUploads, REPORT_WAIT, Session, Started};
use crate::clients::{Plan, Uploads};
use crate::inspect::{self, Untraced};
use crate::server::ServerUnderTest;
use crate::trouble::Trouble;

/// How much each client uploads at most: a single thread reads every upload, 10 bytes a
/// read, so the whole file each would make this part slow.
const MOST_PER_UPLOAD: u64 = 8 * lab::MIB;

/// How many system calls of the server are traced, to count its reads per event.
const TRACED_CALLS: usize = 400;

/// How long sockets whose end was read may stay held, with no report, before the checker
/// stops waiting for the reports.
const ENDED_UNCLOSED: Duration = Duration::from_secs(1);

/// What the scenario uploads for a run of uploads of `size` from `clients` clients: at
/// least three clients (a fair share shows only among several), at most 8 MiB each.
pub fn uploads(size: u64, clients: usize) -> AsyncUploads {
    AsyncUploads {
        size: size.min(MOST_PER_UPLOAD),
        clients: clients.max(3),
    }
}

/// Gathers the evidence (failing only with the checker's own trouble); clients are
/// numbered from `first`. The reads are counted by tracing the server, which interrupts
/// its `epoll_wait`: only for a server that "keeps serving" saw survive a pause, as the
/// bonus's pause is (its EINTR costs task 1 alone).
pub fn gather(
    session: &Session,
    planned: AsyncUploads,
    first: usize,
    survives_pause: bool,
) -> Result<OneLoop, Trouble> {
    let AsyncUploads { size, clients } = planned;
    let mut seen = OneLoop {
        clients,
        size,
        buf_size: TASK_THREE_BUF_SIZE,
        ..OneLoop::default()
    };
    let mut server = match start_async(session, planned)? {
        Ok(server) => server,
        Err(cut) => {
            seen.no_mode =
                matches!(&cut, Cut::ServerStopped(stopped) if stopped.how.contains("'--mode'"));
            seen.cut = Some(cut);
            return Ok(seen);
        }
    };
    let pid = server.pid;
    seen.log_start = Some(server.log_start);
    seen.pid = inspect::shown_pid(pid);
    // What it holds before the clients, once it waits for them: a server may still be
    // setting up after it listens.
    wait_until_idle(&server, Duration::from_secs(3));
    seen.descriptors_before = settled_descriptors(pid);
    let milestone = (size / 4).min(lab::PROGRESS_STEP);
    let plan = session.plan(size, milestone);
    let started = if survives_pause {
        trace_first_reads(session, &server, &plan, first, clients, &mut seen)?
    } else {
        let why = "the server stops when a signal interrupts epoll_wait (seen in \"keeps serving\"), and tracing it would";
        seen.turns = Some(Err(why.to_owned()));
        seen.read_sizes = Some(Err(why.to_owned()));
        None
    };
    let uploads = started.unwrap_or_else(|| session.uploads(&server, &plan, first, clients));
    watch_uploads(session, &mut server, &uploads, milestone, &mut seen)?;
    if seen.cut.is_none() && seen.not_accepted.is_none() {
        wait_for_every_report(&mut server, clients, &mut seen);
    }
    let printed = Printed::of(&server.output());
    seen.reports = printed.received;
    seen.handled = printed.handled;
    seen.errors = printed.errors;
    // Whether it spins and what it still watches, cut short or not (a missed end spins).
    if server.check_running().is_ok() {
        seen.idle_cpu = idle_cpu(pid);
        seen.interest = inspect::interest_list(pid, inspect::listening_socket(server.port));
        seen.signals = inspect::signals(pid);
    }
    if let Some(cut) = seen.cut.as_ref().or(seen.not_accepted.as_ref()) {
        session.stop_with_verdict(&mut server, cut);
        return Ok(seen);
    }
    if let Some(before) = seen.descriptors_before {
        eventually(Duration::from_secs(2), || {
            seen.descriptors_after = inspect::open_descriptors(pid);
            seen.descriptors_after == Some(before)
        });
    }
    if let Err(stopped) = server.check_running() {
        seen.cut = Some(Cut::ServerStopped(stopped));
    }
    Ok(seen)
}

/// Starts the server of task 3 for `planned`: `--mode async` with task 3's buffer size.
fn start_async(session: &Session, planned: AsyncUploads) -> Result<Started, Trouble> {
    let AsyncUploads { size, clients } = planned;
    let title = format!(
        "task 3: {clients} uploads of {} at once, --mode async",
        human_size(size)
    );
    session.client_log.note(&title);
    let args = [
        "--mode".to_owned(),
        "async".to_owned(),
        "--buf-size".to_owned(),
        TASK_THREE_BUF_SIZE.to_string(),
    ];
    session.start_server_with(&title, &args)
}

/// Starts the uploads while a trace holds the server, so that its first reads are seen
/// however fast it serves, into `seen.read_sizes`; returns the uploads once started.
fn trace_first_reads(
    session: &Session,
    server: &ServerUnderTest,
    plan: &Plan,
    first: usize,
    clients: usize,
    seen: &mut OneLoop,
) -> Result<Option<Uploads>, Trouble> {
    let mut started = None;
    let start = || started = Some(session.uploads(server, plan, first, clients));
    seen.read_sizes = Some(match read_sizes::trace_first_reads(server.pid, start) {
        Ok(sizes) => Ok(sizes),
        Err(Untraced::Refused(why)) => Err(why),
        Err(Untraced::Held(why)) => {
            return Err(Trouble::Checker(lab::Failure::new(
                "following the server's first reads",
                why,
            )));
        }
    });
    Ok(started)
}

/// Watches the uploads, each look into `seen`, and counts the server's turns once every
/// upload is under way and none has finished.
fn watch_uploads(
    session: &Session,
    server: &mut ServerUnderTest,
    uploads: &Uploads,
    milestone: u64,
    seen: &mut OneLoop,
) -> Result<(), Trouble> {
    let pid = server.pid;
    let (mut held, mut blocking_once) = (None, Vec::new());
    let watched = session.watch(server, uploads, Unaccepted::Note, |look, uploads| {
        observe(look, seen, &mut blocking_once);
        let under_way = uploads
            .uploads
            .iter()
            .all(|upload| upload.sent() >= milestone / 2);
        if seen.turns.is_none() && under_way && !uploads.uploads.iter().any(|u| u.finished()) {
            seen.turns = Some(match count_turns(pid, look) {
                Ok(turns) => Ok(turns),
                Err(Untraced::Refused(why)) => Err(why),
                Err(Untraced::Held(why)) => {
                    held = Some(why.clone());
                    Err(why)
                }
            });
        }
        no_progress(look, uploads, milestone)?;
        one_at_a_time(uploads, milestone, false)
    });
    if let Some(why) = held {
        return Err(Trouble::Checker(lab::Failure::new(
            "counting the server's reads",
            why,
        )));
    }
    seen.not_accepted = watched.not_accepted;
    seen.cut = watched.cut;
    Ok(())
}

/// Waits for a report of every upload. Sockets whose end was read, still held with no
/// report for a second: the reports are not coming.
fn wait_for_every_report(server: &mut ServerUnderTest, clients: usize, seen: &mut OneLoop) {
    let pid = server.pid;
    let mut ended = Vec::new();
    let mut unclosed = Lasting::new(ENDED_UNCLOSED);
    let reported = wait_for_reports_or(server, clients, REPORT_WAIT, |reported| {
        ended = inspect::ended_unclosed(pid, &inspect::tcp_table());
        unclosed
            .holds(!ended.is_empty() && ended.len() + reported >= clients)
            .is_some()
    });
    if let Err(missing) = reported {
        seen.ended_unclosed = ended;
        seen.cut = Some(missing);
    }
}

/// The server's reads, traced for a moment while every upload runs.
fn count_turns(pid: i32, look: &Look) -> Result<Turns, Untraced> {
    let listener = look.listener.map(|row| row.inode);
    let clients: Vec<i32> = inspect::descriptors(pid)
        .into_iter()
        .filter_map(|(fd, kind)| match kind {
            inspect::FileKind::Socket(inode) if Some(inode) != listener => Some(fd),
            _ => None,
        })
        .collect();
    let calls = inspect::trace_calls(pid, TRACED_CALLS, Duration::from_millis(500))?;
    Ok(Turns::of(&calls, &clients))
}

/// One look while the uploads run: children, threads and blocking client sockets.
/// A socket counts as blocking once two looks in a row saw it so: a correct server holds a
/// new one blocking for the moment between `accept` and TODO 8.
fn observe(look: &Look, seen: &mut OneLoop, blocking_once: &mut Vec<(i32, u64)>) {
    seen.most_children = seen.most_children.max(look.children.len());
    seen.most_threads = seen.most_threads.max(look.threads);
    let connections: Vec<u64> = look
        .tcp
        .iter()
        .filter(|row| !row.listening && row.inode != 0)
        .map(|row| row.inode)
        .collect();
    let now = inspect::blocking_sockets(look.pid, &connections);
    for &(fd, _) in now.iter().filter(|socket| blocking_once.contains(socket)) {
        if !seen.blocking.contains(&fd) {
            seen.blocking.push(fd);
        }
    }
    *blocking_once = now;
}
