//! Starting a server under test: its section of the log, its command (contained or not,
//! in a process group of its own, dying with the checker), its registration with the
//! guard, and the state of a fresh process that everything the checker starts is given.

use std::fs::OpenOptions;
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{self, Child, Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use lab::{Context, Failure};
use nix::fcntl::{FcntlArg, FdFlag, fcntl};
use nix::sys::prctl;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, signal, sigprocmask};
use nix::unistd::getppid;

use super::ServerUnderTest;
use crate::contain::{self, Channel, Plan, SocketSource};
use crate::inspect;
use crate::server::guard::{self, Registered, guard_processes, running_groups};
use crate::server::log;

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
        let log_start = open_section(log, title, binary, port).with_context(writing)?;
        let (pipe, printed) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
            .map_err(|e| Failure::new("making the server's output pipe", e))?;
        let mut arguments = vec!["--port".to_owned(), port.to_string()];
        arguments.extend(args.iter().cloned());
        let most = processes.unwrap_or(guard::MAX_PROCESSES);
        let plan = Plan::server(
            binary,
            arguments.clone(),
            server_environment(),
            2 * most as u64,
        );
        let command = server_command(&plan, binary, &arguments, contained, &printed)?;
        let mut running = running_groups();
        let (child, channel, sockets) = spawn(&plan, command, binary, contained)?;
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
        let pid = if contained {
            program_under(group)
        } else {
            Some(group)
        };
        let server = ServerUnderTest {
            child,
            group,
            pid: pid.unwrap_or(group),
            port,
            log: log.to_owned(),
            log_start,
            status: None,
            stopped_by_checker,
            verdict: None,
            overrun: Arc::new(Mutex::new(None)),
            channel: Mutex::new(channel),
            sockets,
            output: Some(output),
            printed: Mutex::new(log::Reader::new(log, log_start)),
        };
        server.guarded(binary, contained, most, pid.is_some())
    }

    /// The last steps of a start: a contained server must have shown under its shim and
    /// the shim must have reported no trouble; then the guard watches the server.
    fn guarded(
        mut self,
        binary: &Path,
        contained: bool,
        most: usize,
        seen: bool,
    ) -> lab::Result<Self> {
        if !seen && self.exit_status().is_none() {
            return Err(Failure::new(
                "containing the server",
                "its shim started, but the server was not seen under it within 2 s",
            ));
        }
        self.containment_failure()?;
        if contained {
            inspect::watch_network(self.pid);
        }
        let program = if contained {
            self.program(binary)
        } else {
            None
        };
        let overrun = Arc::clone(&self.overrun);
        guard_processes(self.group, contained, most, program, overrun);
        Ok(self)
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
}

/// Writes the header of a new run into `log` and returns where the server's own output
/// will start.
fn open_section(log: &Path, title: &str, binary: &Path, port: u16) -> io::Result<u64> {
    let mut output = OpenOptions::new().create(true).append(true).open(log)?;
    log::write_header(&mut output, title, binary, port)?;
    Ok(output.metadata()?.len())
}

/// The command that starts the server (or the shim that contains it): in a process group
/// of its own, in the state of a fresh process, dying with the checker, its stdout and
/// stderr into `printed`.
fn server_command(
    plan: &Plan,
    binary: &Path,
    arguments: &[String],
    contained: bool,
    printed: &OwnedFd,
) -> lab::Result<Command> {
    let stdio = || {
        printed
            .try_clone()
            .map(Stdio::from)
            .context("making the server's output pipe")
    };
    let mut command = if contained {
        contain::shim_command(plan)
    } else {
        let mut command = Command::new(binary);
        command.args(arguments).env("RUST_BACKTRACE", "0");
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
    Ok(command)
}

/// Starts `command`: under the shim's containment, or as a plain child. Returns the
/// checker's child, the shim's channel and where clients get sockets (a contained server).
fn spawn(
    plan: &Plan,
    mut command: Command,
    binary: &Path,
    contained: bool,
) -> lab::Result<(Child, Channel, Option<Arc<SocketSource>>)> {
    if contained {
        let launched = contain::launch(plan, command)
            .map_err(|why| Failure::new("containing the server", why))?;
        Ok((
            launched.child,
            launched.channel,
            launched.sockets.map(Arc::new),
        ))
    } else {
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        drop(command);
        Ok((child, Channel::placeholder(), None))
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
