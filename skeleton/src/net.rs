//! The server's listening socket.

use std::io;
use std::net::{Ipv4Addr, TcpListener};

use crate::{Failure, Result};

/// Listens for TCP clients on 127.0.0.1:`port` (never on other interfaces: the lab is
/// local). Port 0 asks the kernel for a free port; `local_addr()` then says which.
pub fn listen(port: u16) -> Result<TcpListener> {
    // The standard library sets SO_REUSEADDR, so a restarted server can take its port
    // back at once instead of waiting for old connections to leave TIME_WAIT.
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).map_err(|error| {
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
    })
}
