//! The shim and the namespace's init: the checker's binary started again, twice, with a
//! plan in its environment. Every process here is started with `std::process::Command`.
//!
//! - The shim enters the new namespaces, tells the checker (which maps its user from
//!   outside), and starts init, the first process of the new PID namespace; it waits for
//!   init and ends as the program ended.
//! - Init brings up the loopback, builds the world and enters it, starts the program with
//!   the sandbox taken on just before exec, answers the checker's requests for sockets and
//!   the filter's questions about executions, waits for the program and reports how it
//!   ended. When init ends, the kernel kills whatever is left in the namespace.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{self, Command, ExitStatus, Stdio};
use std::thread;

use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, kill, signal, sigprocmask};
use nix::unistd::{Gid, Pid, Uid, setgroups, setresgid, setresuid};

use crate::contain::channel::{self, Message};
use crate::contain::{
    CHANNEL_FD, LAB_PATH, Plan, Purpose, SERVER_PATH, SOCKETS_FD, root, seccomp, sockets,
};

mod sandbox;

use sandbox::{Sandbox, become_program};

/// Set for init: the descriptor it reports the program's end on, and the shim's pid.
const INIT: &str = "LAB_CHECKER_INIT";

/// Set for init: what to bind into the world, as the shim opened it.
const BINDS: &str = "LAB_CHECKER_BINDS";

/// Runs the program of `plan` contained, as the shim or as init, and exits as it did.
/// Never returns.
pub fn run_shim(plan: &str) -> ! {
    // SAFETY: the checker gave the shim this descriptor, and init inherits it.
    let mut channel = File::from(unsafe { OwnedFd::from_raw_fd(CHANNEL_FD) });
    let _ = fcntl(&channel, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
    let outcome = Plan::decode(plan).and_then(|plan| match std::env::var(INIT) {
        Ok(init_args) => init(&plan, &init_args, &channel),
        Err(_) => shim(&plan, &mut channel),
    });
    match outcome {
        Ok(status) => end_like(status),
        Err(why) => {
            channel::send(&mut channel, &Message::Failed(why));
            process::exit(126);
        }
    }
}

/// Enters the namespaces, waits for the checker to map the user, and starts init in
/// them; returns how the program ended.
fn shim(plan: &Plan, channel: &mut File) -> Result<ExitStatus, String> {
    if Uid::effective().is_root() {
        // Root's supplementary groups would follow it into the namespace, where they
        // can no longer be dropped.
        setgroups(&[]).map_err(|e| format!("dropping root's groups: {e}"))?;
    }
    let flags = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS;
    unshare(flags).map_err(|e| format!("unshare (user, mount, PID, network, IPC, UTS): {e}"))?;
    // Opened in the new mount namespace (a bind's source must be in it) but still with
    // the checker's own rights: the namespace's user has none of them yet.
    let binds = root::sources(plan)?;
    let kept = root::descriptors(&binds);
    // Init is this very binary, started through a descriptor opened now: the namespace's
    // user may not reach the folder it lies in (a temporary folder of mode 700).
    let me = File::open("/proc/self/exe").map_err(|e| format!("opening the checker: {e}"))?;
    channel::send(channel, &Message::Unshared);
    let mut go = [0u8; 1];
    match io::stdin().read(&mut go) {
        Ok(1) => {}
        _ => return Err("the checker did not map the namespace's user".into()),
    }
    // The namespace's root, which the checker mapped to an unprivileged identity.
    setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
        .map_err(|e| format!("becoming the namespace's group: {e}"))?;
    setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
        .map_err(|e| format!("becoming the namespace's user: {e}"))?;
    // A change of user clears the parent-death signal: set it again, and make sure the
    // checker did not die in between.
    let checker = nix::unistd::getppid();
    prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| format!("prctl: {e}"))?;
    if nix::unistd::getppid() != checker || checker.as_raw() == 1 {
        return Err("the checker is gone".into());
    }
    // Init tells on this pipe whether the program was killed by a signal: init cannot
    // end by a signal of its own (the kernel protects a namespace's first process).
    let (report, report_end) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let report_fd = report_end.as_raw_fd();
    let mut command = Command::new(format!("/proc/self/fd/{}", me.as_raw_fd()));
    command
        .env(INIT, format!("{report_fd} {}", process::id()))
        .env(BINDS, root::send(&binds))
        .stdin(Stdio::null());
    // SAFETY: between fork and exec, plain system calls only: the descriptors init needs
    // stay open across exec, and init dies with the shim.
    unsafe {
        command.pre_exec(move || {
            for &fd in [report_fd, CHANNEL_FD, SOCKETS_FD].iter().chain(&kept) {
                let _ = fcntl(
                    BorrowedFd::borrow_raw(fd),
                    FcntlArg::F_SETFD(FdFlag::empty()),
                );
            }
            prctl::set_pdeathsig(Signal::SIGKILL)?;
            Ok(())
        });
    }
    let mut init = command
        .spawn()
        .map_err(|e| format!("starting the namespace's init: {e}"))?;
    drop(report_end);
    drop(binds);
    let status = init.wait().map_err(|e| format!("waiting for init: {e}"))?;
    let mut signaled = [0u8; 1];
    let _ = File::from(report).read(&mut signaled);
    Ok(match (status.code(), signaled[0]) {
        (Some(code), 1) if code > 128 => ExitStatus::from_raw(code - 128),
        _ => status,
    })
}

/// The namespace's first process: enters the world, starts the program, and returns how
/// it ended once it has.
fn init(plan: &Plan, init_args: &str, channel: &File) -> Result<ExitStatus, String> {
    let (report, shim) = init_args
        .split_once(' ')
        .and_then(|(fd, shim)| Some((fd.parse::<RawFd>().ok()?, shim.parse::<u32>().ok()?)))
        .ok_or("a bad init setting")?;
    // SAFETY: the shim left this descriptor open for init alone.
    let mut report = File::from(unsafe { OwnedFd::from_raw_fd(report) });
    fcntl(&report, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(|e| format!("fcntl: {e}"))?;
    // The shim may have died before init's parent-death signal was set. Its pid lies
    // outside this namespace, but /proc is still the machine's.
    let shim_state = fs::read_to_string(format!("/proc/{shim}/stat")).unwrap_or_default();
    if shim_state
        .rsplit_once(") ")
        .is_none_or(|(_, rest)| rest.starts_with('Z'))
    {
        return Err("the shim is gone".into());
    }
    // Nothing the program does may read init's memory or environment (/proc/1/...).
    prctl::set_dumpable(false).map_err(|e| format!("prctl: {e}"))?;
    sockets::loopback_up().map_err(|e| format!("bringing up the loopback: {e}"))?;
    let binds = root::receive(&std::env::var(BINDS).map_err(|_| "no list of binds")?)?;
    root::enter(plan, &binds)?;
    drop(binds);
    let server = matches!(plan.purpose, Purpose::Server);
    if !server {
        let tmp = Path::new(LAB_PATH).join("target/tmp");
        fs::create_dir_all(&tmp).map_err(|e| format!("creating {}: {e}", tmp.display()))?;
    }
    let sandbox = Sandbox::prepare(plan)?;
    if server {
        // SAFETY: the checker's end of the socket source, given to the shim as fd 4.
        let checker = unsafe { OwnedFd::from_raw_fd(SOCKETS_FD) };
        let _ = fcntl(&checker, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC));
        thread::spawn(move || sockets::serve(checker));
        let mut channel = channel
            .try_clone()
            .map_err(|e| format!("sharing the channel: {e}"))?;
        let listener = sandbox
            .listener_from_program
            .try_clone()
            .map_err(|e| e.to_string())?;
        thread::spawn(
            move || match sockets::receive_descriptor(listener.as_raw_fd()) {
                Ok(Some(fd)) => seccomp::supervise(fd, channel),
                _ => channel::send(
                    &mut channel,
                    &Message::Failed("the program's seccomp listener never reached init".into()),
                ),
            },
        );
    }
    let mut command = program_command(plan)?;
    let ready = sandbox.ready();
    // SAFETY: init has threads by now, so the child may only make plain system calls on
    // memory prepared before the fork: `ready` holds nothing else.
    unsafe {
        command.pre_exec(move || become_program(&ready));
    }
    let status = command
        .spawn()
        .map_err(|e| format!("starting the program: {e}"))?
        .wait()
        .map_err(|e| format!("waiting for the program: {e}"))?;
    drop(sandbox);
    if status.success()
        && let Purpose::Build(world) = &plan.purpose
        && let Some(built) = &world.export
    {
        export(built)?;
    }
    let _ = report.write_all(&[u8::from(status.signal().is_some())]);
    Ok(status)
}

/// The program's command: its path in the world, its arguments and its whole
/// environment. A script that names its interpreter through `env` is run by that
/// interpreter directly: the program's one execution is the interpreter's.
fn program_command(plan: &Plan) -> Result<Command, String> {
    let name = plan
        .program
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "server".into());
    let mut command = match plan.purpose {
        Purpose::Server => match env_interpreter(Path::new(SERVER_PATH)) {
            Some(interpreter) => {
                let mut command = Command::new(interpreter);
                command.arg(SERVER_PATH);
                command
            }
            None => {
                let mut command = Command::new(SERVER_PATH);
                command.arg0(&name);
                command
            }
        },
        Purpose::Build(_) => Command::new(&plan.program),
    };
    let workdir = match plan.purpose {
        Purpose::Server => "/tmp",
        Purpose::Build(_) => LAB_PATH,
    };
    command
        .args(&plan.args)
        .env_clear()
        .envs(plan.env.iter().map(|(name, value)| (name, value)))
        .current_dir(workdir)
        .stdin(Stdio::null());
    Ok(command)
}

/// For a script that starts `#!/usr/bin/env NAME`, the program NAME in the world.
fn env_interpreter(script: &Path) -> Option<PathBuf> {
    let mut start = [0u8; 256];
    let read = File::open(script).ok()?.read(&mut start).ok()?;
    let line = std::str::from_utf8(&start[..read]).ok()?.lines().next()?;
    let mut words = line.strip_prefix("#!")?.split_whitespace();
    let interpreter = words.next()?;
    if !interpreter.ends_with("/env") {
        return None;
    }
    let name = words.next()?;
    ["/usr/local/bin", "/usr/bin", "/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

/// Copies the built file out of the build's layer into the scratch copy, where the
/// checker takes it: the layer vanishes with the namespace.
fn export(built: &Path) -> Result<(), String> {
    let name = built.file_name().ok_or("nothing to export")?;
    let to = Path::new(LAB_PATH).join(name);
    fs::copy(built, &to)
        .map(drop)
        .map_err(|e| format!("copying {} out of the build: {e}", built.display()))
}

/// Ends this process as the program ended: with its exit code, or killed by its signal.
/// (Init cannot be killed by its own signal; it exits with 128 + the signal, and says so
/// to the shim, which then ends by that signal.)
fn end_like(status: ExitStatus) -> ! {
    if let Some(number) = status.signal()
        && std::env::var_os(INIT).is_none()
        && let Ok(by) = Signal::try_from(number)
    {
        // SAFETY: the default action, so that the signal ends this process too.
        let _ = unsafe { signal(by, SigHandler::SigDfl) };
        let mut only = SigSet::empty();
        only.add(by);
        let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&only), None);
        let _ = kill(Pid::this(), by);
    }
    match (status.code(), status.signal()) {
        (Some(code), _) => process::exit(code),
        (None, Some(number)) => process::exit(128 + number),
        (None, None) => process::exit(1),
    }
}
