//! The system calls a process makes, followed for a moment by tracing it (ptrace): the one
//! piece of evidence /proc cannot give, what a loop does between two waits: how often it
//! reads, how much each read asks for, how many events a wait returned and which
//! descriptors the loop then handled.

use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::inspect::{CallKind, bytes_asked, kind_of};

/// One system call, as it was entered and, where the trace saw it end, what it returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub kind: CallKind,
    /// Its first argument: the descriptor of a read or an epoll_wait.
    pub first_arg: i64,
    /// Its first three arguments as the kernel got them (for epoll_ctl: the epoll
    /// instance, the operation, the descriptor; for read and recvfrom: the descriptor, the
    /// buffer, the bytes asked for).
    pub args: [u64; 3],
    /// The bytes a read asked for, where its arguments say it (read, recvfrom).
    pub asked: Option<u64>,
    /// What it returned (a negative error number on failure); `None` if the trace ended
    /// before the call did.
    pub returned: Option<i64>,
}

impl Call {
    /// A call entered with these arguments that has not returned yet.
    pub fn entered(kind: CallKind, args: [u64; 3]) -> Self {
        Call {
            kind,
            first_arg: args[0] as i64,
            args,
            asked: None,
            returned: None,
        }
    }
}

/// Traces `pid` until it has entered `most` system calls or `window` has passed, and
/// returns the calls in order. The process runs on afterwards as before (it is only
/// slower while traced). Fails, saying why, where this machine does not allow the
/// tracing (ptrace refused) or the process ended; fails with [`Untraced::Held`] if the
/// checker could not let go of it, which leaves the process stopped.
///
/// Two hooks: `held` runs once while the process is held stopped, before the first
/// traced call (what happens meanwhile, such as data arriving, waits for it; the window
/// starts after it); `enough` is asked at every stop and, while the process runs or
/// sleeps, every few milliseconds, with the calls so far and whether no call has been
/// made for a while ([`QUIET`]): once it says so, the trace ends.
pub fn trace_calls_with(
    pid: i32,
    most: usize,
    window: Duration,
    held: impl FnOnce(),
    mut enough: impl FnMut(&[Call], bool) -> bool,
) -> Result<Vec<Call>, Untraced> {
    let tracee = Pid::from_raw(pid);
    ptrace::seize(tracee, ptrace::Options::PTRACE_O_TRACESYSGOOD).map_err(|errno| {
        Untraced::Refused(format!(
            "tracing the server was refused (ptrace: {})",
            errno.desc()
        ))
    })?;
    let mut followed = Followed::default();
    let mut hooks = Hooks {
        held: Some(Box::new(held)),
        enough: &mut enough,
    };
    let traced = follow(tracee, most, window, &mut followed, &mut hooks);
    release(tracee, &followed)?;
    traced.map(|()| followed.calls).map_err(Untraced::Refused)
}

/// [`trace_calls_with`] with no hooks: traces until `most` calls or `window`.
pub fn trace_calls(pid: i32, most: usize, window: Duration) -> Result<Vec<Call>, Untraced> {
    trace_calls_with(pid, most, window, || {}, |_, _| false)
}

/// Why the calls were not counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Untraced {
    /// The tracing could not be done, or the process ended: why.
    Refused(String),
    /// The tracing was done, but the process could not be released: why. It is the
    /// checker's trouble, not the server's.
    Held(String),
}

/// How long a traced process may make no call before it counts as quiet: blocked, or
/// sleeping in a wait.
pub const QUIET: Duration = Duration::from_millis(30);

/// What the caller of [`trace_calls_with`] does while the trace runs.
struct Hooks<'a> {
    held: Option<Box<dyn FnOnce() + 'a>>,
    enough: &'a mut dyn FnMut(&[Call], bool) -> bool,
}

/// Where the following of a tracee got to.
#[derive(Default)]
struct Followed {
    calls: Vec<Call>,
    /// The last call entered has not returned yet.
    inside: bool,
    /// The tracee is in a ptrace stop now, and this signal was on its way to it there.
    stopped: Option<Option<Signal>>,
}

/// Lets the tracee go, with the signal it was to get. Detaching needs a stop: if it is
/// not in one, asks for one and waits for it.
fn release(tracee: Pid, followed: &Followed) -> Result<(), Untraced> {
    let mut pending = followed.stopped;
    for _ in 0..3 {
        if pending.is_none() {
            let _ = ptrace::interrupt(tracee);
            pending = match wait_for_stop(tracee, Duration::from_secs(1), &mut |_| false) {
                Ok(Some(WaitStatus::PtraceEvent(_, Signal::SIGTRAP, _)))
                | Ok(Some(WaitStatus::PtraceSyscall(_))) => Some(None),
                Ok(Some(WaitStatus::PtraceEvent(_, signal, _)))
                | Ok(Some(WaitStatus::Stopped(_, signal))) => Some(Some(signal)),
                // Gone: nothing to let go of.
                Err(_) => return Ok(()),
                Ok(_) => None,
            };
        }
        if let Some(signal) = pending {
            match ptrace::detach(tracee, signal) {
                Ok(()) => return Ok(()),
                Err(_) if !is_traced_by_us(tracee) => return Ok(()),
                Err(_) => pending = None,
            }
        }
    }
    Err(Untraced::Held(format!(
        "the checker traced the server (pid {tracee}) for a moment and could not let go of it"
    )))
}

/// Whether `tracee` is still traced by this process (/proc/PID/status TracerPid).
fn is_traced_by_us(tracee: Pid) -> bool {
    std::fs::read_to_string(format!("/proc/{tracee}/status"))
        .ok()
        .and_then(|status| {
            let tracer = status
                .lines()
                .find_map(|line| line.strip_prefix("TracerPid:"))?;
            tracer.trim().parse::<u32>().ok()
        })
        .is_some_and(|tracer| tracer == std::process::id())
}

/// Steps from stop to stop, noting each call's entry in `followed`.
fn follow(
    tracee: Pid,
    most: usize,
    window: Duration,
    followed: &mut Followed,
    hooks: &mut Hooks,
) -> Result<(), String> {
    let mut deadline = Instant::now() + window;
    let failed = |errno: Errno| format!("tracing the server failed ({})", errno.desc());
    ptrace::interrupt(tracee).map_err(failed)?;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let calls = &followed.calls;
        let enough = &mut *hooks.enough;
        let Some(status) = wait_for_stop(tracee, left, &mut |quiet| enough(calls, quiet))? else {
            return Ok(());
        };
        let mut inject = None;
        match status {
            WaitStatus::PtraceSyscall(_) => {
                let info = ptrace::syscall_info(tracee).map_err(failed)?;
                if info.op == nix::libc::PTRACE_SYSCALL_INFO_ENTRY {
                    // SAFETY: `op` says the kernel filled the union's `entry` member.
                    let entry = unsafe { info.u.entry };
                    let (number, args) = (
                        entry.nr as i64,
                        [entry.args[0], entry.args[1], entry.args[2]],
                    );
                    followed.calls.push(Call {
                        asked: bytes_asked(number, args),
                        ..Call::entered(kind_of(number), args)
                    });
                    followed.inside = true;
                } else if info.op == nix::libc::PTRACE_SYSCALL_INFO_EXIT && followed.inside {
                    // SAFETY: `op` says the kernel filled the union's `exit` member.
                    let exit = unsafe { info.u.exit };
                    if let Some(call) = followed.calls.last_mut() {
                        call.returned = Some(exit.sval);
                    }
                    followed.inside = false;
                }
            }
            // The stop the checker asked for (PTRACE_INTERRUPT): the process is held, and
            // the window starts once it runs on.
            WaitStatus::PtraceEvent(_, Signal::SIGTRAP, _) => {
                if let Some(held) = hooks.held.take() {
                    held();
                    deadline = Instant::now() + window;
                }
            }
            WaitStatus::PtraceEvent(_, signal, _) | WaitStatus::Stopped(_, signal) => {
                inject = Some(signal)
            }
            _ => return Err("the server ended while it was traced".to_owned()),
        }
        let enough = (hooks.enough)(&followed.calls, false);
        if followed.calls.len() >= most || Instant::now() >= deadline || enough {
            followed.stopped = Some(inject);
            return Ok(());
        }
        ptrace::syscall(tracee, inject).map_err(failed)?;
    }
}

/// Waits up to `timeout` for the tracee's next stop; `None` if none came in time, or if
/// `enough` (asked every few milliseconds, with whether the tracee has been quiet for
/// [`QUIET`]) said to stop waiting. An exit is seen but left to be collected by the
/// process's parent (which may be the checker).
fn wait_for_stop(
    tracee: Pid,
    timeout: Duration,
    enough: &mut dyn FnMut(bool) -> bool,
) -> Result<Option<WaitStatus>, String> {
    let started = Instant::now();
    let deadline = started + timeout;
    let mut asked = started;
    let stops = WaitPidFlag::WSTOPPED | WaitPidFlag::WNOHANG;
    let exits = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
    let waiting = |errno: Errno| format!("waiting for the traced server failed ({})", errno.desc());
    loop {
        match waitid(Id::Pid(tracee), stops).map_err(waiting)? {
            WaitStatus::StillAlive => {}
            status => return Ok(Some(status)),
        }
        // A tracer is told of its tracee's stops whatever the flags say, so a stop that
        // came since the last call may show here: only an end is taken from this call.
        if let WaitStatus::Exited(..) | WaitStatus::Signaled(..) =
            waitid(Id::Pid(tracee), exits).map_err(waiting)?
        {
            return Err("the server ended while it was traced".to_owned());
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(None);
        }
        if now.duration_since(asked) >= Duration::from_millis(5) {
            asked = now;
            if enough(now.duration_since(started) >= QUIET) {
                return Ok(None);
            }
        }
        thread::sleep(Duration::from_micros(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_traced_and_runs_on() {
        let mut child = std::process::Command::new("sh")
            .args(["-c", "while :; do read x </dev/null; done"])
            .spawn()
            .unwrap();
        let pid = child.id() as i32;
        thread::sleep(Duration::from_millis(50));
        let calls = trace_calls(pid, 50, Duration::from_secs(2));
        let alive = child.try_wait().unwrap().is_none();
        // A process that is traced already cannot be traced again: that is said, not
        // taken for an answer.
        let tracee = Pid::from_raw(pid);
        ptrace::seize(tracee, ptrace::Options::empty()).unwrap();
        let refused = trace_calls(pid, 50, Duration::from_secs(2));
        let _ = ptrace::detach(tracee, None);
        child.kill().unwrap();
        child.wait().unwrap();
        let calls = calls.unwrap();
        assert!(
            matches!(&refused, Err(Untraced::Refused(why))
                if why.starts_with("tracing the server was refused (ptrace: ")),
            "{refused:?}"
        );
        assert_eq!(calls.len(), 50);
        assert!(
            calls.iter().any(|call| call.kind == CallKind::Read),
            "{calls:?}"
        );
        assert!(alive, "the traced process died");
    }
}
