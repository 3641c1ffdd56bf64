//! The notes of a run as the report's lines: what was graded or measured, the test file,
//! the uploads, the isolation, and what the checker could not observe or keep.

use gen_testfile::human_size;

use crate::checks::AsyncUploads;
use crate::grade::Status;
use crate::report::{quote, styled};
use crate::run::{Note, TestFileNote};
use crate::server::log::{self, LogCut};

use super::dotted;

/// One note of the run.
pub fn note_line(note: &Note) -> String {
    match note {
        // `submission: <its path>`: the file's name is the submission's.
        Note::Grading(what) => format!("Grading {}", quote(what)),
        Note::Measuring(what) => format!("Measuring {}", quote(what)),
        Note::Built { passed } => format!(
            "{} {}",
            dotted("builds"),
            styled(if *passed {
                Status::Passed
            } else {
                Status::Failed
            })
        ),
        Note::TestFile(test_file) => test_file_line(test_file),
        Note::Uploading {
            size,
            clients,
            then_async,
        } => uploading_line(*size, *clients, then_async.as_ref()),
        Note::NotContained(why) => format!(
            "Isolation: none ({why}): each server runs as the checker's child in a process group of its own, and can reach what the checker can"
        ),
        Note::RemovedScratch(1) => {
            "Removed a scratch copy left by a checker that was killed".to_owned()
        }
        Note::RemovedScratch(count) => {
            format!("Removed {count} scratch copies left by checkers that were killed")
        }
        Note::NotObserved(what) => format!("Not observed: {what}"),
        Note::LogCut(cut) => log_cut_line(cut),
        Note::MeasuringClients { upload, counts } => format!(
            "Uploading {} from each of {} clients at once, with a process per client (--mode blocking) and with one loop (--mode async)",
            human_size(*upload),
            counts
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Note::MeasuringReadSizes { size, read_sizes } => format!(
            "Uploading {} once per read size: {}",
            human_size(*size),
            read_sizes
                .iter()
                .map(|&size| human_size(size))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The line about the test file: shared, written anew, or temporary.
fn test_file_line(note: &TestFileNote) -> String {
    match note {
        TestFileNote::Shared { path, size } => {
            format!("Test file: {} ({})", path.display(), human_size(*size))
        }
        TestFileNote::Written { path, found, size } => {
            let why = match found {
                Some(other) => format!("has {other} bytes, not {size}"),
                None => "is missing".to_owned(),
            };
            format!(
                "Test file: {} {why}; writing a new one of {}",
                path.display(),
                human_size(*size)
            )
        }
        TestFileNote::Temporary { size } => format!(
            "Test file: a temporary one of {} (removed at the end)",
            human_size(*size)
        ),
    }
}

/// The line that opens the uploads: how many clients send how much, then task 3's.
fn uploading_line(size: u64, clients: usize, then_async: Option<&AsyncUploads>) -> String {
    let whole = match clients {
        1 => format!("Uploading {} from one client", human_size(size)),
        _ => format!(
            "Uploading {} from {clients} clients at once",
            human_size(size)
        ),
    };
    match then_async {
        Some(AsyncUploads { size, clients }) => format!(
            "{whole}, then {} from each of {clients} clients at once (--mode async)...",
            human_size(*size)
        ),
        None => format!("{whole}..."),
    }
}

/// The line that says where and how the server log was cut.
fn log_cut_line(cut: &LogCut) -> String {
    let (whole, most) = (log::MAX_LOG / lab::MIB, 2 * log::MAX_LOG / lab::MIB);
    let kept = match cut {
        LogCut::KeptTheLabsLines => {
            format!("from there on it kept only the lab's own lines and errors (up to {most} MiB)")
        }
        LogCut::KeptNothingMore => format!(
            "from there on it kept only the lab's own lines and errors, and past {most} MiB nothing at all"
        ),
    };
    format!(
        "Server log: cut where a server printed more than {whole} MiB, the most the log keeps whole (the \
         checker's limit); {kept}, as the log says where. A debug line per read is millions of lines for one \
         upload: print less, and the log keeps everything"
    )
}
