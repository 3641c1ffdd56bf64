//! The words of the bonus's findings: a late client the server did not serve, and the
//! zombies a server leaves when its reaping by signalfd is missing or incomplete.

use std::time::Duration;

use super::words::{seconds, still_zombies};
use crate::checks::finding::Advice;
use crate::inspect::{Signals, Whereabouts};

/// The words of `Finding::LateClientNotServed`.
pub(super) fn late_client_not_served(
    pid: i32,
    limit: Duration,
    server: &Option<Whereabouts>,
) -> String {
    let (doing, advice) = match server {
        Some(at) => (at.describe(), Advice::of(at)),
        None => (format!("pid {pid}: running"), None),
    };
    format!(
        "a client that connected while one upload still ran, after another child had exited, was not served within {}: \
         meanwhile the server was {doing}.{}",
        seconds(limit),
        advice
            .map(|advice| format!(" {advice}"))
            .unwrap_or_default()
    )
}

/// The words of `Finding::ZombiesWithoutReaper`.
pub(super) fn zombies_without_reaper(zombies: &[i32]) -> String {
    format!(
        "{} a second after the last upload: nobody collected their exit status. Reap them (TODO 6 and TODO 7)",
        still_zombies(zombies)
    )
}

/// The words of `Finding::SigchldNotBlocked`.
pub(super) fn sigchld_not_blocked(pid: i32, zombies: &[i32], signals: Option<Signals>) -> String {
    format!(
        "{} a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked \
         (/proc/{pid}/status SigBlk: {}), so the signal never reaches the signalfd. Block SIGCHLD before creating it (TODO 6)",
        still_zombies(zombies),
        signals.map_or_else(String::new, |signals| signals.describe_blocked())
    )
}

/// The words of `Finding::OneReapedPerSignal`.
pub(super) fn one_reaped_per_signal(zombies: &[i32], exited_together: usize) -> String {
    format!(
        "{} a second after the last upload, although the signalfd woke the server. {exited_together} children exited \
         together while the checker held the server paused, so their SIGCHLDs reached it as one signal: \
         one signal can stand for several exits. Call waitpid with WNOHANG in a loop until it reports StillAlive (TODO 7)",
        still_zombies(zombies)
    )
}

/// The words of `Finding::ZombiesLeft`.
pub(super) fn zombies_left(zombies: &[i32]) -> String {
    format!(
        "{} a second after the last upload, although the signalfd woke the server: \
         call waitpid with WNOHANG until it reports StillAlive, since one signal can stand for several exits (TODO 7)",
        still_zombies(zombies)
    )
}

/// The words of `Finding::SignalfdNotWatched`.
pub(super) fn signalfd_not_watched(pid: i32, fd: i32, zombies: &[i32]) -> String {
    format!(
        "{} a second after the last upload. The server holds a signalfd (descriptor {fd} in /proc/{pid}/fd), \
         but its epoll instance does not watch it (/proc/{pid}/fdinfo): the loop never learns that a child exited. \
         Add the signalfd to epoll, as the listener is, before returning it (TODO 6)",
        still_zombies(zombies)
    )
}
