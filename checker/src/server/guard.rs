//! What watches over every server of a grading from other threads: the grading's own
//! state ([`Grading`]: its time limit, whether it was stopped and why, its temporary
//! folders), the registry of running process groups, the Ctrl-C handler and the process
//! guard.
//!
//! A grading is a value: [`Grading::begin`] makes it, the run owns it, and its end (a
//! drop) ends its deadline thread and forgets its temporaries. Whoever holds a
//! [`Canceller`] (`checker watch`, when the source is saved) can stop it at any moment:
//! every process it started is killed, its temporaries are removed and nothing new
//! starts, as when its time limit passes.
//!
//! One static remains, the registry: the interrupt handler is a thread that waits for a
//! signal and must then stop every process group of every grading under way and remove
//! their temporaries before the checker exits; nothing can hand it those values, so they
//! are registered where it can reach them. The functions below that take no grading
//! (called by the checks and the server) act on the grading under way, the latest begun.

use std::path::{Path, PathBuf};
use std::process;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{SigSet, Signal, killpg};
use nix::unistd::Pid;

mod grading;

use grading::State;
pub use grading::{Canceller, Grading};

use crate::inspect;
use crate::server::log;

/// The most processes a server may have at once, itself and all its descendants: a
/// server forks one child per upload, and the checker never runs more than 32 at once.
pub const MAX_PROCESSES: usize = 64;

/// The registry (see the module's doc): the static the interrupt handler forces.
static REGISTRY: Mutex<Registry> = Mutex::new(Registry {
    running: Vec::new(),
    gradings: Vec::new(),
    begun: 0,
});

/// Every process group running, tagged with the grading that started it, and the
/// gradings under way in the order they began.
struct Registry {
    running: Vec<(u64, Registered)>,
    gradings: Vec<Arc<Grading>>,
    /// How many gradings began: the next one's id is one more.
    begun: u64,
}

impl Registry {
    /// The grading under way: its id, or 0 outside any grading (a build's test).
    fn current(&self) -> u64 {
        self.gradings.last().map_or(0, |grading| grading.id)
    }
}

fn registry() -> MutexGuard<'static, Registry> {
    // A panic elsewhere must not stop the cleanup, so a poisoned lock is taken all the same.
    REGISTRY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

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

/// The running groups of the grading under way, the registry locked: while it is held,
/// no group starts or stops and no deadline or cancellation can miss a group.
pub struct Groups {
    registry: MutexGuard<'static, Registry>,
    grading: u64,
}

impl Groups {
    /// Adds a group of the grading under way.
    pub fn push(&mut self, server: Registered) {
        self.registry.running.push((self.grading, server));
    }

    /// Keeps only the groups for which `keep` holds (of every grading: a group id is
    /// one running process's).
    pub fn retain(&mut self, mut keep: impl FnMut(&Registered) -> bool) {
        self.registry.running.retain(|(_, server)| keep(server));
    }

    /// The groups of the grading under way.
    pub fn iter(&self) -> impl Iterator<Item = &Registered> {
        let grading = self.grading;
        self.registry
            .running
            .iter()
            .filter(move |(id, _)| *id == grading)
            .map(|(_, server)| server)
    }
}

/// The registry of running groups, locked, as the grading under way sees it.
pub fn running_groups() -> Groups {
    let registry = registry();
    let grading = registry.current();
    Groups { registry, grading }
}

/// Adds a group without a log to the registry (a build), so that the interrupt handler,
/// the deadline and a cancellation stop it too. Takes the registry already locked: the
/// group was started while it was, so no stop can miss it.
pub fn register(mut running: Groups, group: i32) {
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

fn time_limit_reason(limit: Duration) -> String {
    format!(
        "the run reached its time limit of {} s (--timeout)",
        limit.as_secs()
    )
}

/// The grading under way, if there is one.
fn current() -> Option<Arc<Grading>> {
    registry().gradings.last().cloned()
}

/// Why the grading under way can go on no longer, once its time limit has passed or it
/// was cancelled.
pub fn timed_out() -> Option<String> {
    current()?.stopped()
}

/// The time limit of the grading under way, if it was reached before `moment`: then what
/// was under way at `moment` (or had not begun) may have been cut by the limit rather
/// than decided.
pub fn limit_reached_before(moment: Instant) -> Option<Duration> {
    match &*lock(&current()?.state) {
        State::TimedOut { limit, at } if *at <= moment => Some(*limit),
        _ => None,
    }
}

/// Makes a cancellation of the grading under way, and the interrupt handler, remove `dir`
/// too.
pub fn remove_on_interrupt(dir: &Path) {
    if let Some(grading) = current() {
        lock(&grading.temporary).push(dir.to_owned());
    }
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
            let registry = registry();
            for (_, server) in registry.running.iter() {
                server.stop(&format!("the checker was interrupted by {signal}"));
            }
            for grading in &registry.gradings {
                grading.remove_temporaries();
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
