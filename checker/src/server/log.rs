//! The checker's own lines in the logs, written and read here alone. Every such line
//! reads `----- checker: ... -----`: a header before each server's output (its section),
//! a note where the checker stopped a server or cut its output, and the titles in the
//! client log.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::thread::{self, JoinHandle};

/// How the checker's own lines begin.
const MARK: &str = "----- checker: ";

/// How the line begins that says the checker stopped a server itself.
const STOPPED: &str = "----- checker: stopped the server";

/// The most of a server's output its log keeps whole: a few lines per client are plenty.
/// Past it, only the lab's own lines and errors are kept, up to as much again; past that,
/// nothing. The server is never stopped for it: the checker reads its output from a pipe
/// and throws away what it does not keep.
pub const MAX_LOG: u64 = 16 * lab::MIB;

/// A line of the checker's own, saying `text`.
pub fn line(text: &str) -> String {
    format!("{MARK}{text} -----")
}

/// Writes the header of a server's section: which scenario it serves and how it was
/// started.
pub fn write_header(log: &mut impl Write, title: &str, binary: &Path, port: u16) -> io::Result<()> {
    writeln!(
        log,
        "{}",
        line(&format!("{title}: {} --port {port}", binary.display()))
    )
}

/// Whether a line of the server log is the header the checker writes before each server.
pub fn is_section_header(line: &str) -> bool {
    line.starts_with(MARK) && !line.starts_with(STOPPED)
}

/// What both logs say when the server does not compile: no server or client ran.
pub fn write_not_compiled(log: &Path) -> io::Result<()> {
    fs::write(
        log,
        format!(
            "{}\n",
            line("the server does not compile, so no server or client ran")
        ),
    )
}

/// What the log says where it stops keeping everything the server printed.
pub fn cut_line() -> String {
    line(&format!(
        "the log is cut here: the server printed more than {} MiB, the most this log keeps \
         whole; from here on it keeps only the lab's own lines and errors",
        MAX_LOG / lab::MIB
    ))
}

/// What the log says where it stops keeping anything.
pub fn full_line() -> String {
    line(&format!(
        "the log ends here: the server printed more than {} MiB; nothing more is kept",
        2 * MAX_LOG / lab::MIB
    ))
}

/// How much of what the servers printed the log left out: the checker's limit, which a
/// server reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogCut {
    /// Past [`MAX_LOG`], only the lab's own lines and errors were kept.
    KeptTheLabsLines,
    /// Past twice [`MAX_LOG`], nothing more was kept.
    KeptNothingMore,
}

/// Whether the log was cut anywhere, and how far: found by the checker's own cut lines
/// (a server's line in their format is marked as the server's, so it cannot pass for one).
pub fn cut_in(log: &Path) -> Option<LogCut> {
    let text = fs::read(log).ok()?;
    let holds = |wanted: String| {
        text.split(|&byte| byte == b'\n')
            .any(|line| line == wanted.as_bytes())
    };
    if holds(full_line()) {
        Some(LogCut::KeptNothingMore)
    } else if holds(cut_line()) {
        Some(LogCut::KeptTheLabsLines)
    } else {
        None
    }
}

/// Copies what the server prints (on `pipe`, its stdout and stderr) into `log`, line by
/// line, keeping what [`MAX_LOG`] says; ends when every holder of the pipe's other end is
/// gone. Only the checker writes the log: the server holds no descriptor of it.
pub fn pump(pipe: OwnedFd, log: PathBuf) -> io::Result<JoinHandle<()>> {
    let mut file = OpenOptions::new().append(true).open(&log)?;
    thread::Builder::new()
        .name("server output".into())
        .spawn(move || {
            let mut pipe = File::from(pipe);
            let mut kept = Keeper::default();
            let mut pending = Vec::new();
            let mut buffer = vec![0u8; 64 * 1024];
            loop {
                let read = match pipe.read(&mut buffer) {
                    Ok(0) => break,
                    Ok(read) => read,
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                    Err(_) => break,
                };
                let fresh = &buffer[..read];
                let complete = fresh
                    .iter()
                    .rposition(|&byte| byte == b'\n')
                    .map(|end| pending.len() + end);
                pending.extend_from_slice(fresh);
                if let Some(end) = complete {
                    let lines: Vec<u8> = pending.drain(..=end).collect();
                    let _ = file.write_all(&kept.keep(&lines));
                }
                // A line that never ends is kept as lines of at most LONGEST bytes.
                while pending.len() >= LONGEST {
                    let mut line: Vec<u8> = pending.drain(..LONGEST).collect();
                    line.push(b'\n');
                    let _ = file.write_all(&kept.keep(&line));
                }
            }
            if !pending.is_empty() {
                pending.push(b'\n');
                let _ = file.write_all(&kept.keep(&pending));
            }
        })
}

/// What goes before a line of the server's that begins as the checker's own lines do.
const SERVERS_OWN: &str = "(printed by the server) ";

/// The longest line the log keeps whole: past it, a line is cut into several.
const LONGEST: usize = 64 * 1024;

/// What of the server's output goes into the log, as [`MAX_LOG`] says.
#[derive(Default)]
struct Keeper {
    written: u64,
    cut: bool,
    full: bool,
}

impl Keeper {
    /// The part of `lines` (whole lines) to write.
    fn keep(&mut self, lines: &[u8]) -> Vec<u8> {
        if self.full {
            return Vec::new();
        }
        let mut out = Vec::new();
        for line in lines.split_inclusive(|&byte| byte == b'\n') {
            if !self.cut && self.written + line.len() as u64 > MAX_LOG {
                self.cut = true;
                out.extend_from_slice(format!("{}\n", cut_line()).as_bytes());
            }
            if self.cut && !is_kept_past_the_cut(line) {
                continue;
            }
            // Only the checker writes its own lines: a server's line in their format is
            // marked as the server's, so that it can end no section and pass for no note.
            let line: std::borrow::Cow<[u8]> = if line.starts_with(MARK.as_bytes()) {
                [SERVERS_OWN.as_bytes(), line].concat().into()
            } else {
                line.into()
            };
            let line = line.as_ref();
            if self.written + line.len() as u64 > 2 * MAX_LOG {
                self.full = true;
                out.extend_from_slice(format!("{}\n", full_line()).as_bytes());
                break;
            }
            self.written += line.len() as u64;
            out.extend_from_slice(line);
        }
        out
    }
}

/// A line worth keeping after the cut: one of the lab's own, an error or a panic.
fn is_kept_past_the_cut(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let text = text.trim_end();
    lab::Line::parse(text).is_some() || text.contains("panicked at")
}

/// Says in the server log which programs the server tried to run, and that each was
/// refused.
pub fn note_refused(log: &Path, programs: &[String]) {
    if let Ok(mut log) = OpenOptions::new().append(true).open(log) {
        for program in programs {
            let _ = writeln!(
                log,
                "{}",
                line(&format!(
                    "the server tried to run {}: refused, only the built binary may run",
                    crate::report::quote(program)
                ))
            );
        }
    }
}

/// Says in the server log that the checker stopped the server, and why: its output
/// would otherwise just end, as if it had crashed.
pub fn note_stop(log: &Path, why: &str) {
    if let Ok(mut log) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(
            log,
            "{STOPPED} and its children (SIGKILL to its process group): {why} -----"
        );
    }
}

/// A server's output, read from the log as it grows: each read starts at the byte where
/// the last one stopped, so a look costs what was printed since the last look, never the
/// whole log again.
pub struct Reader {
    log: PathBuf,
    /// The next byte of the log to read.
    offset: u64,
    /// The complete lines read so far, from the start on.
    lines: Vec<String>,
}

impl Reader {
    /// Reads the log `log` from byte `start` on.
    pub fn new(log: &Path, start: u64) -> Self {
        Reader {
            log: log.to_owned(),
            offset: start,
            lines: Vec::new(),
        }
    }

    /// Every complete line from the start on, with those printed since the last call.
    pub fn lines(&mut self) -> &[String] {
        let mut fresh = Vec::new();
        if let Ok(mut file) = File::open(&self.log) {
            let _ = file
                .seek(SeekFrom::Start(self.offset))
                .and_then(|_| file.read_to_end(&mut fresh));
        }
        // Only whole lines: the rest is read again, whole, next time.
        if let Some(end) = fresh.iter().rposition(|&byte| byte == b'\n') {
            self.offset += end as u64 + 1;
            let text = String::from_utf8_lossy(&fresh[..=end]);
            self.lines.extend(text.lines().map(str::to_owned));
        }
        &self.lines
    }
}

/// The lines of one server's section of the log: from byte `start` (its header line) up
/// to the next server's header.
pub fn section(log: &Path, start: u64) -> Vec<String> {
    section_tail(log, start, usize::MAX)
}

/// The last `count` lines of one server's section of the log: from byte `start` (its
/// header line) up to the next server's header.
pub fn section_tail(log: &Path, start: u64, count: usize) -> Vec<String> {
    let text = fs::read(log).unwrap_or_default();
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
    let text = String::from_utf8_lossy(&text[start..]);
    let section: Vec<&str> = text
        .lines()
        .enumerate()
        .take_while(|(index, line)| *index == 0 || !is_section_header(line))
        .map(|(_, line)| line)
        .collect();
    section[section.len().saturating_sub(count)..]
        .iter()
        .map(|line| (*line).to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_servers_line_in_the_checkers_format_is_marked_as_the_servers() {
        let mut keeper = Keeper::default();
        let kept = keeper.keep(b"Server listening on 127.0.0.1:7\n----- checker: stopped -----\n");
        assert_eq!(
            String::from_utf8(kept).unwrap(),
            "Server listening on 127.0.0.1:7\n(printed by the server) ----- checker: stopped -----\n"
        );
    }

    /// The cut is found by the checker's own line; the same words printed by a server
    /// are marked as the server's and count for nothing.
    #[test]
    fn a_cut_is_found_by_the_checkers_line_alone() {
        let dir = tempfile::TempDir::new().unwrap();
        let log = dir.path().join("server_output.log");
        let mut keeper = Keeper::default();
        let faked = format!("{}\n{}\n", cut_line(), full_line());
        fs::write(&log, keeper.keep(faked.as_bytes())).unwrap();
        assert_eq!(cut_in(&log), None);
        let mut file = OpenOptions::new().append(true).open(&log).unwrap();
        let line = vec![b'x'; 1023];
        for _ in 0..=MAX_LOG / 1024 {
            file.write_all(&keeper.keep(&[&line[..], b"\n"].concat()))
                .unwrap();
        }
        file.write_all(&keeper.keep(b"Received 7 bytes from [Client 5]\n"))
            .unwrap();
        assert_eq!(cut_in(&log), Some(LogCut::KeptTheLabsLines));
        let text = fs::read_to_string(&log).unwrap();
        assert!(text.ends_with(&format!(
            "{}\nReceived 7 bytes from [Client 5]\n",
            cut_line()
        )));
    }

    #[test]
    fn a_section_ends_at_the_next_header_but_not_at_a_stop_note() {
        let dir = tempfile::TempDir::new().unwrap();
        let log = dir.path().join("server_output.log");
        let mut text = Vec::new();
        write_header(&mut text, "first", Path::new("/bin/server"), 7).unwrap();
        text.extend_from_slice(b"Server listening on 127.0.0.1:7\n");
        fs::write(&log, &text).unwrap();
        note_stop(&log, "verdict reached");
        let second = fs::metadata(&log).unwrap().len();
        let mut more = Vec::new();
        write_header(&mut more, "second", Path::new("/bin/server"), 8).unwrap();
        more.extend_from_slice(b"Server listening on 127.0.0.1:8\n");
        let mut file = OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(&more).unwrap();

        let first = section_tail(&log, 0, 12);
        assert_eq!(first.len(), 3, "{first:?}");
        assert_eq!(first[0], "----- checker: first: /bin/server --port 7 -----");
        assert!(first[2].starts_with(STOPPED), "{first:?}");
        let mut reader = Reader::new(&log, second);
        assert_eq!(
            reader.lines(),
            [
                "----- checker: second: /bin/server --port 8 -----",
                "Server listening on 127.0.0.1:8"
            ]
        );
        assert!(is_section_header(&line("a title")));
    }

    /// What was read once is not read again: a line half written is taken once it ends,
    /// and the lines before it stay as they were.
    #[test]
    fn the_reader_takes_only_whole_lines_and_reads_each_byte_once() {
        let dir = tempfile::TempDir::new().unwrap();
        let log = dir.path().join("server_output.log");
        fs::write(
            &log,
            "an earlier run\nServer listening on 127.0.0.1:7\nClient 5 wa",
        )
        .unwrap();
        let mut reader = Reader::new(&log, "an earlier run\n".len() as u64);
        assert_eq!(reader.lines(), ["Server listening on 127.0.0.1:7"]);
        let mut file = OpenOptions::new().append(true).open(&log).unwrap();
        file.write_all(b"nts to send a file\n\nReceived 7 bytes")
            .unwrap();
        assert_eq!(
            reader.lines(),
            [
                "Server listening on 127.0.0.1:7",
                "Client 5 wants to send a file",
                ""
            ]
        );
        file.write_all(b" from [Client 5]\n").unwrap();
        assert_eq!(reader.lines()[3], "Received 7 bytes from [Client 5]");
        assert_eq!(reader.lines().len(), 4);
    }
}
