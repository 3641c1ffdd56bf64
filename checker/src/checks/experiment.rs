//! `--experiment buf-size`: the same upload once per read size, to see what a read costs.
//! Each size gets a fresh server started with `--buf-size`; one client uploads the file,
//! and the clock stops when the server reports the upload.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use gen_testfile::human_size;

use crate::checks::judge::cut_reason;
use crate::checks::watch::Unaccepted;
use crate::checks::{REPORT_WAIT, Session, wait_for_reports};

/// The read sizes tried when none are given.
pub const DEFAULT_SIZES: [u64; 6] = [10, 100, 1024, 4096, 16 * 1024, 64 * 1024];

/// One upload at one read size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub read_size: u64,
    pub seconds: f64,
    /// MiB per second.
    pub throughput: f64,
    /// How many reads the server made (at most `read_size` bytes each).
    pub reads: u64,
}

/// Uploads the whole test file once per size in `sizes`; fails with what went wrong.
pub fn buf_size(session: &Session, sizes: &[u64]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for (index, &read_size) in sizes.iter().enumerate() {
        let title = format!("experiment: reads of {}", human_size(read_size));
        session.client_log.note(&title);
        let mut server =
            session.start_server_with(&title, &["--buf-size".into(), read_size.to_string()])?;
        let plan = session.plan(session.size, session.size);
        let started = Instant::now();
        let uploads = session.uploads(&server, &plan, index + 1, 1);
        let watched = session.watch(&mut server, &uploads, Unaccepted::Cut, |_, _| {
            ControlFlow::Continue(())
        });
        let failed = |why: String| format!("with reads of {}: {why}", human_size(read_size));
        if let Some(cut) = watched.cut {
            return Err(failed(cut_reason(&cut)));
        }
        let reported = wait_for_reports(&mut server, 1, REPORT_WAIT)
            .map_err(|cut| failed(cut_reason(&cut)))?;
        let seconds = started
            .elapsed()
            .max(Duration::from_micros(1))
            .as_secs_f64();
        if reported[0] != session.size {
            return Err(failed(format!(
                "the server reported {} bytes of {}",
                reported[0], session.size
            )));
        }
        rows.push(Row {
            read_size,
            seconds,
            throughput: session.size as f64 / lab::MIB as f64 / seconds,
            reads: session.size.div_ceil(read_size),
        });
    }
    Ok(rows)
}
