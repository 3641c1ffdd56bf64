//! The checker of the async-server lab: builds a server, runs it against real clients and
//! grades it from what the operating system shows. Its manual is docs/checker.md.
//!
//! This file only dispatches: `cli` reads the command line, `run` makes the run's value
//! (gathering through `checks`, `server`, `clients` and `inspect`), `report` renders it.

mod build;
mod checks;
mod class;
mod cli;
mod clients;
mod contain;
mod grade;
mod gradescope;
mod inspect;
mod observe;
mod picture;
mod regrade;
mod report;
mod run;
mod server;
mod target;
mod trouble;

use std::fs;
use std::path::Path;
use std::process::ExitCode;

use lab::Context;

use crate::cli::Options;
use crate::report::terminal::{self, Terminal};
use crate::report::{csv, json, text};
use crate::run::RunResult;
use crate::trouble::Trouble;

fn main() -> ExitCode {
    // The checker's binary is also the shim that contains a server or a build.
    if let Some(plan) = std::env::var_os(contain::PLAN) {
        contain::run_shim(&plan.to_string_lossy());
    }
    if contain::is_noop() {
        return ExitCode::SUCCESS;
    }
    let root = target::workspace_root();
    let options = cli::parse(root.as_deref());
    if let Some(Err(failure)) = root.as_deref().map(grade::points::load) {
        tell(Trouble::Usage(failure));
        return ExitCode::from(2);
    }
    if let Some(cli::Verb::Checks { json }) = &options.verb {
        print!("{}", grade::table_listing(*json));
        return ExitCode::SUCCESS;
    }
    if let Some(cli::Verb::Hint { todo }) = &options.verb {
        return match report::hints::long(*todo) {
            Some(hint) => {
                println!("{hint}");
                ExitCode::SUCCESS
            }
            None => {
                tell(Trouble::Usage(lab::Failure::new(
                    format!("hint {todo}"),
                    "there is no such TODO",
                )));
                ExitCode::from(2)
            }
        };
    }
    if let Some(class) = options.verb.as_ref().and_then(cli::Verb::class_options) {
        return grade_class(root, &class);
    }
    if options.watch {
        return match target::require_root(root).and_then(|root| regrade::watch(&root, &options)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(trouble) => {
                let status = if matches!(trouble, Trouble::Usage(_)) {
                    2
                } else {
                    3
                };
                tell(trouble);
                ExitCode::from(status)
            }
        };
    }
    if let Some(cli::Verb::Gradescope {
        root: autograder,
        options: passed,
    }) = &options.verb
    {
        return autograde(root, autograder, passed);
    }
    let outcome = grade(&options, root);
    let status = exit_status(&outcome);
    if let Err(trouble) = outcome {
        tell(trouble);
    }
    ExitCode::from(status)
}

/// One grading as the options say: the report on the terminal, the result files written.
fn grade(options: &Options, root: Option<std::path::PathBuf>) -> Result<RunResult, Trouble> {
    prepare(options)?;
    let root = target::require_root(root)?;
    let result = run::run(options, &root, &Terminal::new())?;
    terminal::print(&text::after_notes(&result));
    write_results(options, &result)?;
    Ok(result)
}

/// `checker gradescope`: the upload in `autograder`/submission graded into
/// `autograder`/results/results.json (see `gradescope`). Exit status 0 with a result for
/// the student (a grade, or a refused upload), 3 with no result when the checker could
/// not grade.
fn autograde(
    root: Option<std::path::PathBuf>,
    autograder: &Path,
    passed: &[std::ffi::OsString],
) -> ExitCode {
    let autograder = std::path::absolute(autograder).unwrap_or_else(|_| autograder.to_owned());
    let results = autograder.join("results").join("results.json");
    let _ = fs::remove_file(&results);
    let outcome = (|| -> Result<(), Trouble> {
        match gradescope::find(&autograder.join("submission"))? {
            gradescope::Upload::Refused(why) => {
                println!(
                    "gradescope: the upload was refused: {}",
                    report::inert(&why)
                );
                gradescope::write_whole(&results, &gradescope::refusal(&why))?;
            }
            gradescope::Upload::Server(file) => {
                let work = tempfile::TempDir::new().context("making a scratch folder")?;
                let server = work.path().join("server.rs");
                fs::copy(&file, &server).with_context(|| format!("copying {}", file.display()))?;
                // Graded from the scratch folder, so that the report names the file the
                // student knows, `server.rs`, and no path of the grading machine.
                std::env::set_current_dir(work.path())
                    .with_context(|| format!("entering {}", work.path().display()))?;
                let mut args: Vec<std::ffi::OsString> = vec![
                    "checker".into(),
                    "--submission".into(),
                    "server.rs".into(),
                    "--log-dir".into(),
                    work.path().join("logs").into(),
                ];
                args.extend(passed.iter().cloned());
                let options = cli::parse_from(root.as_deref(), args);
                let result = grade(&options, root)?;
                // A build stopped at the time limit says nothing of the student's code
                // that a slow or busy grading machine would not say too: no grade.
                if let run::RunOutcome::BuildUnfinished { why, .. } = &result.outcome {
                    return Err(Trouble::Checker(lab::Failure::new(
                        "building the submission",
                        format!("{why} (no grade is recorded for a build that did not finish)"),
                    )));
                }
                let value = json::render(&result, cli::JsonFormat::Gradescope);
                gradescope::write_whole(&results, &value)?;
            }
        }
        Ok(())
    })();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(trouble) => {
            let _ = fs::remove_file(&results);
            tell(trouble);
            println!(
                "gradescope: no result written, so Gradescope shows that the autograder failed; this is no grade of the student's work: run the autograder again"
            );
            ExitCode::from(3)
        }
    }
}

/// `checker class`: the class graded, the exit status 0 when everyone got a grade.
fn grade_class(root: Option<std::path::PathBuf>, class: &class::ClassOptions) -> ExitCode {
    match target::require_root(root).and_then(|_| class::grade(class)) {
        Ok(graded) => {
            println!(
                "class: {} graded; grades in {}, the class at a glance in {}",
                graded
                    .iter()
                    .filter(|student| student.result.is_ok())
                    .count(),
                class.out.join("grades.csv").display(),
                class.out.join("summary.md").display()
            );
            if graded.iter().all(|student| student.result.is_ok()) {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(3)
            }
        }
        Err(trouble) => {
            let status = if matches!(trouble, Trouble::Usage(_)) {
                2
            } else {
                3
            };
            tell(trouble);
            ExitCode::from(status)
        }
    }
}

/// Before any grading: no result of an earlier run may pass for this one's, the result
/// files must have a place to go, the signals that stop the checker must stop its
/// servers too, and nothing it starts may inherit a descriptor it was given.
fn prepare(options: &Options) -> Result<(), Trouble> {
    for path in [&options.json, &options.csv].into_iter().flatten() {
        if path.is_dir() {
            return Err(Trouble::Usage(
                lab::Failure::new(path.display().to_string(), "is a folder")
                    .hint("give the path of the file to write"),
            ));
        }
        let _ = fs::remove_file(path);
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        fs::write(path, "").with_context(|| format!("writing {}", path.display()))?;
        fs::remove_file(path).with_context(|| format!("removing {}", path.display()))?;
    }
    if let Some(dir) = options
        .log_dir
        .as_ref()
        .filter(|dir| dir.exists() && !dir.is_dir())
    {
        return Err(Trouble::Usage(
            lab::Failure::new(
                format!("--log-dir {}", dir.display()),
                "is a file, not a folder",
            )
            .hint("give a folder for the logs (it is made if need be)"),
        ));
    }
    server::guard::stop_on_interrupt().context("setting up Ctrl-C handling")?;
    server::close_inherited_descriptors().context("closing inherited descriptors")?;
    Ok(())
}

/// Writes the `--json` and `--csv` files the options ask for.
fn write_results(options: &Options, result: &RunResult) -> lab::Result<()> {
    if let Some(path) = &options.summary {
        fs::write(path, text::short(result))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    let write = |path: &Path, text: String| {
        fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    };
    if let Some(path) = &options.json {
        let value = json::render(result, options.json_format);
        write(path, format!("{value:#}\n"))?;
    }
    if let Some(path) = &options.csv {
        write(path, csv::file(result))?;
    }
    Ok(())
}

/// The exit status: 0 when every graded check passed, 1 when one did not, 2 for bad usage
/// and 3 when the checker could not grade.
fn exit_status(outcome: &Result<RunResult, Trouble>) -> u8 {
    match outcome {
        Ok(result) if result.passed() => 0,
        Ok(_) => 1,
        Err(Trouble::Usage(_)) => 2,
        Err(Trouble::Checker(_)) => 3,
    }
}

/// Says on stderr why there is no grade. Inert: the trouble may name the submission's file
/// or quote cargo's words about its source.
fn tell(trouble: Trouble) {
    let said = match trouble {
        Trouble::Usage(failure) => format!("checker: {failure}"),
        Trouble::Checker(failure) => format!(
            "checker: {failure}\n  the checker could not grade: this is no verdict on the server"
        ),
    };
    lab::print_error(&report::inert(&said));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Selection;
    use crate::report::samples;

    #[test]
    fn the_exit_status_says_passed_failed_usage_or_the_checkers_trouble() {
        assert_eq!(exit_status(&Ok(samples::passing())), 0);
        assert_eq!(exit_status(&Ok(samples::bonus_alone())), 0);
        assert_eq!(exit_status(&Ok(samples::task_one_done())), 1);
        assert_eq!(
            exit_status(&Ok(samples::does_not_compile(Selection::Bonus))),
            1
        );
        let failure = || lab::Failure::new("x", "y");
        assert_eq!(exit_status(&Err(Trouble::Usage(failure()))), 2);
        assert_eq!(exit_status(&Err(Trouble::Checker(failure()))), 3);
    }
}
