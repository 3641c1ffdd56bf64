//! The checker of the async-server lab: builds a server, runs it against real clients and
//! grades it from what the operating system shows. See the README's checker section.

/// Prints a line on stdout. A closed stdout (`checker | head`) is ignored: it is no reason
/// to stop halfway, let alone to leave a server running.
/// The line also goes into the report that `--json` writes.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::report::say(&format!($($arg)*))
    };
}

mod checks;
mod clients;
mod compile;
mod grade;
mod inspect;
mod picture;
mod report;
mod submission;
mod supervise;

use std::fs;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{CommandFactory, FromArgMatches, Parser, ValueEnum};
use gen_testfile::{DEFAULT_SIZE, human_size, parse_size, write_random_file};
use lab::{Context, Failure};

use crate::checks::{Selection, Session};
use crate::clients::ClientLog;
use crate::compile::{Build, BuildFailure};
use crate::grade::{Outcome, Score, Verdict};
use crate::picture::Recorder;
use crate::report::Progress;
use crate::submission::Scratch;

const EXAMPLES: &str = "\
Examples:
  cargo run -p checker                      grade your server (skeleton/)
  cargo run -p checker -- --task 1          only the task 1 checks
  cargo run -p checker -- --server ./my-server --size 8M --clients 4
  cargo run -p checker -- --submission alice.rs --json alice.json --log-dir alice/

Exit status: 0 every graded check passed, 1 some check failed (or the server does not
compile), 2 bad usage, 3 the checker itself could not grade (no verdict on the server).";

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
    #[arg(long, conflicts_with_all = ["server", "submission"])]
    solution: bool,

    /// Grade this server binary instead (it must accept --port).
    #[arg(long, value_name = "PATH", conflicts_with = "submission")]
    server: Option<PathBuf>,

    /// Grade this student's server.rs instead: it is built as the skeleton's server in a
    /// scratch copy of the lab (your skeleton/ is not touched).
    #[arg(long, value_name = "FILE")]
    submission: Option<PathBuf>,

    /// Also write the result as JSON, in the shape Gradescope's autograder reads.
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,

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
    /// package's directory, or the current one with --server or --submission].
    #[arg(long, value_name = "DIR")]
    log_dir: Option<PathBuf>,

    /// Instead of grading, measure: `buf-size` uploads the file once per read size
    /// (the server's --buf-size) and prints and draws the throughput of each.
    #[arg(long, value_enum, value_name = "WHAT", conflicts_with_all = ["json", "task", "clients"])]
    experiment: Option<Experiment>,

    /// The read sizes for `--experiment buf-size`, in bytes or with K or M
    /// [default: 10,100,1K,4K,16K,64K].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_read_size, requires = "experiment")]
    buf_sizes: Vec<u64>,

    /// Port for the server [default: a free one].
    #[arg(long)]
    port: Option<u16>,

    /// The most the checks may take, in seconds, after the build; then the server is
    /// stopped and the checks not yet done fail [default: 120, more for many clients or
    /// large uploads].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    timeout: Option<u64>,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Experiment {
    /// Throughput against the number of bytes per read.
    BufSize,
}

fn parse_read_size(text: &str) -> Result<u64, String> {
    match parse_size(text) {
        Ok(0) => Err("a read size must be at least 1 byte".to_owned()),
        Ok(size) if size > u64::from(u32::MAX) => Err("a read size must be under 4G".to_owned()),
        Ok(size) => Ok(size),
        Err(error) => Err(error.to_string()),
    }
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

/// Why the checker gives no grade.
enum Trouble {
    /// The command line asks for something impossible (exit status 2).
    Usage(Failure),
    /// The checker itself could not grade: its environment, a busy port, a log it cannot
    /// write (exit status 3). That is no verdict on the server.
    Checker(Failure),
}

impl From<Failure> for Trouble {
    fn from(failure: Failure) -> Self {
        Trouble::Checker(failure)
    }
}

fn main() -> ExitCode {
    let options = parse_options();
    // A result file from an earlier run must never pass for this run's.
    if let Some(json) = &options.json {
        let _ = fs::remove_file(json);
    }
    let outcome = supervise::stop_on_interrupt()
        .context("setting up Ctrl-C handling")
        .map_err(Trouble::Checker)
        .and_then(|()| grade(&options));
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(Trouble::Usage(failure)) => {
            lab::exit_status("checker", Err(failure));
            ExitCode::from(2)
        }
        Err(Trouble::Checker(failure)) => {
            lab::exit_status(
                "checker",
                Err(failure.hint("the checker could not grade: this is no verdict on the server")),
            );
            ExitCode::from(3)
        }
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
    /// The server binary, or the compiler's errors (cargo has shown them).
    binary: Result<PathBuf, Vec<String>>,
    /// The file to point students at in hints, if it is one of the lab's.
    source: Option<String>,
    log_dir: PathBuf,
    /// The scratch copy a submission is built and run in.
    _scratch: Option<Scratch>,
}

/// Builds the server to grade.
fn prepare_target(options: &Options, root: &Path) -> Result<Target, Trouble> {
    let log_dir_or = |default: PathBuf| options.log_dir.clone().unwrap_or(default);
    if let Some(path) = &options.server {
        if !path.is_file() {
            return Err(Trouble::Usage(
                Failure::new(format!("--server {}", path.display()), "no such file")
                    .hint("give the path of a server binary, for example target/debug/server"),
            ));
        }
        return Ok(Target {
            binary: Ok(path.clone()),
            source: None,
            log_dir: log_dir_or(PathBuf::from(".")),
            _scratch: None,
        });
    }
    if let Some(path) = &options.submission {
        if !path.is_file() {
            return Err(Trouble::Usage(submission::missing(path)));
        }
        say!("Grading submission: {}", path.display());
        let scratch = Scratch::new(root, path)?;
        let binary = built(scratch.build(root))?;
        return Ok(Target {
            binary,
            source: Some(path.display().to_string()),
            log_dir: log_dir_or(PathBuf::from(".")),
            _scratch: Some(scratch),
        });
    }
    let (package, bin, source) = if options.solution {
        ("solution", "solution-server", "solution/src/bin/server.rs")
    } else {
        ("skeleton", "server", submission::SERVER_SOURCE)
    };
    if !root.join(package).is_dir() {
        return Err(Trouble::Usage(
            Failure::new(
                format!("--{package}"),
                format!("there is no {package}/ in {}", root.display()),
            )
            .hint("this copy of the lab comes without the reference solution"),
        ));
    }
    say!("Grading {package}: {source}");
    let build = Build {
        root,
        package,
        unify_with: &["checker"],
        bin,
        target_dir: None,
    };
    Ok(Target {
        binary: built(build.run(true))?,
        source: Some(source.to_owned()),
        log_dir: log_dir_or(root.join(package)),
        _scratch: None,
    })
}

/// Reports how the build went. A build that failed for the environment's reasons is the
/// checker's trouble, not the server's grade.
fn built(build: Result<PathBuf, BuildFailure>) -> Result<Result<PathBuf, Vec<String>>, Trouble> {
    match build {
        Ok(binary) => {
            say!("{}", report::build_line(true));
            Ok(Ok(binary))
        }
        Err(BuildFailure::DoesNotCompile(errors)) => {
            say!("{}", report::build_line(false));
            Ok(Err(errors))
        }
        Err(BuildFailure::Environment(why)) => {
            Err(Trouble::Checker(Failure::new("building the server", why)))
        }
    }
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
fn grade(options: &Options) -> Result<bool, Trouble> {
    let started = Instant::now();
    let root = workspace_root();
    if let Some(port) = options.port {
        supervise::port_is_free(port)?;
    }
    let selection = match options.task {
        Task::One => Selection::TaskOne,
        Task::Two => Selection::TaskTwo,
        Task::Bonus => Selection::Bonus,
        Task::All => Selection::All,
    };
    let target = prepare_target(options, &root)?;
    supervise::stop_after(time_limit(options));
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
    let binary = match &target.binary {
        Ok(binary) => binary,
        Err(errors) => {
            // The logs of an earlier run would tell a story that is no longer true.
            let note =
                "----- checker: the server does not compile, so no server or client ran -----\n";
            for log in [&server_log, &client_log_path] {
                fs::write(log, note).with_context(|| format!("writing {}", log.display()))?;
            }
            let what = target.source.as_deref().unwrap_or("the server");
            say!("\n{what} does not compile: fix the errors cargo printed above\nTotal: 0/100");
            let why = format!(
                "not checked: the server does not compile\n\n{}",
                errors.join("\n")
            );
            let verdicts: Vec<Verdict> = checks::selected(selection)
                .into_iter()
                .map(|check| Verdict {
                    check,
                    outcome: Outcome::NotChecked(why.clone()),
                })
                .collect();
            write_json(options, &verdicts, started, errors)?;
            return Ok(false);
        }
    };
    let test_file = prepare_test_file(&root, &log_dir, options.size)?;
    let file = test_file.path();

    let progress = Progress::new();
    let recorder = Recorder::default();
    let session = Session {
        binary,
        port: options.port,
        file: &file,
        size: options.size,
        server_log: &server_log,
        client_log: Arc::new(ClientLog::new(client_log, started)),
        progress: &progress,
        recorder: &recorder,
    };
    if options.experiment == Some(Experiment::BufSize) {
        return Ok(measure_buf_sizes(options, &session, &log_dir));
    }
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
    let graded = checks::run(&session, selection, clients);
    if let Some(trouble) = supervise::checker_trouble() {
        return Err(Trouble::Checker(Failure::new(
            "running the server",
            trouble,
        )));
    }
    for verdict in &graded.verdicts {
        say!("{}", report::check_line(verdict));
    }
    drop(test_file);
    let tail = graded
        .failed_log_start
        .map(|start| section_tail(&server_log, start))
        .unwrap_or_default();
    let passed = summarize(&graded.verdicts, &target, &tail);
    say!("\nServer log: {}", server_log.display());
    say!("Client log: {}", client_log_path.display());
    // Drawn after the verdicts, from what the scenarios recorded: no wait in the checks.
    let picture = log_dir.join("uploads.svg");
    match recorder.draw(&picture) {
        Ok(()) => say!("Uploads picture: {}", picture.display()),
        Err(why) => say!("Uploads picture: none ({why})"),
    }
    write_json(options, &graded.verdicts, started, &[])?;
    Ok(passed)
}

/// Runs `--experiment buf-size`, prints its table and draws it; returns whether every
/// upload went through.
fn measure_buf_sizes(options: &Options, session: &Session, log_dir: &Path) -> bool {
    let sizes = if options.buf_sizes.is_empty() {
        checks::experiment::DEFAULT_SIZES.to_vec()
    } else {
        options.buf_sizes.clone()
    };
    say!(
        "Uploading {} once per read size: {}",
        human_size(options.size),
        sizes
            .iter()
            .map(|&size| human_size(size))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let rows = match checks::experiment::buf_size(session, &sizes) {
        Ok(rows) => rows,
        Err(why) => {
            say!("\nThe experiment needs a server that receives whole uploads (task 1): {why}");
            return false;
        }
    };
    say!(
        "\n{:>10}  {:>9}  {:>9}  {:>16}",
        "read size",
        "seconds",
        "MiB/s",
        "reads per upload"
    );
    for row in &rows {
        say!(
            "{:>10}  {:>9.3}  {:>9.1}  {:>16}",
            human_size(row.read_size),
            row.seconds,
            row.throughput,
            row.reads
        );
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        say!(
            "\nReads of {} are {:.0} times as fast as reads of {}: each read is a system call, whatever its size.",
            human_size(last.read_size),
            last.throughput / first.throughput,
            human_size(first.read_size)
        );
    }
    let picture = log_dir.join("buf-size.svg");
    match picture::draw_buf_sizes(&rows, &picture) {
        Ok(()) => say!("Picture: {}", picture.display()),
        Err(why) => say!("Picture: none ({why})"),
    }
    true
}

/// The run's time limit: `--timeout`, or two minutes, more when the uploads are larger
/// than the default two of 100 MiB (20 s per 100 MiB uploaded, plus a minute).
fn time_limit(options: &Options) -> Duration {
    let seconds = options.timeout.unwrap_or_else(|| {
        let uploaded = u64::from(options.clients) * options.size;
        120.max(60 + 20 * uploaded / DEFAULT_SIZE)
    });
    Duration::from_secs(seconds)
}

/// Writes the `--json` result, if asked for: the verdicts, the whole report, and the
/// compiler's errors if there are any.
fn write_json(
    options: &Options,
    verdicts: &[Verdict],
    started: Instant,
    compiler_errors: &[String],
) -> lab::Result<()> {
    let Some(path) = &options.json else {
        return Ok(());
    };
    let mut output = report::text();
    for error in compiler_errors {
        output.push('\n');
        output.push_str(error);
    }
    let json = report::gradescope(verdicts, started.elapsed(), &output);
    fs::write(path, format!("{json:#}\n")).with_context(|| format!("writing {}", path.display()))
}

/// Prints the total and the details of failures; returns whether every graded check passed.
fn summarize(verdicts: &[Verdict], target: &Target, server_tail: &[String]) -> bool {
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
        match &target.source {
            Some(file) => say!("Task 1 is done. Next: task 2, TODO 5 in {file}."),
            None => say!("Task 1 is done. Next: task 2 (TODO 5)."),
        }
    }
    report::print_failures(verdicts, server_tail);
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
