//! Sockets on 127.0.0.1, from the kernel's table /proc/net/tcp.

use std::fs;
use std::io::Read;
use std::sync::Mutex;

use crate::inspect::{FileKind, children, descriptors, epoll_registrations, holds_socket};

/// One row of the kernel's table of TCP sockets on 127.0.0.1, /proc/net/tcp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRow {
    /// The local port.
    pub port: u16,
    /// The remote port (0 for a listening socket).
    pub remote_port: u16,
    /// Whether the socket listens (state 0A).
    pub listening: bool,
    /// Whether the other end has closed its side and this one has not (state 08,
    /// CLOSE_WAIT): the connection's end has arrived, to be read as a read of 0 bytes.
    pub peer_closed: bool,
    /// For a listening socket: connections waiting to be accepted. For a connected one:
    /// bytes received that nobody has read yet.
    pub queued: u64,
    /// Bytes sent that the other end has not acknowledged yet.
    pub unsent: u64,
    /// The socket's inode; 0 for a connection still waiting to be accepted.
    pub inode: u64,
}

/// The contained servers whose networks the tables are read from too: a process of
/// each. Every server gets a port that was free on the machine, so the tables never
/// disagree about whose a port is.
static NETWORKS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Reads the network of `pid` (a contained server's) too, until [`forget_network`].
pub fn watch_network(pid: i32) {
    NETWORKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .push(pid);
}

pub fn forget_network(pid: i32) {
    NETWORKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .retain(|watched| *watched != pid);
}

/// The sockets on 127.0.0.1, from /proc/net/tcp: the machine's network and each
/// contained server's.
pub fn tcp_table() -> Vec<TcpRow> {
    let networks = NETWORKS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone();
    std::iter::once("/proc/net/tcp".to_owned())
        .chain(networks.iter().map(|pid| format!("/proc/{pid}/net/tcp")))
        .filter_map(|path| read_table(&path))
        .flat_map(|table| {
            table
                .lines()
                .skip(1)
                .filter_map(parse_tcp_row)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Reads a table of sockets in as few reads as it takes: the kernel walks its whole table
/// of connections for every read of it, however short, so a buffer that grows from a few
/// bytes (what reading a file of unknown size starts with) would cost a walk per step.
fn read_table(path: &str) -> Option<String> {
    let mut text = Vec::with_capacity(64 * 1024);
    fs::File::open(path).ok()?.read_to_end(&mut text).ok()?;
    String::from_utf8(text).ok()
}

/// Reads a row such as `0: 0100007F:B2FF 00000000:0000 0A 00000000:00000002 ... 4013 ...`:
/// local address, remote address, state, `tx_queue:rx_queue`, and the inode (tenth field).
fn parse_tcp_row(line: &str) -> Option<TcpRow> {
    let fields: Vec<_> = line.split_whitespace().collect();
    let (address, port) = fields.get(1)?.split_once(':')?;
    if address != "0100007F" {
        return None;
    }
    let (_, remote_port) = fields.get(2)?.split_once(':')?;
    let (unsent, queued) = fields.get(4)?.split_once(':')?;
    Some(TcpRow {
        port: u16::from_str_radix(port, 16).ok()?,
        remote_port: u16::from_str_radix(remote_port, 16).ok()?,
        unsent: u64::from_str_radix(unsent, 16).ok()?,
        listening: *fields.get(3)? == "0A",
        peer_closed: *fields.get(3)? == "08",
        queued: u64::from_str_radix(queued, 16).ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
}

/// Both ends of the connection from the client's port `client` to the server's port
/// `server`: the client's socket and the server's, while each exists.
pub fn connection(table: &[TcpRow], server: u16, client: u16) -> (Option<TcpRow>, Option<TcpRow>) {
    let find = |local, remote| {
        table
            .iter()
            .copied()
            .find(|row| !row.listening && row.port == local && row.remote_port == remote)
    };
    (find(client, server), find(server, client))
}

/// The socket listening on 127.0.0.1:`port`.
pub fn listener(port: u16) -> Option<TcpRow> {
    listener_in(&tcp_table(), port)
}

/// The socket listening on 127.0.0.1:`port`, in a table already read.
pub fn listener_in(table: &[TcpRow], port: u16) -> Option<TcpRow> {
    table
        .iter()
        .copied()
        .find(|row| row.listening && row.port == port)
}

/// The inode of the socket listening on 127.0.0.1:`port`.
pub fn listening_socket(port: u16) -> Option<u64> {
    listener(port).map(|row| row.inode)
}

/// Whether `pid` itself holds the socket listening on `port`.
pub fn holds_listener(pid: i32, port: u16) -> bool {
    listening_socket(port).is_some_and(|inode| holds_socket(pid, inode))
}

/// Whether the socket listening on `port` is registered in an epoll instance of `pid`.
pub fn listener_registered(pid: i32, port: u16) -> bool {
    listening_socket(port).is_some_and(|inode| {
        epoll_registrations(pid)
            .iter()
            .any(|registration| registration.inode == inode)
    })
}

/// Client sockets that `pid` holds with unread data waiting (by `table`, as read from
/// /proc/net/tcp), which no epoll instance of it watches and no child of it holds:
/// accepted, then forgotten. Returns their descriptor numbers.
pub fn unwatched_clients(pid: i32, table: &[TcpRow], listener_inode: Option<u64>) -> Vec<i32> {
    let waiting: Vec<u64> = table
        .iter()
        .filter(|row| !row.listening && row.queued > 0 && row.inode != 0)
        .map(|row| row.inode)
        .collect();
    let candidates: Vec<(i32, u64)> = descriptors(pid)
        .into_iter()
        .filter_map(|(fd, kind)| match kind {
            FileKind::Socket(inode) if Some(inode) != listener_inode => Some((fd, inode)),
            _ => None,
        })
        .filter(|(_, inode)| waiting.contains(inode))
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let registered: Vec<u64> = epoll_registrations(pid)
        .iter()
        .map(|registration| registration.inode)
        .collect();
    let held_by_children: Vec<u64> = children(pid)
        .iter()
        .flat_map(|child| descriptors(child.pid))
        .filter_map(|(_, kind)| match kind {
            FileKind::Socket(inode) => Some(inode),
            _ => None,
        })
        .collect();
    candidates
        .into_iter()
        .filter(|(_, inode)| !registered.contains(inode) && !held_by_children.contains(inode))
        .map(|(fd, _)| fd)
        .collect()
}

/// The sockets of clients that `pid` holds and whose other end has closed, with every
/// byte read (CLOSE_WAIT, nothing queued): the server has read the end of the upload and
/// still holds the connection. Returns their descriptor numbers.
pub fn ended_unclosed(pid: i32, table: &[TcpRow]) -> Vec<i32> {
    let ended: Vec<u64> = table
        .iter()
        .filter(|row| row.peer_closed && row.queued == 0 && row.inode != 0)
        .map(|row| row.inode)
        .collect();
    descriptors(pid)
        .into_iter()
        .filter_map(|(fd, kind)| match kind {
            FileKind::Socket(inode) if ended.contains(&inode) => Some(fd),
            _ => None,
        })
        .collect()
}
