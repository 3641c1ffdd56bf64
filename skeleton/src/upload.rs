//! Both ends of an upload: the server's receive loop and the client's send loop.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::AsRawFd;

use crate::{Context, Failure, Line, Result};

/// One mebibyte.
pub const MIB: u64 = 1 << 20;

/// The client reports its progress every time this many more bytes are sent.
pub const PROGRESS_STEP: u64 = 10 * MIB;

/// The most one readable event of one client should read in task 3, so that every client
/// gets its turn: 256 KiB, four of the client's writes.
pub const FAIR_SHARE: u64 = 256 * 1024;

/// What reading a client's non-blocking socket found (task 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    /// Everything the client has sent so far is read (or this turn's share is): more is
    /// on its way, and epoll will report the socket again.
    More,
    /// The client closed the connection: its upload is complete.
    End,
}

/// How much of the file the client sends per write.
const SEND_CHUNK: usize = 64 * 1024;

/// Receives one upload from `client` until the client closes the connection, reading at
/// most `buf_size` bytes per `read` (a tiny buffer means many system calls: a stand-in for
/// a slow network). Then prints what arrived:
///
/// - `Received <bytes> bytes from [Client <fd>]` when the client closed properly (a client
///   that connects and closes at once is reported as 0 bytes: the count is always true);
/// - `server: receiving from client <fd>: ...` on stderr when the connection broke (reset,
///   vanished), with the bytes that did arrive.
///
/// Returns `Some(bytes)` for a complete upload and `None` for a broken one.
pub fn receive_upload(mut client: &TcpStream, buf_size: u32) -> Option<u64> {
    let fd = client.as_raw_fd();
    let mut buffer = vec![0; buf_size as usize];
    let mut received = 0;
    loop {
        match client.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => received += n as u64,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => {
                let message = format!("receiving from client {fd}: {error} after {received} bytes");
                crate::failure::print_error(
                    &Line::Error {
                        program: "server".into(),
                        message,
                    }
                    .to_string(),
                );
                return None;
            }
        }
    }
    println!(
        "{}",
        Line::Received {
            bytes: received,
            fd
        }
    );
    Some(received)
}

/// Sends all of `file` (any reader: a `File`, or part of one with `Read::take`) to `server`, then closes the sending direction so the server sees
/// the end of the upload. After each write, `on_progress` learns the total sent so far and,
/// when that total has just passed a multiple of [`PROGRESS_STEP`], that multiple in MiB.
/// Returns the number of bytes sent.
pub fn send_upload(
    mut server: &TcpStream,
    mut file: impl Read,
    mut on_progress: impl FnMut(u64, Option<u64>),
) -> Result<u64> {
    let mut chunk = vec![0; SEND_CHUNK];
    let mut sent = 0;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(Failure::new("reading the file to upload", error)),
        };
        server.write_all(&chunk[..n]).map_err(|error| {
            Failure::new(format!("sending to the server after {sent} bytes"), error)
                .hint("the server closed the connection: did it stop or crash? Its output says why")
        })?;
        let before = sent;
        sent += n as u64;
        let milestone = (sent / PROGRESS_STEP > before / PROGRESS_STEP)
            .then(|| sent / PROGRESS_STEP * PROGRESS_STEP / MIB);
        on_progress(sent, milestone);
    }
    server
        .shutdown(Shutdown::Write)
        .context("closing the connection to the server")?;
    Ok(sent)
}
