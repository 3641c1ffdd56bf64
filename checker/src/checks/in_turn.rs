//! The scenario behind "keeps serving": a pause while the fresh server sits idle
//! (SIGSTOP, then SIGCONT, as Ctrl-Z and `fg` do); one small upload; two small uploads
//! that connect together while the server is paused, so that they wait in the listener's
//! queue at the same time; then a moment with nothing to do.

use std::ops::ControlFlow;
use std::time::Duration;

use lab::MIB;

use crate::checks::evidence::{Cut, InTurn, Silent, WrongCount};
use crate::checks::idle::{idle_cpu, wait_for_reports, wait_until_idle};
use crate::checks::printed::{Forks, Printed};
use crate::checks::silent;
use crate::checks::watch::Unaccepted;
use crate::checks::{REPORT_WAIT, Session};
use crate::clients::{Hold, Plan};
use crate::inspect;
use crate::server::ServerUnderTest;
use crate::trouble::Trouble;

/// How long a server is watched after SIGCONT: one that dies on EINTR does so at once.
pub(super) const RESUME_GRACE: Duration = Duration::from_millis(300);

/// Gathers the evidence (failing only with the checker's own trouble); clients are numbered from `first`.
pub fn gather(session: &Session, first: usize) -> Result<InTurn, Trouble> {
    let title = "keeps serving: a pause, one upload, then two uploads that connect together";
    session.client_log.note(title);
    let mut seen = InTurn::default();
    let mut server = match session.start_server(title)? {
        Ok(server) => server,
        Err(cut) => {
            seen.cut = Some(cut);
            return Ok(seen);
        }
    };
    let pid = server.pid;
    seen.pid = inspect::shown_pid(pid);
    seen.log_start = Some(server.log_start);
    seen.cut = serve_in_turn(session, &mut server, first, &mut seen).err();
    if let Some(cut) = &seen.cut {
        session.stop_with_verdict(&mut server, cut);
    }
    seen.server_alive = server.check_running().is_ok();
    if seen.cut.is_none() && seen.server_alive {
        seen.idle_cpu = idle_cpu(pid);
        seen.interest = inspect::interest_list(pid, inspect::listening_socket(server.port));
        seen.signals = inspect::signals(pid);
    }
    let output = server.output();
    seen.forks = Forks::of(&output);
    let printed = Printed::of(&output);
    seen.handled = printed.handled;
    seen.reported = printed.received.len();
    seen.errors = printed.errors;
    seen.children_alive = inspect::children(pid)
        .iter()
        .filter(|child| !child.is_zombie())
        .count();
    Ok(seen)
}

fn serve_in_turn(
    session: &Session,
    server: &mut ServerUnderTest,
    first: usize,
    seen: &mut InTurn,
) -> Result<(), Cut> {
    let bytes = session.size.min(MIB);
    let plan = session.plan(bytes, bytes);
    let mut turn = |server: &mut ServerUnderTest, number: usize, count: usize, paused: bool| {
        // The fresh server's first client stays silent until the server sits idle.
        let silent = (number == first).then(|| Hold::new(0));
        let plan = Plan {
            hold: silent.clone(),
            ..plan.clone()
        };
        let uploads = session.uploads(server, &plan, number, count);
        if let Some(hold) = &silent {
            seen.silent.first = silent::first_look(server, &uploads, hold);
        }
        seen.connections += count;
        if paused {
            server.wait_for_queue(count);
            // The uploads go on meanwhile, and the picture records them.
            server
                .resume(RESUME_GRACE, || session.observer.uploads(&uploads))
                .map_err(Cut::after_pause)?;
        }
        let watched = session.watch(server, &uploads, Unaccepted::Cut, |look, _| {
            seen.forked |= !look.children.is_empty();
            ControlFlow::Continue(())
        });
        if let Some(cut) = watched.cut {
            return Err(cut);
        }
        let counts = wait_for_reports(server, seen.connections, REPORT_WAIT)?;
        if let Some((index, &reported)) = counts
            .iter()
            .enumerate()
            .find(|(_, reported)| **reported != bytes)
        {
            seen.wrong_count = Some(WrongCount {
                client: first + index,
                sent: bytes,
                reported,
            });
        }
        Ok(())
    };
    // The fresh server is paused once it sits idle in epoll_wait: paused while it runs,
    // even a server that dies on EINTR would go on unharmed. Before the first upload,
    // because later a bonus mistake (an unread signalfd) can keep it from ever sleeping.
    let (at, waited) = wait_until_idle(server, Duration::from_secs(3));
    (seen.paused_in, seen.idle_wait) = (Some(at), waited);
    server.pause().map_err(Cut::ServerStopped)?;
    server
        .resume(RESUME_GRACE, || {})
        .map_err(Cut::after_pause)?;
    turn(server, first, 1, false)?;
    wait_until_idle(server, Duration::from_secs(1));
    // Only a server alive just before the pause can be said to have died of it.
    server.check_running().map_err(Cut::ServerStopped)?;
    server.pause().map_err(Cut::after_pause)?;
    turn(server, first + 1, 2, true)?;
    let stage = silent::probe(
        session,
        server,
        &mut seen.connections,
        &mut seen.wrong_count,
    )?;
    seen.silent = Silent {
        first: seen.silent.first,
        ..stage
    };
    Ok(())
}
