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

    /// The blocked mask as /proc shows it and as signal names: `0000000000010000, which
    /// blocks SIGCHLD`.
    pub fn describe_blocked(&self) -> String {
        let names: Vec<String> = (1..=64)
            .filter(|&number| Self::has(self.blocked, number))
            .map(|number| {
                nix::sys::signal::Signal::try_from(number as i32)
                    .map_or_else(|_| format!("signal {number}"), |signal| signal.to_string())
            })
            .collect();
        let which = match names.as_slice() {
            [] => "no signal".to_owned(),
            names => names.join(", "),
        };
        format!("{:016x}, which blocks {which}", self.blocked)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blocked_mask_is_told_by_name() {
        let signals = Signals {
            blocked: 0x4003 | 1 << 16,
            pending: 0,
        };
        assert_eq!(
            signals.describe_blocked(),
            "0000000000014003, which blocks SIGHUP, SIGINT, SIGTERM, SIGCHLD"
        );
    }
}
