//! The shim and the namespace's init: the checker's binary started again, twice, with a
//! plan in its environment. Every process here is started with `std::process::Command`.
//!
//! - The shim enters the new namespaces and starts init, which is the first process of
//!   the new PID namespace; it waits for init and ends as the program ended.
//! - Init sets up the mounts, starts the program (the server, or cargo) with the sandbox
//!   taken on just before exec, waits for it and reports how it ended. When init ends,
//!   the kernel kills whatever is left in the namespace.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{self, Command, ExitStatus};

use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, kill, signal, sigprocmask};
use nix::unistd::{Gid, Pid, Uid, setgroups, setresgid, setresuid};

use crate::contain::{Confinement, PLAN, landlock};

/// Set for init: the descriptor it reports the program's end on, and the shim's pid.
const INIT: &str = "LAB_CHECKER_INIT";

/// The user a server runs as when the checker is root: nobody's.
const NOBODY: u32 = 65534;

/// Runs the program named by the arguments under the plan, as the shim or as init, and
/// exits as it did. Never returns.
pub fn run_shim(plan: &str) -> ! {
    let plan = Confinement::decode(plan);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let outcome = match std::env::var(INIT) {
        Ok(init_args) => init(&plan, &args, &init_args),
        Err(_) => shim(&args),
    };
    match outcome {
        Ok(status) => end_like(status),
        Err(why) => {
            lab::print_error(&format!("checker: containing the server: {why}"));
            process::exit(126);
        }
    }
}

/// Enters the namespaces and starts init in them; returns how the program ended.
fn shim(args: &[OsString]) -> Result<ExitStatus, String> {
    let root = Uid::effective().is_root();
    let (uid, gid) = (Uid::current(), Gid::current());
    let mut flags = CloneFlags::CLONE_NEWPID | CloneFlags::CLONE_NEWNS;
    if !root {
        flags |= CloneFlags::CLONE_NEWUSER;
    }
    unshare(flags).map_err(|e| format!("unshare (PID and mount namespaces): {e}"))?;
    if !root {
        let write = |file: &str, text: String| {
            fs::write(format!("/proc/self/{file}"), text)
                .map_err(|e| format!("writing /proc/self/{file}: {e}"))
        };
        write("setgroups", "deny".into())?;
        write("uid_map", format!("0 {uid} 1"))?;
        write("gid_map", format!("0 {gid} 1"))?;
    }
    // Init tells on this pipe whether the program was killed by a signal: init cannot
    // end by a signal of its own (the kernel protects a namespace's first process).
    let (report, report_end) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let me = std::env::current_exe().map_err(|e| format!("finding the checker: {e}"))?;
    let report_fd = report_end.as_raw_fd();
    let mut command = Command::new(me);
    command
        .args(args)
        .env(INIT, format!("{report_fd} {}", process::id()));
    // SAFETY: between fork and exec, plain system calls only: the report's end stays
    // open across exec, and init dies with the shim.
    unsafe {
        command.pre_exec(move || {
            let end = std::os::fd::BorrowedFd::borrow_raw(report_fd);
            fcntl(end, FcntlArg::F_SETFD(FdFlag::empty()))?;
            prctl::set_pdeathsig(Signal::SIGKILL)?;
            Ok(())
        });
    }
    let mut init = command
        .spawn()
        .map_err(|e| format!("starting the namespace's init: {e}"))?;
    drop(report_end);
    let status = init.wait().map_err(|e| format!("waiting for init: {e}"))?;
    let mut signaled = [0u8; 1];
    let _ = File::from(report).read(&mut signaled);
    Ok(match (status.code(), signaled[0]) {
        (Some(code), 1) if code > 128 => ExitStatus::from_raw(code - 128),
        _ => status,
    })
}

/// The namespace's first process: sets up the mounts, starts the program, and returns
/// how it ended once it has.
fn init(plan: &Confinement, args: &[OsString], init_args: &str) -> Result<ExitStatus, String> {
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
    let program_path = args.first().ok_or("no program to run")?;
    // Opened now: the mounts to come may hide where it lies. It is run through
    // /proc/self/fd, and closes itself as it runs (close-on-exec).
    let program = File::open(program_path)
        .map_err(|e| format!("opening {}: {e}", Path::new(program_path).display()))?;
    mounts(plan)?;
    let mut command = Command::new(format!("/proc/self/fd/{}", program.as_raw_fd()));
    command
        .arg0(program_path)
        .args(&args[1..])
        .env_remove(PLAN)
        .env_remove(INIT);
    let (sandboxed, root) = (plan.cap.is_some(), Uid::effective().is_root());
    // The most processes an unprivileged server may have, counted by the kernel per user:
    // twice what the checker's guard allows, so that the guard says what happened and the
    // kernel stops a fork bomb that is quicker than the guard's look.
    let most = 2 * plan
        .processes
        .unwrap_or(crate::server::guard::MAX_PROCESSES) as u64;
    if sandboxed {
        command.current_dir("/tmp");
    }
    // SAFETY: init has one thread, so the child may run ordinary code before exec.
    unsafe {
        command.pre_exec(move || become_program(sandboxed, root, most));
    }
    let status = command
        .spawn()
        .map_err(|e| format!("starting the program: {e}"))?
        .wait()
        .map_err(|e| format!("waiting for the program: {e}"))?;
    let _ = report.write_all(&[u8::from(status.signal().is_some())]);
    Ok(status)
}

fn mounts(plan: &Confinement) -> Result<(), String> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("making the mounts private: {e}"))?;
    for path in &plan.hide {
        hide(path)?;
    }
    let Some(cap) = plan.cap else {
        return Ok(());
    };
    read_only_everywhere()?;
    let size = format!("size={cap},mode=1777");
    mount(
        Some("tmpfs"),
        "/tmp",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(size.as_str()),
    )
    .map_err(|e| format!("mounting a tmpfs of {cap} bytes on /tmp: {e}"))?;
    // One tmpfs for every place a program expects to write: one cap for them all.
    for other in ["/var/tmp", "/dev/shm"] {
        if Path::new(other).is_dir() {
            mount(Some("/tmp"), other, none, MsFlags::MS_BIND, none)
                .map_err(|e| format!("binding /tmp on {other}: {e}"))?;
        }
    }
    mount(
        Some("proc"),
        "/proc",
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        none,
    )
    .map_err(|e| format!("mounting the namespace's /proc: {e}"))
}

/// Covers `path` with an empty read-only mount: a tmpfs over a folder, /dev/null over a
/// file. A path that is not there needs no cover.
fn hide(path: &Path) -> Result<(), String> {
    let none: Option<&str> = None;
    let covered = if path.is_dir() {
        mount(
            Some("tmpfs"),
            path,
            Some("tmpfs"),
            MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("size=4k,mode=555"),
        )
    } else if path.exists() {
        mount(Some("/dev/null"), path, none, MsFlags::MS_BIND, none)
    } else {
        return Ok(());
    };
    covered.map_err(|e| format!("hiding {}: {e}", path.display()))
}

/// Makes every mount read-only, recursively (mount_setattr, Linux 5.12 and later).
fn read_only_everywhere() -> Result<(), String> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const MOUNT_ATTR_RDONLY: u64 = 0x1;
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let attr = MountAttr {
        attr_set: MOUNT_ATTR_RDONLY,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    // SAFETY: a NUL-terminated path and an attribute struct that live across the call.
    let done = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            c"/".as_ptr(),
            AT_RECURSIVE,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if done != 0 {
        return Err(format!(
            "making the file system read-only (mount_setattr): {}",
            io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// In the program's process, just before exec: a clean start, then the sandbox.
fn become_program(sandboxed: bool, root: bool, most_processes: u64) -> io::Result<()> {
    prctl::set_pdeathsig(Signal::SIGKILL)?;
    // Init is a Rust program, which ignores SIGPIPE: the program starts with every
    // signal's default, but SIGXFSZ, which the checker ignores on purpose.
    sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)?;
    for each in Signal::iterator() {
        if !matches!(each, Signal::SIGKILL | Signal::SIGSTOP | Signal::SIGXFSZ) {
            // SAFETY: SIG_DFL installs no handler of ours.
            let _ = unsafe { signal(each, SigHandler::SigDfl) };
        }
    }
    if !sandboxed {
        return Ok(());
    }
    if root {
        setrlimit(Resource::RLIMIT_NPROC, most_processes, most_processes)?;
        setgroups(&[])?;
        let (gid, uid) = (Gid::from_raw(NOBODY), Uid::from_raw(NOBODY));
        setresgid(gid, gid, gid)?;
        setresuid(uid, uid, uid)?;
    }
    let devices = [Path::new("/dev/null"), Path::new("/dev/zero")];
    landlock::restrict(&[Path::new("/tmp")], &devices)
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
