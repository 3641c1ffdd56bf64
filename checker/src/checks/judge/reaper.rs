//! The bonus: no zombies.

use crate::checks::evidence::Reaping;
use crate::checks::judge::{SPIN, cut_reason, plural, seconds, spinning};
use crate::inspect::Activity;

/// The bonus: children are reaped, by a reaper that never blocks the loop and leaves
/// nothing to spin on.
pub fn no_zombies(seen: &Reaping) -> Result<(), String> {
    let pid = seen.pid;
    if let Some(cut) = &seen.cut {
        return Err(cut_reason(cut));
    }
    if seen.late_served_in.is_none() {
        let doing = seen
            .server_while_late
            .as_ref()
            .map_or("running".to_owned(), Activity::describe);
        let advice = if seen.server_while_late == Some(Activity::ChildWait) {
            "The reaper blocks the loop until every child has exited: call waitpid with WaitPidFlag::WNOHANG and stop at StillAlive (TODO 7)"
        } else {
            "Something keeps the loop from accepting it; a reaper must never wait for a child that is still running: use WaitPidFlag::WNOHANG (TODO 7)"
        };
        return Err(format!(
            "a client that connected while one upload still ran, after another child had exited, was not served within {}: \
             meanwhile the server was {doing} (/proc/{pid}/wchan). {advice}",
            seconds(seen.late_limit)
        ));
    }
    if seen.zombies > 0 {
        let zombies = plural(
            seen.zombies,
            "finished child is still a zombie",
            "finished children are still zombies",
        );
        let blocked = seen.signals.map(|signals| signals.sigchld_blocked());
        return Err(if !seen.interest.signalfd {
            format!(
                "{zombies} a second after the last upload: nobody collected their exit status. Reap them (TODO 6 and TODO 7)"
            )
        } else if blocked == Some(false) {
            format!(
                "{zombies} a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked \
                 (/proc/{pid}/status SigBlk: {:016x}), so the signal never reaches the signalfd. Block SIGCHLD before creating it (TODO 6)",
                seen.signals.map_or(0, |signals| signals.blocked)
            )
        } else {
            format!(
                "{zombies} a second after the last upload, although the signalfd woke the server: \
                 call waitpid with WNOHANG until it reports StillAlive, since one signal can stand for several exits (TODO 7)"
            )
        });
    }
    if seen.idle_cpu > SPIN {
        return Err(spinning(pid, seen.idle_cpu, &seen.interest, seen.signals).unwrap_or_else(|| {
            format!(
                "the server spins once a child has exited: with nothing to do it used {} ms of CPU in 300 ms, its epoll instance watches only \
                 the listener and the signalfd, and SIGCHLD is still pending (/proc/{pid}/status SigPnd/ShdPnd): the signalfd stays readable \
                 because nobody reads it. Read the signals with read_signal until it returns None (TODO 7)",
                seen.idle_cpu.as_millis()
            )
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::judge::table::*;
    use crate::inspect::Signals;

    #[test]
    fn the_bonus_names_the_reaper_defect() {
        let with = |change: fn(&mut Reaping)| no_zombies(&changed(reaped(), change));
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "a blocking reaper",
                with(|seen| {
                    seen.late_served_in = None;
                    seen.server_while_late = Some(Activity::ChildWait);
                }),
                Some(
                    "waiting for a child in waitpid (/proc/42/wchan). The reaper blocks the loop until every child has exited: call waitpid with WaitPidFlag::WNOHANG",
                ),
            ),
            (
                "no reaper",
                with(|seen| {
                    seen.zombies = 2;
                    seen.interest.signalfd = false;
                }),
                Some("2 finished children are still zombies"),
            ),
            (
                "SIGCHLD not blocked",
                with(|seen| {
                    seen.zombies = 1;
                    seen.signals = Some(Signals::default());
                }),
                Some(
                    "1 finished child is still a zombie a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked",
                ),
            ),
            (
                "an unread signalfd",
                with(|seen| {
                    seen.idle_cpu = Duration::from_millis(300);
                    seen.signals = Some(SIGCHLD_PENDING);
                }),
                Some("Read the signals with read_signal until it returns None (TODO 7)"),
            ),
        ]);
    }
}
