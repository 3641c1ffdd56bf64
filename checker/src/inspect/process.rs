//! Processes: their state, children, threads, CPU time, and where they sleep.

use std::fs;
use std::path::Path;
use std::time::Duration;

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

/// The pid the server's own lines use for the process the checker sees as `pid`: the
/// server runs in a PID namespace of its own, so its log shows that namespace's pids
/// (the last field of `NSpid:` in /proc/PID/status, readable for a zombie too), while
/// the checker sees the host's. `pid` itself where /proc does not say (a process already
/// gone, or no namespace). Every pid a reason quotes goes through this, at the moment it
/// is seen, so a student can find it in the log.
pub fn shown_pid(pid: i32) -> i32 {
    namespace_pid(pid).unwrap_or(pid)
}

/// The pid of `pid` in its innermost PID namespace, if /proc could tell it: what the
/// process's own lines print, to be compared with them.
pub fn namespace_pid(pid: i32) -> Option<i32> {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| innermost_pid(&status))
}

/// The innermost pid of a `NSpid:` line in the text of /proc/PID/status.
fn innermost_pid(status: &str) -> Option<i32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("NSpid:"))?
        .split_whitespace()
        .last()?
        .parse()
        .ok()
}

/// Whether `pid` has exited: it waits to be reaped (or is gone altogether).
pub fn has_exited(pid: i32) -> bool {
    state(pid).is_none_or(|state| state == 'Z')
}

/// Whether `pid` is stopped by a signal (state T).
pub fn is_stopped(pid: i32) -> bool {
    state(pid) == Some('T')
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
    descendant_pids(pid).len()
}

/// The pids of every process under `pid`, children first.
pub fn descendant_pids(pid: i32) -> Vec<i32> {
    let mut found = Vec::new();
    let mut next = vec![pid];
    while let Some(parent) = next.pop() {
        let children = listed_children(parent).unwrap_or_else(|| children_by_parent(parent));
        found.extend(&children);
        next.extend(children);
    }
    found
}

/// The program `pid` runs, as the file it was started from (device and inode of
/// /proc/PID/exe): the same whatever name the file has in the process's world.
pub fn program_of(pid: i32) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = fs::metadata(format!("/proc/{pid}/exe")).ok()?;
    Some((meta.dev(), meta.ino()))
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

/// How long `pid` has been running or ready to run so far: its CPU time and its time
/// waiting on a run queue (/proc/PID/schedstat). A process that spins wants the CPU all
/// the time, however little of it a busy machine gives it; an idle one wants none.
/// Where the kernel has no schedstat, its CPU time alone.
pub fn busy_time(pid: i32) -> Option<Duration> {
    if let Ok(schedstat) = fs::read_to_string(format!("/proc/{pid}/schedstat")) {
        let mut fields = schedstat.split_whitespace();
        let running: u64 = fields.next()?.parse().ok()?;
        let waiting: u64 = fields.next()?.parse().ok()?;
        return Some(Duration::from_nanos(running + waiting));
    }
    cpu_time(pid)
}

/// How many times `pid` has been given a CPU (the third field of /proc/PID/schedstat):
/// unchanged between two looks, it did not run at all in between. `None` where the kernel
/// has no schedstat.
pub fn times_run(pid: i32) -> Option<u64> {
    let schedstat = fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
    schedstat.split_whitespace().nth(2)?.parse().ok()
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
    match wchan(pid).as_str() {
        "" | "0" => Activity::Running,
        "do_epoll_wait" | "ep_poll" => Activity::EpollWait,
        "do_wait" | "kernel_wait4" => Activity::ChildWait,
        "inet_csk_accept" => Activity::Accept,
        other => Activity::Blocked(other.to_owned()),
    }
}

/// The kernel function `pid` sleeps in (/proc/PID/wchan); empty or `0` while it runs.
pub fn wchan(pid: i32) -> String {
    fs::read_to_string(format!("/proc/{pid}/wchan"))
        .map(|text| text.trim().to_owned())
        .unwrap_or_default()
}

/// How many threads `pid` has.
pub fn threads(pid: i32) -> usize {
    fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |tasks| tasks.count())
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn the_innermost_pid_is_the_one_the_namespace_shows() {
        assert_eq!(
            innermost_pid("Name:\tserver\nNSpid:\t29230\t3\nNStgid:\t29230\t3\n"),
            Some(3)
        );
        assert_eq!(innermost_pid("Name:\tserver\nNSpid:\t812\n"), Some(812));
        assert_eq!(innermost_pid("Name:\tserver\n"), None);
        let me = std::process::id() as i32;
        assert!(shown_pid(me) > 0);
        assert_eq!(shown_pid(-1), -1, "a pid /proc does not know is kept");
    }
}
