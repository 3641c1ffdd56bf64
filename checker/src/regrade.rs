//! `--watch`: the student's loop. The checker grades the server again whenever its source
//! is saved (or when Enter is pressed, where file events never arrive), each time as a
//! grading of its own in this process: a thread runs it with stdout and stderr sent to
//! `checker_report.txt` beside the logs, the full report. A save during a grading cancels
//! it (every process it started is stopped and its temporaries removed, see
//! [`Canceller`]) and starts a new one. After each grading comes a short screen. `q` or
//! Ctrl-C ends it, with nothing left running. On a terminal keys count as they are typed
//! (`q` needs no Enter).

use std::fs::{self, File};
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use lab::{Context, Failure};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::termios::{
    LocalFlags, SetArg, SpecialCharacterIndices, Termios, tcgetattr, tcsetattr,
};
use nix::unistd::{dup2_stderr, dup2_stdout};
use notify_debouncer_mini::new_debouncer;
use notify_debouncer_mini::notify::RecursiveMode;

use crate::build::scratch::SERVER_SOURCE;
use crate::cli::Options;
use crate::report::terminal::print;
use crate::report::text;
use crate::server::guard::{Canceller, Grading};
use crate::trouble::Trouble;

/// What can happen while the checker watches.
enum Event {
    /// The source was saved.
    Saved,
    /// Enter: grade now.
    Now,
    /// `q`, or the end of the input.
    Quit,
    /// Ctrl-C, SIGTERM or SIGHUP.
    Interrupted(Signal),
}

/// Watches the server's source and grades it on every save, until `q` or Ctrl-C.
pub fn watch(root: &Path, options: &Options) -> Result<(), Trouble> {
    let source = match &options.submission {
        Some(file) => file.clone(),
        None => root.join(SERVER_SOURCE),
    };
    let source = source
        .canonicalize()
        .with_context(|| format!("finding {}", source.display()))?;
    let log_dir = options
        .log_dir
        .clone()
        .unwrap_or_else(|| match options.submission {
            Some(_) => PathBuf::from("."),
            None => root.join("skeleton"),
        });
    fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    // Nothing a grading starts may inherit a descriptor the checker was given.
    crate::server::close_inherited_descriptors().context("closing inherited descriptors")?;
    let (events, arrived) = mpsc::channel();
    catch_signals(events.clone())?;
    let keys = KeysAsTyped::on_terminal();
    read_keys(events.clone());
    let _watcher = watch_file(&source, events)?;
    let report = log_dir.join("checker_report.txt");
    // A file event means a save only if the text changed: a grading opens and reads the
    // file too, and some editors touch it without writing anything new.
    let saved = Saved {
        source: &source,
        graded: std::cell::RefCell::new(None),
    };
    loop {
        print(&format!("\nchecking {}...\n", source.display()));
        saved.note_graded();
        let summary = match grade_once(root, options, &report, &arrived, &saved)? {
            Ended::Finished(summary) => summary,
            Ended::Cancelled(Event::Quit) => return Ok(()),
            Ended::Cancelled(Event::Interrupted(signal)) => stopped_by(signal, keys),
            Ended::Cancelled(Event::Saved | Event::Now) => continue,
        };
        show(summary.as_deref(), &report, &source);
        match next_event(&arrived, &saved) {
            Event::Quit => return Ok(()),
            Event::Interrupted(signal) => stopped_by(signal, keys),
            Event::Saved | Event::Now => {}
        }
    }
}

/// Ends the checker after Ctrl-C (or SIGTERM, SIGHUP), the terminal as it was.
fn stopped_by(signal: Signal, keys: KeysAsTyped) -> ! {
    drop(keys);
    print(&format!("\nchecker: stopped by {signal}\n"));
    std::process::exit(130);
}

/// The terminal set so that each key reaches the checker as it is typed, unechoed (no
/// line editing: `q` quits without Enter); Ctrl-C still interrupts. Put back as it was
/// when dropped. Nothing changes where the input is no terminal.
struct KeysAsTyped {
    saved: Option<Termios>,
}

impl KeysAsTyped {
    fn on_terminal() -> Self {
        let stdin = io::stdin();
        let saved = stdin
            .is_terminal()
            .then(|| tcgetattr(&stdin).ok())
            .flatten();
        if let Some(saved) = &saved {
            let mut keys = saved.clone();
            keys.local_flags
                .remove(LocalFlags::ICANON | LocalFlags::ECHO);
            keys.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
            keys.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
            let _ = tcsetattr(&stdin, SetArg::TCSANOW, &keys);
        }
        KeysAsTyped { saved }
    }
}

impl Drop for KeysAsTyped {
    fn drop(&mut self) {
        if let Some(saved) = &self.saved {
            let _ = tcsetattr(io::stdin(), SetArg::TCSANOW, saved);
        }
    }
}

/// How a grading ended.
enum Ended {
    /// By itself: its short screen, or none when it gave no grade.
    Finished(Option<String>),
    /// Cancelled by what happened meanwhile.
    Cancelled(Event),
}

/// One grading in a thread of its own, its output in `report`, until it ends or an event
/// that counts cancels it (then it is waited for: its processes are gone by then).
fn grade_once(
    root: &Path,
    options: &Options,
    report: &Path,
    arrived: &Receiver<Event>,
    saved: &Saved,
) -> Result<Ended, Trouble> {
    let output = File::create(report).with_context(|| format!("writing {}", report.display()))?;
    let grading = Grading::begin();
    let canceller = grading.canceller();
    let redirected = Redirected::to(&output).context("sending the report to its file")?;
    let ended = thread::scope(|scope| {
        let run = thread::Builder::new()
            .name("grading".into())
            .spawn_scoped(scope, move || {
                match crate::grading::grade_as(options, root, &grading) {
                    Ok(result) => Some(text::short(&result)),
                    Err(trouble) => {
                        crate::exit::tell(trouble);
                        None
                    }
                }
            })
            .map_err(|e| Trouble::Checker(Failure::new("starting a grading", e)))?;
        let ended = wait_for(&run, &canceller, arrived, saved);
        let summary = run.join().ok().flatten();
        Ok(ended.unwrap_or(Ended::Finished(summary)))
    });
    drop(redirected);
    if let Ok(Ended::Cancelled(Event::Saved | Event::Now)) = &ended {
        print("(a new save: that run was stopped)\n");
    }
    ended
}

/// stdout and stderr sent to a file until this is dropped, then put back: a grading's
/// report, and all its threads print, go to the report file. Both are flushed at each
/// turn, so nothing lands on the wrong side.
struct Redirected {
    stdout: OwnedFd,
    stderr: OwnedFd,
}

impl Redirected {
    fn to(file: &File) -> io::Result<Redirected> {
        let (stdout, stderr) = (
            io::stdout().as_fd().try_clone_to_owned()?,
            io::stderr().as_fd().try_clone_to_owned()?,
        );
        let _ = io::stdout().flush();
        dup2_stdout(file)?;
        dup2_stderr(file)?;
        Ok(Redirected { stdout, stderr })
    }
}

impl Drop for Redirected {
    fn drop(&mut self) {
        let _ = io::stdout().flush();
        let _ = dup2_stdout(&self.stdout);
        let _ = dup2_stderr(&self.stderr);
    }
}

/// The text last graded, to tell a save from a file event that changed nothing.
struct Saved<'a> {
    source: &'a Path,
    graded: std::cell::RefCell<Option<Vec<u8>>>,
}

impl Saved<'_> {
    fn note_graded(&self) {
        *self.graded.borrow_mut() = fs::read(self.source).ok();
    }

    /// Whether `event` calls for a run: a save that changed the text, Enter, or an end.
    fn counts(&self, event: &Event) -> bool {
        match event {
            Event::Saved => fs::read(self.source).ok() != *self.graded.borrow(),
            _ => true,
        }
    }
}

/// Waits for the grading to end, or for an event that counts, which cancels it first;
/// `None` when it ended by itself.
fn wait_for<T>(
    run: &thread::ScopedJoinHandle<T>,
    canceller: &Canceller,
    arrived: &Receiver<Event>,
    saved: &Saved,
) -> Option<Ended> {
    let event = loop {
        if run.is_finished() {
            return None;
        }
        match arrived.recv_timeout(Duration::from_millis(50)) {
            Ok(event) if !saved.counts(&event) => {}
            Ok(event) => break event,
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break Event::Quit,
        }
    };
    canceller.cancel(&match &event {
        Event::Saved => "the grading was cancelled: the source was saved again".to_owned(),
        Event::Now => "the grading was cancelled: Enter was pressed".to_owned(),
        Event::Quit => "the grading was cancelled: the watch ended".to_owned(),
        Event::Interrupted(signal) => format!("the checker was interrupted by {signal}"),
    });
    Some(Ended::Cancelled(event))
}

/// Waits for what comes next (a save that changed nothing does not count); a burst of
/// saves counts once.
fn next_event(arrived: &Receiver<Event>, saved: &Saved) -> Event {
    let event = loop {
        let event = arrived.recv().unwrap_or(Event::Quit);
        if saved.counts(&event) {
            break event;
        }
    };
    while let Ok(more) = arrived.recv_timeout(Duration::from_millis(100)) {
        if !matches!(more, Event::Saved | Event::Now) {
            return more;
        }
    }
    event
}

/// The short screen of the run that just ended.
fn show(summary: Option<&str>, report: &Path, source: &Path) {
    let screen = console::Term::stdout();
    if screen.is_term() {
        let _ = screen.clear_screen();
    }
    let text = summary.map(str::to_owned).unwrap_or_else(|| {
        let full = fs::read_to_string(report).unwrap_or_default();
        // The run's own output: the compiler's messages about the source among them.
        let tail: Vec<_> = full
            .lines()
            .rev()
            .take(15)
            .map(crate::report::quote)
            .collect();
        let tail: Vec<_> = tail.into_iter().rev().collect();
        format!(
            "The run gave no grade; its last lines:\n{}\n",
            tail.join("\n")
        )
    });
    print(&text);
    print(&format!(
        "\nFull report: {}\nWatching {}: save it to grade again, Enter to grade now, q to quit.\n",
        report.display(),
        source.display()
    ));
}

/// Ctrl-C, SIGTERM and SIGHUP become events (blocked here, before any other thread, and
/// taken by one thread), so that the run in progress is stopped before the checker ends.
fn catch_signals(events: Sender<Event>) -> Result<(), Trouble> {
    let mut signals = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP] {
        signals.add(signal);
    }
    signals
        .thread_block()
        .context("blocking the signals that stop the checker")?;
    thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            while let Ok(signal) = signals.wait() {
                if events.send(Event::Interrupted(signal)).is_err() {
                    return;
                }
            }
        })
        .context("starting the signal thread")?;
    Ok(())
}

/// Keys typed: Enter grades now, `q` quits, others are ignored. Where there is no input
/// (a closed stdin), only saves count.
fn read_keys(events: Sender<Event>) {
    let _ = thread::Builder::new().name("keys".into()).spawn(move || {
        for key in io::stdin().lock().bytes() {
            let event = match key {
                Ok(b'q' | b'Q') => Event::Quit,
                Ok(b'\n' | b'\r') => Event::Now,
                Ok(_) => continue,
                Err(_) => return,
            };
            let quit = matches!(event, Event::Quit);
            if events.send(event).is_err() || quit {
                return;
            }
        }
    });
}

/// File events on `source`, debounced. The folder is watched, not the file: an editor
/// that saves by writing a new file and renaming it over the old one replaces the file.
fn watch_file(
    source: &Path,
    events: Sender<Event>,
) -> Result<
    notify_debouncer_mini::Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>,
    Trouble,
> {
    let folder = source.parent().unwrap_or(Path::new("/")).to_owned();
    let wanted = source.to_owned();
    let mut debouncer = new_debouncer(Duration::from_millis(200), move |result| {
        if let Ok(changes) = result {
            let changes: Vec<notify_debouncer_mini::DebouncedEvent> = changes;
            if changes.iter().any(|change| change.path == wanted) {
                let _ = events.send(Event::Saved);
            }
        }
    })
    .map_err(|e| Trouble::Checker(Failure::new("watching for saves", e)))?;
    debouncer
        .watcher()
        .watch(&folder, RecursiveMode::NonRecursive)
        .map_err(|e| Trouble::Checker(Failure::new(format!("watching {}", folder.display()), e)))?;
    let _ = io::stdout().flush();
    Ok(debouncer)
}
