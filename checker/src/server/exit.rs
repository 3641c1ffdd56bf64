//! How a server under test ended, in words: its exit status, its panic, the memory cap
//! it reached, or the error it reported itself.

use std::process::ExitStatus;

use super::ServerUnderTest;
use crate::checks::evidence::Stopped;
use crate::checks::printed;
use crate::contain;
use crate::server::guard::timed_out;

impl ServerUnderTest {
    /// Says how the server stopped, with its panic message if it panicked, and whose
    /// code stopped it as far as its output tells.
    pub fn describe_exit(&self, status: ExitStatus) -> Stopped {
        let overrun = self
            .overrun
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(why) = overrun.or_else(timed_out) {
            return Stopped::by_checker(format!("the checker stopped the server: {why}"));
        }
        let how = match status.code() {
            Some(code) => format!("exit status {code}"),
            None => format!("{status}"),
        };
        let output = self.output();
        let blame = printed::blame_of(&output);
        if let Some(message) = panic_message(&output) {
            return Stopped {
                how: format!("the server stopped ({how}): it panicked {message}"),
                blame,
            };
        }
        if let Some(size) = output.iter().rev().find_map(|line| allocation_failed(line)) {
            return Stopped::by_checker(format!(
                "the server stopped ({how}) when it asked for {size} bytes of memory more: a \
                 process of a server may use {} MiB at most, the checker's cap",
                contain::limits::SERVER_MEMORY / lab::MIB
            ));
        }
        // An error it reported itself, as `server: <what failed>: <why>`, or its command
        // line refused (clap's `error: unexpected argument ...`).
        let how = match output
            .iter()
            .rev()
            .find(|line| line.starts_with("server: "))
            .or_else(|| output.iter().find(|line| line.starts_with("error: ")))
        {
            Some(error) => format!(
                "the server stopped ({how}): {}",
                crate::report::quote(error)
            ),
            None => format!("the server stopped ({how})"),
        };
        Stopped { how, blame }
    }
}

/// The size of an allocation that failed, from Rust's `memory allocation of N bytes
/// failed` (what a process says when it reaches the memory cap). The runtime writes it in
/// pieces, so two processes that fail at once interleave theirs: any whole one counts.
pub(crate) fn allocation_failed(line: &str) -> Option<u64> {
    line.match_indices("memory allocation of ")
        .find_map(|(at, said)| {
            let (size, rest) = line[at + said.len()..].split_once(' ')?;
            rest.starts_with("bytes failed")
                .then(|| size.parse().ok())
                .flatten()
        })
}

/// Where and why the server panicked, from `thread '...' panicked at <place>:` and the
/// line after it.
fn panic_message(output: &[String]) -> Option<String> {
    let at = output
        .iter()
        .position(|line| line.contains("panicked at"))?;
    let place = output[at]
        .split_once("panicked at ")?
        .1
        .trim_end_matches(':');
    let message = output.get(at + 1).map_or("", |message| message.trim());
    Some(format!(
        "at {}: {}",
        crate::report::quote(place),
        crate::report::quote(message)
    ))
}

#[cfg(test)]
mod allocation_tests {
    use super::allocation_failed;

    #[test]
    fn a_refused_allocation_is_read_even_when_two_processes_interleave() {
        assert_eq!(
            allocation_failed("memory allocation of 1073741824 bytes failed"),
            Some(1 << 30)
        );
        assert_eq!(
            allocation_failed("memory allocation of memory allocation of 1073741824 bytes failed"),
            Some(1 << 30)
        );
        assert_eq!(allocation_failed("memory allocation of 12 bytes"), None);
        assert_eq!(allocation_failed("Received 7 bytes from [Client 5]"), None);
    }
}
