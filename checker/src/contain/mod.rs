//! Containment of untrusted code: every server the checker starts, and a submission's
//! build, runs in a world built from an allowlist.
//!
//! The checker starts its own binary again as a shim (`PLAN` in the environment holds the
//! plan). The shim enters new user, mount, PID, network, IPC and UTS namespaces; the
//! checker, still outside, maps the namespace's root to an unprivileged identity (the
//! instructor's own uid for a plain user; a uid of its own per grading for root). The
//! shim then starts the namespace's first process, our `init`, which:
//!
//! - builds a new root on an empty tmpfs holding only what the plan allows (`root`): the
//!   system's libraries and `/usr` read-only, a fresh `/proc`, a few devices, a private
//!   `/tmp` of a capped size, and the one program to run (or, for a build, the toolchain,
//!   the crates, the scratch copy and a target directory), then `pivot_root`s into it;
//! - brings up the loopback interface, the only network there is, and hands the checker
//!   sockets created in that network (`sockets`), so that its upload clients can connect;
//! - starts the program with no capabilities, a Landlock domain, resource limits and a
//!   seccomp filter (`seccomp`): a server may execute nothing after it starts.
//!
//! When `init` ends, the kernel kills every process left in the namespace, wherever it
//! went (setsid, a double fork, a daemon); `init` ends when the program does, or with the
//! shim, which ends with the checker (parent-death signals along the chain). Everything
//! the shim and `init` have to say reaches the checker on a channel of their own
//! (`Channel`), never mixed with what the program prints.

mod channel;
mod identity;
mod landlock;
mod root;
mod seccomp;
mod shim;
mod sockets;

use std::fs;
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use nix::fcntl::OFlag;
use nix::unistd::Uid;
use serde::{Deserialize, Serialize};

pub use channel::{Channel, Message};
pub use identity::identity;
use identity::map_identity;
pub use shim::run_shim;
pub use sockets::{SocketSource, connect_to};

/// The environment variable that makes the checker's binary a shim, and carries the plan.
pub const PLAN: &str = "LAB_CHECKER_CONTAIN";

/// The environment variable that makes the checker's binary exit at once (the probe's
/// program).
const NOOP: &str = "LAB_CHECKER_NOOP";

/// The descriptor numbers the shim and init are given: the channel to the checker, and
/// init's end of the socket source (a server only).
const CHANNEL_FD: i32 = 3;
const SOCKETS_FD: i32 = 4;

/// What is being contained: what its world holds and what it may do there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// A server: the one binary at [`SERVER_PATH`], nothing executable after it starts.
    Server,
    /// A submission's build: the toolchain, the crates, the scratch copy at [`LAB_PATH`].
    Build(BuildWorld),
}

/// Where a contained server's program lies in its world.
pub const SERVER_PATH: &str = "/server";

/// Where a contained build finds its scratch copy of the lab.
pub const LAB_PATH: &str = "/lab";

/// What a build's world holds besides the system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildWorld {
    /// The scratch copy of the lab, bound at [`LAB_PATH`]; the build may write only its
    /// `Cargo.lock` there.
    pub lab: PathBuf,
    /// The toolchain's folder (rustc's sysroot), bound read-only where it lies.
    pub toolchain: PathBuf,
    /// Cargo's registry of downloaded crates, bound read-only as the build's own cargo
    /// home's registry.
    pub registry: Option<PathBuf>,
    /// The build's target directory at `/lab/target`.
    pub target: TargetDir,
    /// The file in the world to copy out, once the build has succeeded, to
    /// `lab/<file name>` (the built server).
    pub export: Option<PathBuf>,
}

/// A build's target directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TargetDir {
    /// A folder of the machine's, written directly (the warm build of the lab's own code).
    Shared(PathBuf),
    /// A private layer over a warm folder that stays untouched: what the build writes goes
    /// to a tmpfs of `cap` bytes that vanishes with it.
    Layer { warm: PathBuf, cap: u64 },
}

/// Everything the shim and init need to know, passed in the environment as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub purpose: Purpose,
    /// The program as the machine names it, and its arguments.
    pub program: PathBuf,
    pub args: Vec<String>,
    /// The program's whole environment: nothing else is passed on.
    pub env: Vec<(String, String)>,
    /// The size of the private /tmp.
    pub tmp_cap: u64,
    /// The most processes at once (RLIMIT_NPROC in the namespace's user).
    pub processes: u64,
    /// The most memory each process may map for data (RLIMIT_DATA), in bytes; twice as
    /// much in all its mappings, shared ones included (RLIMIT_AS).
    pub memory: u64,
    /// The largest file a process may write (RLIMIT_FSIZE), in bytes.
    pub file_size: u64,
}

/// The checker's limits for a server, and where the report names them.
pub mod limits {
    use lab::MIB;

    /// The private /tmp of a server (also /dev/shm).
    pub const SERVER_TMP: u64 = 64 * MIB;
    /// Memory a server's process may map for data.
    pub const SERVER_MEMORY: u64 = 512 * MIB;
    /// Memory a build's process (rustc, the linker) may map for data.
    pub const BUILD_MEMORY: u64 = 4096 * MIB;
    /// The private /tmp of a build.
    pub const BUILD_TMP: u64 = 512 * MIB;
    /// All that a submission's build may write into its target directory.
    pub const BUILD_OUTPUT: u64 = 1024 * MIB;
    /// The largest file a build may write.
    pub const BUILD_FILE: u64 = 512 * MIB;
    /// The most processes a build may have at once.
    pub const BUILD_PROCESSES: u64 = 256;
}

impl Plan {
    /// The plan of a server: `program` with `args`, nothing of the machine's but the
    /// system, at most `processes` processes.
    pub fn server(
        program: &Path,
        args: Vec<String>,
        env: Vec<(String, String)>,
        processes: u64,
    ) -> Self {
        Plan {
            purpose: Purpose::Server,
            program: program.to_owned(),
            args,
            env,
            tmp_cap: limits::SERVER_TMP,
            processes,
            memory: limits::SERVER_MEMORY,
            file_size: limits::SERVER_TMP,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a plan always serialises")
    }

    pub fn decode(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("a bad plan: {e}"))
    }
}

/// How much of the containment this machine gives, found by trying it once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Isolation {
    /// The allowlisted world, namespaces, Landlock and seccomp, as documented.
    Full,
    /// None of it: why, in the kernel's words. Servers then run as the checker's
    /// children in a process group, and the report says so.
    Unavailable(String),
}

/// The environment variable that turns containment off (for measuring what it costs, or
/// on a machine where it misbehaves); the report then says so.
pub const OFF: &str = "LAB_CHECKER_NO_CONTAIN";

/// Tries the whole containment on a program that exits at once: the checker's own
/// binary, run as a server would be.
pub fn probe() -> Isolation {
    if std::env::var_os(OFF).is_some() {
        return Isolation::Unavailable(format!("turned off with {OFF}"));
    }
    if Uid::effective().is_root() && !has_capability(CAP_SYS_PTRACE) {
        // The server runs as another user, whose /proc files root reads only with this
        // capability: every check would be blind.
        return Isolation::Unavailable(
            "the checker runs as root without CAP_SYS_PTRACE, so it could not read the /proc files of a server that runs as another user"
                .into(),
        );
    }
    let Ok(me) = std::env::current_exe() else {
        return Isolation::Unavailable("the checker cannot find its own binary".into());
    };
    let plan = Plan::server(&me, Vec::new(), vec![(NOOP.into(), "1".into())], 4);
    let mut command = shim_command(&plan);
    command.stdout(Stdio::null()).stderr(Stdio::null());
    let outcome = launch(&plan, command).and_then(|mut launched| {
        let status = launched
            .child
            .wait()
            .map_err(|e| format!("waiting for the shim: {e}"))?;
        match launched.channel.failure() {
            Some(why) => Err(why),
            None if status.success() => Ok(()),
            None => Err(format!("the probe's program ended with {status}")),
        }
    });
    match outcome {
        Ok(()) => Isolation::Full,
        Err(why) => Isolation::Unavailable(why),
    }
}

/// The shim's command for `plan`: the checker's own binary with the plan in its
/// environment. The caller adds stdout, stderr, a process group and its own pre-exec
/// steps, then hands it to [`launch`].
pub fn shim_command(plan: &Plan) -> Command {
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let mut command = Command::new(me);
    command.env_clear().env(PLAN, plan.encode());
    // The marker the lab's tests find every process they started by.
    if let Some(marker) = std::env::var_os("CHECKER_TEST_RUN") {
        command.env("CHECKER_TEST_RUN", marker);
    }
    command
}

/// A contained program, started: the shim (the checker's child), the channel from the
/// shim and init, and for a server the source of sockets in its network.
pub struct Launched {
    pub child: Child,
    pub channel: Channel,
    pub sockets: Option<SocketSource>,
}

/// Starts the shim of `command` (from [`shim_command`]), waits until it has entered its
/// namespaces, maps its user to an unprivileged identity and lets it go on. Fails with the
/// reason when containment could not start: the checker's trouble, never the program's.
pub fn launch(plan: &Plan, mut command: Command) -> Result<Launched, String> {
    let (channel_read, channel_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let (go_read, go_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let (ours, theirs) = match plan.purpose {
        Purpose::Server => {
            let (ours, theirs) = sockets::pair().map_err(|e| format!("socketpair: {e}"))?;
            (Some(ours), Some(theirs))
        }
        Purpose::Build(_) => (None, None),
    };
    // Above the numbers they are given at in the shim: a duplicate onto itself would
    // keep close-on-exec, and one given first could overwrite the other's source.
    let channel_write = above_given(channel_write)?;
    let theirs = theirs.map(above_given).transpose()?;
    let (channel_fd, sockets_fd) = (
        channel_write.as_raw_fd(),
        theirs.as_ref().map(AsRawFd::as_raw_fd),
    );
    // SAFETY: dup2 is a plain system call; the duplicates lose close-on-exec, so the
    // shim gets them at the numbers it expects.
    unsafe {
        command.pre_exec(move || {
            give(channel_fd, CHANNEL_FD)?;
            if let Some(fd) = sockets_fd {
                give(fd, SOCKETS_FD)?;
            }
            Ok(())
        });
    }
    let child = command
        .stdin(Stdio::from(go_read))
        .spawn()
        .map_err(|e| format!("starting the shim: {e}"))?;
    drop(channel_write);
    drop(theirs);
    let mut channel = Channel::new(channel_read);
    let mut launched = Launched {
        child,
        channel: Channel::placeholder(),
        sockets: ours.map(SocketSource::new),
    };
    match channel.wait_for(Message::Unshared, Duration::from_secs(5)) {
        Ok(()) => {}
        Err(why) => {
            let _ = launched.child.kill();
            let _ = launched.child.wait();
            return Err(why);
        }
    }
    if let Err(why) = map_identity(launched.child.id(), identity(&plan.purpose)) {
        let _ = launched.child.kill();
        let _ = launched.child.wait();
        return Err(why);
    }
    let mut go = fs::File::from(go_write);
    go.write_all(b"1")
        .map_err(|e| format!("letting the shim go on: {e}"))?;
    launched.channel = channel;
    Ok(launched)
}

/// `fd` moved to a number above those the shim is given them at, close-on-exec.
fn above_given(fd: std::os::fd::OwnedFd) -> Result<std::os::fd::OwnedFd, String> {
    let moved = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_DUPFD_CLOEXEC(10))
        .map_err(|e| format!("fcntl: {e}"))?;
    // SAFETY: the kernel just gave us this descriptor.
    Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(moved) })
}

/// Duplicates `fd` onto `number` without close-on-exec. Between fork and exec.
fn give(fd: i32, number: i32) -> io::Result<()> {
    // SAFETY: a plain system call on descriptors the caller owns.
    if unsafe { libc::dup2(fd, number) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
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
        let plan = Plan {
            purpose: Purpose::Build(BuildWorld {
                lab: "/tmp/scratch".into(),
                toolchain: "/opt/rust".into(),
                registry: Some("/home/ta/.cargo/registry".into()),
                target: TargetDir::Layer {
                    warm: "/lab/target/warm".into(),
                    cap: lab::MIB,
                },
                export: Some("/lab/target/debug/server".into()),
            }),
            ..Plan::server(Path::new("/bin/true"), vec!["--port".into()], vec![], 64)
        };
        assert_eq!(Plan::decode(&plan.encode()).unwrap(), plan);
        assert!(Plan::decode("hide=/lab").is_err());
    }
}
