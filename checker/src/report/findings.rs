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
pub(crate) mod tests;
