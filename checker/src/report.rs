//! What the checker prints: one line per check, the total, the details of failures, and
//! live progress while uploads run (only on a terminal).

use std::cell::RefCell;
use std::io::Write;

use std::sync::Mutex;
use std::time::Duration;

use anstyle::AnsiColor;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::clients::Uploads;
use crate::grade::{Outcome, Score, Verdict, Weight};

/// Everything the report has said so far, without colours, for `--json`.
static REPORT: Mutex<String> = Mutex::new(String::new());

/// Prints a line of the report on stdout and keeps it for `--json`. A closed stdout
/// (`checker | head`) is ignored: it is no reason to stop halfway, let alone to leave a
/// server running.
pub fn say(line: &str) {
    let _ = writeln!(anstream::stdout(), "{line}");
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

/// The text of a line coloured for a terminal, without its escapes.
pub fn strip_ansi(text: &str) -> String {
    anstream::adapter::strip_str(text).to_string()
}

/// How each status word looks. The escapes are always written; `anstream` drops them
/// when stdout is no terminal or NO_COLOR is set.
fn status(status: &str) -> String {
    let style = match status {
        "passed" => AnsiColor::Green.on_default(),
        "failed" => AnsiColor::Red.on_default().bold(),
        _ => AnsiColor::Yellow.on_default(),
    };
    format!("{style}{status}{style:#}")
}

/// The line of one check: `<name> ........ passed ... 25/25`.
pub fn check_line(verdict: &Verdict) -> String {
    let score = match verdict.check.weight {
        Weight::Bonus => "bonus".to_owned(),
        Weight::Points(points) => format!("{}/{points}", verdict.points()),
    };
    format!(
        "{} {} ... {score}",
        dotted(verdict.check.name),
        status(verdict.outcome.status())
    )
}

/// The line of the build gate.
pub fn build_line(passed: bool) -> String {
    format!(
        "{} {}",
        dotted("builds"),
        status(if passed { "passed" } else { "failed" })
    )
}

/// A check's name followed by dots, so that every status starts in the same column.
fn dotted(name: &str) -> String {
    format!("{name} {}", ".".repeat(44usize.saturating_sub(name.len())))
}

/// Prints the details of every failed check and the last lines of the server log.
pub fn print_failures(verdicts: &[Verdict], server_log_tail: &[String]) {
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
}

/// Live progress of the uploads on a terminal: a bar per client with its bytes and rate.
/// Nothing is drawn when stdout is no terminal; the report's plain lines say it all.
pub struct Progress {
    bars: MultiProgress,
    /// The bar of each client of the uploads under way, by the client's number.
    shown: RefCell<Vec<(usize, ProgressBar)>>,
}

impl Progress {
    pub fn new() -> Self {
        Progress {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            shown: RefCell::default(),
        }
    }

    /// Whether progress is drawn (stdout is a terminal).
    pub fn is_live(&self) -> bool {
        !self.bars.is_hidden()
    }

    pub fn show(&self, uploads: &Uploads) {
        if !self.is_live() {
            return;
        }
        let mut shown = self.shown.borrow_mut();
        for upload in &uploads.uploads {
            let bar = match shown.iter().find(|(number, _)| *number == upload.number) {
                Some((_, bar)) => bar.clone(),
                None => {
                    let bar = self.bars.add(ProgressBar::new(uploads.bytes));
                    bar.set_style(bar_style());
                    bar.set_prefix(format!("client {}", upload.number));
                    shown.push((upload.number, bar.clone()));
                    bar
                }
            };
            bar.set_position(upload.sent());
        }
    }

    pub fn clear(&self) {
        for (_, bar) in self.shown.borrow_mut().drain(..) {
            bar.finish_and_clear();
            self.bars.remove(&bar);
        }
    }
}

/// `  client 4 [#########-----------]  12.0 MiB/100.0 MiB  9.8 MiB/s`
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "  {prefix:>9} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec}",
    )
    .expect("a valid template")
    .progress_chars("#>-")
}
