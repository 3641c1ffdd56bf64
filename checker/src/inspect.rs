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

/// The inode of the socket listening on 127.0.0.1:`port`, from /proc/net/tcp.
pub fn listening_socket(port: u16) -> Option<u64> {
    let table = fs::read_to_string("/proc/net/tcp").ok()?;
    let local = format!("0100007F:{port:04X}");
    table.lines().skip(1).find_map(|line| {
        let fields: Vec<_> = line.split_whitespace().collect();
        // Fields: sl local_address rem_address st ... inode (the tenth).
        (fields.get(1) == Some(&local.as_str()) && fields.get(3) == Some(&"0A"))
            .then(|| fields.get(9)?.parse().ok())
            .flatten()
    })
}

/// Whether `pid` itself holds the socket listening on `port`.
pub fn holds_listener(pid: i32, port: u16) -> bool {
    let Some(inode) = listening_socket(port) else {
        return false;
    };
    let Ok(entries) = fs::read_dir(format!("/proc/{pid}/fd")) else {
        return false;
    };
    entries
        .flatten()
        .any(|entry| fs::metadata(entry.path()).is_ok_and(|meta| meta.ino() == inode))
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
