//! Signal masks, from /proc/PID/status.

use std::fs;

/// The signal number of SIGCHLD on Linux.
const SIGCHLD: u32 = 17;

/// The signal masks of a process, from /proc/PID/status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// SigBlk: the signals it blocks.
    pub blocked: u64,
    /// SigPnd and ShdPnd: the signals waiting to be taken, by a thread or the process.
    pub pending: u64,
}

impl Signals {
    fn has(mask: u64, signal: u32) -> bool {
        mask & (1 << (signal - 1)) != 0
    }

    pub fn sigchld_blocked(&self) -> bool {
        Self::has(self.blocked, SIGCHLD)
    }

    pub fn sigchld_pending(&self) -> bool {
        Self::has(self.pending, SIGCHLD)
    }
}

/// The signal masks of `pid`.
pub fn signals(pid: i32) -> Option<Signals> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mask = |name: &str| {
        status.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.strip_prefix(':')?;
            u64::from_str_radix(value.trim(), 16).ok()
        })
    };
    Some(Signals {
        blocked: mask("SigBlk")?,
        pending: mask("SigPnd")? | mask("ShdPnd")?,
    })
}
