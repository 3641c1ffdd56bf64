//! The words of every finding: what a student reads when a check fails or is not judged.
//! Each finding is rendered from its evidence, which it quotes, since the processes it
//! was read from are gone by the time a student reads it; a TODO is named only where the
//! finding's [`Finding::todos`] says so (the tests below hold the two together). A line
//! the server printed is quoted through [`quote`]: cut to a length a report holds, and
//! inert.

use std::fmt;
use std::time::Duration;

use gen_testfile::human_size;

use crate::checks::evidence::{
    Blame, ChildSeen, ClientFailure, Cut, EarlyReport, Origin, Snapshot, Stopped,
};
use crate::checks::finding::{Advice, Finding, Limit, Spin};
use crate::clients::{upload_name, upload_with_socket};
use crate::grade::CheckId;
use crate::inspect::{Activity, Whereabouts};
use crate::report::quote;

const NOT_EPOLL: &str = "the listening socket is not registered in any epoll instance of the server \
(/proc/<pid>/fdinfo shows no registration for it), so the server does not wait with epoll. Look at TODO 1";

const CHILD_MUST_EXIT: &str = "After its upload a child must end with std::process::exit and never return into the server's loop (TODO 5)";

/// The most a client can send that nobody reads: its send buffer and the server's
/// receive window, which grows only when the server reads. More sent means it read.
const UNREAD_MOST: u64 = lab::MIB;

/// What the task asks of a server that serves from its loop alone.
const ONE_LOOP: &str =
    "In task 3 the loop itself serves every upload: no fork, no thread (TODOs 8 and 9)";

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

fn render(finding: &Finding) -> String {
    match finding {
        Finding::DoesNotCompile => "the server does not compile".to_owned(),
        Finding::BuildStopped(why) => why.clone(),
        Finding::NeedsWholeUpload => {
            "the server must first receive a whole upload (task 1)".to_owned()
        }
        Finding::NeedsEveryClientAccepted(cut) => format!(
            "the server must first accept every client (seen in \"keeps serving\"): {}",
            cut_reason(cut)
        ),
        Finding::NeedsPassed { check, on } => format!(
            "{} is judged only on a server that passed \"{}\"",
            match check {
                CheckId::NoZombies => "the bonus",
                _ => "this check",
            },
            on.title()
        ),
        Finding::NoAsyncMode => "the server does not take `--mode async` (its command line refused it): it was written before task 3".to_owned(),
        Finding::Cut(cut) => cut_reason(cut),
        Finding::ListenerNotInEpoll => NOT_EPOLL.to_owned(),
        Finding::Spins {
            busy,
            cause,
            after_uploads,
        } => {
            let spin = spinning(*busy, cause);
            if *after_uploads {
                format!("after the uploads {spin}")
            } else {
                spin
            }
        }
        Finding::StaleRegistrations { pid, fds } => format!(
            "the server's epoll instance still watches descriptor(s) {} for sockets the server has already closed \
             (another process still holds them, so epoll keeps the registrations and keeps reporting them; /proc/{pid}/fdinfo lists them). \
             Remove a client from epoll before closing it (TODO 4)",
            list(fds)
        ),
        Finding::ServerError { line } => format!("the server printed an error: {}", quote(line)),
        Finding::WholeUploadMiscounted { reported, sent } => format!(
            "the server reported {reported} bytes, but the client sent {sent}: it must read until the client closes the connection (read returns 0)"
        ),
        Finding::NoWholeUpload => "no client got its whole file through".to_owned(),
        Finding::UploadMiscounted {
            client,
            sent,
            reported,
        } => format!(
            "{} sent {sent} bytes, but the server reported {reported}",
            upload_name(*client)
        ),
        Finding::HandledNotOnce {
            connections,
            handled,
            reported,
        } => format!(
            "{}, but the server handled {handled} (`wants to send a file`) and reported {}: \
             each connection must be handled once, then removed from epoll and closed (TODO 4)",
            plural(*connections, "connection", "connections"),
            plural(*reported, "upload", "uploads")
        ),
        Finding::NeverPaused => "the checker never paused the server while it sat idle".to_owned(),
        Finding::NeverIdle { after, at } => {
            let advice = match (&at.activity, Advice::of(at)) {
                (_, Some(advice)) => advice.to_string(),
                (Activity::Running, None) => {
                    "With nothing to do it must block in epoll_wait (TODO 2)".to_owned()
                }
                (_, None) => "With nothing to do it must block in epoll_wait".to_owned(),
            };
            format!(
                "once started, the server never sat idle in epoll_wait: after {} it was {}. {advice}",
                seconds(*after),
                at.describe(),
            )
        }
        Finding::UploadsMisreported {
            uploads,
            size,
            reports,
        } => format!(
            "{} of {size} bytes each, but the server reported {reports:?}: each upload must be reported once, by the process that received it",
            plural(*uploads, "upload", "uploads"),
        ),
        Finding::Threads {
            pid,
            uploads,
            threads,
        } => format!(
            "while {} ran the server had no child process but {threads} threads (/proc/{pid}/task): threads, not processes. \
             Fork a child per upload (TODO 5)",
            plural(*uploads, "upload", "uploads"),
        ),
        Finding::NoChild { uploads } => format!(
            "while {} ran the server had {}: it received the uploads itself. Fork a child per upload (TODO 5)",
            plural(*uploads, "upload", "uploads"),
            plural(0, "child process", "child processes")
        ),
        Finding::WrongChildCount { uploads, children } => format!(
            "while {} ran the server had {}: there must be one child per running upload (TODO 5)",
            plural(*uploads, "upload", "uploads"),
            plural(*children, "child process", "child processes")
        ),
        Finding::ChildInLoop(child) => format!(
            "a child of the server was seen running the server's loop ({}). {CHILD_MUST_EXIT}",
            describe_child(child)
        ),
        Finding::ChildrenLeft(children) => {
            let each: Vec<_> = children.iter().map(describe_child).collect();
            format!(
                "{} still alive 2 s after the last upload was reported ({}). {CHILD_MUST_EXIT}",
                plural(each.len(), "child was", "children were"),
                each.join("; ")
            )
        }
        Finding::ChildErrorLine { pid, line } => format!(
            "the server (pid {pid}) kept running, yet `{}` was printed: the lab's error line ends the process \
             that prints it, and this one is no receive's, so a child printed it after its upload, in the loop's code. {CHILD_MUST_EXIT}",
            quote(line)
        ),
        Finding::HandledAgain {
            handled,
            connections,
        } => format!(
            "the server printed `Client <fd> wants to send a file` {handled} times for {}: a connection was handled again, \
             by a child that ran on into the loop with its parent's events. {CHILD_MUST_EXIT}",
            plural(*connections, "connection", "connections")
        ),
        Finding::DescriptorsNotCounted => {
            "could not count the server's descriptors before the clients".to_owned()
        }
        Finding::ParentKeepsCopies { before, after } => format!(
            "the server had {before} open descriptors before the clients and {after} after they were all done: \
             the parent keeps its copy of each client socket. After the fork, remove it from epoll and close it (TODO 4, TODO 5)"
        ),
        Finding::LateClientNotServed { pid, limit, server } => {
            let (doing, advice) = match server {
                Some(at) => (at.describe(), Advice::of(at)),
                None => (format!("pid {pid}: running"), None),
            };
            format!(
                "a client that connected while one upload still ran, after another child had exited, was not served within {}: \
                 meanwhile the server was {doing}.{}",
                seconds(*limit),
                advice
                    .map(|advice| format!(" {advice}"))
                    .unwrap_or_default()
            )
        }
        Finding::ZombiesWithoutReaper { zombies } => format!(
            "{} a second after the last upload: nobody collected their exit status. Reap them (TODO 6 and TODO 7)",
            still_zombies(zombies)
        ),
        Finding::SigchldNotBlocked {
            pid,
            zombies,
            signals,
        } => format!(
            "{} a second after the last upload. The server watches a signalfd, but SIGCHLD is not blocked \
             (/proc/{pid}/status SigBlk: {}), so the signal never reaches the signalfd. Block SIGCHLD before creating it (TODO 6)",
            still_zombies(zombies),
            signals.map_or_else(String::new, |signals| signals.describe_blocked())
        ),
        Finding::OneReapedPerSignal {
            zombies,
            exited_together,
        } => format!(
            "{} a second after the last upload, although the signalfd woke the server. {exited_together} children exited \
             together while the checker held the server paused, so their SIGCHLDs reached it as one signal: \
             one signal can stand for several exits. Call waitpid with WNOHANG in a loop until it reports StillAlive (TODO 7)",
            still_zombies(zombies)
        ),
        Finding::ZombiesLeft { zombies } => format!(
            "{} a second after the last upload, although the signalfd woke the server: \
             call waitpid with WNOHANG until it reports StillAlive, since one signal can stand for several exits (TODO 7)",
            still_zombies(zombies)
        ),
        Finding::EagainTakenForError { line } => format!(
            "the server printed `{}`: it took EAGAIN for an error. On a non-blocking socket a read that finds nothing \
             fails with EAGAIN (io::ErrorKind::WouldBlock) to say \"nothing more for now\": return Piece::More and let epoll \
             report the socket again (TODO 9)",
            quote(line)
        ),
        Finding::NotOneLoop {
            pid,
            uploads,
            children,
            threads,
        } => format!(
            "while {} ran in --mode async the server had {} and {} (/proc/{pid}/task). {ONE_LOOP}",
            plural(*uploads, "upload", "uploads"),
            plural(*children, "child process", "child processes"),
            plural(*threads, "thread", "threads"),
        ),
        Finding::BlockingSockets {
            pid,
            fds,
            meanwhile,
        } => {
            let while_ = match meanwhile {
                Some(cut) => format!(" Meanwhile: {}", loop_cut_reason(cut)),
                None => String::new(),
            };
            format!(
                "client socket(s) {} of the server were blocking while the uploads ran (their flags in /proc/{pid}/fdinfo lack O_NONBLOCK): \
                 a read with nothing to read then waits for that one client while every other client waits for the loop. \
                 Make each client's socket non-blocking when it is accepted (TODO 8).{while_}",
                list(fds)
            )
        }
        Finding::EndOfUploadMissed { fds, busy } => {
            let spin = match busy {
                Some(busy) => format!(
                    ", and the server was running or ready to run for {} ms of 300 ms with nothing else to do: epoll keeps reporting a socket at its end",
                    busy.as_millis()
                ),
                None => String::new(),
            };
            format!(
                "the clients had closed their connections and the server had read every byte, yet it still held socket(s) {} \
                 (CLOSE_WAIT in /proc/net/tcp) without a report{spin}. A read that returns 0 is the end of the upload: \
                 return Piece::End (TODO 9)",
                list(fds)
            )
        }
        Finding::OneReadPerEvent(turns) => format!(
            "the server read each client once per event: traced for {} system calls while the uploads ran, it made {} reads of \
             client sockets in {} turns, each a single read followed by another epoll_wait (or another client). \
             Level-triggered epoll reports the rest again, so nothing is lost, but every 10 bytes cost a second system call. \
             Read until WouldBlock (EAGAIN) or the fair share (TODO 9)",
            turns.calls, turns.reads, turns.turns
        ),
        Finding::LoopCut(cut) => loop_cut_reason(cut),
        Finding::CountLost {
            uploads,
            size,
            reports,
        } => format!(
            "{} of {size} bytes each were sent, but the server reported {reports:?}. \
             A report comes only after the end of the upload, and the end is read only after every byte before it: \
             the server read them all but lost count of some. Every byte a read returns must be added to \
             `client.received`, which lives as long as the connection. Two ways to lose bytes: a count kept in a variable \
             of TODO 9, which starts again at zero on every event; or a read that takes bytes and then fails, as \
             `read_exact` does when it meets EAGAIN partway (use `read`, which says how many bytes it took) (TODO 9)",
            plural(*uploads, "upload", "uploads"),
        ),
        Finding::CountedMore {
            uploads,
            size,
            reports,
        } => format!(
            "{} of {size} bytes each were sent, but the server reported {reports:?}. \
             It counted more than it read: add what each read returns, not the buffer's size (TODO 9)",
            plural(*uploads, "upload", "uploads"),
        ),
        Finding::LoopUploadsMisreported {
            uploads,
            size,
            reports,
        } => format!(
            "{} of {size} bytes each, but the server reported {reports:?}: each upload must be reported once",
            plural(*uploads, "upload", "uploads"),
        ),
        Finding::LoopHandledNotOnce { uploads, handled } => format!(
            "{} were served, but the server printed `Client <fd> wants to send a file` {handled} times: once per client",
            plural(*uploads, "upload", "uploads"),
        ),
        Finding::FinishedClientsWatched { pid, fds } => format!(
            "after every upload was reported, the server's epoll instance still watched descriptor(s) {} (/proc/{pid}/fdinfo): \
             only the listener (and the signalfd) should be left. A finished client is removed, then closed (TODO 4)",
            list(fds)
        ),
        Finding::ForkedAtAccept(fork) => format!(
            "the server forked a child for client {fd} as soon as it accepted it (`<< Process {pid} created to handle client {fd} >>` \
             came before `Client {fd} wants to send a file`), and then handled the client in its loop as well: more than one process \
             read the one upload, each a part of it{reported}. Accepting is all TODO 3 does: \
             accept, print, add the socket to epoll and return it (TODO 3); the fork belongs where the upload is received (TODO 5)",
            fd = fork.fd,
            pid = fork.pid,
            reported = match fork.reports.as_slice() {
                [] => String::new(),
                reports => format!(", and the server reported {reports:?} for socket {}", fork.fd),
            },
        ),
        Finding::ForkedAfterReceiving(fork) => format!(
            "the server forked only after it had received the upload itself: `Received {first} bytes from [Client {fd}]` came before \
             `<< Process {pid} created to handle client {fd} >>`, and the child, with nothing left to read, reported the upload again \
             (the server reported {reports:?} for socket {fd}): every upload was received by the parent, one at a time, and reported twice. \
             The given `lab::receive_upload` call must move into the child, after the fork (TODO 5)",
            first = fork.reports.first().copied().unwrap_or_default(),
            fd = fork.fd,
            pid = fork.pid,
            reports = fork.reports,
        ),
        Finding::SignalfdNotWatched { pid, fd, zombies } => format!(
            "{} a second after the last upload. The server holds a signalfd (descriptor {fd} in /proc/{pid}/fd), \
             but its epoll instance does not watch it (/proc/{pid}/fdinfo): the loop never learns that a child exited. \
             Add the signalfd to epoll, as the listener is, before returning it (TODO 6)",
            still_zombies(zombies)
        ),
        Finding::DescriptorsKept { before, after } => format!(
            "the server had {before} descriptors open before the uploads and {after} after them, every upload reported: \
             something of the finished clients stays open (`ls -l /proc/<pid>/fd` of a server started by hand shows what)"
        ),
        Finding::Limit(limit) => limit_reached(limit),
        Finding::CreatedLineNamesNoChild {
            printed,
            fd,
            server,
            children,
        } => {
            let whose = if printed == server {
                format!("{printed} is the server's own pid (the parent's), not a child's")
            } else {
                format!("no child of the server had pid {printed}")
            };
            format!(
                "the server printed `<< Process {printed} created to handle client {fd} >>`, but {whose}; \
                 its children while the uploads ran were {} (pids as the server log shows them). \
                 The parent must print the pid that fork returned to it for the child (TODO 5)",
                list(children)
            )
        }
        Finding::BufSizeIgnored {
            buf_size,
            asked,
            reads,
        } => {
            let sizes = asked
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ");
            let against = if asked.iter().any(|&size| size > u64::from(*buf_size)) {
                format!("more than the {buf_size} it was given")
            } else {
                format!("never {buf_size}")
            };
            format!(
                "the server was started with --buf-size {buf_size}, but its reads of client sockets asked for {sizes} bytes, \
                 {against} ({reads} reads traced as the uploads began). Read into a buffer of buf_size bytes, \
                 the size the command line gives (TODO 9)"
            )
        }
    }
}

/// A limit of the checker's that the server reached, with its number and what to change.
fn limit_reached(limit: &Limit) -> String {
    match limit {
        Limit::Time { limit } => format!(
            "not decided: the run reached its time limit of {} s (the checker's limit) before this check was \
             decided, so the checker stopped the server. A server that is right but slow needs more time: \
             --timeout SECONDS (the default grows with --size and --clients)",
            limit.as_secs()
        ),
        Limit::Memory { asked, cap } => format!(
            "a process of the server asked for {asked} bytes of memory more and was refused, so it ended: a process \
             of a server may map {} MiB at most (the checker's limit), and a server of this lab needs a few MiB. \
             Look for memory that grows as the upload goes on (a buffer made per read and kept, the whole upload kept)",
            cap / lab::MIB
        ),
    }
}

/// Why a server spins, with the time it ran or waited to run.
fn spinning(busy: Duration, cause: &Spin) -> String {
    let used = format!(
        "with nothing to do the server was running or ready to run for {} ms of 300 ms (/proc/<pid>/schedstat)",
        busy.as_millis()
    );
    match cause {
        Spin::FinishedClients { pid, fds } => format!(
            "the server is spinning: {used}, and its epoll instance still watches descriptor(s) {} of finished clients (/proc/{pid}/fdinfo), \
             which it keeps reporting as readable. Remove a finished client from epoll, then close it (TODO 4)",
            list(fds)
        ),
        Spin::NoWait { signalfd } => format!(
            "the server is spinning: {used}, although its epoll instance watches only the listener{}. \
             Does it wait with a timeout of zero? Wait with EpollTimeout::NONE (TODO 2)",
            if *signalfd { " and the signalfd" } else { "" }
        ),
        Spin::UnreadSignalfd { pid } => format!(
            "the server spins once a child has exited: with nothing to do it was running or ready to run for {} ms of 300 ms, its epoll instance watches only \
             the listener and the signalfd, and SIGCHLD is still pending (/proc/{pid}/status SigPnd/ShdPnd): the signalfd stays readable \
             because nobody reads it. Read the signals with read_signal until it returns None (TODO 7)",
            busy.as_millis()
        ),
    }
}

/// `2 finished children are still zombies (pid 7, pid 8)`.
fn still_zombies(zombies: &[i32]) -> String {
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

/// Why a scenario ended early.
fn cut_reason(cut: &Cut) -> String {
    match cut {
        Cut::ServerStopped(stopped) => stopped_reason(stopped),
        Cut::StoppedAfterPause(stopped) => format!(
            "{}, right after the checker paused and resumed it while it sat idle (SIGSTOP, then SIGCONT: what Ctrl-Z and `fg` do). \
             That interrupts epoll_wait, which then fails with EINTR: no error, just wait again (TODO 2)",
            stopped.how
        ),
        Cut::NoProgress {
            after,
            milestone,
            most_sent,
            seen,
        } => format!(
            "after {} no client had sent {} (the most any had sent: {most_sent} bytes): {}. {}",
            seconds(*after),
            human_size(*milestone),
            if *most_sent > UNREAD_MOST {
                "the server reads the uploads, but far too slowly"
            } else {
                "the server does not read the uploads"
            },
            where_they_were(seen)
        ),
        Cut::Stalled {
            after,
            sent,
            of,
            seen,
        } => format!(
            "no data moved for {}: the server stopped reading the uploads (the clients had sent {sent} of {of} bytes). {}",
            seconds(*after),
            where_they_were(seen)
        ),
        Cut::Stuck { lasted, seen } => format!(
            "for {} the server was blocked outside epoll_wait while clients waited and no byte moved. {}",
            seconds(*lasted),
            where_they_were(seen)
        ),
        Cut::NotAccepted {
            waiting,
            pid,
            lasted,
        } => format!(
            "{} waited {} to be accepted while the server sat idle in epoll_wait (/proc/net/tcp showed {waiting} in the listener's queue, /proc/{pid}/wchan showed epoll_wait): \
             the server does not accept every client that knocks. Accept whenever epoll reports the listener (TODO 3), \
             and keep the listener level-triggered, as lab::w_epoll::add registers it, so that epoll reports it for as long as clients wait (TODO 1)",
            plural(*waiting as usize, "connection", "connections"),
            seconds(*lasted)
        ),
        Cut::NotWatched { fds, pid, lasted } => format!(
            "the server accepted the {} {} but does not watch {}: not in its epoll interest list (/proc/{pid}/fdinfo), \
             while the data sat unread for {} and the server waited in epoll_wait. Add every accepted client to epoll (TODO 3)",
            if fds.len() == 1 {
                "client on socket"
            } else {
                "clients on sockets"
            },
            list(fds),
            if fds.len() == 1 { "it" } else { "them" },
            seconds(*lasted)
        ),
        Cut::OneAtATime {
            finished,
            behind,
            sockets,
            behind_sent,
            milestone,
            server_waited_for_child,
        } => {
            let why = if *server_waited_for_child {
                "The server was seen waiting for its child in waitpid (/proc/<pid>/wchan: do_wait) while the upload ran: \
                 the parent must return to the loop at once and let the child work alone (TODO 5)"
            } else {
                "Receive each upload in a child process of its own (TODO 5)"
            };
            format!(
                "{}: the server serves one client at a time. {why}",
                left_behind(*finished, *behind, *sockets, *behind_sent, *milestone)
            )
        }
        Cut::ClientFailed(failure) => client_failed(failure, false),
        Cut::ReportsMissing {
            waited,
            reported,
            expected,
            seen,
        } => format!(
            "the clients sent everything, but after {} the server had reported {reported} of {expected} uploads (`Received <bytes> bytes from [Client <fd>]`). {}",
            seconds(*waited),
            where_they_were(seen)
        ),
    }
}

/// How a server stopped, and whose code stopped it where the evidence tells.
fn stopped_reason(stopped: &Stopped) -> String {
    let how = &stopped.how;
    let origin = match &stopped.blame {
        Blame::Checker => return how.clone(),
        // The words that say the run could not tell are added to every such finding.
        Blame::Untold => return how.clone(),
        Blame::Todo(origin) => origin,
    };
    match origin {
        // The panic quoted names the TODO.
        Origin::NotYetDone(_) => how.clone(),
        Origin::NoChildLeft { after } => {
            let after = match after.as_deref().and_then(lab::Line::parse) {
                Some(lab::Line::ProcessExited { .. } | lab::Line::ProcessKilled { .. }) => format!(
                    ", as right after the last child was reaped (the error came after `{}`)",
                    quote(after.as_deref().unwrap_or_default())
                ),
                Some(_) => format!(
                    " (the error came after `{}`)",
                    quote(after.as_deref().unwrap_or_default())
                ),
                None => String::new(),
            };
            format!(
                "{how}. waitpid fails with ECHILD when the server has no child left at all{after}: that ends the reaping, \
                 and is no error. Stop at ECHILD as at StillAlive (TODO 7)"
            )
        }
        Origin::AddedAgain { added, accepted } => {
            let connected = format!("`<< New client connected on socket {accepted} >>`");
            match added {
                Some(added) if added != accepted => format!(
                    "{how}. The error came right after {connected}: descriptor {added} was added to epoll instead of the new client's socket {accepted}, \
                     and epoll refuses a descriptor already in its interest list (EEXIST). Add the accepted client's socket (TODO 3)"
                ),
                _ => format!(
                    "{how}. The error came right after {connected}: on accepting that client the server added a descriptor that epoll already watches (EEXIST). \
                     Add each accepted client's socket once (TODO 3)"
                ),
            }
        }
    }
}

/// Why a cut ends task 3, in task 3's words where they differ from task 2's.
fn loop_cut_reason(cut: &Cut) -> String {
    match cut {
        Cut::OneAtATime {
            finished,
            behind,
            sockets,
            behind_sent,
            milestone,
            ..
        } => format!(
            "{}: the loop served one client at a time, though its sockets were non-blocking. One event may read what its client has sent so far, and at most \
             lab::FAIR_SHARE bytes of it, then go back to epoll_wait: \
             with 10-byte reads the server reads more slowly than a client sends, so \"until EAGAIN\" alone can keep the loop on one \
             client to its end (TODO 9)",
            left_behind(*finished, *behind, *sockets, *behind_sent, *milestone)
        ),
        Cut::ClientFailed(failure) => client_failed(failure, true),
        _ => cut_reason(cut),
    }
}

/// `upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes
/// (not yet 10 MiB)`: the evidence of [`Cut::OneAtATime`].
fn left_behind(
    finished: usize,
    behind: usize,
    sockets: (Option<i32>, Option<i32>),
    behind_sent: u64,
    milestone: u64,
) -> String {
    format!(
        "{} finished while {} had sent only {behind_sent} bytes (not yet {})",
        upload_with_socket(finished, sockets.0),
        upload_with_socket(behind, sockets.1),
        human_size(milestone)
    )
}

/// What the server did to a client whose connection broke, as far as the evidence goes.
fn client_failed(failure: &ClientFailure, in_task_three: bool) -> String {
    let ClientFailure {
        client,
        socket,
        error,
        server_errors,
        closed_unread,
        reported_early,
    } = failure;
    let client = upload_with_socket(*client, *socket);
    let error = quote(error);
    if let Some(EarlyReport { fd, bytes }) = reported_early {
        return format!(
            "{client} was cut off ({error}) while the server had already reported an upload of no more than it had sent: \
             `Received {bytes} bytes from [Client {fd}]`. The server took an upload for ended before its client closed the connection, \
             and closed it. Only a read that returns 0 is the end of an upload{where_}",
            where_ = match in_task_three {
                true =>
                    ": a read that fails with WouldBlock (EAGAIN) means \"nothing more for now\", so return Piece::More for it and Piece::End only for 0 (TODO 9)",
                false => "",
            }
        );
    }
    if let Some(counts) = closed_unread {
        return format!(
            "{client} was cut off ({error}): the server printed {} but only {} (`Client <fd> wants to send a file`), \
             and no process of the server holds the client's socket any more: it closed the connection before reading from it. \
             Keep every accepted client in `clients` until its upload is handled (TODO 3)",
            plural(
                counts.accepted,
                "`<< New client connected ... >>` line",
                "`<< New client connected ... >>` lines"
            ),
            counts.handled
        );
    }
    match server_errors.as_slice() {
        [] => format!("{client} failed while the server kept running: {error}"),
        [only] => format!(
            "{client} failed ({error}) while the server kept running, which had printed: `{}`",
            quote(only)
        ),
        [first, ..] if server_errors.iter().all(|line| line == first) => format!(
            "{client} failed ({error}) while the server kept running, which had printed `{}` {} times",
            quote(first),
            server_errors.len()
        ),
        [first, .., last] => format!(
            "{client} failed ({error}) while the server kept running, which had printed {} error lines, the first `{}` and the last `{}`",
            server_errors.len(),
            quote(first),
            quote(last)
        ),
    }
}

/// Where the server and each child were, and what that says to fix, if it says anything
/// the evidence can back.
fn where_they_were(seen: &Snapshot) -> String {
    let mut text = format!("The server was {}", seen.server.describe());
    match seen.children.as_slice() {
        [] => text.push_str(", with no child running"),
        children => {
            let each: Vec<String> = children.iter().map(Whereabouts::describe).collect();
            text.push_str(&format!("; its children: {}", each.join("; ")));
        }
    }
    text.push('.');
    if let Some(advice) = Advice::of(&seen.server) {
        text.push(' ');
        text.push_str(&advice.to_string());
    }
    text
}

fn describe_child(child: &ChildSeen) -> String {
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

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("{count} {one}")
    } else {
        format!("{count} {many}")
    }
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

/// Descriptors, sorted, each once.
fn list(fds: &[i32]) -> String {
    let mut fds = fds.to_vec();
    fds.sort_unstable();
    fds.dedup();
    fds.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::checks::evidence::{Handled, Turns};
    use crate::checks::printed::ForkSeen;
    use crate::inspect::{CallKind, Signals, Waited};

    use crate::checks::judge::table::at;

    fn snapshot(server: Whereabouts) -> Box<Snapshot> {
        Box::new(Snapshot {
            server,
            children: vec![at(CallKind::Sleep, 0, None)],
        })
    }

    fn one_at_a_time(server_waited_for_child: bool) -> Cut {
        Cut::OneAtATime {
            finished: 5,
            behind: 4,
            sockets: (Some(6), None),
            behind_sent: 196_608,
            milestone: 10 * lab::MIB,
            server_waited_for_child,
        }
    }

    fn client_failed(server_errors: &[&str], closed_unread: Option<Handled>) -> Cut {
        Cut::ClientFailed(ClientFailure {
            client: 4,
            socket: Some(6),
            error: "Broken pipe".into(),
            server_errors: server_errors
                .iter()
                .map(|line| (*line).to_owned())
                .collect(),
            closed_unread,
            reported_early: None,
        })
    }

    /// A cut of every kind, with evidence that leads to each piece of advice.
    fn every_cut() -> Vec<Cut> {
        let second = Duration::from_secs(1);
        vec![
            Cut::ServerStopped(Stopped {
                how: "the server stopped (exit status 101)".into(),
                blame: Blame::Untold,
            }),
            Cut::StoppedAfterPause(Stopped {
                how: "the server stopped (exit status 1)".into(),
                blame: Blame::Untold,
            }),
            Cut::NoProgress {
                after: second,
                milestone: 10 * lab::MIB,
                most_sent: 60,
                seen: snapshot(at(CallKind::Sleep, 0, None)),
            },
            Cut::Stalled {
                after: second,
                sent: 10,
                of: 20,
                seen: snapshot(at(CallKind::Wait, -1, None)),
            },
            Cut::Stuck {
                lasted: second,
                seen: snapshot(at(CallKind::Read, 5, Some(Waited::SignalFd))),
            },
            Cut::NotAccepted {
                waiting: 2,
                pid: 42,
                lasted: second,
            },
            Cut::NotWatched {
                fds: vec![7, 6],
                pid: 42,
                lasted: second,
            },
            one_at_a_time(false),
            one_at_a_time(true),
            client_failed(&[], None),
            client_failed(&["server: receiving from client 6: EIO"], None),
            client_failed(&["server: a", "server: a"], None),
            client_failed(&["server: a", "server: b"], None),
            client_failed(
                &[],
                Some(Handled {
                    accepted: 1,
                    handled: 0,
                }),
            ),
            Cut::ReportsMissing {
                waited: second,
                reported: 1,
                expected: 2,
                seen: snapshot(at(CallKind::Wait, 77, None)),
            },
        ]
    }

    /// A finding of every kind (and every cut inside the kinds that hold one).
    pub(crate) fn every_finding() -> Vec<Finding> {
        let busy = Duration::from_millis(290);
        let child = ChildSeen {
            pid: 77,
            activity: Activity::EpollWait,
            holds_listener: true,
        };
        let reports = vec![100, 64];
        let mut findings = vec![
            Finding::DoesNotCompile,
            Finding::BuildStopped("the build took longer than 120 s".into()),
            Finding::NeedsWholeUpload,
            Finding::NeedsPassed {
                check: CheckId::NoZombies,
                on: CheckId::ProcessPerClient,
            },
            Finding::NoAsyncMode,
            Finding::ListenerNotInEpoll,
            Finding::StaleRegistrations {
                pid: 42,
                fds: vec![6],
            },
            Finding::ServerError {
                line: "server: accepting: EMFILE".into(),
            },
            Finding::WholeUploadMiscounted {
                reported: 50,
                sent: 100,
            },
            Finding::NoWholeUpload,
            Finding::UploadMiscounted {
                client: 1,
                sent: 100,
                reported: 50,
            },
            Finding::HandledNotOnce {
                connections: 3,
                handled: 4,
                reported: 3,
            },
            Finding::NeverPaused,
            Finding::NeverIdle {
                after: Duration::from_secs(1),
                at: at(CallKind::Sleep, 0, None),
            },
            Finding::NeverIdle {
                after: Duration::from_secs(1),
                at: Whereabouts {
                    activity: Activity::Running,
                    call: None,
                    ..at(CallKind::Sleep, 0, None)
                },
            },
            Finding::NeverIdle {
                after: Duration::from_secs(1),
                at: at(CallKind::Accept, 3, Some(Waited::Listener)),
            },
            Finding::UploadsMisreported {
                uploads: 2,
                size: 100,
                reports: reports.clone(),
            },
            Finding::Threads {
                pid: 42,
                uploads: 2,
                threads: 3,
            },
            Finding::NoChild { uploads: 2 },
            Finding::WrongChildCount {
                uploads: 2,
                children: 1,
            },
            Finding::ChildInLoop(child.clone()),
            Finding::ChildrenLeft(vec![child.clone(), child]),
            Finding::ChildErrorLine {
                pid: 42,
                line: "server: removing descriptor 6 from epoll: ENOENT".into(),
            },
            Finding::HandledAgain {
                handled: 3,
                connections: 2,
            },
            Finding::DescriptorsNotCounted,
            Finding::ParentKeepsCopies {
                before: 6,
                after: 8,
            },
            Finding::LateClientNotServed {
                pid: 42,
                limit: Duration::from_secs(2),
                server: None,
            },
            Finding::LateClientNotServed {
                pid: 42,
                limit: Duration::from_secs(2),
                server: Some(at(CallKind::Wait, -1, None)),
            },
            Finding::ZombiesWithoutReaper {
                zombies: vec![7, 8],
            },
            Finding::SigchldNotBlocked {
                pid: 42,
                zombies: vec![7],
                signals: Some(Signals::default()),
            },
            Finding::OneReapedPerSignal {
                zombies: vec![7, 8],
                exited_together: 3,
            },
            Finding::ZombiesLeft { zombies: vec![7] },
            Finding::EagainTakenForError {
                line: "server: receiving from client 6: Resource temporarily unavailable (os error 11)".into(),
            },
            Finding::NotOneLoop {
                pid: 42,
                uploads: 3,
                children: 3,
                threads: 1,
            },
            Finding::BlockingSockets {
                pid: 42,
                fds: vec![7, 6],
                meanwhile: None,
            },
            Finding::BlockingSockets {
                pid: 42,
                fds: vec![6],
                meanwhile: Some(Box::new(one_at_a_time(false))),
            },
            Finding::EndOfUploadMissed {
                fds: vec![6],
                busy: Some(busy),
            },
            Finding::EndOfUploadMissed {
                fds: vec![6],
                busy: None,
            },
            Finding::OneReadPerEvent(Turns {
                calls: 400,
                reads: 200,
                turns: 200,
                single: 200,
            }),
            Finding::CountLost {
                uploads: 2,
                size: 100,
                reports: reports.clone(),
            },
            Finding::CountedMore {
                uploads: 2,
                size: 100,
                reports: vec![100, 120],
            },
            Finding::LoopUploadsMisreported {
                uploads: 2,
                size: 100,
                reports: vec![100],
            },
            Finding::LoopHandledNotOnce {
                uploads: 3,
                handled: 4,
            },
            Finding::FinishedClientsWatched {
                pid: 42,
                fds: vec![6],
            },
            Finding::DescriptorsKept {
                before: 5,
                after: 7,
            },
        ];
        for cause in [
            Spin::FinishedClients {
                pid: 42,
                fds: vec![6, 6],
            },
            Spin::NoWait { signalfd: true },
            Spin::NoWait { signalfd: false },
            Spin::UnreadSignalfd { pid: 42 },
        ] {
            for after_uploads in [false, true] {
                findings.push(Finding::Spins {
                    busy,
                    cause: cause.clone(),
                    after_uploads,
                });
            }
        }
        for cut in every_cut() {
            findings.push(Finding::Cut(cut.clone()));
            findings.push(Finding::LoopCut(cut.clone()));
            findings.push(Finding::NeedsEveryClientAccepted(cut));
        }
        findings.extend(findings_of_where_the_mistake_is());
        // The checker's limits.
        findings.push(Finding::Limit(Limit::Time {
            limit: Duration::from_secs(30),
        }));
        findings.push(Finding::Limit(Limit::Memory {
            asked: 1 << 30,
            cap: 512 * lab::MIB,
        }));
        // What a line says against what /proc showed.
        findings.push(Finding::CreatedLineNamesNoChild {
            printed: 2,
            fd: 5,
            server: 2,
            children: vec![3, 4],
        });
        findings.push(Finding::CreatedLineNamesNoChild {
            printed: 9,
            fd: 5,
            server: 2,
            children: vec![3, 4],
        });
        // The sizes task 3's reads asked for against --buf-size.
        findings.push(Finding::BufSizeIgnored {
            buf_size: 12,
            asked: vec![4096],
            reads: 32,
        });
        findings.push(Finding::BufSizeIgnored {
            buf_size: 12,
            asked: vec![8],
            reads: 32,
        });
        findings
    }

    /// Findings that say which TODO's code a mistake is in, from where the server's lines
    /// place a fork and whose code stopped a server (after the others, so that their
    /// snapshots keep their numbers).
    fn findings_of_where_the_mistake_is() -> Vec<Finding> {
        let stopped = |how: &str, blame: Blame| {
            Finding::Cut(Cut::ServerStopped(Stopped {
                how: how.into(),
                blame,
            }))
        };
        vec![
            Finding::ForkedAtAccept(ForkSeen {
                fd: 5,
                pid: 3,
                reports: vec![60, 40],
            }),
            Finding::ForkedAfterReceiving(ForkSeen {
                fd: 5,
                pid: 3,
                reports: vec![100, 0],
            }),
            stopped(
                "the server stopped (exit status 101): it panicked at src/bin/server.rs:81:5: not yet implemented: TODO 1: create an epoll instance",
                Blame::Todo(Origin::NotYetDone(1)),
            ),
            stopped(
                "the server stopped (exit status 1): server: reaping: ECHILD: No child processes",
                Blame::Todo(Origin::NoChildLeft {
                    after: Some("<< Process 3 exited with status 0 >>".into()),
                }),
            ),
            stopped(
                "the server stopped (exit status 1): server: reaping: ECHILD: No child processes",
                Blame::Todo(Origin::NoChildLeft { after: None }),
            ),
            stopped(
                "the server stopped (exit status 1): server: adding descriptor 3 to epoll: EEXIST: File exists",
                Blame::Todo(Origin::AddedAgain {
                    added: Some(3),
                    accepted: 5,
                }),
            ),
            stopped(
                "the server stopped (exit status 1): server: watching the client: File exists (os error 17)",
                Blame::Todo(Origin::AddedAgain {
                    added: None,
                    accepted: 5,
                }),
            ),
            stopped(
                "the checker stopped the server: it ran longer than the time limit",
                Blame::Checker,
            ),
            Finding::SignalfdNotWatched {
                pid: 2,
                fd: 4,
                zombies: vec![3, 4],
            },
            Finding::LoopCut(Cut::ClientFailed(ClientFailure {
                client: 14,
                socket: None,
                error: "sending to the server after 131072 bytes: Broken pipe (os error 32)".into(),
                server_errors: vec![],
                closed_unread: None,
                reported_early: Some(EarlyReport {
                    fd: 6,
                    bytes: 65536,
                }),
            })),
            Finding::Cut(Cut::ClientFailed(ClientFailure {
                client: 1,
                socket: Some(5),
                error: "sending to the server after 1048576 bytes: Broken pipe (os error 32)"
                    .into(),
                server_errors: vec![],
                closed_unread: None,
                reported_early: Some(EarlyReport {
                    fd: 5,
                    bytes: 524288,
                }),
            })),
            Finding::ForkedAtAccept(ForkSeen {
                fd: 6,
                pid: 4,
                reports: vec![],
            }),
        ]
    }

    /// The variant of `finding`, as a number: written without a wildcard, so that a new
    /// variant does not compile until it is counted here (and given a sample above).
    fn kind(finding: &Finding) -> usize {
        match finding {
            Finding::DoesNotCompile => 0,
            Finding::BuildStopped(_) => 1,
            Finding::NeedsWholeUpload => 2,
            Finding::NeedsEveryClientAccepted(_) => 3,
            Finding::NeedsPassed { .. } => 4,
            Finding::NoAsyncMode => 5,
            Finding::Cut(_) => 6,
            Finding::ListenerNotInEpoll => 7,
            Finding::Spins { .. } => 8,
            Finding::StaleRegistrations { .. } => 9,
            Finding::ServerError { .. } => 10,
            Finding::WholeUploadMiscounted { .. } => 11,
            Finding::NoWholeUpload => 12,
            Finding::UploadMiscounted { .. } => 13,
            Finding::HandledNotOnce { .. } => 14,
            Finding::NeverPaused => 15,
            Finding::NeverIdle { .. } => 16,
            Finding::UploadsMisreported { .. } => 17,
            Finding::Threads { .. } => 18,
            Finding::NoChild { .. } => 19,
            Finding::WrongChildCount { .. } => 20,
            Finding::ChildInLoop(_) => 21,
            Finding::ChildrenLeft(_) => 22,
            Finding::ChildErrorLine { .. } => 23,
            Finding::HandledAgain { .. } => 24,
            Finding::DescriptorsNotCounted => 25,
            Finding::ParentKeepsCopies { .. } => 26,
            Finding::LateClientNotServed { .. } => 27,
            Finding::ZombiesWithoutReaper { .. } => 28,
            Finding::SigchldNotBlocked { .. } => 29,
            Finding::OneReapedPerSignal { .. } => 30,
            Finding::ZombiesLeft { .. } => 31,
            Finding::EagainTakenForError { .. } => 32,
            Finding::NotOneLoop { .. } => 33,
            Finding::BlockingSockets { .. } => 34,
            Finding::EndOfUploadMissed { .. } => 35,
            Finding::OneReadPerEvent(_) => 36,
            Finding::LoopCut(_) => 37,
            Finding::CountLost { .. } => 38,
            Finding::CountedMore { .. } => 39,
            Finding::LoopUploadsMisreported { .. } => 40,
            Finding::LoopHandledNotOnce { .. } => 41,
            Finding::FinishedClientsWatched { .. } => 42,
            Finding::DescriptorsKept { .. } => 43,
            Finding::ForkedAtAccept(_) => 44,
            Finding::ForkedAfterReceiving(_) => 45,
            Finding::SignalfdNotWatched { .. } => 46,
            Finding::Limit(_) => 47,
            Finding::CreatedLineNamesNoChild { .. } => 48,
            Finding::BufSizeIgnored { .. } => 49,
        }
    }
    const KINDS: usize = 50;

    /// The TODO numbers a text names: `TODO 4`, `(TODO 4, TODO 5)`, `TODOs 8 and 9`.
    pub(crate) fn todos_named(text: &str) -> Vec<u8> {
        let mut todos = Vec::new();
        for (at, _) in text.match_indices("TODO") {
            let mut rest = text[at + "TODO".len()..].trim_start_matches('s');
            loop {
                let digits: String = rest
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                let Ok(number) = digits.parse() else { break };
                todos.push(number);
                rest = &rest.trim_start()[digits.len()..];
                match rest.strip_prefix(" and ") {
                    Some(next) if next.starts_with(|c: char| c.is_ascii_digit()) => rest = next,
                    _ => break,
                }
            }
        }
        todos.sort_unstable();
        todos.dedup();
        todos
    }

    #[test]
    fn todos_are_read_from_each_way_a_reason_names_them() {
        assert_eq!(todos_named("(TODO 4, TODO 5)"), [4, 5]);
        assert_eq!(todos_named("Reap them (TODO 6 and TODO 7)"), [6, 7]);
        assert_eq!(todos_named("no fork, no thread (TODOs 8 and 9)"), [8, 9]);
        assert_eq!(todos_named("Look at TODO 1"), [1]);
        assert!(todos_named("no TODO named").is_empty());
    }

    #[test]
    fn every_finding_renders_has_a_slug_and_names_exactly_its_todos() {
        let findings = every_finding();
        let mut seen = [false; KINDS];
        for finding in &findings {
            seen[kind(finding)] = true;
            let text = finding.to_string();
            assert!(!text.is_empty(), "{finding:?}");
            let slug = finding.slug();
            assert!(
                !slug.is_empty()
                    && slug.split('-').all(
                        |word| !word.is_empty() && word.chars().all(|c| c.is_ascii_lowercase())
                    ),
                "{slug:?} is no kebab-case slug"
            );
            assert_eq!(
                finding.todos(),
                todos_named(&text),
                "{slug}: todos() against the text {text:?}"
            );
        }
        let missing: Vec<usize> = (0..KINDS).filter(|&kind| !seen[kind]).collect();
        assert!(missing.is_empty(), "kinds without a sample: {missing:?}");
    }

    /// The words of every sample finding, one snapshot each, named by its place among the
    /// samples and its slug: a changed word shows as a changed snapshot in review.
    #[test]
    fn every_finding_reads_as_its_snapshot() {
        for (at, finding) in every_finding().iter().enumerate() {
            let name = format!("{at:02}-{}", finding.slug());
            insta::assert_snapshot!(name, finding.to_string());
        }
    }

    /// A server that read more than the kernel's buffers hold is not said to read nothing.
    #[test]
    fn no_progress_tells_a_slow_reader_from_one_that_does_not_read() {
        let cut = |most_sent| {
            Finding::Cut(Cut::NoProgress {
                after: Duration::from_secs(10),
                milestone: 10 * lab::MIB,
                most_sent,
                seen: snapshot(at(CallKind::EpollWait, 4, None)),
            })
            .to_string()
        };
        assert!(
            cut(1_900_544).contains("(the most any had sent: 1900544 bytes): the server reads the uploads, but far too slowly."),
            "{}",
            cut(1_900_544)
        );
        assert!(cut(60).contains("the server does not read the uploads."));
    }

    #[test]
    fn findings_of_different_kinds_have_different_slugs() {
        let mut by_slug = std::collections::HashMap::new();
        for finding in every_finding() {
            // A finding that holds a cut may share the cut's slug: the cut is the story.
            if matches!(finding, Finding::Cut(_) | Finding::LoopCut(_)) {
                continue;
            }
            let kind = kind(&finding);
            let earlier = *by_slug.entry(finding.slug()).or_insert(kind);
            assert_eq!(earlier, kind, "{} names two kinds", finding.slug());
        }
    }

    #[test]
    fn uploads_are_named_by_letter_with_the_socket_the_server_gave_them() {
        let reason = Finding::Cut(one_at_a_time(false)).to_string();
        assert!(
            reason.starts_with(
                "upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes (not yet 10 MiB)"
            ),
            "{reason}"
        );
    }
}
