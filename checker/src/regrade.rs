//! `--watch`: the student's loop. The checker grades the server again whenever its source
//! is saved (or when Enter is pressed, where file events never arrive), each time as a
//! run of its own: the checker's binary once more, without `--watch`. A save during a run
//! stops that run (SIGTERM, which the run answers by stopping its servers and its build)
//! and starts a new one. After each run comes a short screen; the full report is kept in
//! `checker_report.txt` beside the logs. `q` or Ctrl-C ends it, with nothing left running.
//! On a terminal keys count as they are typed (`q` needs no Enter).

use std::env;
use std::ffi::OsString;
use std::fs;
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread;
use std::time::Duration;

use lab::{Context, Failure};
use nix::sys::signal::{SigSet, Signal, kill};
use nix::sys::termios::{
    LocalFlags, SetArg, SpecialCharacterIndices, Termios, tcgetattr, tcsetattr,
};
use nix::unistd::Pid;
use notify_debouncer_mini::new_debouncer;
use notify_debouncer_mini::notify::RecursiveMode;

use crate::build::scratch::SERVER_SOURCE;
use crate::cli::Options;
use crate::report::terminal::print;
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
    let (events, arrived) = mpsc::channel();
    catch_signals(events.clone())?;
    let keys = KeysAsTyped::on_terminal();
    read_keys(events.clone());
    let _watcher = watch_file(&source, events)?;
    let report = log_dir.join("checker_report.txt");
    let summary = log_dir.join(".checker_summary.txt");
    // A file event means a save only if the text changed: a run opens and reads the file
    // too, and some editors touch it without writing anything new.
    let saved = Saved {
        source: &source,
        graded: std::cell::RefCell::new(None),
    };
    loop {
        print(&format!("\nchecking {}...\n", source.display()));
        saved.note_graded();
        let run = start_run(&report, &summary)?;
        match wait_for(run, &arrived, &saved)? {
            Some(Event::Quit) => return Ok(()),
            Some(Event::Interrupted(signal)) => stopped_by(signal, keys),
            Some(Event::Saved | Event::Now) => continue,
            None => {}
        }
        show(&summary, &report, &source);
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

/// One grading, as a process of its own: this binary with the same options but `--watch`.
fn start_run(report: &Path, summary: &Path) -> Result<Child, Trouble> {
    let me = env::current_exe().context("finding the checker's own binary")?;
    // The verb `watch` is `--watch` by then, and the run's own is left out.
    let args: Vec<OsString> = crate::cli::with_verbs_as_flags(env::args_os().collect())
        .into_iter()
        .skip(1)
        .filter(|arg| arg != "--watch")
        .collect();
    let _ = fs::remove_file(summary);
    let output =
        fs::File::create(report).with_context(|| format!("writing {}", report.display()))?;
    let errors = output
        .try_clone()
        .with_context(|| format!("writing {}", report.display()))?;
    Command::new(me)
        .args(args)
        .arg("--summary")
        .arg(summary)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .spawn()
        .map_err(|e| Trouble::Checker(Failure::new("starting a grading run", e)))
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

/// Waits for the run to end, or for an event that ends it first (the run is stopped
/// then, and waited for); `None` when the run ended by itself.
fn wait_for(
    mut run: Child,
    arrived: &Receiver<Event>,
    saved: &Saved,
) -> Result<Option<Event>, Trouble> {
    loop {
        if run
            .try_wait()
            .context("waiting for the grading run")?
            .is_some()
        {
            return Ok(None);
        }
        match arrived.recv_timeout(Duration::from_millis(50)) {
            Ok(event) if !saved.counts(&event) => {}
            Ok(event) => {
                // SIGTERM: the run stops its servers and its build, then exits.
                let _ = kill(Pid::from_raw(run.id() as i32), Signal::SIGTERM);
                let _ = run.wait();
                if matches!(event, Event::Saved | Event::Now) {
                    print("(a new save: that run was stopped)\n");
                }
                return Ok(Some(event));
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return Ok(Some(Event::Quit)),
        }
    }
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
fn show(summary: &Path, report: &Path, source: &Path) {
    let screen = console::Term::stdout();
    if screen.is_term() {
        let _ = screen.clear_screen();
    }
    let text = fs::read_to_string(summary).unwrap_or_else(|_| {
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
