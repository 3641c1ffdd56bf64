//! The server under test: started, paused, resumed and stopped. The server runs in a
//! process group of its own, so stopping the group stops the server and every child it
//! forked, and nothing else: the checker never signals a process it did not start.
//!
//! The group is stopped when its [`ServerUnderTest`] is dropped, which covers a normal end,
//! an early return and a panic; [`guard`] covers Ctrl-C, the time limit and a server with
//! too many processes, and [`log`] owns what the checker writes into the logs.

mod exit;
pub mod guard;
pub mod log;
mod start;

pub(crate) use exit::allocation_failed;
pub use start::close_inherited_descriptors;
pub(crate) use start::start_clean;

use std::path::PathBuf;
use std::process::{Child, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use lab::{Context, Failure};
use nix::sys::signal::{Signal, kill, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;

use crate::checks::evidence::{Blame, Stopped};
use crate::contain::{Channel, SocketSource};
use crate::inspect;
use crate::server::guard::running_groups;

/// A server started by the checker, with its output going to a log file.
pub struct ServerUnderTest {
    /// The checker's own child: the server, or the shim that contains it.
    child: Child,
    /// The server's process group: the child's pid.
    group: i32,
    /// The server's pid (as the checker's /proc sees it, outside any namespace).
    pub pid: i32,
    pub port: u16,
    log: PathBuf,
    /// Where this server's output starts in the log (the log may hold earlier runs).
    pub log_start: u64,
    /// How the server stopped, once it has been reaped.
    status: Option<ExitStatus>,
    /// Set just before the checker stops the server itself.
    pub stopped_by_checker: Arc<AtomicBool>,
    /// Why the scenario ended early, if it did: what the log says when the checker stops
    /// the server.
    pub verdict: Option<&'static str>,
    /// Set by the guard when the server broke one of the checker's limits, and which.
    overrun: Arc<Mutex<Option<String>>>,
    /// The shim's and init's own channel (a contained server), never the server's output.
    channel: Mutex<Channel>,
    /// Where the checker's clients get sockets in the server's network (a contained
    /// server); none for a server in the machine's own network.
    pub sockets: Option<Arc<SocketSource>>,
    /// The thread that copies the server's output into the log, until it ends.
    output: Option<JoinHandle<()>>,
    /// What the server has printed, read from its section of the log as it grows.
    printed: Mutex<log::Reader>,
}

impl ServerUnderTest {
    /// The shim's own error, if it sent one: the checker's trouble, not the server's.
    pub fn containment_failure(&self) -> lab::Result<()> {
        let mut channel = self
            .channel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match channel.failure() {
            Some(why) => Err(Failure::new("containing the server", why)),
            None => Ok(()),
        }
    }

    /// The programs the server tried to run, and was refused.
    pub fn refused_execs(&self) -> Vec<String> {
        self.channel
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .refused_execs()
    }

    /// The exit status, if the server has stopped. A stopped server's group is stopped
    /// too (children it left behind) while the server is a zombie, that is, before it is
    /// reaped here: until then its process group id cannot belong to anyone else.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.status {
            return Some(status);
        }
        if !inspect::has_exited(self.pid) {
            return None;
        }
        // A shim ends as its server did, a moment later: let it, so that its status is
        // the server's; it stays a zombie (not reaped) until the group is stopped.
        if self.group != self.pid {
            let deadline = Instant::now() + Duration::from_secs(1);
            let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT | WaitPidFlag::WNOHANG;
            while Instant::now() < deadline
                && matches!(
                    waitid(Id::Pid(Pid::from_raw(self.group)), flags),
                    Ok(WaitStatus::StillAlive)
                )
            {
                thread::sleep(Duration::from_millis(1));
            }
        }
        self.stop_group();
        self.status
    }

    /// Kills the server's process group, then reaps the server. In this order the group
    /// id is still the server's own when it is signalled: an unreaped process keeps its id.
    fn stop_group(&mut self) {
        let mut running = running_groups();
        let _ = killpg(Pid::from_raw(self.group), Signal::SIGKILL);
        self.status = self.child.wait().ok();
        running.retain(|server| server.group != self.group);
        drop(running);
        inspect::forget_network(self.pid);
        self.wait_for_output();
        let refused = self.refused_execs();
        if !refused.is_empty() {
            log::note_refused(&self.log, &refused);
        }
    }

    /// Waits (a second at most) until everything the server printed is in the log: the
    /// pipe ends once the last process holding it is gone.
    fn wait_for_output(&mut self) {
        let Some(output) = self.output.take() else {
            return;
        };
        let deadline = Instant::now() + Duration::from_secs(1);
        while !output.is_finished() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
        if output.is_finished() {
            let _ = output.join();
        }
    }

    /// Waits until the server listens on its port, by looking for its listening socket in
    /// the kernel's socket table. Fails if the server exits or `timeout` passes first.
    pub fn wait_until_listening(&mut self, timeout: Duration) -> Result<(), Stopped> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.exit_status() {
                return Err(self.describe_exit(status));
            }
            if inspect::holds_listener(self.pid, self.port) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Stopped {
                    how: format!(
                        "the server did not listen on 127.0.0.1:{} within {} s",
                        self.port,
                        timeout.as_secs()
                    ),
                    blame: Blame::Untold,
                });
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    /// Pauses the server (SIGSTOP to the server itself, not its group) and waits until
    /// the kernel shows it stopped. Fails with how it ended if it is gone.
    pub fn pause(&mut self) -> Result<(), Stopped> {
        self.check_running()?;
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGSTOP);
        let deadline = Instant::now() + Duration::from_secs(1);
        while !inspect::is_stopped(self.pid) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(2));
        }
        self.check_running()
    }

    /// Resumes a paused server (SIGCONT) and watches it, calling `meanwhile` every 10 ms,
    /// until it has gone on past the interruption or `grace` has passed: a server that
    /// cannot stand being interrupted ends right then. It has gone on once it has run since
    /// the resume and then either sleeps in epoll_wait again or has accepted a connection
    /// that waited in the listener's queue (/proc shows both). Fails with how it ended.
    pub fn resume(&mut self, grace: Duration, mut meanwhile: impl FnMut()) -> Result<(), Stopped> {
        let runs = inspect::times_run(self.pid);
        let queued = self.queued();
        let _ = kill(Pid::from_raw(self.pid), Signal::SIGCONT);
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            self.check_running()?;
            meanwhile();
            let ran = runs.is_some() && inspect::times_run(self.pid) > runs;
            if ran
                && (inspect::activity(self.pid) == inspect::Activity::EpollWait
                    || self.queued() < queued)
            {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.check_running()
    }

    /// How many connections wait in the listener's queue.
    fn queued(&self) -> u64 {
        inspect::listener(self.port).map_or(0, |row| row.queued)
    }

    /// Waits (a second at most) until `count` connections wait in the listener's queue.
    pub fn wait_for_queue(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while inspect::listener(self.port).is_none_or(|row| (row.queued as usize) < count)
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(2));
        }
    }

    /// Whether the server is still running; if not, how it stopped.
    pub fn check_running(&mut self) -> Result<(), Stopped> {
        match self.exit_status() {
            Some(status) => Err(self.describe_exit(status)),
            None => Ok(()),
        }
    }

    /// Everything this server has printed so far (complete lines only), read from the log
    /// where the last look stopped.
    pub fn output(&self) -> Vec<String> {
        self.printed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .lines()
            .to_vec()
    }
}

impl Drop for ServerUnderTest {
    /// A server still running when its scenario is over is stopped, with its children,
    /// and the log says that the checker did it: its output just ends there.
    fn drop(&mut self) {
        if self.status.is_none() {
            self.stopped_by_checker.store(true, Ordering::SeqCst);
            self.stop_group();
            let why = match self.verdict {
                Some(what) => format!("verdict reached, {what}; the report says more"),
                None => "this part of the checks is over".into(),
            };
            log::note_stop(&self.log, &why);
        }
    }
}

/// A free port on 127.0.0.1, from the kernel (it was free a moment ago).
pub fn free_port() -> lab::Result<u16> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .context("finding a free port on 127.0.0.1")
}

/// Checks that `port` (given with --port) is free on 127.0.0.1: a port held by another
/// program is no fault of the server under test.
pub fn port_is_free(port: u16) -> lab::Result<()> {
    std::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port))
        .map(drop)
        .map_err(|e| {
            Failure::new(format!("checking that port {port} is free"), e).hint(
                "another program holds it: choose another port with --port, or leave --port out",
            )
        })
}
