//! The scenario behind task 1's whole upload and both task 2 checks: N whole uploads
//! started together on a fresh server. The first upload received judges task 1; all of
//! them together judge task 2.

use std::ops::ControlFlow;
use std::time::Duration;

use gen_testfile::human_size;

use crate::checks::evidence::{AtOnce, ChildSeen, Cut};
use crate::checks::idle::{eventually, settled_descriptors, wait_for_reports};
use crate::checks::printed::{Forks, Printed};
use crate::checks::watch::{Look, Unaccepted};
use crate::checks::{REPORT_WAIT, Session};
use crate::clients::Uploads;
use crate::inspect::{self, Activity};
use crate::server::ServerUnderTest;
use crate::trouble::Trouble;

/// The first progress must come this soon.
const FIRST_PROGRESS: Duration = Duration::from_secs(10);
/// How long children may live on after the last upload was reported.
const CHILDREN_END: Duration = Duration::from_secs(2);

/// Gathers the evidence (failing only with the checker's own trouble); clients are numbered from `first`.
pub fn gather(session: &Session, clients: usize, first: usize) -> Result<AtOnce, Trouble> {
    let size = session.size;
    let title = match clients {
        1 => format!("one whole upload of {}", human_size(size)),
        _ => format!("{clients} whole uploads of {} at once", human_size(size)),
    };
    session.client_log.note(&title);
    let mut seen = AtOnce {
        clients,
        size,
        ..AtOnce::default()
    };
    let mut server = match session.start_server(&title)? {
        Ok(server) => server,
        Err(cut) => {
            seen.cut = Some(cut);
            return Ok(seen);
        }
    };
    let pid = server.pid;
    let port = server.port;
    seen.log_start = Some(server.log_start);
    seen.pid = inspect::shown_pid(pid);
    seen.listener_registered = eventually(Duration::from_millis(500), || {
        inspect::listener_registered(pid, port)
    });
    seen.descriptors_before = settled_descriptors(pid);
    // A quarter of a small file: enough to tell side by side from one after the other (a
    // waiting client gets a few hundred KiB into the kernel's buffers), while a busy
    // machine can make one of two healthy uploads half as fast as the other.
    let milestone = if clients == 1 { size } else { size / 4 }.min(lab::PROGRESS_STEP);
    let uploads = session.uploads(&server, &session.plan(size, milestone), first, clients);
    let (mut waited_for_child, mut peaked) = (false, false);
    let watched = session.watch(&mut server, &uploads, Unaccepted::Note, |look, uploads| {
        waited_for_child |= look.activity == Activity::ChildWait && uploads.ended() == 0;
        observe(look, uploads, milestone, &mut peaked, &mut seen)?;
        one_at_a_time(uploads, milestone, waited_for_child)
    });
    seen.not_accepted = watched.not_accepted;
    seen.cut = watched.cut;
    seen.listener_registered |= inspect::listener_registered(pid, port);
    wait_for_the_reports(&mut server, clients, &mut seen);
    let output = server.output();
    seen.reports = Printed::of(&output).received;
    seen.forks = Forks::of(&output);
    seen.some_sent_all = uploads.uploads.iter().any(|upload| upload.finished());
    if let Some(cut) = seen.cut.as_ref().or(seen.not_accepted.as_ref()) {
        session.stop_with_verdict(&mut server, cut);
        return Ok(seen);
    }
    once_every_upload_is_in(&mut server, &mut seen);
    Ok(seen)
}

/// Waits for a report of every upload (for the first one's alone once the uploads were
/// cut short or a client was not accepted); a report missing is the cut.
fn wait_for_the_reports(server: &mut ServerUnderTest, clients: usize, seen: &mut AtOnce) {
    let reported = match (&seen.cut, &seen.not_accepted) {
        (None, None) => wait_for_reports(server, clients, REPORT_WAIT),
        // Whatever went wrong, what the server reported for the first upload still tells
        // whether it received that one whole.
        _ => wait_for_reports(server, 1, Duration::from_secs(1)),
    };
    if let (Err(missing), None) = (&reported, &seen.cut) {
        seen.cut = Some(missing.clone());
    }
    if seen.cut.is_some() {
        // A parent that reports before it forks prints its fork line right after the
        // report: give it a moment to, so that the lines tell where it forked.
        eventually(Duration::from_millis(100), || {
            Forks::of(&server.output()) != Forks::default()
        });
    }
}

/// Every upload is in: its child must end, and the server must be back where it was.
fn once_every_upload_is_in(server: &mut ServerUnderTest, seen: &mut AtOnce) {
    eventually(CHILDREN_END, || {
        seen.children_left = Look::take(server)
            .children
            .into_iter()
            .map(ChildSeen::shown)
            .collect();
        seen.children_left.is_empty()
    });
    if let Some(before) = seen.descriptors_before {
        eventually(Duration::from_secs(2), || {
            seen.descriptors_after = inspect::open_descriptors(server.pid);
            seen.descriptors_after == Some(before)
        });
    }
    seen.stale_after = inspect::stale_registrations(server.pid);
    let output = server.output();
    seen.forks = Forks::of(&output);
    let printed = Printed::of(&output);
    seen.handled = printed.handled;
    seen.created = printed.created.clone();
    if let Err(stopped) = server.check_running() {
        seen.cut = Some(Cut::ServerStopped(stopped));
    } else if seen.children_while_running > 0 {
        // The server itself is still running, and an error of the lab's own format ends
        // the process that prints it: its children printed these, outside their upload.
        seen.child_errors = printed.loop_errors();
    }
}

/// One look at the server while the uploads run.
/// The children and registrations are recorded once, when every client is first seen
/// under way (`peaked`).
fn observe(
    look: &Look,
    uploads: &Uploads,
    milestone: u64,
    peaked: &mut bool,
    seen: &mut AtOnce,
) -> ControlFlow<Cut> {
    // Only a finished upload ends the count: one that failed early must not change how
    // many children the others are seen with.
    let any_finished = uploads.uploads.iter().any(|upload| upload.finished());
    seen.most_threads = seen.most_threads.max(look.threads);
    if seen.child_in_loop.is_none() {
        seen.child_in_loop = look.child_in_loop().cloned().map(ChildSeen::shown);
    }
    if !any_finished && !*peaked {
        seen.children_while_running = seen.children_while_running.max(look.children.len());
    }
    let all_past = uploads
        .uploads
        .iter()
        .all(|upload| upload.reached_milestone());
    if all_past && !any_finished && !*peaked {
        *peaked = true;
        seen.children_while_running = look.children.len();
        seen.stale_while_running = inspect::stale_registrations(look.pid);
        seen.own_pid_in_log = inspect::namespace_pid(look.pid);
        seen.children_in_log = look
            .children
            .iter()
            .filter_map(|child| inspect::namespace_pid(child.pid))
            .collect();
    }
    no_progress(look, uploads, milestone)
}

/// Ends the watch when no client has reached the milestone in [`FIRST_PROGRESS`].
pub(super) fn no_progress(look: &Look, uploads: &Uploads, milestone: u64) -> ControlFlow<Cut> {
    let none_past = uploads
        .uploads
        .iter()
        .all(|upload| !upload.reached_milestone());
    if none_past && uploads.started.elapsed() > FIRST_PROGRESS {
        return ControlFlow::Break(Cut::NoProgress {
            after: FIRST_PROGRESS,
            milestone,
            seen: Box::new(look.snapshot()),
            most_sent: uploads
                .uploads
                .iter()
                .map(|upload| upload.sent())
                .max()
                .unwrap_or(0),
        });
    }
    ControlFlow::Continue(())
}

/// Ends the watch when one client has finished while another is not yet under way.
pub(super) fn one_at_a_time(
    uploads: &Uploads,
    milestone: u64,
    waited_for_child: bool,
) -> ControlFlow<Cut> {
    let finished = uploads.uploads.iter().find(|upload| upload.finished());
    let behind = uploads
        .uploads
        .iter()
        .find(|upload| !upload.reached_milestone());
    match (finished, behind) {
        (Some(finished), Some(behind)) => ControlFlow::Break(Cut::OneAtATime {
            finished: finished.number,
            behind: behind.number,
            sockets: (finished.server_socket(), behind.server_socket()),
            behind_sent: behind.sent(),
            milestone,
            server_waited_for_child: waited_for_child,
        }),
        _ => ControlFlow::Continue(()),
    }
}
