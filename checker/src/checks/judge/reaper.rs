//! The bonus: no zombies.

use crate::checks::evidence::Reaping;
use crate::checks::finding::{Finding, Spin};
use crate::checks::judge::{Judged, SPIN, spin_cause};

/// The bonus: children are reaped, by a reaper that never blocks the loop and leaves
/// nothing to spin on.
pub fn no_zombies(seen: &Reaping) -> Judged {
    let pid = seen.pid;
    if let Some(cut) = &seen.cut {
        return Err(Finding::Cut(cut.clone()));
    }
    if seen.late_served_in.is_none() {
        return Err(Finding::LateClientNotServed {
            pid,
            limit: seen.late_limit,
            server: seen.server_while_late.clone(),
        });
    }
    if !seen.zombies.is_empty() {
        let zombies = seen.zombies.clone();
        let blocked = seen.signals.map(|signals| signals.sigchld_blocked());
        return Err(if let Some(fd) = seen.unwatched_signalfd {
            Finding::SignalfdNotWatched { pid, fd, zombies }
        } else if !seen.interest.signalfd {
            Finding::ZombiesWithoutReaper { zombies }
        } else if blocked == Some(false) {
            Finding::SigchldNotBlocked {
                pid,
                zombies,
                signals: seen.signals,
            }
        } else if seen.exited_together > 1 {
            Finding::OneReapedPerSignal {
                zombies,
                exited_together: seen.exited_together,
            }
        } else {
            Finding::ZombiesLeft { zombies }
        });
    }
    if seen.idle_cpu > SPIN {
        let cause =
            spin_cause(pid, &seen.interest, seen.signals).unwrap_or(Spin::UnreadSignalfd { pid });
        return Err(Finding::Spins {
            busy: seen.idle_cpu,
            cause,
            after_uploads: false,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::judge::table::*;
    use crate::inspect::{CallKind, Signals, Waited};

    #[test]
    fn the_bonus_names_the_reaper_defect() {
        let with = |change: fn(&mut Reaping)| no_zombies(&changed(reaped(), change));
        check_table(vec![
            ("correct", with(|_| {}), None),
            (
                "a blocking reaper",
                with(|seen| {
                    seen.late_served_in = None;
                    seen.server_while_late = Some(at(CallKind::Wait, -1, None));
                }),
                Some(
                    "meanwhile the server was pid 42: waiting in waitpid for any child (/proc/42/wchan: do_wait). waitpid without WNOHANG",
                ),
            ),
            (
                "a blocking signalfd",
                with(|seen| {
                    seen.late_served_in = None;
                    seen.server_while_late = Some(at(CallKind::Read, 5, Some(Waited::SignalFd)));
                }),
                Some(
                    "blocked in read on the signalfd (descriptor 5; /proc/42/wchan: do_wait). Reading a blocking signalfd",
                ),
            ),
            (
                "somewhere that says nothing",
                with(|seen| {
                    seen.late_served_in = None;
                    seen.server_while_late = Some(at(CallKind::Sleep, 0, None));
                }),
                Some(
                    "meanwhile the server was pid 42: sleeping (nanosleep) (/proc/42/wchan: do_wait).",
                ),
            ),
            (
                "no reaper",
                with(|seen| {
                    seen.zombies = vec![7, 8];
                    seen.interest.signalfd = false;
                }),
                Some("2 finished children are still zombies (pid 7, pid 8)"),
            ),
            (
                "one child reaped per signal",
                with(|seen| {
                    seen.zombies = vec![7, 8];
                    seen.exited_together = 3;
                }),
                Some(
                    "3 children exited together while the checker held the server paused, so their SIGCHLDs reached it as one signal",
                ),
            ),
            (
                "SIGCHLD not blocked",
                with(|seen| {
                    seen.zombies = vec![7];
                    seen.signals = Some(Signals::default());
                }),
                Some(
                    "1 finished child is still a zombie (pid 7) a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked \
                     (/proc/42/status SigBlk: 0000000000000000, which blocks no signal)",
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
