//! How many bytes task 3's reads ask for, against the `--buf-size` the checker gave the
//! server. The server is held (ptrace) while it waits for its first clients; the clients
//! start while it is held, and its calls are followed until it has read its clients a few
//! dozen times. Its client sockets are the descriptors its traced `accept`s returned, so
//! no other read (a file, the signalfd) is taken for one of a client.

use std::time::Duration;

use crate::inspect::{self, Call, CallKind, Untraced};

/// The `--buf-size` task 3's server is started with: not the default, and no size a server
/// would pick by itself, so that reads of exactly this size show that the option was used.
pub const TASK_THREE_BUF_SIZE: u32 = 12;

/// How many reads of client sockets end the trace: enough to see the size a loop asks for
/// at each read, few enough to cost only a moment.
const READS_WANTED: usize = 32;

/// The most calls followed, and the longest the trace lasts once the clients start.
const MOST_CALLS: usize = 2000;
const WINDOW: Duration = Duration::from_secs(1);

/// The reads of client sockets a trace saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadSizes {
    /// The calls traced in all.
    pub calls: usize,
    /// The reads of client sockets whose size the trace could tell (read, recvfrom).
    pub reads: usize,
    /// The sizes those reads asked for, each once, smallest first.
    pub asked: Vec<u64>,
}

impl ReadSizes {
    /// The reads of the descriptors that the traced `accept`s returned.
    pub fn of(calls: &[Call]) -> Self {
        let mut clients = Vec::new();
        let mut seen = ReadSizes {
            calls: calls.len(),
            ..ReadSizes::default()
        };
        for call in calls {
            match (call.kind, call.returned, call.asked) {
                (CallKind::Accept, Some(fd), _) if fd >= 0 => clients.push(fd),
                (CallKind::Read, _, Some(asked)) if clients.contains(&call.first_arg) => {
                    seen.reads += 1;
                    if let Err(at) = seen.asked.binary_search(&asked) {
                        seen.asked.insert(at, asked);
                    }
                }
                _ => {}
            }
        }
        seen
    }

    /// Whether the reads asked for another size than `buf_size`: more than it on some
    /// read, or never exactly it (a read may ask for less, for the rest of a fair share,
    /// but a loop that uses the option asks for it on most reads).
    pub fn ignore(&self, buf_size: u32) -> bool {
        let buf_size = u64::from(buf_size);
        self.reads > 0
            && (self.asked.iter().any(|&asked| asked > buf_size) || !self.asked.contains(&buf_size))
    }
}

/// Holds the idle server `pid`, runs `start_clients` while it is held, and follows its
/// calls until it has read its clients [`READS_WANTED`] times (or a second has passed).
pub fn trace_first_reads(pid: i32, start_clients: impl FnOnce()) -> Result<ReadSizes, Untraced> {
    let calls = inspect::trace_calls_with(pid, MOST_CALLS, WINDOW, start_clients, |calls, _| {
        ReadSizes::of(calls).reads >= READS_WANTED
    })?;
    Ok(ReadSizes::of(&calls))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn returned(kind: CallKind, fd: i64, value: i64) -> Call {
        Call {
            returned: Some(value),
            ..Call::entered(kind, [fd as u64, 0, 0])
        }
    }

    fn read(fd: i64, asked: u64) -> Call {
        Call {
            asked: Some(asked),
            ..Call::entered(CallKind::Read, [fd as u64, 0, asked])
        }
    }

    #[test]
    fn only_reads_of_accepted_sockets_count() {
        let calls = [
            read(5, 128),
            returned(CallKind::Accept, 3, 6),
            read(6, 12),
            read(6, 12),
            read(6, 4),
            returned(CallKind::Accept, 3, -11),
            read(7, 4096),
        ];
        assert_eq!(
            ReadSizes::of(&calls),
            ReadSizes {
                calls: 7,
                reads: 3,
                asked: vec![4, 12]
            }
        );
    }

    #[test]
    fn sizes_are_held_against_buf_size() {
        let sizes = |asked: Vec<u64>| ReadSizes {
            calls: 100,
            reads: 40,
            asked,
        };
        // The option, and less for the rest of a share: right.
        assert!(!sizes(vec![12]).ignore(12));
        assert!(!sizes(vec![4, 12]).ignore(12));
        // A fixed buffer, larger or smaller; or the option and more besides.
        assert!(sizes(vec![4096]).ignore(12));
        assert!(sizes(vec![8]).ignore(12));
        assert!(sizes(vec![12, 4096]).ignore(12));
        // No read seen: nothing to hold against the option.
        assert!(!ReadSizes::default().ignore(12));
    }
}
