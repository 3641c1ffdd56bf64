//! The bonus: no zombies.

use crate::checks::evidence::Reaping;
use crate::checks::judge::{SPIN, advice_for, cut_reason, plural, seconds, spinning};

/// The bonus: children are reaped, by a reaper that never blocks the loop and leaves
/// nothing to spin on.
pub fn no_zombies(seen: &Reaping) -> Result<(), String> {
    let pid = seen.pid;
    if let Some(cut) = &seen.cut {
        return Err(cut_reason(cut));
    }
    if seen.late_served_in.is_none() {
        let (doing, advice) = match &seen.server_while_late {
            Some(at) => (at.describe(), advice_for(at)),
            None => (format!("pid {pid}: running"), None),
        };
        return Err(format!(
            "a client that connected while one upload still ran, after another child had exited, was not served within {}: \
             meanwhile the server was {doing}.{}",
            seconds(seen.late_limit),
            advice
                .map(|advice| format!(" {advice}"))
                .unwrap_or_default()
        ));
    }
    if !seen.zombies.is_empty() {
        let zombies = format!(
            "{} ({})",
            plural(
                seen.zombies.len(),
                "finished child is still a zombie",
                "finished children are still zombies",
            ),
            seen.zombies
                .iter()
                .map(|pid| format!("pid {pid}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let blocked = seen.signals.map(|signals| signals.sigchld_blocked());
        return Err(if !seen.interest.signalfd {
            format!(
                "{zombies} a second after the last upload: nobody collected their exit status. Reap them (TODO 6 and TODO 7)"
            )
        } else if blocked == Some(false) {
            format!(
                "{zombies} a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked \
                 (/proc/{pid}/status SigBlk: {}), so the signal never reaches the signalfd. Block SIGCHLD before creating it (TODO 6)",
                seen.signals
                    .map_or_else(String::new, |signals| signals.describe_blocked())
            )
        } else if seen.exited_together > 1 {
            format!(
                "{zombies} a second after the last upload, although the signalfd woke the server. {} children exited \
                 together while the checker held the server paused, so their SIGCHLDs reached it as one signal: \
                 one signal can stand for several exits. Call waitpid with WNOHANG in a loop until it reports StillAlive (TODO 7)",
                seen.exited_together
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
                "the server spins once a child has exited: with nothing to do it was running or ready to run for {} ms of 300 ms, its epoll instance watches only \
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
