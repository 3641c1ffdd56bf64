//! The system calls a process makes, counted for a moment by tracing it (ptrace): the one
//! piece of evidence /proc cannot give, how often a loop reads between two waits.

use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::inspect::{CallKind, kind_of};

/// One system call, as it was entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub kind: CallKind,
    /// Its first argument: the descriptor of a read or an epoll_wait.
    pub first_arg: i64,
}

/// Traces `pid` until it has entered `most` system calls or `window` has passed, and
/// returns the calls in order. The process runs on afterwards as before (it is only
/// slower while traced). Fails, saying why, where this machine does not allow the
/// tracing (ptrace refused) or the process ended.
pub fn trace_calls(pid: i32, most: usize, window: Duration) -> Result<Vec<Call>, String> {
    let tracee = Pid::from_raw(pid);
    ptrace::seize(tracee, ptrace::Options::PTRACE_O_TRACESYSGOOD)
        .map_err(|errno| format!("tracing the server was refused (ptrace: {})", errno.desc()))?;
    let traced = follow(tracee, most, window);
    // Detaching needs the process in a stop: ask for one unless it is in one already.
    if traced.as_ref().is_ok_and(|(_, stopped)| !stopped) || traced.is_err() {
        let _ = ptrace::interrupt(tracee);
        let _ = wait_for_stop(tracee, Duration::from_millis(500));
    }
    let _ = ptrace::detach(tracee, None);
    traced.map(|(calls, _)| calls)
}

/// Steps from stop to stop, noting each call's entry; returns the calls and whether the
/// process is in a stop now.
fn follow(tracee: Pid, most: usize, window: Duration) -> Result<(Vec<Call>, bool), String> {
    let deadline = Instant::now() + window;
    let failed = |errno: Errno| format!("tracing the server failed ({})", errno.desc());
    ptrace::interrupt(tracee).map_err(failed)?;
    let mut calls = Vec::new();
    loop {
        let Some(status) =
            wait_for_stop(tracee, deadline.saturating_duration_since(Instant::now()))?
        else {
            return Ok((calls, false));
        };
        let mut inject = None;
        match status {
            WaitStatus::PtraceSyscall(_) => {
                let info = ptrace::syscall_info(tracee).map_err(failed)?;
                if info.op == nix::libc::PTRACE_SYSCALL_INFO_ENTRY {
                    // SAFETY: `op` says the kernel filled the union's `entry` member.
                    let entry = unsafe { info.u.entry };
                    calls.push(Call {
                        kind: kind_of(entry.nr as i64),
                        first_arg: entry.args[0] as i64,
                    });
                }
            }
            // A stop the checker asked for (PTRACE_INTERRUPT), or a signal on its way to
            // the process, which it must still get.
            WaitStatus::PtraceEvent(_, Signal::SIGTRAP, _) => {}
            WaitStatus::PtraceEvent(_, signal, _) | WaitStatus::Stopped(_, signal) => {
                inject = Some(signal)
            }
            _ => return Err("the server ended while it was traced".to_owned()),
        }
        if calls.len() >= most || Instant::now() >= deadline {
            return Ok((calls, true));
        }
        ptrace::syscall(tracee, inject).map_err(failed)?;
    }
}

/// Waits up to `timeout` for the tracee's next stop; `None` if none came in time.
fn wait_for_stop(tracee: Pid, timeout: Duration) -> Result<Option<WaitStatus>, String> {
    let deadline = Instant::now() + timeout;
    let flags = WaitPidFlag::WSTOPPED | WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG;
    loop {
        match waitid(Id::Pid(tracee), flags) {
            Ok(WaitStatus::StillAlive) => {}
            Ok(status) => return Ok(Some(status)),
            Err(errno) => {
                return Err(format!(
                    "waiting for the traced server failed ({})",
                    errno.desc()
                ));
            }
        }
        if Instant::now() >= deadline {
            return Ok(None);
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
            refused
                .as_ref()
                .is_err_and(|why| why.starts_with("tracing the server was refused (ptrace: ")),
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
