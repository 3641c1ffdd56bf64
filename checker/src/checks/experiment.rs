//! `--experiment buf-size`: the same upload once per read size, to see what a read costs.
//! Each size gets a fresh server started with `--buf-size`; one client uploads the file,
//! and the clock stops when the server reports the upload.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use gen_testfile::human_size;

use crate::checks::finding::Finding;
use crate::checks::idle::wait_for_reports;
use crate::checks::watch::Unaccepted;
use crate::checks::{REPORT_WAIT, Session};
use crate::clients::Plan;
use crate::trouble::Trouble;

/// The read sizes tried when none are given.
pub const DEFAULT_SIZES: [u64; 6] = [10, 100, 1024, 4096, 16 * 1024, 64 * 1024];

/// One upload at one read size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub read_size: u64,
    pub seconds: f64,
    /// MiB per second.
    pub throughput: f64,
    /// The fewest reads that can carry the upload: its size over the read size, rounded
    /// up. Computed, not counted: the server may make more, shorter ones.
    pub fewest_reads: u64,
}

/// The experiment's rows, or why it could not go on (what the server did wrong).
pub type Measured = Result<Vec<Row>, String>;

/// Uploads the whole test file once per size in `sizes`. Fails only with the checker's
/// own trouble; a server that cannot do it is an `Err` inside.
pub fn buf_size(session: &Session, sizes: &[u64]) -> Result<Measured, Trouble> {
    let mut rows = Vec::new();
    for (index, &read_size) in sizes.iter().enumerate() {
        match upload_once(session, index + 1, read_size)? {
            Ok(row) => rows.push(row),
            Err(why) => {
                return Ok(Err(format!(
                    "with reads of {}: {why}",
                    human_size(read_size)
                )));
            }
        }
    }
    Ok(Ok(rows))
}

/// One upload of the whole file to a fresh server that reads `read_size` bytes at a time.
fn upload_once(
    session: &Session,
    client: usize,
    read_size: u64,
) -> Result<Result<Row, String>, Trouble> {
    let title = format!("experiment: reads of {}", human_size(read_size));
    session.client_log.note(&title);
    let args = ["--buf-size".into(), read_size.to_string()];
    let mut server = match session.start_server_with(&title, &args)? {
        Ok(server) => server,
        Err(cut) => return Ok(Err(Finding::Cut(cut).to_string())),
    };
    // No pause to drain the socket: it would weigh on the fastest sizes' times.
    let plan = Plan {
        drain_at: None,
        closing: None,
        ..session.plan(session.size, session.size)
    };
    let started = Instant::now();
    let uploads = session.uploads(&server, &plan, client, 1);
    let watched = session.watch(&mut server, &uploads, Unaccepted::Cut, |_, _| {
        ControlFlow::Continue(())
    });
    if let Some(cut) = watched.cut {
        return Ok(Err(Finding::Cut(cut).to_string()));
    }
    let reported = match wait_for_reports(&mut server, 1, REPORT_WAIT) {
        Ok(reported) => reported,
        Err(cut) => return Ok(Err(Finding::Cut(cut).to_string())),
    };
    let seconds = started
        .elapsed()
        .max(Duration::from_micros(1))
        .as_secs_f64();
    if reported[0] != session.size {
        return Ok(Err(format!(
            "the server reported {} bytes of {}",
            reported[0], session.size
        )));
    }
    Ok(Ok(Row {
        read_size,
        seconds,
        throughput: session.size as f64 / lab::MIB as f64 / seconds,
        fewest_reads: session.size.div_ceil(read_size),
    }))
}
