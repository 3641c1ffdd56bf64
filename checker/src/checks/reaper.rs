//! The scenario behind the bonus: a first client uploads a little and then holds its
//! connection open, so its child keeps running; a second client uploads a little and
//! ends, so its child exits; then a late client connects and must be served at once. A
//! reaper that blocks until every child has exited would keep it waiting.

use std::ops::ControlFlow;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use lab::MIB;

use crate::checks::evidence::{Cut, Reaping};
use crate::checks::watch::{Look, TICK, Unaccepted};
use crate::checks::{
    REPORT_WAIT, Session, eventually, idle_cpu, received_counts, wait_for_reports,
};
use crate::clients::{Hold, Plan};
use crate::inspect::{self, Activity};
use crate::server::ServerUnderTest;
use crate::trouble::Trouble;

/// How long the late client may wait for its upload to be received.
const LATE_LIMIT: Duration = Duration::from_secs(2);

/// Gathers the evidence (failing only with the checker's own trouble); clients are numbered from `first`.
pub fn gather(session: &Session, first: usize) -> Result<Reaping, Trouble> {
    let title = "bonus: a late client while one upload is held open and another child has exited";
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
    seen.pid = server.pid;
    seen.log_start = Some(server.log_start);
    let hold = Hold::new(64 * 1024);
    seen.cut = late_client(session, &mut server, first, &hold, &mut seen).err();
    if let Some(cut) = &seen.cut {
        session.stop_with_verdict(&mut server, cut);
    }
    hold.release();
    if seen.cut.is_some() {
        return Ok(seen);
    }
    let pid = server.pid;
    let zombies = || {
        inspect::children(pid)
            .iter()
            .filter(|child| child.is_zombie())
            .count()
    };
    eventually(Duration::from_secs(1), || zombies() == 0);
    seen.zombies = zombies();
    seen.idle_cpu = idle_cpu(pid);
    seen.interest = inspect::interest_list(pid, inspect::listening_socket(server.port));
    seen.signals = inspect::signals(pid);
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
    // The quick client's child exits; give the reaper a moment to run.
    eventually(Duration::from_secs(2), || {
        Look::take(server).children.len() <= 1
    });
    thread::sleep(Duration::from_millis(100));

    let late = session.uploads(server, &short, first + 2, 1);
    let started = Instant::now();
    while started.elapsed() < LATE_LIMIT {
        if received_counts(&server.output()).len() >= 2 {
            seen.late_served_in = Some(started.elapsed());
            break;
        }
        server.check_running().map_err(Cut::ServerStopped)?;
        match inspect::activity(server.pid) {
            Activity::Running => {}
            activity => seen.server_while_late = Some(activity),
        }
        thread::sleep(TICK);
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
