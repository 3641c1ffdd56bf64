//! Containment of untrusted code: every server the checker starts, and a submission's
//! build, runs inside namespaces the kernel keeps it in.
//!
//! The checker starts itself again as a shim (`PLAN` in the environment says so). The
//! shim enters a new PID namespace and a new mount namespace (and a user namespace first
//! when it is not root), and starts the namespace's first process, our `init`. `init`
//! covers the instructor's files with empty read-only mounts and, for a server, makes the
//! whole file system read-only but for one size-capped tmpfs (/tmp, also at /var/tmp and
//! /dev/shm), mounts a /proc that shows only the namespace; then it starts the program,
//! which drops to an unprivileged user (when root), takes a Landlock domain that allows
//! writing only in that tmpfs (and no mount or unmount), and executes.
//!
//! When `init` ends, the kernel kills every process left in the namespace, wherever it
//! went (setsid, a double fork, a daemon); `init` ends when the program does, or with the
//! shim, which ends with the checker (parent-death signals along the chain). The server's
//! own lines print pids of its namespace.

mod landlock;
mod shim;

use std::path::PathBuf;
use std::process::{Command, Stdio};

pub use shim::run_shim;

/// The environment variable that makes the checker's binary a shim, and carries the plan.
pub const PLAN: &str = "LAB_CHECKER_CONTAIN";

/// The environment variable that makes the checker's binary exit at once (the probe's
/// program).
const NOOP: &str = "LAB_CHECKER_NOOP";

/// What a contained program may see and do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confinement {
    /// Files and folders covered with an empty, read-only mount: the instructor's.
    pub hide: Vec<PathBuf>,
    /// A server's sandbox: everything read-only but one tmpfs of `cap` bytes, an
    /// unprivileged user when root, a Landlock domain; `None` for a build, which writes
    /// its target folder and cargo's caches.
    pub cap: Option<u64>,
    /// The most processes the server may have, if not the checker's usual
    /// [`crate::server::guard::MAX_PROCESSES`] (an experiment with many clients).
    pub processes: Option<usize>,
}

impl Confinement {
    /// The plan as the shim reads it from its environment: a line per setting.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        for path in &self.hide {
            text.push_str(&format!("hide={}\n", path.display()));
        }
        if let Some(cap) = self.cap {
            text.push_str(&format!("cap={cap}\n"));
        }
        if let Some(processes) = self.processes {
            text.push_str(&format!("processes={processes}\n"));
        }
        text
    }

    pub fn decode(text: &str) -> Self {
        let mut plan = Confinement::default();
        for line in text.lines() {
            match line.split_once('=') {
                Some(("hide", path)) => plan.hide.push(PathBuf::from(path)),
                Some(("cap", bytes)) => plan.cap = bytes.parse().ok(),
                Some(("processes", count)) => plan.processes = count.parse().ok(),
                _ => {}
            }
        }
        plan
    }
}

/// How much of the containment this machine gives, found by trying it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// Namespaces, the read-only file system and Landlock, as documented.
    Full,
    /// None of it: why, in the kernel's words. Servers then run as the checker's
    /// children in a process group, as before, and the report says so.
    Unavailable(String),
}

/// The environment variable that turns containment off (for measuring what it costs, or
/// on a machine where it misbehaves); the report then says so.
pub const OFF: &str = "LAB_CHECKER_NO_CONTAIN";

/// Tries the whole containment on a program that exits at once.
pub fn probe() -> Isolation {
    if std::env::var_os(OFF).is_some() {
        return Isolation::Unavailable(format!("turned off with {OFF}"));
    }
    if nix::unistd::Uid::effective().is_root() && !has_capability(CAP_SYS_PTRACE) {
        // The server would run as nobody, whose /proc files root reads only with this
        // capability: every check would be blind.
        return Isolation::Unavailable(
            "the checker runs as root without CAP_SYS_PTRACE, so it could not read the /proc files of a server that runs as nobody"
                .into(),
        );
    }
    let Ok(me) = std::env::current_exe() else {
        return Isolation::Unavailable("the checker cannot find its own binary".into());
    };
    let plan = Confinement {
        cap: Some(lab::MIB),
        ..Confinement::default()
    };
    let output = Command::new(&me)
        .arg(&me)
        .env(PLAN, plan.encode())
        .env(NOOP, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match output {
        Ok(output) if output.status.success() => Isolation::Full,
        Ok(output) => Isolation::Unavailable(
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .next()
                .unwrap_or("the shim failed")
                .trim_start_matches("checker: ")
                .to_owned(),
        ),
        Err(error) => Isolation::Unavailable(format!("starting the shim: {error}")),
    }
}

/// The capability to trace and inspect other users' processes.
const CAP_SYS_PTRACE: u32 = 19;

/// Whether this process has `capability` in its effective set (/proc/self/status CapEff).
fn has_capability(capability: u32) -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let hex = status
                .lines()
                .find_map(|line| line.strip_prefix("CapEff:"))?;
            u64::from_str_radix(hex.trim(), 16).ok()
        })
        .is_some_and(|set| set & (1 << capability) != 0)
}

/// Whether this process is the probe's program.
pub fn is_noop() -> bool {
    std::env::var_os(NOOP).is_some() && std::env::var_os(PLAN).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_reads_back_as_written() {
        let plan = Confinement {
            hide: vec!["/lab/solution".into(), "/lab/INSTRUCTORS.md".into()],
            cap: Some(64 * lab::MIB),
            processes: Some(600),
        };
        assert_eq!(Confinement::decode(&plan.encode()), plan);
        assert_eq!(Confinement::decode(""), Confinement::default());
    }
}
