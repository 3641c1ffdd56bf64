//! What watches over every server of the run from other threads: the registry of running
//! process groups, the Ctrl-C handler, the run's time limit and the process guard. These
//! threads cannot be handed the servers they stop, so this module holds the checker's only
//! statics.

use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal, killpg};
use nix::unistd::Pid;

use crate::inspect;
use crate::server::log;

/// The most processes a server may have at once, itself and all its descendants: a
/// server forks one child per upload, and the checker never runs more than 32 at once.
pub const MAX_PROCESSES: usize = 64;

/// The process groups of the servers currently running, for the threads that may have to
/// stop them: the interrupt handler, the deadline, the process guard.
static RUNNING: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// Temporary directories to remove if the checker is interrupted: the normal paths
/// remove them when their owner is dropped, which an exit from the handler skips.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// How long the run was given (--timeout), once the deadline is set.
static DEADLINE: Mutex<Option<Duration>> = Mutex::new(None);

/// Set once the run's time limit has passed.
static TIMED_OUT: AtomicBool = AtomicBool::new(false);

/// When the run's time limit was reached: set before any server is stopped for it.
static REACHED_AT: Mutex<Option<Instant>> = Mutex::new(None);

/// A running server's process group, as the registry knows it.
pub struct Registered {
    pub group: i32,
    /// The server's log, where the stop is noted; none for a build.
    pub log: Option<PathBuf>,
    /// The server's own flag, which its clients read when their connection breaks.
    pub stopped_by_checker: Arc<AtomicBool>,
}

impl Registered {
    /// Stops the group and says why in the log. Called with the registry locked and the
    /// server still registered, so not yet reaped: the group id is still its own.
    pub fn stop(&self, why: &str) {
        self.stopped_by_checker.store(true, Ordering::SeqCst);
        let _ = killpg(Pid::from_raw(self.group), Signal::SIGKILL);
        if let Some(log) = &self.log {
            log::note_stop(log, why);
        }
    }
}

/// The registry of running groups. A panic elsewhere must not stop the cleanup, so a
/// poisoned lock is taken all the same.
pub fn running_groups() -> MutexGuard<'static, Vec<Registered>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Adds a group without a log to the registry (a build), so that the interrupt handler
/// and the deadline stop it too. Takes the registry already locked: the group was
/// started while it was, so no stop can miss it.
pub fn register(mut running: MutexGuard<'static, Vec<Registered>>, group: i32) {
    running.push(Registered {
        group,
        log: None,
        stopped_by_checker: Arc::new(AtomicBool::new(false)),
    });
}

/// A process under the shim `group` (but its init) that runs another program than
/// `program`, if there is one: why the server is stopped.
fn other_program(group: i32, program: (u64, u64)) -> Option<String> {
    let init = inspect::children(group).first().map(|init| init.pid)?;
    inspect::descendant_pids(init).into_iter().find_map(|pid| {
        let runs = inspect::program_of(pid)?;
        (runs != program).then(|| {
            let path = std::fs::read_link(format!("/proc/{pid}/exe")).map_or_else(
                |_| "another program".into(),
                |path| path.display().to_string(),
            );
            format!(
                "a process of the server ran {path}, not the server's own program: only the \
                 built binary may run"
            )
        })
    })
}

/// Gives the rest of the run `limit`: then every running server group is stopped, and no
/// new server starts. A server that never ends (or reads a little every few seconds)
/// cannot make a run last for hours.
pub fn stop_after(limit: Duration) {
    *DEADLINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(limit);
    let _ = thread::Builder::new()
        .name("deadline".into())
        .spawn(move || {
            thread::sleep(limit);
            let running = running_groups();
            *REACHED_AT
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
            TIMED_OUT.store(true, Ordering::SeqCst);
            for server in running.iter() {
                server.stop(&time_limit_reason(limit));
            }
        });
}

fn time_limit_reason(limit: Duration) -> String {
    format!(
        "the run reached its time limit of {} s (--timeout)",
        limit.as_secs()
    )
}

/// Why the run can go on no longer, once its time limit has passed.
pub fn timed_out() -> Option<String> {
    if !TIMED_OUT.load(Ordering::SeqCst) {
        return None;
    }
    let limit = DEADLINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    Some(time_limit_reason(limit.unwrap_or_default()))
}

/// The run's time limit, if it was reached before `moment`: then what was under way at
/// `moment` (or had not begun) may have been cut by the limit rather than decided.
pub fn limit_reached_before(moment: Instant) -> Option<Duration> {
    let reached = *REACHED_AT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    reached.filter(|&reached| reached <= moment)?;
    *DEADLINE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes the interrupt handler remove `dir` too.
pub fn remove_on_interrupt(dir: &Path) {
    TEMPORARY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(dir.to_owned());
}

/// Makes Ctrl-C (and SIGTERM, SIGHUP) stop every running server group before the checker
/// exits. Call it first thing, before any other thread exists: the signals are blocked
/// in this thread and every thread started after it, and one thread waits for them.
pub fn stop_on_interrupt() -> std::io::Result<()> {
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(signal);
    }
    signals.thread_block()?;
    thread::Builder::new()
        .name("interrupt".into())
        .spawn(move || {
            let signal = signals.wait().unwrap_or(Signal::SIGTERM);
            // Holding the lock until exit also keeps any new server from being started.
            let running = running_groups();
            for server in running.iter() {
                server.stop(&format!("the checker was interrupted by {signal}"));
            }
            let temporary = TEMPORARY
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for dir in temporary.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
            eprintln!("\nchecker: interrupted by {signal}; the server under test was stopped");
            process::exit(130);
        })?;
    Ok(())
}

/// Watches the process tree under `pid` (the server, or the shim that contains it, whose
/// namespace's init takes in every orphan) every 50 ms while it runs; one with more than
/// `most` processes ([`MAX_PROCESSES`] unless an experiment allows more) is stopped, group
/// and all, and `overrun` says why.
///
/// For a contained server, `program` is the file the server runs (see
/// [`inspect::program_of`]): a process under it that runs any other is stopped the same
/// way (the seccomp filter refuses every execution after the first; this is the look that
/// proves it held).
pub fn guard_processes(
    pid: i32,
    contained: bool,
    most: usize,
    program: Option<(u64, u64)>,
    overrun: Arc<Mutex<Option<String>>>,
) {
    let _ = thread::Builder::new()
        .name("process guard".into())
        .spawn(move || {
            loop {
                thread::sleep(Duration::from_millis(50));
                // A shim is not counted, its init is: one process more than the server's.
                let count = inspect::descendants(pid) + usize::from(!contained);
                let running = running_groups();
                let Some(server) = running.iter().find(|server| server.group == pid) else {
                    return;
                };
                let why = if count > most {
                    Some(format!(
                        "it had {count} processes at once, more than the {most} the \
                         checker allows (a child that forks again, or children that never exit?)"
                    ))
                } else {
                    program.and_then(|program| other_program(pid, program))
                };
                if let Some(why) = why {
                    server.stop(&why);
                    *overrun
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(why);
                    return;
                }
            }
        });
}
