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

mod failure;
mod lines;
mod net;
mod options;
mod upload;
pub mod w_epoll;

pub use failure::{Context, Failure, Result, exit_status, print_error};
pub use lines::Line;
pub use net::listen;
pub use options::{ClientOptions, DEFAULT_PORT, Mode, ServerOptions};
pub use upload::{FAIR_SHARE, MIB, PROGRESS_STEP, Piece, receive_upload, send_upload};
