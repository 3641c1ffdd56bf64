//! The given code of the async-server lab, shared by the skeleton's server, the reference
//! server, the client and the checker. Nothing in here is a TODO: read it, use it, and
//! keep your changes in `src/bin/server.rs`.
//!
//! - [`w_epoll`]: add a descriptor to an epoll instance, remove it again.
//! - [`listen`]: the server's listening socket on 127.0.0.1.
//! - [`receive_upload`]: read one upload to its end through a small buffer and report it.
//! - [`send_upload`]: the client's side of an upload, with progress milestones.
//! - [`Piece`], [`FAIR_SHARE`]: what task 3's reads of one event found, and how much one
//!   event may read.
//! - [`ServerOptions`], [`ClientOptions`]: the command lines.
//! - [`Failure`], [`Context`], [`exit_status`]: errors that say what failed and why.
//! - [`Line`]: the lines a server prints, written and read back in one place.

// The lab is built on Linux's own interfaces (epoll, fork, signalfd, /proc). Anywhere
// else the build stops here with one message, instead of an error for every name that
// only Linux has.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "the async-server lab needs Linux (epoll, fork, signalfd, /proc): on macOS or Windows, \
     open the repository in its development container (.devcontainer/, see the README), or \
     on Windows in WSL 2"
);

#[cfg(target_os = "linux")]
mod failure;
#[cfg(target_os = "linux")]
mod lines;
#[cfg(target_os = "linux")]
mod net;
#[cfg(target_os = "linux")]
mod options;
#[cfg(target_os = "linux")]
mod upload;
#[cfg(target_os = "linux")]
pub mod w_epoll;
#[cfg(target_os = "linux")]
pub use failure::{Context, Failure, Result, exit_status, print_error};
#[cfg(target_os = "linux")]
pub use lines::Line;
#[cfg(target_os = "linux")]
pub use net::listen;
#[cfg(target_os = "linux")]
pub use options::{ClientOptions, DEFAULT_PORT, Mode, ServerOptions};
#[cfg(target_os = "linux")]
pub use upload::{FAIR_SHARE, MIB, PROGRESS_STEP, Piece, receive_upload, send_upload};
