//! The shim's and init's own channel to the checker: a pipe on descriptor 3 that the
//! contained program never holds. What the program prints goes elsewhere (the server's
//! log), so no line a server prints can pass for the checker's own.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

/// What the shim and init tell the checker, a line each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The shim has entered its namespaces and waits for its identity to be mapped.
    Unshared,
    /// Containment failed: the checker's trouble, never the program's.
    Failed(String),
    /// The program (or a process it started) tried to execute `path`, and was refused.
    ExecRefused(String),
}

impl Message {
    pub fn encode(&self) -> String {
        let text = match self {
            Message::Unshared => "unshared".to_owned(),
            Message::Failed(why) => format!("failed {}", one_line(why)),
            Message::ExecRefused(path) => format!("exec-refused {}", one_line(path)),
        };
        text + "\n"
    }

    fn decode(line: &str) -> Option<Self> {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "unshared" => Some(Message::Unshared),
            "failed" => Some(Message::Failed(rest.to_owned())),
            "exec-refused" => Some(Message::ExecRefused(rest.to_owned())),
            _ => None,
        }
    }
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// Sends `message` on the channel at `fd` (the shim's and init's side).
pub fn send(channel: &mut File, message: &Message) {
    let _ = channel.write_all(message.encode().as_bytes());
}

/// The checker's end of the channel.
pub struct Channel {
    pipe: Option<File>,
    pending: String,
    heard: Vec<Message>,
}

impl Channel {
    pub fn new(pipe: OwnedFd) -> Self {
        Channel {
            pipe: Some(File::from(pipe)),
            pending: String::new(),
            heard: Vec::new(),
        }
    }

    /// A channel that says nothing (an uncontained program has none).
    pub fn placeholder() -> Self {
        Channel {
            pipe: None,
            pending: String::new(),
            heard: Vec::new(),
        }
    }

    /// Waits until `wanted` comes, `timeout` at most; fails with what came instead.
    pub fn wait_for(&mut self, wanted: Message, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(why) = self.failure_heard() {
                return Err(why);
            }
            if self.heard.contains(&wanted) {
                return Ok(());
            }
            let Some(pipe) = &self.pipe else {
                return Err("the shim is gone".into());
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(format!(
                    "the shim did not answer within {} s",
                    timeout.as_secs()
                ));
            }
            let millis = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
            let mut fds = [PollFd::new(pipe.as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut fds, PollTimeout::from(millis)), Ok(ready) if ready > 0) {
                continue;
            }
            if !self.read_blocking_once() {
                return self
                    .failure_heard()
                    .map_or_else(|| Err("the shim ended before it could start".into()), Err);
            }
        }
    }

    /// Reads one chunk; false at the end of the pipe.
    fn read_blocking_once(&mut self) -> bool {
        let Some(pipe) = &mut self.pipe else {
            return false;
        };
        let mut buffer = [0u8; 4096];
        match pipe.read(&mut buffer) {
            Ok(0) => {
                self.pipe = None;
                false
            }
            Ok(n) => {
                self.take(&buffer[..n]);
                true
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => true,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => true,
            Err(_) => {
                self.pipe = None;
                false
            }
        }
    }

    fn take(&mut self, bytes: &[u8]) {
        self.pending.push_str(&String::from_utf8_lossy(bytes));
        while let Some(end) = self.pending.find('\n') {
            let line: String = self.pending.drain(..=end).collect();
            if let Some(message) = Message::decode(line.trim_end()) {
                self.heard.push(message);
            }
        }
    }

    /// Reads whatever has come, without waiting.
    pub fn poll(&mut self) {
        if let Some(pipe) = &self.pipe
            && fcntl(pipe, FcntlArg::F_SETFL(OFlag::O_NONBLOCK)).is_err()
        {
            return;
        }
        while self.pipe.is_some() {
            let before = self.heard.len() + self.pending.len();
            if !self.read_blocking_once() || self.heard.len() + self.pending.len() == before {
                break;
            }
        }
    }

    fn failure_heard(&self) -> Option<String> {
        self.heard.iter().find_map(|message| match message {
            Message::Failed(why) => Some(why.clone()),
            _ => None,
        })
    }

    /// Why containment failed, if the shim or init said so.
    pub fn failure(&mut self) -> Option<String> {
        self.poll();
        self.failure_heard()
    }

    /// The programs the server tried to execute, and was refused.
    pub fn refused_execs(&mut self) -> Vec<String> {
        self.poll();
        self.heard
            .iter()
            .filter_map(|message| match message {
                Message::ExecRefused(path) => Some(path.clone()),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_back_as_sent_one_line_each() {
        let (read, write) = nix::unistd::pipe2(OFlag::O_CLOEXEC).unwrap();
        let mut write = File::from(write);
        for message in [
            Message::Unshared,
            Message::Failed("mounting /proc:\nEPERM".into()),
            Message::ExecRefused("/usr/bin/sh".into()),
        ] {
            send(&mut write, &message);
        }
        drop(write);
        let mut channel = Channel::new(read);
        assert_eq!(channel.failure().as_deref(), Some("mounting /proc: EPERM"));
        assert_eq!(channel.refused_execs(), ["/usr/bin/sh"]);
    }
}
