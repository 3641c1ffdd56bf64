//! Small pieces of prose that many findings share: counts with their nouns, seconds,
//! lists of descriptors, a child as seen, and the zombies still there.

use std::time::Duration;

use crate::checks::evidence::ChildSeen;

/// `2 finished children are still zombies (pid 7, pid 8)`.
pub(super) fn still_zombies(zombies: &[i32]) -> String {
    format!(
        "{} ({})",
        plural(
            zombies.len(),
            "finished child is still a zombie",
            "finished children are still zombies",
        ),
        zombies
            .iter()
            .map(|pid| format!("pid {pid}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

pub(super) fn describe_child(child: &ChildSeen) -> String {
    format!(
        "pid {}: {}{}",
        child.pid,
        child.activity.describe(),
        if child.holds_listener {
            ", holding the listening socket"
        } else {
            ""
        }
    )
}

pub(super) fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

pub(super) fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// Descriptors, sorted, each once.
pub(super) fn list(fds: &[i32]) -> String {
    let mut fds = fds.to_vec();
    fds.sort_unstable();
    fds.dedup();
    fds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
