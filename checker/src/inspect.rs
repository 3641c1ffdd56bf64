//! Evidence from /proc about the server under test: what the operating system says it
//! does, whatever it prints.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

/// One descriptor in the interest list of one of the server's epoll instances, as
/// /proc/PID/fdinfo/EPFD lists it (`tfd:` lines).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The descriptor number it was registered under.
    pub fd: i32,
    /// The inode of the file it was registered for.
    pub inode: u64,
}

/// A process and its state letter (R running, S sleeping, Z zombie...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Process {
    pub pid: i32,
    pub state: char,
}

impl Process {
    pub fn is_zombie(&self) -> bool {
        self.state == 'Z'
    }
}

/// The fields of /proc/PID/stat after the command name, which is in parentheses and may
/// hold spaces: the first is the state (field 3 of stat(5)), the second the parent's pid.
fn stat_fields(pid: i32) -> Option<Vec<String>> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    Some(
        stat.rsplit_once(')')?
            .1
            .split_whitespace()
            .map(str::to_owned)
            .collect(),
    )
}

/// The state letter of `pid`, if it exists.
fn state(pid: i32) -> Option<char> {
    stat_fields(pid)?.first()?.chars().next()
}

/// Whether `pid` has exited: it waits to be reaped (or is gone altogether).
pub fn has_exited(pid: i32) -> bool {
    state(pid).is_none_or(|state| state == 'Z')
}

/// Whether `pid` is stopped by a signal (state T).
pub fn is_stopped(pid: i32) -> bool {
    state(pid) == Some('T')
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
    let inode = words.find_map(|word| word.strip_prefix("ino:"))?;
    Some(Registration {
        fd,
        inode: u64::from_str_radix(inode, 16).ok()?,
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

/// One row of the kernel's table of TCP sockets on 127.0.0.1, /proc/net/tcp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpRow {
    /// The local port.
    pub port: u16,
    /// Whether the socket listens (state 0A).
    pub listening: bool,
    /// For a listening socket: connections waiting to be accepted. For a connected one:
    /// bytes received that nobody has read yet.
    pub queued: u64,
    /// The socket's inode; 0 for a connection still waiting to be accepted.
    pub inode: u64,
}

/// The sockets on 127.0.0.1, from /proc/net/tcp.
pub fn tcp_table() -> Vec<TcpRow> {
    fs::read_to_string("/proc/net/tcp")
        .map(|table| table.lines().skip(1).filter_map(parse_tcp_row).collect())
        .unwrap_or_default()
}

/// Reads a row such as `0: 0100007F:B2FF 00000000:0000 0A 00000000:00000002 ... 4013 ...`:
/// local address, remote address, state, `tx_queue:rx_queue`, and the inode (tenth field).
fn parse_tcp_row(line: &str) -> Option<TcpRow> {
    let fields: Vec<_> = line.split_whitespace().collect();
    let (address, port) = fields.get(1)?.split_once(':')?;
    if address != "0100007F" {
        return None;
    }
    let (_, queued) = fields.get(4)?.split_once(':')?;
    Some(TcpRow {
        port: u16::from_str_radix(port, 16).ok()?,
        listening: *fields.get(3)? == "0A",
        queued: u64::from_str_radix(queued, 16).ok()?,
        inode: fields.get(9)?.parse().ok()?,
    })
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

/// The child processes of `pid`.
pub fn children(pid: i32) -> Vec<Process> {
    let pids = listed_children(pid).unwrap_or_else(|| children_by_parent(pid));
    pids.into_iter()
        .filter_map(|child| {
            let state = state(child)?;
            Some(Process { pid: child, state })
        })
        .collect()
}

/// How many descendants `pid` has: children, their children, and so on.
pub fn descendants(pid: i32) -> usize {
    let mut count = 0;
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        let children = listed_children(parent).unwrap_or_else(|| children_by_parent(parent));
        count += children.len();
        next.extend(children);
    }
    count
}

/// The children the kernel lists for each thread of `pid` in /proc/PID/task/TID/children:
/// a few small reads, cheap enough for every tick of the checker's watch. `None` on a
/// kernel built without that file.
fn listed_children(pid: i32) -> Option<Vec<i32>> {
    if !Path::new(&format!("/proc/{pid}/task/{pid}/children")).exists() {
        return None;
    }
    let tasks = fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let lists = tasks
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok());
    Some(lists.flat_map(|list| parse_pids(&list)).collect())
}

fn parse_pids(list: &str) -> Vec<i32> {
    list.split_whitespace()
        .filter_map(|pid| pid.parse().ok())
        .collect()
}

/// The children of `pid`, found by reading every process's parent: the slow way.
fn children_by_parent(pid: i32) -> Vec<i32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|&other| {
            stat_fields(other).and_then(|fields| fields.get(1)?.parse().ok()) == Some(pid)
        })
        .collect()
}

/// The CPU time `pid` has used so far (its own, not its children's).
pub fn cpu_time(pid: i32) -> Option<Duration> {
    if let Ok(schedstat) = fs::read_to_string(format!("/proc/{pid}/schedstat")) {
        let nanos = schedstat.split_whitespace().next()?.parse().ok()?;
        return Some(Duration::from_nanos(nanos));
    }
    let fields = stat_fields(pid)?;
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
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

/// What a process is doing, as far as the checker needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    /// Blocked in `epoll_wait`: idle in an event loop.
    EpollWait,
    /// Blocked in `wait`/`waitpid` for a child.
    ChildWait,
    /// Blocked in `accept`.
    Accept,
    /// Blocked somewhere else; the kernel function it sleeps in.
    Blocked(String),
    /// Running, or gone.
    Running,
}

impl Activity {
    /// The kernel's word for it, to quote as evidence.
    pub fn describe(&self) -> String {
        match self {
            Activity::EpollWait => "waiting in epoll_wait".to_owned(),
            Activity::ChildWait => "waiting for a child in waitpid".to_owned(),
            Activity::Accept => "waiting in accept".to_owned(),
            Activity::Blocked(function) => format!("blocked in the kernel's {function}"),
            Activity::Running => "running".to_owned(),
        }
    }
}

/// What `pid` is doing now, from its state and /proc/PID/wchan (the kernel function a
/// sleeping process waits in).
pub fn activity(pid: i32) -> Activity {
    if !matches!(state(pid), Some('S' | 'D')) {
        return Activity::Running;
    }
    let wchan = fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    match wchan.trim() {
        "" | "0" => Activity::Running,
        "do_epoll_wait" | "ep_poll" => Activity::EpollWait,
        "do_wait" | "kernel_wait4" => Activity::ChildWait,
        "inet_csk_accept" => Activity::Accept,
        other => Activity::Blocked(other.to_owned()),
    }
}

/// How many threads `pid` has.
pub fn threads(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |tasks| tasks.count())
}

/// The signal number of SIGCHLD on Linux.
const SIGCHLD: u32 = 17;

/// The signal masks of a process, from /proc/PID/status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    /// SigBlk: the signals it blocks.
    pub blocked: u64,
    /// SigPnd and ShdPnd: the signals waiting to be taken, by a thread or the process.
    pub pending: u64,
}

impl Signals {
    fn has(mask: u64, signal: u32) -> bool {
        mask & (1 << (signal - 1)) != 0
    }

    pub fn sigchld_blocked(&self) -> bool {
        Self::has(self.blocked, SIGCHLD)
    }

    pub fn sigchld_pending(&self) -> bool {
        Self::has(self.pending, SIGCHLD)
    }
}

/// The signal masks of `pid`.
pub fn signals(pid: i32) -> Option<Signals> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let mask = |name: &str| {
        status.lines().find_map(|line| {
            let value = line.strip_prefix(name)?.strip_prefix(':')?;
            u64::from_str_radix(value.trim(), 16).ok()
        })
    };
    Some(Signals {
        blocked: mask("SigBlk")?,
        pending: mask("SigPnd")? | mask("ShdPnd")?,
    })
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

/// Whether `pid` holds the file with this inode.
pub fn holds_socket(pid: i32, inode: u64) -> bool {
    descriptors(pid)
        .iter()
        .any(|(_, kind)| *kind == FileKind::Socket(inode))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_lines_are_read_with_hex_inodes() {
        let line = "tfd:        5 events:       19 data:                5  pos:0 ino:5f0b sdev:8";
        assert_eq!(
            parse_registration(line),
            Some(Registration {
                fd: 5,
                inode: 0x5f0b
            })
        );
        assert_eq!(parse_registration("pos:\t0"), None);
    }

    #[test]
    fn a_child_is_found_both_ways_with_its_state() {
        let mut sleeper = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let child = sleeper.id() as i32;
        let listed = listed_children(me).unwrap_or_else(|| children_by_parent(me));
        assert!(listed.contains(&child), "{listed:?}");
        assert!(children_by_parent(me).contains(&child));
        let found = children(me)
            .into_iter()
            .find(|process| process.pid == child);
        sleeper.kill().unwrap();
        sleeper.wait().unwrap();
        assert!(found.is_some_and(|process| !process.is_zombie()));
        assert!(has_exited(child));
    }

    #[test]
    fn this_process_is_seen_with_its_epoll_registrations() {
        use nix::sys::epoll::{Epoll, EpollCreateFlags};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let me = std::process::id() as i32;
        assert!(holds_listener(me, port));
        assert!(!listener_registered(me, port));
        let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).unwrap();
        lab::w_epoll::add(&epoll, &listener).unwrap();
        assert!(listener_registered(me, port));
        assert!(stale_registrations(me).is_empty());
        assert!(cpu_time(me).is_some_and(|time| time > Duration::ZERO));
    }
}
