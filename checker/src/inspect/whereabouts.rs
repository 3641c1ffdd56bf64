//! Where a process is blocked: the system call it sleeps in (/proc/PID/syscall), the
//! descriptor that call waits on and what that descriptor is (the listener, a client
//! socket, the signalfd, an epoll instance), and the kernel function (/proc/PID/wchan).

use std::fs;

use crate::inspect::{Activity, FileKind, activity, file_kind_of, wchan};

/// The system calls a lab server blocks in, by what they do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallKind {
    /// read, recvfrom, recvmsg: waits for input on a descriptor.
    Read,
    /// epoll_wait, epoll_pwait: waits on an epoll instance.
    EpollWait,
    /// accept, accept4: waits for a client on a listening socket.
    Accept,
    /// wait4, waitid: waits for a child; `first_arg` is the pid (-1: any child).
    Wait,
    /// nanosleep, clock_nanosleep: sleeps.
    Sleep,
    /// write, sendto: waits to write.
    Write,
    /// poll, select and their kin.
    Poll,
    /// futex: waits for a lock or a thread.
    Futex,
    /// restart_syscall: a sleep (or other wait) taken up again after a stop.
    Restarted,
    /// Any other: its number on this machine.
    Other(i64),
}

/// The system call numbers of this machine's architecture.
#[cfg(target_arch = "x86_64")]
pub fn kind_of(number: i64) -> CallKind {
    match number {
        0 | 45 | 47 => CallKind::Read,
        232 | 281 | 441 => CallKind::EpollWait,
        43 | 288 => CallKind::Accept,
        61 | 247 => CallKind::Wait,
        35 | 230 => CallKind::Sleep,
        1 | 44 | 46 => CallKind::Write,
        7 | 23 | 270 | 271 => CallKind::Poll,
        202 => CallKind::Futex,
        219 => CallKind::Restarted,
        other => CallKind::Other(other),
    }
}

#[cfg(target_arch = "aarch64")]
pub fn kind_of(number: i64) -> CallKind {
    match number {
        63 | 207 | 212 => CallKind::Read,
        22 | 441 => CallKind::EpollWait,
        202 | 242 => CallKind::Accept,
        260 | 95 => CallKind::Wait,
        101 | 115 => CallKind::Sleep,
        64 | 206 | 211 => CallKind::Write,
        72 | 73 => CallKind::Poll,
        98 => CallKind::Futex,
        128 => CallKind::Restarted,
        other => CallKind::Other(other),
    }
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn kind_of(number: i64) -> CallKind {
    CallKind::Other(number)
}

/// The bytes a call asks to read, for the reads whose third argument says it: read and
/// recvfrom (recvmsg says it in its message, which the trace does not follow).
#[cfg(target_arch = "x86_64")]
pub fn bytes_asked(number: i64, args: [u64; 3]) -> Option<u64> {
    matches!(number, 0 | 45).then_some(args[2])
}

#[cfg(target_arch = "aarch64")]
pub fn bytes_asked(number: i64, args: [u64; 3]) -> Option<u64> {
    matches!(number, 63 | 207).then_some(args[2])
}

#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
pub fn bytes_asked(_number: i64, _args: [u64; 3]) -> Option<u64> {
    None
}

/// What a descriptor a process waits on refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Waited {
    Listener,
    Client,
    SignalFd,
    Epoll,
    /// Something else: its link in /proc/PID/fd.
    Other(String),
}

/// Where a process sleeps, at one look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Whereabouts {
    /// The pid as the server's log shows it (see [`crate::inspect::shown_pid`]): for
    /// words only, never to look the process up by.
    pub pid: i32,
    pub activity: Activity,
    /// The kernel function it sleeps in (/proc/PID/wchan).
    pub wchan: String,
    /// The call it sleeps in; `None` while it runs (or when /proc does not say).
    pub call: Option<CallKind>,
    /// The call's first argument: the descriptor for reads, accepts and epoll_wait, the
    /// pid for wait4.
    pub first_arg: i64,
    /// What the descriptor is, for calls that wait on one.
    pub on: Option<Waited>,
}

impl Whereabouts {
    /// The descriptor the call waits on, if it waits on one.
    pub fn fd(&self) -> Option<i32> {
        self.on.as_ref().map(|_| self.first_arg as i32)
    }

    /// Whether it is blocked anywhere but epoll_wait (which is where a loop idles).
    pub fn is_blocked_outside_the_loop(&self) -> bool {
        self.call.is_some() && self.call != Some(CallKind::EpollWait)
    }

    /// What it does, as evidence: `pid 812: blocked in read on the signalfd (descriptor
    /// 5; /proc/812/wchan: signalfd_read_iter)`.
    pub fn describe(&self) -> String {
        let pid = self.pid;
        let Some(call) = self.call else {
            return format!("pid {pid}: {}", self.activity.describe());
        };
        let on = match (&self.on, self.fd()) {
            (Some(what), Some(fd)) => format!(" on {} (descriptor {fd}", waited(what)),
            _ => " (".to_owned(),
        };
        let wchan = &self.wchan;
        let what = match call {
            CallKind::Read => "blocked in read".to_owned(),
            CallKind::EpollWait => "waiting in epoll_wait".to_owned(),
            CallKind::Accept => "blocked in accept".to_owned(),
            CallKind::Wait if self.first_arg == -1 => "waiting in waitpid for any child".to_owned(),
            CallKind::Wait => format!("waiting in waitpid for child {}", self.first_arg),
            CallKind::Sleep => "sleeping (nanosleep)".to_owned(),
            CallKind::Write => "blocked in write".to_owned(),
            CallKind::Poll => "blocked in poll or select".to_owned(),
            CallKind::Futex => "waiting on a futex (a lock or another thread)".to_owned(),
            CallKind::Restarted => {
                "blocked in a call resumed after a stop (restart_syscall)".to_owned()
            }
            CallKind::Other(number) => format!("blocked in system call {number}"),
        };
        let separator = if on.ends_with('(') { "" } else { "; " };
        format!("pid {pid}: {what}{on}{separator}/proc/{pid}/wchan: {wchan})")
    }
}

fn waited(what: &Waited) -> String {
    match what {
        Waited::Listener => "the listening socket".to_owned(),
        Waited::Client => "a client socket".to_owned(),
        Waited::SignalFd => "the signalfd".to_owned(),
        Waited::Epoll => "an epoll instance".to_owned(),
        Waited::Other(link) => link.clone(),
    }
}

/// Where `pid` sleeps now; `listener` is the inode of the server's listening socket.
pub fn whereabouts(pid: i32, listener: Option<u64>) -> Whereabouts {
    let activity = activity(pid);
    let wchan = wchan(pid);
    let (call, first_arg) = if activity == Activity::Running {
        (None, 0)
    } else {
        current_call(pid).map_or((None, 0), |(call, arg)| (Some(call), arg))
    };
    let waits_on_fd = matches!(
        call,
        Some(CallKind::Read | CallKind::Accept | CallKind::EpollWait | CallKind::Write)
    );
    let on = waits_on_fd
        .then(|| {
            let fd = i32::try_from(first_arg).ok()?;
            Some(match file_kind_of(pid, fd)? {
                FileKind::Socket(inode) if Some(inode) == listener => Waited::Listener,
                FileKind::Socket(_) => Waited::Client,
                FileKind::SignalFd => Waited::SignalFd,
                FileKind::Epoll => Waited::Epoll,
                FileKind::Other => Waited::Other(
                    fs::read_link(format!("/proc/{pid}/fd/{fd}"))
                        .map(|link| link.display().to_string())
                        .unwrap_or_default(),
                ),
            })
        })
        .flatten();
    Whereabouts {
        // The pid the server's log would show (its namespace's); the rest was read above.
        pid: crate::inspect::shown_pid(pid),
        activity,
        wchan,
        call,
        first_arg,
        on,
    }
}

/// The system call `pid` sleeps in and its first argument, from /proc/PID/syscall
/// (`<number> <arg1> ...`; `running` while it runs).
fn current_call(pid: i32) -> Option<(CallKind, i64)> {
    let text = fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?;
    parse_call(&text)
}

/// The timeout in milliseconds of the epoll_wait that `pid` sleeps in (-1: none), from
/// /proc/PID/syscall; `None` when it sleeps elsewhere, or in epoll_pwait2, whose timeout
/// is in memory.
pub fn epoll_timeout(pid: i32) -> Option<i32> {
    parse_epoll_timeout(&fs::read_to_string(format!("/proc/{pid}/syscall")).ok()?)
}

fn parse_epoll_timeout(text: &str) -> Option<i32> {
    let fields: Vec<&str> = text.split_whitespace().collect();
    let number: i64 = fields.first()?.parse().ok()?;
    // epoll_wait and epoll_pwait, whose fourth argument is the timeout.
    let timeout_in_a_register = if cfg!(target_arch = "x86_64") {
        matches!(number, 232 | 281)
    } else {
        number == 22
    };
    if !timeout_in_a_register {
        return None;
    }
    let timeout = u64::from_str_radix(fields.get(4)?.strip_prefix("0x")?, 16).ok()?;
    // An int in a register: -1 reads as 0xffffffff.
    Some(timeout as u32 as i32)
}

fn parse_call(text: &str) -> Option<(CallKind, i64)> {
    let mut fields = text.split_whitespace();
    let number: i64 = fields.next()?.parse().ok()?;
    let first = fields.next()?;
    let first = u64::from_str_radix(first.strip_prefix("0x")?, 16).ok()? as i64;
    // Arguments are registers: a 32-bit -1 (any child) reads as 0xffffffff.
    let first = if first == 0xffff_ffff { -1 } else { first };
    Some((kind_of(number), first))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_read_with_its_first_argument() {
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(
                parse_call("0 0x5 0x7ffd 0x1 0x0 0x0 0x0 0x7ffd 0x7f"),
                Some((CallKind::Read, 5))
            );
            assert_eq!(
                parse_call("61 0xffffffffffffffff 0x0 0x0 0x0 0x0 0x0 0x7ffd 0x7f"),
                Some((CallKind::Wait, -1))
            );
        }
        assert_eq!(parse_call("running"), None);
    }

    #[test]
    fn an_epoll_waits_timeout_is_its_fourth_argument() {
        #[cfg(target_arch = "x86_64")]
        {
            let wait = |timeout: &str| format!("232 0x4 0x7ffd 0x20 {timeout} 0x0 0x0 0x7ffd 0x7f");
            assert_eq!(parse_epoll_timeout(&wait("0x3e8")), Some(1000));
            assert_eq!(parse_epoll_timeout(&wait("0xffffffff")), Some(-1));
            assert_eq!(
                parse_epoll_timeout("281 0x4 0x7ffd 0x20 0xc8 0x0 0x8 0x7ffd 0x7f"),
                Some(200)
            );
            // epoll_pwait2's timeout is a pointer; a read has none.
            assert_eq!(
                parse_epoll_timeout("441 0x4 0x7ffd 0x20 0x7ffd 0x0 0x8 0x7ffd 0x7f"),
                None
            );
            assert_eq!(
                parse_epoll_timeout("0 0x5 0x7ffd 0x1 0x0 0x0 0x0 0x7ffd 0x7f"),
                None
            );
        }
        assert_eq!(parse_epoll_timeout("running"), None);
    }

    #[test]
    fn a_sleeping_child_is_seen_sleeping() {
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let pid = sleeper.id() as i32;
        let mut seen = whereabouts(pid, None);
        for _ in 0..100 {
            if seen.call.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            seen = whereabouts(pid, None);
        }
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        assert_eq!(seen.call, Some(CallKind::Sleep), "{seen:?}");
        assert!(seen.describe().starts_with(&format!("pid {pid}: sleeping")));
    }
}
