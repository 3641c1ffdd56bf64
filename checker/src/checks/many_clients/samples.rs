//! The experiment's looks at the server and its live children, in /proc: memory (PSS and
//! resident sets), processes and context switches; and the machine's count of connections
//! dropped for a full listen queue.

use std::collections::HashMap;
use std::fs;

use crate::inspect;

/// What the looks at the server have found so far.
#[derive(Default)]
pub(super) struct Samples {
    pub(super) peak_memory: u64,
    pub(super) peak_resident: u64,
    pub(super) processes: usize,
    /// The processes at the last look.
    pub(super) last_processes: usize,
    /// The last count of each process seen, by pid.
    pub(super) switches: HashMap<i32, u64>,
}

impl Samples {
    pub(super) fn take(&mut self, server: i32) {
        let live: Vec<i32> = std::iter::once(server)
            .chain(
                inspect::children(server)
                    .iter()
                    .filter(|child| !child.is_zombie())
                    .map(|child| child.pid),
            )
            .collect();
        self.processes = self.processes.max(live.len());
        self.last_processes = live.len();
        let (mut memory, mut resident) = (0, 0);
        for &pid in &live {
            let Some(status) = fs::read_to_string(format!("/proc/{pid}/status")).ok() else {
                continue;
            };
            let rss = field(&status, "VmRSS:").map_or(0, |kib| kib * 1024);
            resident += rss;
            memory += proportional_size(pid).unwrap_or(rss);
            if let (Some(voluntary), Some(other)) = (
                field(&status, "voluntary_ctxt_switches:"),
                field(&status, "nonvoluntary_ctxt_switches:"),
            ) {
                self.switches.insert(pid, voluntary + other);
            }
        }
        self.peak_memory = self.peak_memory.max(memory);
        self.peak_resident = self.peak_resident.max(resident);
    }
}

/// The number after `name` on its line of a /proc text (`VmRSS:   2048 kB`).
fn field(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
}

/// The proportional set size of `pid` in bytes (/proc/PID/smaps_rollup).
fn proportional_size(pid: i32) -> Option<u64> {
    let text = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    field(&text, "Pss:").map(|kib| kib * 1024)
}

/// Connections dropped so far on this machine, by any program, for a full listen queue.
pub(super) fn listen_overflows() -> u64 {
    let Ok(text) = fs::read_to_string("/proc/net/netstat") else {
        return 0;
    };
    let mut lines = text.lines().filter(|line| line.starts_with("TcpExt:"));
    let (Some(names), Some(values)) = (lines.next(), lines.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "ListenOverflows")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}
