//! What a server printed, read with the lab's own parser ([`lab::Line`]): only the lab's
//! lines and a panic are evidence. Any other line is the student's own (a debug line,
//! say): never an error, and never a sign of who printed it.

use lab::Line;

/// The lab's lines in a server's output, counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    /// `<< New client connected on socket <fd> >>`
    pub accepted: usize,
    /// `Client <fd> wants to send a file`
    pub handled: usize,
    /// The byte counts of `Received <bytes> bytes from [Client <fd>]`, in order.
    pub received: Vec<u64>,
    /// The server's error lines (`server: <what failed>: <why>`) and panics, as printed.
    pub errors: Vec<String>,
}

impl Printed {
    pub fn of(output: &[String]) -> Self {
        let mut printed = Printed::default();
        for line in output {
            if is_panic(line) {
                printed.errors.push(line.clone());
                continue;
            }
            match Line::parse(line) {
                Some(Line::Connected { .. }) => printed.accepted += 1,
                Some(Line::WantsToSend { .. }) => printed.handled += 1,
                Some(Line::Received { bytes, .. }) => printed.received.push(bytes),
                Some(Line::Error { program, .. }) if program == "server" => {
                    printed.errors.push(line.clone())
                }
                _ => {}
            }
        }
        printed
    }

    /// The error lines that are not a failed receive: a receive's error is the upload's
    /// own trouble, any other comes from the loop's code.
    pub fn loop_errors(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|line| !line.starts_with("server: receiving from client "))
            .cloned()
            .collect()
    }
}

/// Whether `line` is the first line of a Rust panic: `thread 'main' panicked at ...`.
pub fn is_panic(line: &str) -> bool {
    line.starts_with("thread '") && line.contains("' panicked at ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn only_the_labs_lines_and_panics_count() {
        let printed = Printed::of(&lines(
            "Server listening on 127.0.0.1:5000\n\
             << New client connected on socket 5 >>\n\
             debug: accepted socket 5\n\
             DEBUG: clients now: 1\n\
             Client 5 wants to send a file\n\
             Received 10 bytes from [Client 5]\n\
             Received 3 bytes\n\
             server: receiving from client 5: reset after 10 bytes\n\
             server: removing descriptor 5 from epoll: ENOENT\n\
             thread 'main' panicked at x.rs:1:1:",
        ));
        assert_eq!((printed.accepted, printed.handled), (1, 1));
        assert_eq!(printed.received, [10]);
        assert_eq!(printed.errors.len(), 3, "{printed:?}");
        assert_eq!(
            printed.loop_errors(),
            [
                "server: removing descriptor 5 from epoll: ENOENT",
                "thread 'main' panicked at x.rs:1:1:"
            ]
        );
    }
}
