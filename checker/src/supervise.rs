//! Starting and stopping the server under test. The server runs in a process group of its
//! own, so stopping the group stops the server and every child it forked, and nothing else:
//! the checker never signals a process it did not start.
//!
//! The group is stopped when its [`ServerUnderTest`] is dropped, which covers a normal end,
//! an early return and a panic; [`stop_on_interrupt`] covers Ctrl-C and termination.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::prctl;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, SigSet, Signal, kill, killpg, signal};
use nix::unistd::{Pid, getppid};

use crate::inspect;

/// The process groups of the servers currently running, for the threads that may have to
/// stop them: the interrupt handler, the deadline, the process guard.
static RUNNING: Mutex<Vec<Registered>> = Mutex::new(Vec::new());

/// A running server's process group, as the registry knows it.
struct Registered {
    group: i32,
    log: PathBuf,
    /// The server's own flag, which its clients read when their connection breaks.
    stopped_by_checker: Arc<AtomicBool>,
}

impl Registered {
    /// Stops the group and says why in the log. Called with the registry locked and the
    /// server still registered, so not yet reaped: the group id is still its own.
    fn stop(&self, why: &str) {
        self.stopped_by_checker.store(true, Ordering::SeqCst);
        let _ = killpg(Pid::from_raw(self.group), Signal::SIGKILL);
        note_stop(&self.log, why);
    }
}

/// Temporary directories to remove if the checker is interrupted: the normal paths
/// remove them when their owner is dropped, which an exit from the handler skips.
static TEMPORARY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The checker's own trouble while running servers (a log it cannot write, a server it
/// cannot start, no free port): the run then gives no grade.
static TROUBLE: Mutex<Option<String>> = Mutex::new(None);

/// Records the checker's own trouble (the first is kept) and returns it.
pub fn note_trouble(trouble: String) -> String {
    TROUBLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get_or_insert_with(|| trouble.clone());
    trouble
}

/// The checker's own trouble, if it had any.
pub fn checker_trouble() -> Option<String> {
    TROUBLE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// Checks that `port` (given with --port) is free on 127.0.0.1: a port held by another
/// program is no fault of the server under test.
pub fn port_is_free(port: u16) -> lab::Result<()> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
        .map(drop)
        .map_err(|e| {
            lab::Failure::new(format!("checking that port {port} is free"), e).hint(
                "another program holds it: choose another port with --port, or leave --port out",
            )
        })
}

/// The most processes a server may have at once, itself and all its descendants: a
/// server forks one child per upload, and the checker never runs more than 32 at once.
pub const MAX_PROCESSES: usize = 64;

/// The most a server may write to its log: a few lines per client are plenty.
pub const MAX_LOG: u64 = 16 * lab::MIB;

/// When the whole run must be over, and how long it was given (--timeout).
static DEADLINE: Mutex<Option<Duration>> = Mutex::new(None);

/// Set once the run's time limit has passed.
static TIMED_OUT: AtomicBool = AtomicBool::new(false);

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

/// Makes the interrupt handler remove `dir` too.
pub fn remove_on_interrupt(dir: &Path) {
    TEMPORARY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(dir.to_owned());
}

/// The registry of running groups. A panic elsewhere must not stop the cleanup, so a
/// poisoned lock is taken all the same.
fn running_groups() -> MutexGuard<'static, Vec<Registered>> {
    RUNNING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Makes Ctrl-C (and SIGTERM, SIGHUP) stop every running server group before the checker
/// exits. Call it first thing, before any other thread exists: the signals are blocked
/// in this thread and every thread started after it, and one thread waits for them.
pub fn stop_on_interrupt() -> io::Result<()> {
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

/// How the checker's own lines in the server log begin.
const SECTION_MARK: &str = "----- checker: ";

/// Watches the process tree of the server `pid` every 50 ms while it runs; one with more
/// than [`MAX_PROCESSES`] processes is stopped, group and all, and `overrun` says why.
fn guard_processes(pid: i32, overrun: Arc<Mutex<Option<String>>>) {
    let _ = thread::Builder::new()
        .name("process guard".into())
        .spawn(move || {
            loop {
                thread::sleep(Duration::from_millis(50));
                let count = 1 + inspect::descendants(pid);
                let running = running_groups();
                let Some(server) = running.iter().find(|server| server.group == pid) else {
                    return;
                };
                if count > MAX_PROCESSES {
                    let why = format!(
                        "it had {count} processes at once, more than the {MAX_PROCESSES} the \
                         checker allows (a child that forks again, or children that never exit?)"
                    );
                    server.stop(&why);
                    *overrun
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(why);
                    return;
                }
            }
        });
}

/// Whether a line of the server log is the header the checker writes before each server.
pub fn is_section_header(line: &str) -> bool {
    line.starts_with(SECTION_MARK) && !line.starts_with(STOPPED_MARK)
}

/// How the line begins that says the checker stopped a server itself.
const STOPPED_MARK: &str = "----- checker: stopped the server";

/// Says in the log that the server's part of it ends at the limit, on a line of its own.
fn note_cut(log: &Path) {
    let ends_a_line = std::fs::read(log).map_or(true, |text| text.ends_with(b"\n"));
    if let Ok(mut log) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(
            log,
            "{}{SECTION_MARK}the log is cut here: the server wrote {} MiB, the most the checker keeps -----",
            if ends_a_line { "" } else { "\n" },
            MAX_LOG / lab::MIB
        );
    }
}

/// Says in the server log that the checker stopped the server, and why: its output
/// would otherwise just end, as if it had crashed.
fn note_stop(log: &Path, why: &str) {
    if let Ok(mut log) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(
            log,
            "{STOPPED_MARK} and its children (SIGKILL to its process group): {why} -----"
        );
    }
}

/// A server started by the checker, with its output going to a log file.
pub struct ServerUnderTest {
    child: Child,
    pub pid: i32,
    pub port: u16,
    log: PathBuf,
    /// Where this server's output starts in the log (the log may hold earlier runs).
    pub log_start: u64,
    /// How the server stopped, once it has been reaped.
    status: Option<ExitStatus>,
    /// Set just before the checker stops the server itself.
    pub stopped_by_checker: Arc<AtomicBool>,
    /// Why the scenario ended early, if it did: what the log says when the checker stops
    /// the server.
    pub verdict: Option<&'static str>,
    /// Set by the guard when the server broke one of the checker's limits, and which.
    overrun: Arc<Mutex<Option<String>>>,
    /// Whether the log says already that it was cut at [`MAX_LOG`].
    cut_noted: AtomicBool,
}

impl ServerUnderTest {
    /// Starts `binary --port PORT` in a new process group, with stdout and stderr appended
    /// to `log` after a header line that says which run this is.
    ///
    /// The server dies with the checker, even one killed with SIGKILL (a parent-death
    /// signal, set before exec); its children end when their clients, the checker's
    /// threads, are gone. Its log may grow by [`MAX_LOG`] at most, and a guard stops it if
    /// it has more than [`MAX_PROCESSES`] processes.
    pub fn start(
        binary: &Path,
        port: u16,
        args: &[String],
        log: &Path,
        title: &str,
    ) -> Result<Self, String> {
        let log_error =
            |e: io::Error| format!("cannot write the server log {}: {e}", log.display());
        let mut output = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .map_err(log_error)?;
        writeln!(
            output,
            "{SECTION_MARK}{title}: {} --port {port} -----",
            binary.display()
        )
        .map_err(log_error)?;
        let log_start = output.metadata().map_err(log_error)?.len();
        let stderr = output.try_clone().map_err(log_error)?;

        let mut running = running_groups();
        let checker = process::id();
        let log_limit = log_start + MAX_LOG;
        let mut command = Command::new(binary);
        // SAFETY: the closure runs in the forked child before exec, so it may only make
        // async-signal-safe calls; prctl, getppid, setrlimit and sigaction are plain system
        // calls, and it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                prctl::set_pdeathsig(Signal::SIGKILL)?;
                // The checker may have died before the line above: then nobody would stop
                // this server.
                if getppid().as_raw() as u32 != checker {
                    return Err(io::Error::other("the checker is gone"));
                }
                // Past the limit, writing to the log fails (EFBIG) instead of killing the
                // writer with SIGXFSZ: the server panics in println!, which its log says.
                setrlimit(Resource::RLIMIT_FSIZE, log_limit, log_limit)?;
                signal(Signal::SIGXFSZ, SigHandler::SigIgn)?;
                Ok(())
            });
        }
        let child = command
            .args(["--port", &port.to_string()])
            .args(args)
            .process_group(0)
            // The log is for reading the server's own lines; a backtrace would bury them.
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let pid = child.id() as i32;
        let stopped_by_checker = Arc::new(AtomicBool::new(false));
        running.push(Registered {
            group: pid,
            log: log.to_owned(),
            stopped_by_checker: Arc::clone(&stopped_by_checker),
        });
        let overrun = Arc::new(Mutex::new(None));
        guard_processes(pid, Arc::clone(&overrun));
        Ok(ServerUnderTest {
            child,
            pid,
            port,
            log: log.to_owned(),
            log_start,
            status: None,
            stopped_by_checker,
            verdict: None,
            overrun,
            cut_noted: AtomicBool::new(false),
        })
    }

    /// The exit status, if the server has stopped. A stopped server's group is stopped
    /// too (children it left behind) while the server is a zombie, that is, before it is
    /// reaped here: until then its process group id cannot belong to anyone else.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.status {
            return Some(status);
        }
        if !inspect::has_exited(self.pid) {
            return None;
        }
        self.stop_group();
        self.status
    }

    /// Kills the server's process group, then reaps the server. In this order the group
    /// id is still the server's own when it is signalled: an unreaped process keeps its id.
    fn stop_group(&mut self) {
        let mut running = running_groups();
        let _ = killpg(Pid::from_raw(self.pid), Signal::SIGKILL);
        self.status = self.child.wait().ok();
        running.retain(|server| server.group != self.pid);
    }

    /// Waits until the server listens on its port, by looking for its listening socket in
    /// the kernel's socket table. Fails if the server exits or `timeout` passes first.
    pub fn wait_until_listening(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Err(self.describe_exit(status));
            }
            if inspect::holds_listener(self.pid, self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the server did not listen on 127.0.0.1:{} within {} s",
                    self.port,
                    timeout.as_secs()
                ));
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Pauses the server (SIGSTOP to the server itself, not its group) and waits until
    /// the kernel shows it stopped. Fails with how it ended if it is gone.
    pub fn pause(&mut self) -> Result<(), String> {
        self.check_running()?;
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGSTOP);
        let deadline = Instant::now() + Duration::from_secs(1);
        while !inspect::is_stopped(self.pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        self.check_running()
    }

    /// Resumes a paused server (SIGCONT) and watches it for `grace`, calling `meanwhile`
    /// every 10 ms: a server that cannot stand being interrupted ends right then. Fails
    /// with how it ended.
    pub fn resume(&mut self, grace: Duration, mut meanwhile: impl FnMut()) -> Result<(), String> {
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGCONT);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            self.check_running()?;
            meanwhile();
            thread::sleep(Duration::from_millis(10));
        }
        self.check_running()
    }

    /// Waits (a second at most) until `count` connections wait in the listener's queue.
    pub fn wait_for_queue(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while inspect::listener(self.port).is_none_or(|row| (row.queued as usize) < count)
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Says how the server stopped, with its panic message if it panicked.
    pub fn describe_exit(&self, status: ExitStatus) -> String {
        let overrun = self
            .overrun
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(why) = overrun.or_else(timed_out) {
            return format!("the checker stopped the server: {why}");
        }
        let how = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => format!("{status}"),
        };
        let written = std::fs::metadata(&self.log).map_or(0, |meta| meta.len());
        if written >= self.log_start + MAX_LOG {
            if !self.cut_noted.swap(true, Ordering::SeqCst) {
                note_cut(&self.log);
            }
            return format!(
                "the server stopped ({how}) when its output reached {} MiB, the most the checker \
                 keeps: print a few lines per client, never one per read",
                MAX_LOG / lab::MIB
            );
        }
        let output = self.output();
        if let Some(message) = panic_message(&output) {
            return format!("the server stopped ({how}): it panicked {message}");
        }
        // An error it reported itself, as `server: <what failed>: <why>`.
        match output
            .iter()
            .rev()
            .find(|line| line.starts_with("server: "))
        {
            Some(error) => format!("the server stopped ({how}): {error}"),
            None => format!("the server stopped ({how})"),
        }
    }

    /// Whether the server is still running; if not, how it stopped.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.exit_status() {
            Some(status) => Err(self.describe_exit(status)),
            None => Ok(()),
        }
    }

    /// Everything this server has printed so far (complete lines only).
    pub fn output(&self) -> Vec<String> {
        let Ok(text) = std::fs::read(&self.log) else {
            return Vec::new();
        };
        let start = (self.log_start as usize).min(text.len());
        let text = String::from_utf8_lossy(&text[start..]);
        let complete = text.rfind('\n').map_or("", |end| &text[..end]);
        complete.lines().map(str::to_owned).collect()
    }
}

impl Drop for ServerUnderTest {
    /// A server still running when its scenario is over is stopped, with its children,
    /// and the log says that the checker did it: its output just ends there.
    fn drop(&mut self) {
        if self.status.is_none() {
            self.stopped_by_checker.store(true, Ordering::SeqCst);
            self.stop_group();
            let why = match self.verdict {
                Some(what) => format!("verdict reached, {what}; the report says more"),
                None => "this part of the checks is over".into(),
            };
            note_stop(&self.log, &why);
        }
    }
}

/// Where and why the server panicked, from `thread '...' panicked at <place>:` and the
/// line after it.
pub fn panic_message(output: &[String]) -> Option<String> {
    let at = output
        .iter()
        .position(|line| line.contains("panicked at"))?;
    let place = output[at]
        .split_once("panicked at ")?
        .1
        .trim_end_matches(':');
    let message = output.get(at + 1).map_or("", |message| message.trim());
    Some(format!("at {place}: {message}"))
}

/// A free port on 127.0.0.1, from the kernel (it was free a moment ago).
pub fn free_port() -> io::Result<u16> {
    let listener = std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?.port())
}
