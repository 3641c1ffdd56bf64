//! Descriptors: what a process has open, and what its epoll instances watch.

use std::fs;
use std::os::unix::fs::MetadataExt;

/// One descriptor in the interest list of one of the server's epoll instances, as
/// /proc/PID/fdinfo/EPFD lists it (`tfd:` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The descriptor number it was registered under.
    pub fd: i32,
    /// The inode of the file it was registered for.
    pub inode: u64,
    /// The events it asks for (EPOLLIN is 0x1), as fdinfo writes them.
    pub events: u32,
}

/// How many descriptors `pid` has open.
pub fn open_descriptors(pid: i32) -> Option<usize> {
    Some(fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

/// The inode of the file behind descriptor `fd` of `pid`.
pub fn descriptor_inode(pid: i32, fd: i32) -> Option<u64> {
    fs::metadata(format!("/proc/{pid}/fd/{fd}"))
        .ok()
        .map(|meta| meta.ino())
}

/// The descriptors of `pid` that are epoll instances.
fn epoll_descriptors(pid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            fs::read_link(entry.path())
                .is_ok_and(|target| target.as_os_str() == "anon_inode:[eventpoll]")
        })
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}

/// Every registration in every epoll instance of `pid`.
pub fn epoll_registrations(pid: i32) -> Vec<Registration> {
    epoll_descriptors(pid)
        .into_iter()
        .filter_map(|epfd| fs::read_to_string(format!("/proc/{pid}/fdinfo/{epfd}")).ok())
        .flat_map(|info| {
            info.lines()
                .filter_map(parse_registration)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Reads a line such as `tfd:        5 events:       19 data:  5  pos:0 ino:5f0b sdev:8`.
fn parse_registration(line: &str) -> Option<Registration> {
    let mut words = line.split_whitespace();
    if words.next()? != "tfd:" {
        return None;
    }
    let fd = words.next()?.parse().ok()?;
    if words.next()? != "events:" {
        return None;
    }
    let events = u32::from_str_radix(words.next()?, 16).ok()?;
    let inode = words.find_map(|word| word.strip_prefix("ino:"))?;
    Some(Registration {
        fd,
        inode: u64::from_str_radix(inode, 16).ok()?,
        events,
    })
}

/// Registrations that outlived their descriptor: `pid` no longer has `fd` open, or `fd`
/// now refers to another file. The mark of closing a socket without removing it from
/// epoll while another process (a child) still holds the same socket.
pub fn stale_registrations(pid: i32) -> Vec<Registration> {
    epoll_registrations(pid)
        .into_iter()
        .filter(|registration| descriptor_inode(pid, registration.fd) != Some(registration.inode))
        .collect()
}

/// What a descriptor of a process refers to, from its link in /proc/PID/fd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    Socket(u64),
    Epoll,
    SignalFd,
    Other,
}

/// The descriptors `pid` has open, each with what it refers to.
pub fn descriptors(pid: i32) -> Vec<(i32, FileKind)> {
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = fs::read_link(entry.path()).ok()?;
            Some((fd, file_kind(target.to_str()?)))
        })
        .collect()
}

/// What descriptor `fd` of `pid` refers to, if it is open.
pub fn file_kind_of(pid: i32, fd: i32) -> Option<FileKind> {
    let target = fs::read_link(format!("/proc/{pid}/fd/{fd}")).ok()?;
    Some(file_kind(target.to_str()?))
}

fn file_kind(target: &str) -> FileKind {
    if let Some(inode) = target
        .strip_prefix("socket:[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|inode| inode.parse().ok())
    {
        return FileKind::Socket(inode);
    }
    match target {
        "anon_inode:[eventpoll]" => FileKind::Epoll,
        "anon_inode:[signalfd]" => FileKind::SignalFd,
        _ => FileKind::Other,
    }
}

/// What the interest list of the server's epoll instances holds, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InterestList {
    pub listener: bool,
    pub signalfd: bool,
    /// Other sockets (clients), by the descriptor number they were registered under.
    pub clients: Vec<i32>,
    /// Registrations that outlived their descriptor.
    pub stale: Vec<Registration>,
}

/// The interest list of `pid`'s epoll instances, sorted by kind.
pub fn interest_list(pid: i32, listener_inode: Option<u64>) -> InterestList {
    let open = descriptors(pid);
    let mut list = InterestList::default();
    for registration in epoll_registrations(pid) {
        let kind = open
            .iter()
            .find(|(fd, _)| *fd == registration.fd)
            .map(|(_, kind)| kind);
        match kind {
            _ if descriptor_inode(pid, registration.fd) != Some(registration.inode) => {
                list.stale.push(registration)
            }
            Some(FileKind::Socket(inode)) if Some(*inode) == listener_inode => list.listener = true,
            Some(FileKind::SignalFd) => list.signalfd = true,
            _ => list.clients.push(registration.fd),
        }
    }
    list
}

/// The sockets of `pid` among `connections` (inodes of connected sockets) that are
/// blocking: the `flags:` line of /proc/PID/fdinfo/FD lacks O_NONBLOCK. Each comes with
/// its inode.
pub fn blocking_sockets(pid: i32, connections: &[u64]) -> Vec<(i32, u64)> {
    descriptors(pid)
        .into_iter()
        .filter_map(|(fd, kind)| match kind {
            FileKind::Socket(inode) if connections.contains(&inode) => Some((fd, inode)),
            _ => None,
        })
        .filter(|(fd, _)| {
            let info = fs::read_to_string(format!("/proc/{pid}/fdinfo/{fd}")).unwrap_or_default();
            open_flags(&info).is_some_and(|flags| flags & O_NONBLOCK == 0)
        })
        .collect()
}

/// O_NONBLOCK on Linux, as fdinfo writes the flags: in octal.
const O_NONBLOCK: u32 = 0o4000;

/// The open flags of a `/proc/PID/fdinfo/FD` text (`flags:\t02004002`).
fn open_flags(info: &str) -> Option<u32> {
    let octal = info.lines().find_map(|line| line.strip_prefix("flags:"))?;
    u32::from_str_radix(octal.trim(), 8).ok()
}

/// Whether `pid` holds the file with this inode.
pub fn holds_socket(pid: i32, inode: u64) -> bool {
    descriptors(pid)
        .iter()
        .any(|(_, kind)| *kind == FileKind::Socket(inode))
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn registration_lines_are_read_with_hex_inodes() {
        let line = "tfd:        5 events:       19 data:                5  pos:0 ino:5f0b sdev:8";
        assert_eq!(
            parse_registration(line),
            Some(Registration {
                fd: 5,
                inode: 0x5f0b,
                events: 0x19,
            })
        );
        let output = "tfd:        7 events:       1d data:                7  pos:0 ino:5f0c sdev:8";
        assert_eq!(parse_registration(output).map(|r| r.events), Some(0x1d));
        assert_eq!(parse_registration("pos:\t0"), None);
    }

    #[test]
    fn blocking_client_sockets_are_told_by_their_flags() {
        assert_eq!(
            open_flags("pos:\t0\nflags:\t02004002\nmnt_id:\t8\n"),
            Some(0o2004002)
        );
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let blocking = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let nonblocking = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        nonblocking.set_nonblocking(true).unwrap();
        let me = std::process::id() as i32;
        let inode = |fd: i32| descriptor_inode(me, fd).unwrap();
        let connections = [inode(blocking.as_raw_fd()), inode(nonblocking.as_raw_fd())];
        let found: Vec<i32> = blocking_sockets(me, &connections)
            .into_iter()
            .map(|(fd, _)| fd)
            .collect();
        assert_eq!(found, [blocking.as_raw_fd()]);
    }

    #[test]
    fn this_process_is_seen_with_its_epoll_registrations() {
        use nix::sys::epoll::{Epoll, EpollCreateFlags};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id() as i32;
        assert!(crate::inspect::holds_listener(me, port));
        assert!(!crate::inspect::listener_registered(me, port));
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).unwrap();
        lab::w_epoll::add(&epoll, &listener).unwrap();
        assert!(crate::inspect::listener_registered(me, port));
        assert!(stale_registrations(me).is_empty());
        assert!(crate::inspect::cpu_time(me).is_some_and(|time| time > std::time::Duration::ZERO));
    }
}
