//! The words of every finding: what a student reads when a check fails or is not judged.
//! Each finding is rendered from its evidence, which it quotes, since the processes it
//! was read from are gone by the time a student reads it; a TODO is named only where the
//! finding's [`Finding::todos`] says so (the tests hold the two together). A line
//! the server printed is quoted through [`quote`]: cut to a length a report holds, and
//! inert.
//!
//! [`render`] is the one match over every finding; the longer words live beside it, one
//! module per family of checks (`task_one`, `task_two`, `bonus`, `task_three`), the words
//! of a cut short scenario and of the checker's limits in `cuts`, and the small pieces
//! they share in `words`.

use std::fmt;

use crate::checks::finding::{Advice, Finding};
use crate::report::quote;

mod bonus;
mod cuts;
mod task_one;
mod task_three;
mod task_two;
mod words;

/// The words of `Finding::NeedsReportedEventsOnly`.
const NEEDS_REPORTED_EVENTS_ONLY: &str = "the bonus is judged only on a loop that handles \
    the events each wait returned and no others: \"keeps serving\" saw this one announce a \
    client that no wait returned. Entries left over in the event buffer can send the loop \
    into accept or read at any moment, with no client there, and no reaper makes up for \
    that: make wait_for_events return the number of ready events first (TODO 2)";
const NOT_EPOLL: &str = "the listening socket is not registered in any epoll instance of the server \
(/proc/<pid>/fdinfo shows no registration for it), so the server does not wait with epoll. Look at TODO 1";

const NEEDS_WHOLE_UPLOAD: &str = "the server must first receive a whole upload (task 1)";

const NO_ASYNC_MODE: &str = "the server does not take `--mode async` (its command line refused it): it was written before task 3";

const NOT_COUNTED: &str = "could not count the server's descriptors before the clients";

impl fmt::Display for Finding {
    /// The finding's words; where it blames the server and names no TODO, they end by
    /// saying so plainly, so that no reason leaves a student guessing whether it does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = render(self);
        if self.todos().is_empty() && self.blames_the_server() {
            write!(f, "{}. {UNTOLD}", text.trim_end_matches('.'))
        } else {
            f.write_str(&text)
        }
    }
}

/// What a reason that names no TODO ends with.
const UNTOLD: &str = "The run could not tell which TODO's code this comes from";

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Advice::BlockingSignalfd => {
                "Reading a blocking signalfd waits for the next child to exit: create it non-blocking, \
                 with SfdFlags::SFD_NONBLOCK (TODO 6), and read until read_signal returns None (TODO 7)"
            }
            Advice::BlockingWaitpid => {
                "waitpid without WNOHANG waits until a child exits, and meanwhile the loop serves nobody: \
                 pass WaitPidFlag::WNOHANG and stop at StillAlive (TODO 7)"
            }
            Advice::WaitsForOneChild => {
                "The parent waits for one child, so it serves one client at a time: return to the loop right after the fork \
                 and let the child work alone (TODO 5)"
            }
            Advice::AcceptBlocks => {
                "accept blocks when no client is waiting: accept once each time epoll reports the listener (TODO 3)"
            }
        })
    }
}

/// The words of `finding`: one arm per kind, with no wildcard, so that a new kind does not
/// compile until it has words; the longer ones live with their check's family.
fn render(finding: &Finding) -> String {
    match finding {
        Finding::DoesNotCompile => "the server does not compile".to_owned(),
        Finding::BuildStopped(why) => why.clone(),
        Finding::NeedsWholeUpload => NEEDS_WHOLE_UPLOAD.to_owned(),
        Finding::NeedsEveryClientAccepted(cut) => cuts::needs_every_client_accepted(cut),
        Finding::NeedsPassed { check, on } => cuts::needs_passed(*check, *on),
        Finding::NeedsReportedEventsOnly => NEEDS_REPORTED_EVENTS_ONLY.to_owned(),
        Finding::NoAsyncMode => NO_ASYNC_MODE.to_owned(),
        Finding::Cut(cut) => cuts::cut_reason(cut),
        Finding::ListenerNotInEpoll => NOT_EPOLL.to_owned(),
        Finding::Spins {
            busy,
            cause,
            after_uploads,
        } => task_one::spins(*busy, cause, *after_uploads),
        Finding::StaleRegistrations { pid, fds } => task_one::stale_registrations(*pid, fds),
        Finding::ServerError { line } => format!("the server printed an error: {}", quote(line)),
        Finding::WholeUploadMiscounted { reported, sent } => {
            task_one::whole_upload_miscounted(*reported, *sent)
        }
        Finding::NoWholeUpload => "no client got its whole file through".to_owned(),
        Finding::UploadMiscounted {
            client,
            sent,
            reported,
        } => task_one::upload_miscounted(*client, *sent, *reported),
        Finding::HandledNotOnce {
            connections,
            handled,
            reported,
        } => task_one::handled_not_once(*connections, *handled, *reported),
        Finding::AcceptedUnreported(seen) => task_one::accepted_unreported(seen),
        Finding::HandledSilentClient { client, fd, cause } => {
            task_one::handled_silent_client(*client, *fd, *cause)
        }
        Finding::NeverPaused => "the checker never paused the server while it sat idle".to_owned(),
        Finding::NeverIdle { after, at } => task_one::never_idle(*after, at),
        Finding::UploadsMisreported {
            uploads,
            size,
            reports,
        } => task_two::uploads_misreported(*uploads, *size, reports),
        Finding::Threads {
            pid,
            uploads,
            threads,
        } => task_two::threads(*pid, *uploads, *threads),
        Finding::NoChild { uploads } => task_two::no_child(*uploads),
        Finding::WrongChildCount { uploads, children } => {
            task_two::wrong_child_count(*uploads, *children)
        }
        Finding::ChildInLoop(child) => task_two::child_in_loop(child),
        Finding::ChildrenLeft(children) => task_two::children_left(children),
        Finding::ChildErrorLine { pid, line } => task_two::child_error_line(*pid, line),
        Finding::HandledAgain {
            handled,
            connections,
        } => task_two::handled_again(*handled, *connections),
        Finding::DescriptorsNotCounted => NOT_COUNTED.to_owned(),
        Finding::ParentKeepsCopies { before, after } => {
            task_two::parent_keeps_copies(*before, *after)
        }
        Finding::LateClientNotServed { pid, limit, server } => {
            bonus::late_client_not_served(*pid, *limit, server)
        }
        Finding::ZombiesWithoutReaper { zombies } => bonus::zombies_without_reaper(zombies),
        Finding::SigchldNotBlocked {
            pid,
            zombies,
            signals,
        } => bonus::sigchld_not_blocked(*pid, zombies, *signals),
        Finding::OneReapedPerSignal {
            zombies,
            exited_together,
        } => bonus::one_reaped_per_signal(zombies, *exited_together),
        Finding::ZombiesLeft { zombies } => bonus::zombies_left(zombies),
        Finding::EagainTakenForError { line } => task_three::eagain_taken_for_error(line),
        Finding::NotOneLoop {
            pid,
            uploads,
            children,
            threads,
        } => task_three::not_one_loop(*pid, *uploads, *children, *threads),
        Finding::BlockingSockets {
            pid,
            fds,
            meanwhile,
        } => task_three::blocking_sockets(*pid, fds, meanwhile.as_deref()),
        Finding::EndOfUploadMissed { fds, busy } => task_three::end_of_upload_missed(fds, *busy),
        Finding::OneReadPerEvent(turns) => task_three::one_read_per_event(turns),
        Finding::LoopCut(cut) => task_three::loop_cut_reason(cut),
        Finding::CountLost {
            uploads,
            size,
            reports,
        } => task_three::count_lost(*uploads, *size, reports),
        Finding::CountedMore {
            uploads,
            size,
            reports,
        } => task_three::counted_more(*uploads, *size, reports),
        Finding::LoopUploadsMisreported {
            uploads,
            size,
            reports,
        } => task_three::loop_uploads_misreported(*uploads, *size, reports),
        Finding::LoopHandledNotOnce { uploads, handled } => {
            task_three::loop_handled_not_once(*uploads, *handled)
        }
        Finding::FinishedClientsWatched { pid, fds } => {
            task_three::finished_clients_watched(*pid, fds)
        }
        Finding::ForkedAtAccept(fork) => task_two::forked_at_accept(fork),
        Finding::ForkedAfterReceiving(fork) => task_two::forked_after_receiving(fork),
        Finding::SignalfdNotWatched { pid, fd, zombies } => {
            bonus::signalfd_not_watched(*pid, *fd, zombies)
        }
        Finding::DescriptorsKept { before, after } => task_three::descriptors_kept(*before, *after),
        Finding::Limit(limit) => cuts::limit_reached(limit),
        Finding::CreatedLineNamesNoChild {
            printed,
            fd,
            server,
            children,
        } => task_two::created_line_names_no_child(*printed, *fd, *server, children),
        Finding::BufSizeIgnored {
            buf_size,
            asked,
            reads,
        } => task_three::buf_size_ignored(*buf_size, asked, *reads),
    }
}

#[cfg(test)]
pub(crate) mod tests;
