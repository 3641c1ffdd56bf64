//! The checker's command line: its options, the parsing of sizes, and the help.

use std::path::{Path, PathBuf};

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use gen_testfile::parse_size;

use crate::grade::Selection;

const EXAMPLES: &str = "\
Examples:
  cargo run -p checker                      grade your server (skeleton/)
  cargo run -p checker -- watch             grade again on every save of your server.rs
  cargo run -p checker -- --task 1          only the task 1 checks
  cargo run -p checker -- hint 4            a longer hint for TODO 4
  cargo run -p checker -- --server ./my-server --size 8M --clients 4
  cargo run -p checker -- --submission alice.rs --json alice.json --log-dir alice/";

/// What follows the examples: the exit statuses and where the rest is written.
const EXIT_STATUS: &str = "

Exit status: 0 every graded check passed, 1 some check failed (or the server does not
compile), 2 bad usage, 3 the checker itself could not grade (no verdict on the server).
Each verb has its own help (checker help class); the manual is docs/checker.md.";

/// The example that only a copy of the lab with solution/ can run.
const SOLUTION_EXAMPLE: &str = "
  cargo run -p checker -- --solution        grade the reference solution";

/// Grades a lab server end to end: builds it, runs real uploads against it, and judges it
/// from byte counts and from what /proc shows (epoll registrations, child processes, open
/// descriptors, zombies).
#[derive(Debug, Parser)]
#[command(version, args_conflicts_with_subcommands = true)]
pub struct Options {
    /// What to do other than grade one server (the default).
    #[command(subcommand)]
    pub verb: Option<Verb>,

    /// Grade the reference solution instead of the skeleton.
    #[arg(long, conflicts_with_all = ["server", "submission"])]
    pub solution: bool,

    /// Grade this server binary instead (it must accept --port).
    #[arg(long, value_name = "PATH", conflicts_with = "submission")]
    pub server: Option<PathBuf>,

    /// Grade this student's server.rs instead: it is built as the skeleton's server in a
    /// scratch copy of the lab (your skeleton/ is not touched).
    #[arg(long, value_name = "FILE")]
    pub submission: Option<PathBuf>,

    /// Also write the result as JSON (its folder is made if need be).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,

    /// The shape of the --json file: Gradescope's results.json, PrairieLearn's
    /// external grader results, or the lab's own (every check's slug, status, finding
    /// and TODOs; the doc comment on `RunResult` describes it).
    #[arg(long, value_enum, value_name = "SHAPE", default_value_t = JsonFormat::Gradescope, requires = "json")]
    pub json_format: JsonFormat,

    /// Also write the result as a CSV file: a header and one row, with the columns of
    /// `checker class`'s grades.csv: submission, score, bonus, task3, failed_checks,
    /// findings and seconds.
    #[arg(long, value_name = "PATH")]
    pub csv: Option<PathBuf>,

    /// The submission's name in the --csv row [default: the --submission file's name
    /// without .rs, or its folder's name for a server.rs].
    #[arg(long, value_name = "NAME", requires = "csv")]
    pub name: Option<String>,

    /// Grade again whenever the server's source is saved (skeleton/src/bin/server.rs, or
    /// the --submission file): a short screen per run, Enter to grade now, q to quit.
    #[arg(long, conflicts_with_all = ["server", "solution", "json", "csv", "experiment"])]
    pub watch: bool,

    /// Write the short screen that --watch shows after each grading to PATH.
    #[arg(long, value_name = "PATH", hide = true)]
    pub summary: Option<PathBuf>,

    /// Which checks to run.
    #[arg(long, value_enum, default_value_t = Selection::All)]
    pub task: Selection,

    /// Size of the uploaded file, in bytes or with K, M or G.
    #[arg(long, default_value = "100M", value_parser = parse_upload_size)]
    pub size: u64,

    /// How many clients upload at once in task 2.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub clients: u16,

    /// Where to write server_output.log and client_output.log [default: the graded
    /// package's directory, or the current one with --server or --submission].
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,

    /// Instead of grading, measure: `buf-size` uploads the file once per read size
    /// (the server's --buf-size) and prints and draws the throughput of each; `clients`
    /// compares a process per client (--mode blocking) with one loop (--mode async) for
    /// more and more clients at once.
    #[arg(long, value_enum, value_name = "WHAT", conflicts_with_all = ["json", "csv", "task", "clients"])]
    pub experiment: Option<Experiment>,

    /// The read sizes for `--experiment buf-size`, in bytes or with K or M
    /// [default: 10,100,1K,4K,16K,64K].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_read_size, requires = "experiment")]
    pub buf_sizes: Vec<u64>,

    /// The numbers of clients for `--experiment clients` [default: 1,10,100,500].
    #[arg(long, value_name = "LIST", value_delimiter = ',', value_parser = parse_client_count, requires = "experiment")]
    pub client_counts: Vec<usize>,

    /// Accepted for older scripts and ignored: a contained server or build sees nothing
    /// of the machine's files but the system and the toolchain, so there is nothing left
    /// to hide.
    #[arg(long, value_name = "PATH", hide = true)]
    pub hide: Vec<PathBuf>,

    /// Grade a submission even where this machine cannot contain it (no user
    /// namespaces, no Landlock): its code then runs with your rights. Without it,
    /// --submission refuses to grade there (exit status 3).
    #[arg(long)]
    pub allow_uncontained: bool,

    /// Port for the server [default: a free one].
    #[arg(long)]
    pub port: Option<u16>,

    /// The most the run may take, in seconds, build included; then the build or the
    /// server is stopped and what is not done fails [default: 120, more for many clients
    /// or large uploads].
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Experiment {
    /// Throughput against the number of bytes per read.
    BufSize,
    /// A process per client against one loop: time, memory, processes, context switches.
    Clients,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum JsonFormat {
    /// Gradescope's autograder results.json.
    Gradescope,
    /// PrairieLearn's external grader results.
    Prairielearn,
    /// The lab's own: the run's value, versioned (see `RunResult`).
    Lab,
}

fn parse_read_size(text: &str) -> Result<u64, String> {
    match parse_size(text) {
        Ok(0) => Err("a read size must be at least 1 byte".to_owned()),
        Ok(size) if size > u64::from(u32::MAX) => Err("a read size must be under 4G".to_owned()),
        Ok(size) => Ok(size),
        Err(error) => Err(error.to_string()),
    }
}

fn parse_client_count(text: &str) -> Result<usize, String> {
    let most = crate::checks::many_clients::MOST_CLIENTS;
    match text.parse::<usize>() {
        Ok(count) if (1..=most).contains(&count) => Ok(count),
        _ => Err(format!("a number of clients from 1 to {most}")),
    }
}

fn parse_todo(text: &str) -> Result<u8, String> {
    let todos = crate::report::hints::TODOS;
    let (first, last) = (todos.start(), todos.end());
    match text.trim_start_matches("TODO").trim().parse::<u8>() {
        Ok(todo) if todos.contains(&todo) => Ok(todo),
        _ => Err(format!(
            "there is no TODO {text} in server.rs: give a number from {first} to {last}"
        )),
    }
}

fn parse_upload_size(text: &str) -> Result<u64, String> {
    match parse_size(text) {
        Ok(size) if size >= lab::MIB => Ok(size),
        Ok(_) => Err("the upload must be at least 1M".to_owned()),
        Err(error) => Err(error.to_string()),
    }
}

/// The options, with `--solution` shown in the help only where the lab at `root` has a
/// solution/ (a student's copy has none).
/// The checker's verbs. Without one it grades (`grade`); `grade`, `watch` and
/// `experiment` take the grading options, as the flags they stand for did (`--watch`,
/// `--experiment WHAT`, which stay as their aliases).
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Grade one server (what the checker does without a verb), with the options below.
    Grade,
    /// Grade again whenever the server's source is saved (the options of grading,
    /// as --watch).
    Watch,
    /// Measure instead of grading: `buf-size` (throughput against the read size) or
    /// `clients` (a process per client against one loop), as --experiment WHAT.
    Experiment {
        /// What to measure.
        #[arg(value_enum)]
        what: Experiment,
    },
    /// Print the grading table: each check's slug, name, points, the TODOs it concerns
    /// and what it is judged after (for scripts: --json).
    Checks {
        /// As JSON, one object per check.
        #[arg(long)]
        json: bool,
    },
    /// Grade one Gradescope submission, as the kit's run_autograder does: the upload in
    /// ROOT/submission (a server.rs alone, or the student's repository) into
    /// ROOT/results/results.json. An upload with nothing to grade gets a result saying
    /// so; when the checker cannot grade, no result is written (exit status 3), which
    /// Gradescope shows as a failed autograder that the student can submit to again.
    Gradescope {
        /// The autograder's folder.
        #[arg(long, value_name = "DIR", default_value = "/autograder")]
        root: PathBuf,
        /// Grading options for the submission (for example --size 8M).
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "OPTIONS"
        )]
        options: Vec<std::ffi::OsString>,
    },
    /// Print a longer hint for one TODO of server.rs: what it is for, what to watch out
    /// for, and what the checker looks at (never the code itself).
    Hint {
        /// The TODO's number, 1 to 9.
        #[arg(value_name = "TODO", value_parser = parse_todo)]
        todo: u8,
    },
    /// Grade a folder of submissions one at a time (NAME.rs, NAME/server.rs, or a
    /// student's repository NAME/skeleton/src/bin/server.rs): OUT gets grades.csv, a
    /// folder per student (report, lab JSON, logs) and the class at a glance
    /// (summary.md, summary.svg). Students graded before are kept unless --regrade names
    /// them. Exit status 0 when every submission got a grade, 3 when some could not be
    /// graded (the grade book says which).
    Class {
        /// The folder of submissions.
        dir: PathBuf,
        /// Where the results go.
        out: PathBuf,
        /// Grade this student again, although their results are in OUT (repeatable).
        #[arg(long, value_name = "NAME")]
        regrade: Vec<String>,
        /// Which checks every submission gets (as for one server).
        #[arg(long, value_name = "TASK")]
        task: Option<String>,
        /// The size of each upload (as for one server).
        #[arg(long, value_name = "SIZE")]
        size: Option<String>,
        /// Each grading's time limit in seconds (as for one server).
        #[arg(long, value_name = "SECONDS")]
        timeout: Option<String>,
        /// Grade where the machine cannot contain submissions (as for one server).
        #[arg(long)]
        allow_uncontained: bool,
        /// Grade nobody: write grades.csv and the summary from the results already in
        /// OUT/NAME/results.json (each graded elsewhere with --json-format lab, one job
        /// per student); a student without one gets a row saying why, from
        /// OUT/NAME/ungraded.txt if there is one.
        #[arg(long, conflicts_with_all = ["regrade", "task", "size", "timeout", "allow_uncontained"])]
        merge: bool,
    },
}

impl Verb {
    /// The `checker class` options, if this is `class`.
    pub fn class_options(&self) -> Option<crate::class::ClassOptions> {
        let Verb::Class {
            dir,
            out,
            regrade,
            task,
            size,
            timeout,
            allow_uncontained,
            merge,
        } = self
        else {
            return None;
        };
        let mut passed_on = Vec::new();
        for (flag, value) in [("--task", task), ("--size", size), ("--timeout", timeout)] {
            if let Some(value) = value {
                passed_on.extend([flag.to_owned(), value.clone()]);
            }
        }
        if *allow_uncontained {
            passed_on.push("--allow-uncontained".into());
        }
        Some(crate::class::ClassOptions {
            dir: dir.clone(),
            out: out.clone(),
            regrade: regrade.clone(),
            passed_on,
            merge: *merge,
        })
    }
}

/// The command line with the verbs that stand for flags written as those flags
/// (`grade`, `watch`, `experiment WHAT`), so that every grading option and every rule
/// between them holds the same for both spellings.
pub fn with_verbs_as_flags(mut args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    match args.get(1).and_then(|verb| verb.to_str()) {
        Some("grade") => {
            args.remove(1);
        }
        Some("watch") => args[1] = "--watch".into(),
        Some("experiment") if args.len() > 2 => args[1] = "--experiment".into(),
        _ => {}
    }
    args
}

pub fn parse(root: Option<&Path>) -> Options {
    parse_from(root, std::env::args_os().collect())
}

pub fn parse_from(root: Option<&Path>, args: Vec<std::ffi::OsString>) -> Options {
    let with_solution = root.is_some_and(|root| root.join("solution").is_dir());
    let command = Options::command()
        .mut_arg("solution", |arg| arg.hide(!with_solution))
        .after_help(if with_solution {
            format!("{EXAMPLES}{SOLUTION_EXAMPLE}{EXIT_STATUS}")
        } else {
            format!("{EXAMPLES}{EXIT_STATUS}")
        });
    let matches = command
        .try_get_matches_from(with_verbs_as_flags(args))
        .unwrap_or_else(|error| error.exit());
    Options::from_arg_matches(&matches).unwrap_or_else(|error| error.exit())
}

#[cfg(test)]
mod tests {
    use super::with_verbs_as_flags;

    fn spelled(args: &[&str]) -> Vec<String> {
        let args = args.iter().map(std::ffi::OsString::from).collect();
        with_verbs_as_flags(args)
            .into_iter()
            .map(|arg| arg.into_string().unwrap())
            .collect()
    }

    #[test]
    fn the_verbs_that_stand_for_flags_become_those_flags() {
        assert_eq!(
            spelled(&["checker", "watch", "--task", "1"]),
            ["checker", "--watch", "--task", "1"]
        );
        assert_eq!(
            spelled(&["checker", "grade", "--task", "1"]),
            ["checker", "--task", "1"]
        );
        assert_eq!(
            spelled(&["checker", "experiment", "clients", "--solution"]),
            ["checker", "--experiment", "clients", "--solution"]
        );
        // The flag form stays as it is.
        assert_eq!(spelled(&["checker", "--watch"]), ["checker", "--watch"]);
        assert_eq!(
            spelled(&["checker", "experiment"]),
            ["checker", "experiment"]
        );
        assert_eq!(
            spelled(&["checker", "class", "a", "b"]),
            ["checker", "class", "a", "b"]
        );
    }
}
