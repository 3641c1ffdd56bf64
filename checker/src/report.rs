//! What the checker prints: one line per check, the total, the details of failures, and
//! live progress while uploads run (only on a terminal).

use std::cell::RefCell;
use std::env;
use std::io::{self, IsTerminal, Write};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use lab::MIB;
use serde_json::{Value, json};

use crate::clients::Uploads;
use crate::grade::{Outcome, Score, Verdict, Weight};

/// Everything the report has said so far, without colours, for `--json`.
static REPORT: Mutex<String> = Mutex::new(String::new());

/// Prints a line of the report on stdout and keeps it for `--json`. A closed stdout
/// (`checker | head`) is ignored: it is no reason to stop halfway, let alone to leave a
/// server running.
pub fn say(line: &str) {
    let _ = writeln!(io::stdout(), "{line}");
    let mut report = REPORT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    report.push_str(&strip_ansi(line));
    report.push('\n');
}

/// The report so far, as plain text.
pub fn text() -> String {
    REPORT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// The result in the shape Gradescope's autograder reads (`results.json`): the score, the
/// time taken, the report, and one test per check. The bonus is a test worth nothing.
pub fn gradescope(verdicts: &[Verdict], took: Duration, output: &str) -> Value {
    let tests: Vec<Value> = verdicts
        .iter()
        .map(|verdict| {
            let status = if verdict.passed() { "passed" } else { "failed" };
            let said = match &verdict.outcome {
                Outcome::Passed => "passed".to_owned(),
                Outcome::Failed(reason) => reason.clone(),
                Outcome::NotChecked(reason) => format!("not checked: {reason}"),
            };
            let output = match verdict.check.weight {
                Weight::Bonus => format!("the bonus, not counted in the score: {said}"),
                Weight::Points(_) => said,
            };
            json!({
                "name": verdict.check.name,
                "score": verdict.points(),
                "max_score": verdict.max_points(),
                "status": status,
                "output": output,
            })
        })
        .collect();
    json!({
        "score": Score::of(verdicts).points,
        "execution_time": took.as_secs_f64(),
        "output": output,
        "tests": tests,
    })
}

/// The text of a line coloured for a terminal: every `ESC [ ... letter` left out.
pub fn strip_ansi(text: &str) -> String {
    let mut plain = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// Colours for a terminal, none otherwise or when NO_COLOR is set.
#[derive(Clone, Copy)]
pub struct Style {
    color: bool,
}

impl Style {
    pub fn for_stdout() -> Self {
        let no_color = env::var_os("NO_COLOR").is_some_and(|value| !value.is_empty());
        Style {
            color: io::stdout().is_terminal() && !no_color,
        }
    }

    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn status(&self, status: &str) -> String {
        match status {
            "passed" => self.paint("32", status),
            "failed" => self.paint("31;1", status),
            _ => self.paint("33", status),
        }
    }
}

/// The line of one check: `<name> ........ passed ... 25/25`.
pub fn check_line(style: Style, verdict: &Verdict) -> String {
    let score = match verdict.check.weight {
        Weight::Bonus => "bonus".to_owned(),
        Weight::Points(points) => format!("{}/{points}", verdict.points()),
    };
    format!(
        "{} {} ... {score}",
        dotted(verdict.check.name),
        style.status(verdict.outcome.status())
    )
}

/// The line of the build gate.
pub fn build_line(style: Style, passed: bool) -> String {
    format!(
        "{} {}",
        dotted("builds"),
        style.status(if passed { "passed" } else { "failed" })
    )
}

/// A check's name followed by dots, so that every status starts in the same column.
fn dotted(name: &str) -> String {
    format!("{name} {}", ".".repeat(44usize.saturating_sub(name.len())))
}

/// Prints the details of every failed check, the last lines of the server log and where
/// both logs are.
pub fn print_failures(verdicts: &[Verdict], server_log_tail: &[String], logs: (&Path, &Path)) {
    let failed: Vec<_> = verdicts
        .iter()
        .filter(|verdict| !verdict.passed())
        .collect();
    if failed.is_empty() {
        return;
    }
    say!("");
    for verdict in failed {
        say!("{} {}:", verdict.check.name, verdict.outcome.status());
        say!("  {}", verdict.outcome.reason().unwrap_or_default());
    }
    if !server_log_tail.is_empty() {
        say!("\nLast lines of the server log:");
        for line in server_log_tail {
            say!("  | {line}");
        }
    }
    say!("\nServer log: {}", logs.0.display());
    say!("Client log: {}", logs.1.display());
}

/// Live progress of the uploads on a terminal: one line, redrawn in place when it changes.
pub struct Progress {
    live: bool,
    shown: RefCell<String>,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            live: io::stdout().is_terminal(),
            shown: RefCell::default(),
        }
    }

    /// Whether progress is drawn (stdout is a terminal).
    pub fn is_live(&self) -> bool {
        self.live
    }

    pub fn show(&self, uploads: &Uploads) {
        if !self.live {
            return;
        }
        let of = uploads.bytes.div_ceil(MIB);
        let clients: Vec<_> = uploads
            .uploads
            .iter()
            .map(|upload| {
                format!(
                    "client {}: {:>3}/{of} MiB",
                    upload.number,
                    upload.sent() / MIB
                )
            })
            .collect();
        let line = format!("  uploading  {}", clients.join("   "));
        if *self.shown.borrow() != line {
            let _ = write!(io::stdout(), "\r\x1b[K{line}");
            let _ = io::stdout().flush();
            *self.shown.borrow_mut() = line;
        }
    }

    pub fn clear(&self) {
        if self.live {
            let _ = write!(io::stdout(), "\r\x1b[K");
            let _ = io::stdout().flush();
            self.shown.borrow_mut().clear();
        }
    }
}
