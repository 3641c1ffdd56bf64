//! One grading as the command line asks: the result files' places checked, the run made
//! as a [`Grading`] of its own, its report on stdout and its result files written.

use std::fs;
use std::path::Path;
use std::sync::Arc;

use lab::Context;

use crate::cli::Options;
use crate::report::terminal::{self, Terminal};
use crate::report::{csv, json, text};
use crate::run::{self, RunResult};
use crate::server::{self, guard::Grading};
use crate::target;
use crate::trouble::Trouble;

/// One grading, the checker's whole job: the signals that stop the checker stop its
/// servers too, and nothing it starts inherits a descriptor it was given.
pub fn grade(options: &Options, root: Option<std::path::PathBuf>) -> Result<RunResult, Trouble> {
    check_result_paths(options)?;
    server::guard::stop_on_interrupt().context("setting up Ctrl-C handling")?;
    server::close_inherited_descriptors().context("closing inherited descriptors")?;
    let root = target::require_root(root)?;
    let grading = Grading::begin();
    report_run(options, &root, &grading)
}

/// One grading as `grading`, begun by its caller (`checker watch`, which may cancel it).
pub fn grade_as(
    options: &Options,
    root: &Path,
    grading: &Arc<Grading>,
) -> Result<RunResult, Trouble> {
    check_result_paths(options)?;
    report_run(options, root, grading)
}

/// The run, its report on stdout (the notes as they come, then the rest) and its result
/// files.
fn report_run(
    options: &Options,
    root: &Path,
    grading: &Arc<Grading>,
) -> Result<RunResult, Trouble> {
    let result = run::run(options, root, &Terminal::new(), grading)?;
    terminal::print(&text::after_notes(&result));
    write_results(options, &result)?;
    Ok(result)
}

/// Before any grading: no result of an earlier run may pass for this one's, and the
/// result files must have a place to go.
fn check_result_paths(options: &Options) -> Result<(), Trouble> {
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
