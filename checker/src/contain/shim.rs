//! The shim: the checker's binary started again with a plan in its environment. It has
//! one thread, so it may fork and go on running ordinary code in the child.

use std::ffi::{CString, OsString};
use std::fs::{self, File};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process;

use nix::errno::Errno;
use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, unshare};
use nix::sys::prctl;
use nix::sys::resource::{Resource, setrlimit};
use nix::sys::signal::{SigHandler, SigSet, SigmaskHow, Signal, kill, signal, sigprocmask};
use nix::sys::wait::{WaitStatus, waitpid};
use nix::unistd::{ForkResult, Gid, Pid, Uid, fexecve, fork, setgroups, setresgid, setresuid};

use crate::contain::{Confinement, PLAN, landlock};

/// The user a server runs as when the checker is root: nobody's.
const NOBODY: u32 = 65534;

/// The most processes an unprivileged server may have, counted by the kernel per user:
/// twice what the checker's guard allows, so that the guard says what happened and the
/// kernel stops a fork bomb that is quicker than the guard's look.
const MAX_PROCESSES: u64 = 2 * crate::server::guard::MAX_PROCESSES as u64;

/// Runs the program named by the arguments under the plan, and exits as it did. Never
/// returns.
pub fn run_shim(plan: &str) -> ! {
    let plan = Confinement::decode(plan);
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    match shim(&plan, &args) {
        Ok(status) => end_like(status),
        Err(why) => {
            lab::print_error(&format!("checker: containing the server: {why}"));
            process::exit(126);
        }
    }
}

/// Enters the namespaces, forks their init and waits for it; returns how the program
/// ended, as init reported it.
fn shim(plan: &Confinement, args: &[OsString]) -> Result<WaitStatus, String> {
    let program_path = args.first().ok_or("no program to run")?;
    // Opened now: the mounts to come may hide where it lies.
    let program = File::open(program_path)
        .map_err(|e| format!("opening {}: {e}", Path::new(program_path).display()))?;
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
    let (report_read, report_write) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let shim = process::id();
    // SAFETY: the shim has one thread, so the child may run ordinary code.
    match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop(report_read);
            let status = init(plan, &program, args, shim, root);
            let signaled = matches!(status, Ok(WaitStatus::Signaled(..)));
            let code = match status {
                Ok(WaitStatus::Exited(_, code)) => code,
                Ok(WaitStatus::Signaled(_, signal, _)) => 128 + signal as i32,
                Ok(_) => 1,
                Err(why) => {
                    lab::print_error(&format!("checker: containing the server: {why}"));
                    126
                }
            };
            let _ = nix::unistd::write(&report_write, &[u8::from(signaled)]);
            // The namespace's first process ends: the kernel kills all that is left.
            process::exit(code);
        }
        ForkResult::Parent { child } => {
            drop(report_write);
            let status = wait_for(child);
            let mut signaled = [0u8];
            let _ = nix::unistd::read(&report_read, &mut signaled);
            Ok(match status {
                WaitStatus::Exited(pid, code) if signaled[0] == 1 && code > 128 => {
                    Signal::try_from(code - 128).map_or(WaitStatus::Exited(pid, code), |signal| {
                        WaitStatus::Signaled(pid, signal, false)
                    })
                }
                other => other,
            })
        }
    }
}

/// Waits for `child`, through interruptions.
fn wait_for(child: Pid) -> WaitStatus {
    loop {
        match waitpid(child, None) {
            Err(Errno::EINTR) => continue,
            Ok(status) => return status,
            Err(_) => return WaitStatus::Exited(child, 1),
        }
    }
}

/// The namespace's first process: sets up the mounts, forks the program, reaps whatever
/// ends up its child, and returns when the program has ended.
fn init(
    plan: &Confinement,
    program: &File,
    args: &[OsString],
    shim: u32,
    root: bool,
) -> Result<WaitStatus, String> {
    prctl::set_pdeathsig(Signal::SIGKILL).map_err(|e| format!("prctl: {e}"))?;
    // The shim may have died before the line above. Its pid lies outside this namespace
    // (getppid says 0), but /proc is still the machine's.
    let shim_state = fs::read_to_string(format!("/proc/{shim}/stat")).unwrap_or_default();
    if shim_state
        .rsplit_once(") ")
        .is_none_or(|(_, rest)| rest.starts_with('Z'))
    {
        return Err("the shim is gone".into());
    }
    mounts(plan)?;
    // SAFETY: this process has one thread.
    let program_pid = match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            let why = become_program(plan, program, args, root);
            lab::print_error(&format!("checker: starting the server: {why}"));
            process::exit(126);
        }
        ForkResult::Parent { child } => child,
    };
    // Reap everything: the program, and every orphan the kernel hands to init.
    loop {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(status) if status.pid() == Some(program_pid) => return Ok(status),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(error) => return Err(format!("waiting for the program: {error}")),
        }
    }
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
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

/// In the program's process: a clean start, then the sandbox, then exec. Returns only
/// with why it could not exec.
fn become_program(plan: &Confinement, program: &File, args: &[OsString], root: bool) -> String {
    let result = (|| -> Result<(), String> {
        let _ = prctl::set_pdeathsig(Signal::SIGKILL);
        // The shim is a Rust program, which ignores SIGPIPE: the program starts with
        // every signal's default, but SIGXFSZ, which the checker ignores on purpose.
        sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
            .map_err(|e| format!("sigprocmask: {e}"))?;
        for each in Signal::iterator() {
            if !matches!(each, Signal::SIGKILL | Signal::SIGSTOP | Signal::SIGXFSZ) {
                // SAFETY: SIG_DFL installs no handler of ours.
                let _ = unsafe { signal(each, SigHandler::SigDfl) };
            }
        }
        if plan.cap.is_some() {
            std::env::set_current_dir("/tmp").map_err(|e| format!("chdir /tmp: {e}"))?;
            if root {
                setrlimit(Resource::RLIMIT_NPROC, MAX_PROCESSES, MAX_PROCESSES)
                    .map_err(|e| format!("RLIMIT_NPROC: {e}"))?;
                setgroups(&[]).map_err(|e| format!("setgroups: {e}"))?;
                let (nobody_gid, nobody_uid) = (Gid::from_raw(NOBODY), Uid::from_raw(NOBODY));
                setresgid(nobody_gid, nobody_gid, nobody_gid)
                    .map_err(|e| format!("setresgid: {e}"))?;
                setresuid(nobody_uid, nobody_uid, nobody_uid)
                    .map_err(|e| format!("setresuid: {e}"))?;
            }
            let devices = [Path::new("/dev/null"), Path::new("/dev/zero")];
            landlock::restrict(&[Path::new("/tmp")], &devices)
                .map_err(|e| format!("Landlock: {e}"))?;
        }
        Ok(())
    })();
    if let Err(why) = result {
        return why;
    }
    let to_c = |arg: &OsString| CString::new(arg.as_bytes()).unwrap_or_default();
    let argv: Vec<CString> = args.iter().map(to_c).collect();
    let env: Vec<CString> = std::env::vars_os()
        .filter(|(name, _)| name != PLAN)
        .map(|(name, value)| {
            let mut pair = name.as_bytes().to_vec();
            pair.push(b'=');
            pair.extend_from_slice(value.as_bytes());
            CString::new(pair).unwrap_or_default()
        })
        .collect();
    match fexecve(program, &argv, &env) {
        Err(error) => format!("exec: {error}"),
        Ok(never) => match never {},
    }
}

/// Ends the shim as the program ended: with its exit code, or killed by its signal.
fn end_like(status: WaitStatus) -> ! {
    match status {
        WaitStatus::Exited(_, code) => process::exit(code),
        WaitStatus::Signaled(_, signal, _) => {
            // SAFETY: the default action, so that the signal ends this process too.
            let _ = unsafe { nix::sys::signal::signal(signal, SigHandler::SigDfl) };
            let mut only = SigSet::empty();
            only.add(signal);
            let _ = sigprocmask(SigmaskHow::SIG_UNBLOCK, Some(&only), None);
            let _ = kill(Pid::this(), signal);
            process::exit(128 + signal as i32)
        }
        _ => process::exit(1),
    }
}
