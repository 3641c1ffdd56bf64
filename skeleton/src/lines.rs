//! The lines a lab server prints, each written here and read back here: the checker reads
//! the server's output with [`Line::parse`], so what [`Line`]'s `Display` writes is exactly
//! what it understands. Any other line a server prints is its author's own (a debug line,
//! say) and means nothing to the checker.

use std::fmt;
use std::os::fd::RawFd;

/// One of the lab's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `Server listening on <address>`
    Listening(String),
    /// `<< New client connected on socket <fd> >>`
    Connected { fd: RawFd },
    /// `Client <fd> wants to send a file`
    WantsToSend { fd: RawFd },
    /// `<< Process <pid> created to handle client <fd> >>`
    ProcessCreated { pid: i32, fd: RawFd },
    /// `Received <bytes> bytes from [Client <fd>]`
    Received { bytes: u64, fd: RawFd },
    /// `<< Process <pid> exited with status <code> >>`
    ProcessExited { pid: i32, code: i32 },
    /// `<< Process <pid> was killed by <signal> >>`
    ProcessKilled { pid: i32, signal: String },
    /// `<program>: <what failed>: <why>`, the first line of an error (see
    /// [`crate::exit_status`]); `message` is what follows `<program>: `.
    Error { program: String, message: String },
}

/// The programs whose errors are lines of the lab: `server: ...` and `client: ...`.
const PROGRAMS: [&str; 2] = ["server", "client"];

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Line::Listening(address) => write!(f, "Server listening on {address}"),
            Line::Connected { fd } => write!(f, "<< New client connected on socket {fd} >>"),
            Line::WantsToSend { fd } => write!(f, "Client {fd} wants to send a file"),
            Line::ProcessCreated { pid, fd } => {
                write!(f, "<< Process {pid} created to handle client {fd} >>")
            }
            Line::Received { bytes, fd } => write!(f, "Received {bytes} bytes from [Client {fd}]"),
            Line::ProcessExited { pid, code } => {
                write!(f, "<< Process {pid} exited with status {code} >>")
            }
            Line::ProcessKilled { pid, signal } => {
                write!(f, "<< Process {pid} was killed by {signal} >>")
            }
            Line::Error { program, message } => write!(f, "{program}: {message}"),
        }
    }
}

impl Line {
    /// Reads a line written by `Display` back into what it says; `None` for any other
    /// line.
    pub fn parse(line: &str) -> Option<Line> {
        if let Some(address) = line.strip_prefix("Server listening on ") {
            return Some(Line::Listening(address.to_owned()));
        }
        if let Some(rest) = line.strip_prefix("<< New client connected on socket ") {
            return Some(Line::Connected {
                fd: number(rest.strip_suffix(" >>")?)?,
            });
        }
        if let Some(rest) = line.strip_prefix("Client ") {
            return Some(Line::WantsToSend {
                fd: number(rest.strip_suffix(" wants to send a file")?)?,
            });
        }
        if let Some(rest) = line.strip_prefix("Received ") {
            let (bytes, fd) = rest.split_once(" bytes from [Client ")?;
            return Some(Line::Received {
                bytes: number(bytes)?,
                fd: number(fd.strip_suffix(']')?)?,
            });
        }
        if let Some(rest) = line.strip_prefix("<< Process ") {
            let rest = rest.strip_suffix(" >>")?;
            let (pid, what) = rest.split_once(' ')?;
            let pid = number(pid)?;
            if let Some(fd) = what.strip_prefix("created to handle client ") {
                return Some(Line::ProcessCreated {
                    pid,
                    fd: number(fd)?,
                });
            }
            if let Some(code) = what.strip_prefix("exited with status ") {
                return Some(Line::ProcessExited {
                    pid,
                    code: number(code)?,
                });
            }
            let signal = what.strip_prefix("was killed by ")?;
            return Some(Line::ProcessKilled {
                pid,
                signal: signal.to_owned(),
            });
        }
        let (program, message) = line.split_once(": ")?;
        (PROGRAMS.contains(&program) && !message.is_empty()).then(|| Line::Error {
            program: program.to_owned(),
            message: message.to_owned(),
        })
    }
}

fn number<T: std::str::FromStr>(text: &str) -> Option<T> {
    // Digits only (and a sign): `str::parse` would also take `+5`.
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reads_back_as_what_it_says() {
        let lines = [
            Line::Listening("127.0.0.1:5000".into()),
            Line::Connected { fd: 5 },
            Line::WantsToSend { fd: 5 },
            Line::ProcessCreated { pid: 812, fd: 5 },
            Line::Received { bytes: 10, fd: 5 },
            Line::ProcessExited { pid: 812, code: 0 },
            Line::ProcessKilled {
                pid: 812,
                signal: "SIGKILL".into(),
            },
            Line::Error {
                program: "server".into(),
                message: "accepting a client: EMFILE".into(),
            },
        ];
        for line in lines {
            assert_eq!(Line::parse(&line.to_string()), Some(line));
        }
        assert_eq!(
            Line::Received { bytes: 10, fd: 5 }.to_string(),
            "Received 10 bytes from [Client 5]"
        );
    }

    #[test]
    fn other_lines_are_not_the_labs() {
        for line in [
            "debug: accepted socket 6",
            "DEBUG: clients now: 1",
            "Received 3 bytes",
            "Received x bytes from [Client 5]",
            "Client 5 wants to send a file, says I",
            "<< New client connected on socket +5 >>",
            "server:",
            "thread 'main' panicked at src/bin/server.rs:3:5:",
        ] {
            assert_eq!(Line::parse(line), None, "{line}");
        }
    }
}
