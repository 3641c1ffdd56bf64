//! The server under test: started, paused, resumed and stopped. The server runs in a
//! process group of its own, so stopping the group stops the server and every child it
//! forked, and nothing else: the checker never signals a process it did not start.
//!
//! The group is stopped when its [`ServerUnderTest`] is dropped, which covers a normal end,
//! an early return and a panic; [`guard`] covers Ctrl-C, the time limit and a server with
//! too many processes, and [`log`] owns what the checker writes into the logs.

pub mod guard;
pub mod log;

use std::fs::OpenOptions;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{self, Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use lab::{Context, Failure};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::prctl;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, kill, killpg, signal, sigprocmask};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::{Pid, getppid};

use crate::checks::evidence::{Blame, Stopped};
use crate::checks::printed;
use crate::contain::{self, Channel, Plan, SocketSource};
use crate::inspect;
use crate::server::guard::{Registered, guard_processes, running_groups, timed_out};

/// A server started by the checker, with its output going to a log file.
pub struct ServerUnderTest {
    /// The checker's own child: the server, or the shim that contains it.
    child: Child,
    /// The server's process group: the child's pid.
    group: i32,
    /// The server's pid (as the checker's /proc sees it, outside any namespace).
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
    /// The shim's and init's own channel (a contained server), never the server's output.
    channel: Mutex<Channel>,
    /// Where the checker's clients get sockets in the server's network (a contained
    /// server); none for a server in the machine's own network.
    pub sockets: Option<Arc<SocketSource>>,
    /// The thread that copies the server's output into the log, until it ends.
    output: Option<JoinHandle<()>>,
    /// What the server has printed, read from its section of the log as it grows.
    printed: Mutex<log::Reader>,
}

impl ServerUnderTest {
    /// Starts `binary --port PORT` in a new process group, with stdout and stderr copied
    /// into `log` after a header line that says which run this is.
    ///
    /// The server dies with the checker, even one killed with SIGKILL (a parent-death
    /// signal, set before exec); its children end when their clients, the checker's
    /// threads, are gone. A guard stops it if it has more than `processes` processes
    /// ([`guard::MAX_PROCESSES`] unless said otherwise), or runs another program.
    ///
    /// When `contained`, the server runs under the checker's shim in a world of its own
    /// (see `contain`): then nothing it starts outlives it.
    pub fn start(
        binary: &Path,
        port: u16,
        args: &[String],
        log: &Path,
        title: &str,
        processes: Option<usize>,
        contained: bool,
    ) -> lab::Result<Self> {
        let writing = || format!("writing the server log {}", log.display());
        let mut output = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .with_context(writing)?;
        log::write_header(&mut output, title, binary, port).with_context(writing)?;
        let log_start = output.metadata().with_context(writing)?.len();
        drop(output);
        let (pipe, printed) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Failure::new("making the server's output pipe", e))?;
        let stdio = || {
            printed
                .try_clone()
                .map(Stdio::from)
                .context("making the server's output pipe")
        };
        let mut arguments = vec!["--port".to_owned(), port.to_string()];
        arguments.extend(args.iter().cloned());
        let most = processes.unwrap_or(guard::MAX_PROCESSES);
        let plan = Plan::server(
            binary,
            arguments.clone(),
            server_environment(),
            2 * most as u64,
        );
        let mut command = if contained {
            contain::shim_command(&plan)
        } else {
            let mut command = Command::new(binary);
            command.args(&arguments).env("RUST_BACKTRACE", "0");
            command
        };
        let checker = process::id();
        // SAFETY: the closure runs in the forked child before exec, so it may only make
        // async-signal-safe calls; prctl, getppid, sigprocmask and sigaction are plain
        // system calls, and it allocates nothing.
        unsafe {
            command.pre_exec(move || {
                start_clean()?;
                prctl::set_pdeathsig(Signal::SIGKILL)?;
                // The checker may have died before the line above: then nobody would stop
                // this server.
                if getppid().as_raw() as u32 != checker {
                    return Err(io::Error::other("the checker is gone"));
                }
                Ok(())
            });
        }
        command
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(stdio()?)
            .stderr(stdio()?);
        let mut running = running_groups();
        let (child, channel, sockets) = if contained {
            let launched = contain::launch(&plan, command)
                .map_err(|why| Failure::new("containing the server", why))?;
            (
                launched.child,
                launched.channel,
                launched.sockets.map(Arc::new),
            )
        } else {
            let child = command
                .spawn()
                .with_context(|| format!("starting {}", binary.display()))?;
            drop(command);
            (child, Channel::placeholder(), None)
        };
        drop(printed);
        let output = log::pump(pipe, log.to_owned()).with_context(writing)?;
        let group = child.id() as i32;
        let stopped_by_checker = Arc::new(AtomicBool::new(false));
        running.push(Registered {
            group,
            log: Some(log.to_owned()),
            stopped_by_checker: Arc::clone(&stopped_by_checker),
        });
        drop(running);
        let overrun = Arc::new(Mutex::new(None));
        let pid = if contained {
            program_under(group)
        } else {
            Some(group)
        };
        let mut server = ServerUnderTest {
            child,
            group,
            pid: pid.unwrap_or(group),
            port,
            log: log.to_owned(),
            log_start,
            status: None,
            stopped_by_checker,
            verdict: None,
            overrun: Arc::clone(&overrun),
            channel: Mutex::new(channel),
            sockets,
            output: Some(output),
            printed: Mutex::new(log::Reader::new(log, log_start)),
        };
        if pid.is_none() && server.exit_status().is_none() {
            return Err(Failure::new(
                "containing the server",
                "its shim started, but the server was not seen under it within 2 s",
            ));
        }
        server.containment_failure()?;
        if contained {
            inspect::watch_network(server.pid);
        }
        let program = if contained {
            server.program(binary)
        } else {
            None
        };
        guard_processes(group, contained, most, program, overrun);
        Ok(server)
    }

    /// The file every process of this contained server must run: the binary itself, or
    /// for a script its interpreter, as the server's exec made it (waited for, 2 s at
    /// most: until then the server's process still runs the checker's own binary).
    fn program(&self, binary: &Path) -> Option<(u64, u64)> {
        use std::io::Read;
        use std::os::unix::fs::MetadataExt;
        let checker = std::fs::metadata("/proc/self/exe").ok()?;
        let checker = (checker.dev(), checker.ino());
        // Until its exec is through, however long a busy machine makes that, the server's
        // process runs the checker's binary: no look may take that for another program.
        let deadline = Instant::now() + Duration::from_secs(2);
        let started = loop {
            match inspect::program_of(self.pid) {
                Some(program) if program != checker => break program,
                Some(_) if Instant::now() < deadline => thread::sleep(Duration::from_millis(1)),
                _ => return None,
            }
        };
        let mut magic = [0u8; 4];
        let is_elf = std::fs::File::open(binary)
            .and_then(|mut file| file.read_exact(&mut magic))
            .is_ok()
            && magic == *b"\x7fELF";
        if is_elf {
            return std::fs::metadata(binary)
                .ok()
                .map(|meta| (meta.dev(), meta.ino()));
        }
        Some(started)
    }

    /// The shim's own error, if it sent one: the checker's trouble, not the server's.
    pub fn containment_failure(&self) -> lab::Result<()> {
        let mut channel = self
            .channel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match channel.failure() {
            Some(why) => Err(Failure::new("containing the server", why)),
            None => Ok(()),
        }
    }

    /// The programs the server tried to run, and was refused.
    pub fn refused_execs(&self) -> Vec<String> {
        self.channel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .refused_execs()
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
        // A shim ends as its server did, a moment later: let it, so that its status is
        // the server's; it stays a zombie (not reaped) until the group is stopped.
        if self.group != self.pid {
            let deadline = Instant::now() + Duration::from_secs(1);
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
            while Instant::now() < deadline
                && matches!(
                    waitid(Id::Pid(Pid::from_raw(self.group)), flags),
                    Ok(WaitStatus::StillAlive)
                )
            {
                thread::sleep(Duration::from_millis(1));
            }
        }
        self.stop_group();
        self.status
    }

    /// Kills the server's process group, then reaps the server. In this order the group
    /// id is still the server's own when it is signalled: an unreaped process keeps its id.
    fn stop_group(&mut self) {
        let mut running = running_groups();
        let _ = killpg(Pid::from_raw(self.group), Signal::SIGKILL);
        self.status = self.child.wait().ok();
        running.retain(|server| server.group != self.group);
        drop(running);
        inspect::forget_network(self.pid);
        self.wait_for_output();
        let refused = self.refused_execs();
        if !refused.is_empty() {
            log::note_refused(&self.log, &refused);
        }
    }

    /// Waits (a second at most) until everything the server printed is in the log: the
    /// pipe ends once the last process holding it is gone.
    fn wait_for_output(&mut self) {
        let Some(output) = self.output.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(1);
        while !output.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        if output.is_finished() {
            let _ = output.join();
        }
    }

    /// Waits until the server listens on its port, by looking for its listening socket in
    /// the kernel's socket table. Fails if the server exits or `timeout` passes first.
    pub fn wait_until_listening(&mut self, timeout: Duration) -> Result<(), Stopped> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Err(self.describe_exit(status));
            }
            if inspect::holds_listener(self.pid, self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Stopped {
                    how: format!(
                        "the server did not listen on 127.0.0.1:{} within {} s",
                        self.port,
                        timeout.as_secs()
                    ),
                    blame: Blame::Untold,
                });
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Pauses the server (SIGSTOP to the server itself, not its group) and waits until
    /// the kernel shows it stopped. Fails with how it ended if it is gone.
    pub fn pause(&mut self) -> Result<(), Stopped> {
        self.check_running()?;
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGSTOP);
        let deadline = Instant::now() + Duration::from_secs(1);
        while !inspect::is_stopped(self.pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        self.check_running()
    }

    /// Resumes a paused server (SIGCONT) and watches it, calling `meanwhile` every 10 ms,
    /// until it has gone on past the interruption or `grace` has passed: a server that
    /// cannot stand being interrupted ends right then. It has gone on once it has run since
    /// the resume and then either sleeps in epoll_wait again or has accepted a connection
    /// that waited in the listener's queue (/proc shows both). Fails with how it ended.
    pub fn resume(&mut self, grace: Duration, mut meanwhile: impl FnMut()) -> Result<(), Stopped> {
        let runs = inspect::times_run(self.pid);
        let queued = self.queued();
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGCONT);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            self.check_running()?;
            meanwhile();
            let ran = runs.is_some() && inspect::times_run(self.pid) > runs;
            if ran
                && (inspect::activity(self.pid) == inspect::Activity::EpollWait
                    || self.queued() < queued)
            {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.check_running()
    }

    /// How many connections wait in the listener's queue.
    fn queued(&self) -> u64 {
        inspect::listener(self.port).map_or(0, |row| row.queued)
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

    /// Says how the server stopped, with its panic message if it panicked, and whose
    /// code stopped it as far as its output tells.
    pub fn describe_exit(&self, status: ExitStatus) -> Stopped {
        let overrun = self
            .overrun
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(why) = overrun.or_else(timed_out) {
            return Stopped::by_checker(format!("the checker stopped the server: {why}"));
        }
        let how = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => format!("{status}"),
        };
        let output = self.output();
        let blame = printed::blame_of(&output);
        if let Some(message) = panic_message(&output) {
            return Stopped {
                how: format!("the server stopped ({how}): it panicked {message}"),
                blame,
            };
        }
        if let Some(size) = output.iter().rev().find_map(|line| allocation_failed(line)) {
            return Stopped::by_checker(format!(
                "the server stopped ({how}) when it asked for {size} bytes of memory more: a \
                 process of a server may use {} MiB at most, the checker's cap",
                contain::limits::SERVER_MEMORY / lab::MIB
            ));
        }
        // An error it reported itself, as `server: <what failed>: <why>`, or its command
        // line refused (clap's `error: unexpected argument ...`).
        let how = match output
            .iter()
            .rev()
            .find(|line| line.starts_with("server: "))
            .or_else(|| output.iter().find(|line| line.starts_with("error: ")))
        {
            Some(error) => format!(
                "the server stopped ({how}): {}",
                crate::report::quote(error)
            ),
            None => format!("the server stopped ({how})"),
        };
        Stopped { how, blame }
    }

    /// Whether the server is still running; if not, how it stopped.
    pub fn check_running(&mut self) -> Result<(), Stopped> {
        match self.exit_status() {
            Some(status) => Err(self.describe_exit(status)),
            None => Ok(()),
        }
    }

    /// Everything this server has printed so far (complete lines only), read from the log
    /// where the last look stopped.
    pub fn output(&self) -> Vec<String> {
        self.printed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .lines()
            .to_vec()
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
            log::note_stop(&self.log, &why);
        }
    }
}

/// The variables of the checker's environment a server is given besides its own few:
/// the settings of the lab's fault fixture and the marker its tests find processes by.
const PASSED_ON: &[&str] = &["FAULTY_SERVER_", "CHECKER_TEST_RUN"];

/// A server's whole environment: nothing of the instructor's (home, working folder,
/// tokens), only what a lab server needs.
fn server_environment() -> Vec<(String, String)> {
    let mut env = vec![
        ("PATH".to_owned(), "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ("LANG".to_owned(), "C.UTF-8".to_owned()),
        // The log is for reading the server's own lines; a backtrace would bury them.
        ("RUST_BACKTRACE".to_owned(), "0".to_owned()),
    ];
    env.extend(
        std::env::vars()
            .filter(|(name, _)| PASSED_ON.iter().any(|passed| name.starts_with(passed))),
    );
    env
}

/// The size of an allocation that failed, from Rust's `memory allocation of N bytes
/// failed` (what a process says when it reaches the memory cap). The runtime writes it in
/// pieces, so two processes that fail at once interleave theirs: any whole one counts.
pub fn allocation_failed(line: &str) -> Option<u64> {
    line.match_indices("memory allocation of ")
        .find_map(|(at, said)| {
            let (size, rest) = line[at + said.len()..].split_once(' ')?;
            rest.starts_with("bytes failed")
                .then(|| size.parse().ok())
                .flatten()
        })
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
    Some(format!(
        "at {}: {}",
        crate::report::quote(place),
        crate::report::quote(message)
    ))
}

/// The program a shim started with `group` runs: the child of the shim's child (the
/// namespace's init). Waits 2 s at most; `None` if it never showed.
fn program_under(group: i32) -> Option<i32> {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let init = inspect::children(group).first().map(|init| init.pid);
        if let Some(program) = init.and_then(|init| inspect::children(init).first().map(|p| p.pid))
        {
            return Some(program);
        }
        if inspect::has_exited(group) {
            return None;
        }
        thread::sleep(Duration::from_millis(1));
    }
    None
}

/// A free port on 127.0.0.1, from the kernel (it was free a moment ago).
pub fn free_port() -> lab::Result<u16> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .context("finding a free port on 127.0.0.1")
}

/// Checks that `port` (given with --port) is free on 127.0.0.1: a port held by another
/// program is no fault of the server under test.
pub fn port_is_free(port: u16) -> lab::Result<()> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
        .map(drop)
        .map_err(|e| {
            Failure::new(format!("checking that port {port} is free"), e).hint(
                "another program holds it: choose another port with --port, or leave --port out",
            )
        })
}

/// Marks every descriptor above 2 that the checker inherited (from a shell, `flock`, a
/// make job server) close-on-exec, so that no server, cargo or anything else the checker
/// starts holds them: the lab's descriptor numbers start at 3 for everyone.
pub fn close_inherited_descriptors() -> io::Result<()> {
    let open: Vec<i32> = std::fs::read_dir("/proc/self/fd")?
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|&fd| fd > 2)
        .collect();
    for fd in open {
        // SAFETY: `fd` was open a moment ago and nothing else runs yet; if it was the
        // directory listing's own descriptor, now closed, fcntl fails with EBADF.
        let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
        let _ = fcntl(borrowed, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    }
    Ok(())
}

/// Gives the process about to exec the state of a fresh one: no signal blocked and every
/// signal's action the default, whatever the checker itself blocks or ignores (it blocks
/// SIGINT, SIGTERM and SIGHUP for its interrupt thread). Descriptors are the other half:
/// `main` marks every descriptor the checker inherited close-on-exec.
/// Runs between fork and exec: plain system calls only.
pub(crate) fn start_clean() -> io::Result<()> {
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    for signal_to_reset in Signal::iterator() {
        if matches!(signal_to_reset, Signal::SIGKILL | Signal::SIGSTOP) {
            continue;
        }
        // SAFETY: SIG_DFL installs no handler of ours.
        unsafe { signal(signal_to_reset, SigHandler::SigDfl) }?;
    }
    Ok(())
}

#[cfg(test)]
mod allocation_tests {
    use super::allocation_failed;

    #[test]
    fn a_refused_allocation_is_read_even_when_two_processes_interleave() {
        assert_eq!(
            allocation_failed("memory allocation of 1073741824 bytes failed"),
            Some(1 << 30)
        );
        assert_eq!(
            allocation_failed("memory allocation of memory allocation of 1073741824 bytes failed"),
            Some(1 << 30)
        );
        assert_eq!(allocation_failed("memory allocation of 12 bytes"), None);
        assert_eq!(allocation_failed("Received 7 bytes from [Client 5]"), None);
    }
}
