//! The scenario behind the bonus: a first client uploads a little and then holds its
//! connection open, so its child keeps running; a second client uploads a little and
//! ends, so its child exits; then a late client connects and must be served at once. A
//! reaper that blocks until every child has exited would keep it waiting. Last, three
//! children exit together while the checker holds the server paused, so that their
//! SIGCHLDs reach it as one: a reaper that collects one child per signal leaves two.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lab::MIB;

use crate::checks::evidence::{Cut, Reaping};
use crate::checks::idle::{eventually, idle_cpu, wait_for_reports};
use crate::checks::lasting::Lasting;
use crate::checks::printed::Printed;
use crate::checks::watch::{Look, TICK, Unaccepted};
use crate::checks::{REPORT_WAIT, Session};
use crate::clients::{Hold, Plan};
use crate::inspect::{self, Activity};
use crate::server::ServerUnderTest;
use crate::trouble::Trouble;

/// How long the late client may wait for its upload to be received.
const LATE_LIMIT: Duration = Duration::from_secs(2);

/// Gathers the evidence (failing only with the checker's own trouble); clients are numbered from `first`.
/// With `survives_pause`, three children are also made to exit together while the server
/// is paused.
pub fn gather(session: &Session, first: usize, survives_pause: bool) -> Result<Reaping, Trouble> {
    let title = "bonus: a late client while one upload is held open and another child has exited, \
                 then three children that exit together";
    session.client_log.note(title);
    let mut seen = Reaping {
        late_limit: LATE_LIMIT,
        ..Reaping::default()
    };
    let mut server = match session.start_server(title)? {
        Ok(server) => server,
        Err(cut) => {
            seen.cut = Some(cut);
            return Ok(seen);
        }
    };
    seen.pid = inspect::shown_pid(server.pid);
    seen.log_start = Some(server.log_start);
    let hold = Hold::new(64 * 1024);
    seen.cut = late_client(session, &mut server, first, &hold, &mut seen)
        .and_then(|()| match survives_pause {
            true => exit_together(session, &mut server, first + 3, &mut seen),
            false => Ok(()),
        })
        .err();
    if let Some(cut) = &seen.cut {
        session.stop_with_verdict(&mut server, cut);
    }
    hold.release();
    if seen.cut.is_some() {
        return Ok(seen);
    }
    let pid = server.pid;
    let zombies = || -> Vec<i32> {
        inspect::children(pid)
            .iter()
            .filter(|child| child.is_zombie())
            .map(|child| inspect::shown_pid(child.pid))
            .collect()
    };
    eventually(Duration::from_secs(1), || zombies().is_empty());
    seen.zombies = zombies();
    seen.idle_cpu = idle_cpu(pid);
    seen.interest = inspect::interest_list(pid, inspect::listening_socket(server.port));
    seen.signals = inspect::signals(pid);
    if !seen.interest.signalfd {
        seen.unwatched_signalfd = inspect::descriptors(pid)
            .into_iter()
            .find_map(|(fd, kind)| (kind == inspect::FileKind::SignalFd).then_some(fd));
    }
    if let Err(stopped) = server.check_running() {
        seen.cut = Some(Cut::ServerStopped(stopped));
    }
    Ok(seen)
}

fn late_client(
    session: &Session,
    server: &mut ServerUnderTest,
    first: usize,
    hold: &Arc<Hold>,
    seen: &mut Reaping,
) -> Result<(), Cut> {
    let bytes = session.size.min(MIB);
    let short = session.plan(bytes, bytes);
    let held = Plan {
        hold: Some(hold.clone()),
        ..short.clone()
    };
    let held_upload = session.uploads(server, &held, first, 1);
    eventually(Duration::from_secs(2), || {
        held_upload.uploads[0].sent() >= hold.at && !Look::take(server).children.is_empty()
    });
    let quick = session.uploads(server, &short, first + 1, 1);
    let watched = session.watch(server, &quick, Unaccepted::Cut, |_, _| {
        ControlFlow::Continue(())
    });
    if let Some(cut) = watched.cut {
        return Err(cut);
    }
    wait_for_reports(server, 1, REPORT_WAIT)?;
    // The quick client's child exits; give the reaper a moment to run: until the server
    // has no zombie child and sleeps again (in its loop, or blocked in a wait), 100 ms at most.
    eventually(Duration::from_secs(2), || {
        Look::take(server).children.len() <= 1
    });
    let pid = server.pid;
    eventually(Duration::from_millis(100), || {
        inspect::activity(pid) != Activity::Running
            && !inspect::children(pid)
                .iter()
                .any(inspect::Process::is_zombie)
    });

    let late = session.uploads(server, &short, first + 2, 1);
    let started = Instant::now();
    // Blocked in one call outside epoll_wait for a second is as good as the whole wait.
    let mut stuck = Lasting::new(Duration::from_secs(1));
    while started.elapsed() < LATE_LIMIT {
        if Printed::of(&server.output()).received.len() >= 2 {
            seen.late_served_in = Some(started.elapsed());
            break;
        }
        server.check_running().map_err(Cut::ServerStopped)?;
        session.observer.uploads(&late);
        let at = inspect::whereabouts(server.pid, inspect::listening_socket(server.port));
        let blocked = at
            .is_blocked_outside_the_loop()
            .then_some((at.call, at.first_arg));
        if at.activity != Activity::Running {
            seen.server_while_late = Some(at);
        }
        if stuck.holds_as(blocked).is_some() {
            break;
        }
        thread::sleep(TICK);
    }
    if seen.late_served_in.is_none() {
        // What it was given in the end: less than the limit when it was seen blocked.
        seen.late_limit = started.elapsed();
    }
    hold.release();
    for uploads in [&held_upload, &late] {
        let watched = session.watch(server, uploads, Unaccepted::Cut, |_, _| {
            ControlFlow::Continue(())
        });
        if let Some(cut) = watched.cut {
            return Err(cut);
        }
    }
    wait_for_reports(server, 3, REPORT_WAIT).map(drop)
}

/// How many children exit together.
const TOGETHER: usize = 3;

/// Three clients hold at the same point, each served by a child; the server is paused,
/// the clients are released, and only once their children have all exited is the server
/// resumed: their three SIGCHLDs are then one pending signal.
fn exit_together(
    session: &Session,
    server: &mut ServerUnderTest,
    first: usize,
    seen: &mut Reaping,
) -> Result<(), Cut> {
    let bytes = session.size.min(MIB);
    let hold = Hold::new(64 * 1024);
    let plan = Plan {
        hold: Some(hold.clone()),
        ..session.plan(bytes, bytes)
    };
    let uploads = session.uploads(server, &plan, first, TOGETHER);
    eventually(Duration::from_secs(3), || {
        uploads
            .uploads
            .iter()
            .all(|upload| upload.sent() >= hold.at)
            && Look::take(server).children.len() >= TOGETHER
    });
    server.check_running().map_err(Cut::ServerStopped)?;
    server.pause().map_err(Cut::after_pause)?;
    hold.release();
    let pid = server.pid;
    eventually(Duration::from_secs(5), || {
        uploads.ended() == TOGETHER && inspect::children(pid).iter().all(|child| child.is_zombie())
    });
    seen.exited_together = inspect::children(pid)
        .iter()
        .filter(|child| child.is_zombie())
        .count();
    server
        .resume(Duration::from_millis(300), || {
            session.observer.uploads(&uploads)
        })
        .map_err(Cut::after_pause)?;
    let watched = session.watch(server, &uploads, Unaccepted::Cut, |_, _| {
        ControlFlow::Continue(())
    });
    if let Some(cut) = watched.cut {
        return Err(cut);
    }
    wait_for_reports(server, 3 + TOGETHER, REPORT_WAIT).map(drop)
}
