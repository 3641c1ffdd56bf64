//! The checker's own lines in the logs, written and read here alone. Every such line
//! reads `----- checker: ... -----`: a header before each server's output (its section),
//! a note where the checker stopped a server or cut its output, and the titles in the
//! client log.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// How the checker's own lines begin.
const MARK: &str = "----- checker: ";

/// How the line begins that says the checker stopped a server itself.
const STOPPED: &str = "----- checker: stopped the server";

/// The most a server may write to its log: a few lines per client are plenty.
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

/// Says in the log that the server's part of it ends at the limit, on a line of its own.
pub fn note_cut(log: &Path) {
    let ends_a_line = fs::read(log).map_or(true, |text| text.ends_with(b"\n"));
    if let Ok(mut log) = OpenOptions::new().append(true).open(log) {
        let _ = writeln!(
            log,
            "{}{}",
            if ends_a_line { "" } else { "\n" },
            line(&format!(
                "the log is cut here: the server wrote {} MiB, the most the checker keeps",
                MAX_LOG / lab::MIB
            ))
        );
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

/// Everything a server has printed from byte `start` of the log on (complete lines only).
pub fn output_from(log: &Path, start: u64) -> Vec<String> {
    let Ok(text) = fs::read(log) else {
        return Vec::new();
    };
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
    let text = String::from_utf8_lossy(&text[start..]);
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete.lines().map(str::to_owned).collect()
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
        assert_eq!(
            output_from(&log, second),
            [
                "----- checker: second: /bin/server --port 8 -----",
                "Server listening on 127.0.0.1:8"
            ]
        );
        assert!(is_section_header(&line("a title")));
    }
}
