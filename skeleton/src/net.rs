//! The server's listening socket.

use std::io;
use std::net::{Ipv4Addr, TcpListener};

use nix::sys::socket::{self, Backlog};

use crate::{Failure, Result};

/// Listens for TCP clients on 127.0.0.1:`port` (never on other interfaces: the lab is
/// local). Port 0 asks the kernel for a free port; `local_addr()` then says which.
pub fn listen(port: u16) -> Result<TcpListener> {
    // The standard library sets SO_REUSEADDR, so a restarted server can take its port
    // back at once instead of waiting for old connections to leave TIME_WAIT.
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|error| {
        let failure = Failure::new(format!("cannot listen on 127.0.0.1:{port}"), &error);
        match error.kind() {
            io::ErrorKind::AddrInUse => failure.hint(format!(
                "another program holds port {port}: stop it (an earlier server?) or choose another port with --port"
            )),
            io::ErrorKind::PermissionDenied => {
                failure.hint("ports below 1024 need privileges: choose another port with --port")
            }
            _ => failure,
        }
    })?;
    // The standard library lets 128 connections wait to be accepted; hundreds of clients
    // that connect at once (`--experiment clients`) need more, or the kernel drops the
    // rest and they try again a second later. Listening again sets the new length (the
    // kernel caps it at net.core.somaxconn).
    Backlog::new(BACKLOG)
        .and_then(|backlog| socket::listen(&listener, backlog))
        .map_err(|errno| Failure::new("setting the listen backlog", errno))?;
    Ok(listener)
}

/// How many connections may wait to be accepted.
pub const BACKLOG: i32 = 1024;
