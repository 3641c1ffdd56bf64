//! What a server printed, read with the lab's own parser ([`lab::Line`]): only the lab's
//! lines and a panic are evidence. Any other line is the student's own (a debug line,
//! say): never an error, and never a sign of who printed it.

use lab::Line;

use crate::checks::evidence::{Blame, Origin};

/// The lab's lines in a server's output, counted by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Printed {
    /// `<< New client connected on socket <fd> >>`
    pub accepted: usize,
    /// `Client <fd> wants to send a file`
    pub handled: usize,
    /// The byte counts of `Received <bytes> bytes from [Client <fd>]`, in order.
    pub received: Vec<u64>,
    /// The server's error lines (`server: <what failed>: <why>`) and panics, as printed.
    pub errors: Vec<String>,
    /// `<< Process <pid> created to handle client <fd> >>`: the pid and the client's fd.
    pub created: Vec<(i32, i32)>,
}

impl Printed {
    pub fn of(output: &[String]) -> Self {
        let mut printed = Printed::default();
        for line in output {
            if is_panic(line) {
                printed.errors.push(line.clone());
                continue;
            }
            match Line::parse(line) {
                Some(Line::Connected { .. }) => printed.accepted += 1,
                Some(Line::WantsToSend { .. }) => printed.handled += 1,
                Some(Line::Received { bytes, .. }) => printed.received.push(bytes),
                Some(Line::ProcessCreated { pid, fd }) => printed.created.push((pid, fd)),
                Some(Line::Error { program, .. }) if program == "server" => {
                    printed.errors.push(line.clone())
                }
                _ => {}
            }
        }
        printed
    }

    /// The error lines that are not a failed receive: a receive's error is the upload's
    /// own trouble, any other comes from the loop's code.
    pub fn loop_errors(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|line| !line.starts_with("server: receiving from client "))
            .cloned()
            .collect()
    }
}

/// Forks the server's own lines place where no fork belongs, read connection by
/// connection: a connection begins at `<< New client connected on socket <fd> >>` and
/// holds the lines for that socket that follow, until the socket is announced again. The
/// parent prints `<< Process <pid> created ... >>` right after its fork, so where that
/// line stands among the parent's own lines says where the server forked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Forks {
    /// Connections forked for before the server handled them (`Client <fd> wants to send
    /// a file`), and handled in the loop after all: forked where the client is accepted.
    pub at_accept: Vec<ForkSeen>,
    /// Connections reported (`Received <bytes> ...`) before their fork, and reported
    /// again with 0 bytes (by the child, which found nothing left): received first,
    /// then forked.
    pub after_report: Vec<ForkSeen>,
}

/// One connection with a fork out of place: its socket in the server, the child's pid as
/// the server printed it, and every report for the connection, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkSeen {
    pub fd: i32,
    pub pid: i32,
    pub reports: Vec<u64>,
}

/// What the lines said about one connection, in order.
#[derive(Default)]
struct Story {
    fd: i32,
    handled: bool,
    reports: Vec<u64>,
    /// Each fork: the child's pid, whether the connection was handled by then, how
    /// many reports had come by then, and the fork line's place in the output.
    forks: Vec<(i32, bool, usize, usize)>,
}

impl Story {
    /// Files the story's misplaced forks; `zeros` are the places and sockets of every
    /// report of 0 bytes in the output.
    fn file(mut self, forks: &mut Forks, zeros: &[(usize, i32)]) {
        if let Some(&(pid, ..)) = self.forks.iter().find(|(_, handled, ..)| !handled)
            && self.handled
        {
            forks.at_accept.push(ForkSeen {
                fd: self.fd,
                pid,
                reports: self.reports.clone(),
            });
        }
        // The child's report of 0 can come before the parent's fork line, or after it,
        // even after the parent has closed its copy and accepted the next client on the
        // same socket number.
        let Some(&(pid, _, before, at)) = self.forks.first() else {
            return;
        };
        let zero_later = zeros.iter().any(|&(line, fd)| fd == self.fd && line > at);
        if before > 0 && (self.reports[1..].contains(&0) || zero_later) {
            if !self.reports[1..].contains(&0) {
                self.reports.push(0);
            }
            forks.after_report.push(ForkSeen {
                fd: self.fd,
                pid,
                reports: self.reports,
            });
        }
    }
}

impl Forks {
    pub fn of(output: &[String]) -> Self {
        let mut forks = Forks::default();
        let mut stories: Vec<Story> = Vec::new();
        let zeros: Vec<(usize, i32)> = output
            .iter()
            .enumerate()
            .filter_map(|(at, line)| match Line::parse(line) {
                Some(Line::Received { bytes: 0, fd }) => Some((at, fd)),
                _ => None,
            })
            .collect();
        let story = |stories: &mut Vec<Story>, fd| stories.iter().rposition(|story| story.fd == fd);
        for (place, line) in output.iter().enumerate() {
            match Line::parse(line) {
                Some(Line::Connected { fd }) => {
                    if let Some(at) = story(&mut stories, fd) {
                        stories.remove(at).file(&mut forks, &zeros);
                    }
                    stories.push(Story {
                        fd,
                        ..Story::default()
                    });
                }
                Some(Line::WantsToSend { fd }) => {
                    if let Some(at) = story(&mut stories, fd) {
                        stories[at].handled = true;
                    }
                }
                Some(Line::ProcessCreated { pid, fd }) => {
                    if let Some(at) = story(&mut stories, fd) {
                        let story = &mut stories[at];
                        story
                            .forks
                            .push((pid, story.handled, story.reports.len(), place));
                    }
                }
                Some(Line::Received { bytes, fd }) => {
                    if let Some(at) = story(&mut stories, fd) {
                        stories[at].reports.push(bytes);
                    }
                }
                _ => {}
            }
        }
        for story in stories {
            story.file(&mut forks, &zeros);
        }
        forks
    }
}

/// Whose code ended a server that stopped of its own accord, from its output: a
/// `todo!` that panicked names its TODO; otherwise its last error line is read for what
/// can have failed (the errno says which system call: ECHILD only waitpid, EEXIST only
/// adding to epoll) and where the server was (the lab's line before the error).
/// [`Blame::Untold`] where that evidence does not point at one TODO.
pub fn blame_of(output: &[String]) -> Blame {
    let not_yet = output.iter().find_map(|line| {
        let rest =
            &line[line.find("not yet implemented: TODO ")? + "not yet implemented: TODO ".len()..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        digits.parse().ok()
    });
    if let Some(todo) = not_yet {
        return Blame::Todo(Origin::NotYetDone(todo));
    }
    let Some(at) = output.iter().rposition(|line| line.starts_with("server: ")) else {
        return Blame::Untold;
    };
    let error = &output[at];
    let before = output[..at]
        .iter()
        .rev()
        .find_map(|line| match Line::parse(line) {
            Some(Line::Error { .. }) | None => None,
            Some(parsed) => Some((line, parsed)),
        });
    let says = |name: &str, code: u32| {
        error.contains(&format!("{name}: ")) || error.contains(&format!("(os error {code})"))
    };
    if says("ECHILD", 10) {
        return Blame::Todo(Origin::NoChildLeft {
            after: before.map(|(line, _)| line.clone()),
        });
    }
    if says("EEXIST", 17)
        && let Some((_, Line::Connected { fd })) = before
    {
        // The given `lab::w_epoll::add` names the descriptor it adds.
        let added = error
            .split_once("adding descriptor ")
            .and_then(|(_, rest)| rest.split(' ').next()?.parse().ok());
        return Blame::Todo(Origin::AddedAgain {
            added,
            accepted: fd,
        });
    }
    Blame::Untold
}

/// Whether `line` is the first line of a Rust panic: `thread 'main' panicked at ...`.
pub fn is_panic(line: &str) -> bool {
    line.starts_with("thread '") && line.contains("' panicked at ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stop_is_put_down_to_the_todo_its_evidence_names() {
        let blame = |text: &str| blame_of(&lines(text));
        assert_eq!(
            blame(
                "thread 'main' panicked at src/bin/server.rs:81:5:\nnot yet implemented: TODO 1: create an epoll instance"
            ),
            Blame::Todo(Origin::NotYetDone(1))
        );
        assert_eq!(
            blame(
                "<< Process 3 exited with status 0 >>\ndebug: reaped\nserver: reaping: ECHILD: No child processes"
            ),
            Blame::Todo(Origin::NoChildLeft {
                after: Some("<< Process 3 exited with status 0 >>".into())
            })
        );
        assert_eq!(
            blame(
                "Server listening on 127.0.0.1:5000\n<< New client connected on socket 5 >>\nserver: adding descriptor 3 to epoll: EEXIST: File exists"
            ),
            Blame::Todo(Origin::AddedAgain {
                added: Some(3),
                accepted: 5
            })
        );
        // The same error at the start backs no one TODO: the listener or the signalfd.
        assert_eq!(
            blame(
                "Server listening on 127.0.0.1:5000\nserver: adding descriptor 4 to epoll: File exists (os error 17)"
            ),
            Blame::Untold
        );
        assert_eq!(
            blame("server: accepting: EMFILE: Too many open files"),
            Blame::Untold
        );
        assert_eq!(blame(""), Blame::Untold);
    }

    #[test]
    fn forks_out_of_place_are_read_from_where_their_lines_stand() {
        let forks = |text: &str| Forks::of(&lines(text));
        // The reference: handled, forked, reported by the child; the parent's copy of 5
        // closed, so the next client gets 5 again, and the first child's report can come
        // between the second's lines.
        let reference = forks(
            "<< New client connected on socket 5 >>\n\
             Client 5 wants to send a file\n\
             << Process 3 created to handle client 5 >>\n\
             << New client connected on socket 5 >>\n\
             Client 5 wants to send a file\n\
             Received 100 bytes from [Client 5]\n\
             << Process 4 created to handle client 5 >>\n\
             Received 100 bytes from [Client 5]",
        );
        assert_eq!(reference, Forks::default());
        let received_first = forks(
            "<< New client connected on socket 5 >>\n\
             Client 5 wants to send a file\n\
             Received 100 bytes from [Client 5]\n\
             Received 0 bytes from [Client 5]\n\
             << Process 3 created to handle client 5 >>",
        );
        assert_eq!(
            received_first.after_report,
            [ForkSeen {
                fd: 5,
                pid: 3,
                reports: vec![100, 0]
            }]
        );
        assert!(received_first.at_accept.is_empty());
        // The child's report after the parent has accepted the next client on socket 5.
        let reused = forks(
            "<< New client connected on socket 5 >>\n\
             Client 5 wants to send a file\n\
             Received 100 bytes from [Client 5]\n\
             << Process 3 created to handle client 5 >>\n\
             << New client connected on socket 5 >>\n\
             Client 5 wants to send a file\n\
             Received 0 bytes from [Client 5]",
        );
        assert_eq!(
            reused.after_report,
            [ForkSeen {
                fd: 5,
                pid: 3,
                reports: vec![100, 0]
            }]
        );
        let at_accept = forks(
            "<< New client connected on socket 5 >>\n\
             << Process 3 created to handle client 5 >>\n\
             Client 5 wants to send a file\n\
             << Process 4 created to handle client 5 >>\n\
             Received 60 bytes from [Client 5]\n\
             Received 40 bytes from [Client 5]",
        );
        assert_eq!(
            at_accept.at_accept,
            [ForkSeen {
                fd: 5,
                pid: 3,
                reports: vec![60, 40]
            }]
        );
        assert!(at_accept.after_report.is_empty());
    }

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn only_the_labs_lines_and_panics_count() {
        let printed = Printed::of(&lines(
            "Server listening on 127.0.0.1:5000\n\
             << New client connected on socket 5 >>\n\
             debug: accepted socket 5\n\
             DEBUG: clients now: 1\n\
             Client 5 wants to send a file\n\
             Received 10 bytes from [Client 5]\n\
             Received 3 bytes\n\
             server: receiving from client 5: reset after 10 bytes\n\
             server: removing descriptor 5 from epoll: ENOENT\n\
             thread 'main' panicked at x.rs:1:1:",
        ));
        assert_eq!((printed.accepted, printed.handled), (1, 1));
        assert_eq!(printed.received, [10]);
        assert_eq!(printed.errors.len(), 3, "{printed:?}");
        assert_eq!(
            printed.loop_errors(),
            [
                "server: removing descriptor 5 from epoll: ENOENT",
                "thread 'main' panicked at x.rs:1:1:"
            ]
        );
    }
}
