//! The command lines of the server and the client.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// The port the server listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 5000;

/// Receives file uploads on 127.0.0.1, one epoll loop for all clients.
#[derive(Debug, Parser)]
#[command(version)]
pub struct ServerOptions {
    /// TCP port to listen on (0 picks a free one; the first line says which).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Bytes read per system call. The default is tiny on purpose: it makes one upload
    /// take seconds, so a server that serves one client at a time visibly stalls the next.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=16_777_216))]
    pub buf_size: u32,

    /// How uploads are received: `blocking` reads each upload to its end in one go (by
    /// the server itself in task 1, by a child process in task 2); `async` (task 3) serves
    /// every upload at once from the one loop, reading whatever each client has sent.
    #[arg(long, value_enum, default_value_t = Mode::Blocking)]
    pub mode: Mode,
}

/// How the server receives uploads (`--mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// Tasks 1 and 2: one upload is read to its end before the loop goes on (or in a child
    /// process, once task 2 is done).
    Blocking,
    /// Task 3: the loop reads what a client has sent so far and goes back to waiting.
    Async,
}

/// Uploads a file to the lab's server on 127.0.0.1 and closes the connection.
#[derive(Debug, Parser)]
#[command(version)]
pub struct ClientOptions {
    /// TCP port of the server.
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// The file to upload (make one with `cargo run -p gen-testfile`).
    #[arg(long, default_value = "test-file.txt")]
    pub file: PathBuf,
}
