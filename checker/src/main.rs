//! The checker of the async-server lab: builds a server, runs it against real clients and
//! grades it from what the operating system shows. See the README's checker section.

/// Prints a line on stdout. A closed stdout (`checker | head`) is ignored: it is no reason
/// to stop halfway, let alone to leave a server running.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod checks;
mod clients;
mod compile;
mod grade;
mod inspect;
mod report;
mod supervise;

use std::fs;

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use gen_testfile::{DEFAULT_SIZE, human_size, parse_size, write_random_file};
use lab::{Context, Failure};

use crate::checks::{Selection, Session};
use crate::clients::ClientLog;
use crate::grade::{Score, Verdict};
use crate::report::{Progress, Style};

const EXAMPLES: &str = "\
Examples:
  cargo run -p checker                      grade your server (skeleton/)
  cargo run -p checker -- --task 1          only the task 1 checks
  cargo run -p checker -- --server ./my-server --size 8M --clients 4";

/// The example that only a copy of the lab with solution/ can run.
const SOLUTION_EXAMPLE: &str = "
  cargo run -p checker -- --solution        grade the reference solution";

/// Grades a lab server end to end: builds it, runs real uploads against it, and judges it
/// from byte counts and from what /proc shows (epoll registrations, child processes, open
/// descriptors, zombies).
#[derive(Debug, Parser)]
#[command(version)]
struct Options {
    /// Grade the reference solution instead of the skeleton.
    #[arg(long, conflicts_with = "server")]
    solution: bool,

    /// Grade this server binary instead (it must accept --port).
    #[arg(long, value_name = "PATH")]
    server: Option<PathBuf>,

    /// Which checks to run.
    #[arg(long, value_enum, default_value_t = Task::All)]
    task: Task,

    /// Size of the uploaded file, in bytes or with K, M or G.
    #[arg(long, default_value = "100M", value_parser = parse_upload_size)]
    size: u64,

    /// How many clients upload at once in task 2.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32))]
    clients: u16,

    /// Where to write server_output.log and client_output.log [default: the graded
    /// package's directory, or the current one with --server].
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,

    /// Port for the server [default: a free one].
    #[arg(long)]
    port: Option<u16>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Task {
    #[value(name = "1")]
    One,
    #[value(name = "2")]
    Two,
    Bonus,
    All,
}

fn parse_upload_size(text: &str) -> Result<u64, String> {
    match parse_size(text) {
        Ok(size) if size >= lab::MIB => Ok(size),
        Ok(_) => Err("the upload must be at least 1M".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// The options, with `--solution` shown in the help only where there is a solution/ (a
/// student's copy has none).
fn parse_options() -> Options {
    let with_solution = workspace_root().join("solution").is_dir();
    let command = Options::command()
        .mut_arg("solution", |arg| arg.hide(!with_solution))
        .after_help(if with_solution {
            format!("{EXAMPLES}{SOLUTION_EXAMPLE}")
        } else {
            EXAMPLES.to_owned()
        });
    Options::from_arg_matches(&command.get_matches()).unwrap_or_else(|error| error.exit())
}

fn main() -> ExitCode {
    let options = parse_options();
    let outcome = supervise::stop_on_interrupt()
        .context("setting up Ctrl-C handling")
        .and_then(|()| grade(&options));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(failure) => lab::exit_status("checker", Err(failure)),
    }
}

/// The workspace the checker belongs to.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the checker lives in the workspace")
        .to_owned()
}

/// What is being graded.
struct Target {
    /// The server binary; `None` if it does not compile (cargo has shown why).
    binary: Option<PathBuf>,
    /// The file to point students at in hints, if it is one of the lab's.
    source: Option<&'static str>,
    log_dir: PathBuf,
}

/// Builds the server to grade.
fn prepare_target(options: &Options, root: &Path, style: Style) -> lab::Result<Target> {
    let (package, bin, source) = match &options.server {
        Some(path) => {
            if !path.is_file() {
                return Err(
                    Failure::new(format!("--server {}", path.display()), "no such file")
                        .hint("give the path of a server binary, for example target/debug/server"),
                );
            }
            let log_dir = options
                .log_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("."));
            return Ok(Target {
                binary: Some(path.clone()),
                source: None,
                log_dir,
            });
        }
        None if options.solution => ("solution", "solution-server", "solution/src/bin/server.rs"),
        None => ("skeleton", "server", "skeleton/src/bin/server.rs"),
    };
    if !root.join(package).is_dir() {
        return Err(Failure::new(
            format!("--{package}"),
            format!("there is no {package}/ in {}", root.display()),
        )
        .hint("this copy of the lab comes without the reference solution"));
    }
    say!("Grading {package}: {source}");
    let binary = compile::build(root, package, &["checker"], bin, Stdio::inherit());
    say!("{}", report::build_line(style, binary.is_ok()));
    if let Err(reason) = &binary {
        say!("\n{reason}\nTotal: 0/100");
    }
    Ok(Target {
        binary: binary.ok(),
        source: Some(source),
        log_dir: options
            .log_dir
            .clone()
            .unwrap_or_else(|| root.join(package)),
    })
}

/// The file the clients upload: the shared test-file.txt when it fits, else a new one.
enum TestFile {
    Shared(PathBuf),
    Temporary(tempfile::TempDir),
}

impl TestFile {
    fn path(&self) -> PathBuf {
        match self {
            TestFile::Shared(path) => path.clone(),
            TestFile::Temporary(dir) => dir.path().join("test-file.txt"),
        }
    }
}

fn prepare_test_file(root: &Path, log_dir: &Path, size: u64) -> lab::Result<TestFile> {
    let shared = root.join("test-file.txt");
    let found = fs::metadata(&shared)
        .ok()
        .filter(|meta| meta.is_file())
        .map(|meta| meta.len());
    if found == Some(size) {
        say!("Test file: {} ({})", shared.display(), human_size(size));
        return Ok(TestFile::Shared(shared));
    }
    if size == DEFAULT_SIZE {
        let why = match found {
            Some(other) => format!("has {other} bytes, not {size}"),
            None => "is missing".to_owned(),
        };
        say!(
            "Test file: {} {why}; writing a new one of {}",
            shared.display(),
            human_size(size)
        );
        write_random_file(&shared, size)
            .with_context(|| format!("writing {}", shared.display()))?;
        return Ok(TestFile::Shared(shared));
    }
    let dir = tempfile::Builder::new()
        .prefix(".checker-")
        .tempdir_in(log_dir)
        .with_context(|| format!("creating a temporary directory in {}", log_dir.display()))?;
    supervise::remove_on_interrupt(dir.path());
    let file = TestFile::Temporary(dir);
    write_random_file(&file.path(), size).context("writing a temporary test file")?;
    say!(
        "Test file: a temporary one of {} (removed at the end)",
        human_size(size)
    );
    Ok(file)
}

/// Runs the selected checks and prints the report. Returns whether every graded check
/// passed.
fn grade(options: &Options) -> lab::Result<bool> {
    let started = Instant::now();
    let style = Style::for_stdout();
    let root = workspace_root();
    let target = prepare_target(options, &root, style)?;
    fs::create_dir_all(&target.log_dir)
        .with_context(|| format!("creating {}", target.log_dir.display()))?;
    let log_dir = target
        .log_dir
        .canonicalize()
        .context("finding the log directory")?;
    let server_log = log_dir.join("server_output.log");
    let client_log_path = log_dir.join("client_output.log");
    fs::write(&server_log, "").with_context(|| format!("writing {}", server_log.display()))?;
    let client_log = fs::File::create(&client_log_path)
        .with_context(|| format!("writing {}", client_log_path.display()))?;
    let Some(binary) = &target.binary else {
        // The logs of an earlier run would tell a story that is no longer true.
        let note = "----- checker: the server does not compile, so no server or client ran -----\n";
        for log in [&server_log, &client_log_path] {
            fs::write(log, note).with_context(|| format!("writing {}", log.display()))?;
        }
        return Ok(false);
    };
    let test_file = prepare_test_file(&root, &log_dir, options.size)?;
    let file = test_file.path();

    let progress = Progress::new();
    let session = Session {
        binary,
        port: options.port,
        file: &file,
        size: options.size,
        server_log: &server_log,
        client_log: Arc::new(ClientLog::new(client_log, started)),
        progress: &progress,
    };
    let clients = match options.task {
        Task::One => 1,
        _ => usize::from(options.clients),
    };
    if !progress.is_live() {
        let size = human_size(options.size);
        match clients {
            1 => say!("Uploading {size} from one client..."),
            n => say!("Uploading {size} from {n} clients at once..."),
        }
    }
    let selection = match options.task {
        Task::One => Selection::TaskOne,
        Task::Two => Selection::TaskTwo,
        Task::Bonus => Selection::Bonus,
        Task::All => Selection::All,
    };
    let graded = checks::run(&session, selection, clients);
    for verdict in &graded.verdicts {
        say!("{}", report::check_line(style, verdict));
    }
    drop(test_file);
    let tail = graded
        .failed_log_start
        .map(|start| section_tail(&server_log, start))
        .unwrap_or_default();
    Ok(summarize(
        &graded.verdicts,
        &target,
        &tail,
        (&server_log, &client_log_path),
    ))
}

/// Prints the total and the details of failures; returns whether every graded check passed.
fn summarize(
    verdicts: &[Verdict],
    target: &Target,
    server_tail: &[String],
    logs: (&Path, &Path),
) -> bool {
    let score = Score::of(verdicts);
    say!("{}", score.total_line());
    let outcome = |check: &grade::Check| {
        verdicts
            .iter()
            .find(|verdict| verdict.check.name == check.name)
            .map(|verdict| verdict.outcome.status())
    };
    let task_one_done = outcome(&grade::WHOLE_UPLOAD) == Some("passed")
        && outcome(&grade::KEEPS_SERVING) == Some("passed");
    if task_one_done && outcome(&grade::CONCURRENT) == Some("failed") {
        match target.source {
            Some(file) => say!("Task 1 is done. Next: task 2, TODO 5 in {file}."),
            None => say!("Task 1 is done. Next: task 2 (TODO 5)."),
        }
    }
    report::print_failures(verdicts, server_tail, logs);
    score.all_passed
}

/// The last lines of one server's section of the log: from byte `start` (its header line)
/// up to the next server's header.
fn section_tail(log: &Path, start: u64) -> Vec<String> {
    let text = fs::read(log).unwrap_or_default();
    let start = usize::try_from(start).unwrap_or(usize::MAX).min(text.len());
    let text = String::from_utf8_lossy(&text[start..]);
    let section: Vec<&str> = text
        .lines()
        .enumerate()
        .take_while(|(index, line)| *index == 0 || !supervise::is_section_header(line))
        .map(|(_, line)| line)
        .collect();
    section[section.len().saturating_sub(12)..]
        .iter()
        .map(|line| (*line).to_owned())
        .collect()
}
