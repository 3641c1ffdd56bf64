//! The checker of the async-server lab: builds a server, runs it against real clients and
//! grades it from what the operating system shows. Its manual is docs/checker.md.
//!
//! This file only dispatches: `cli` reads the command line, `grading` makes one grading
//! (`run` makes the run's value, gathering through `checks`, `server`, `clients` and
//! `inspect`; `report` renders it), `regrade` watches, `class` and `gradescope` grade
//! for a course, and `exit` says how the command ended.

mod build;
mod checks;
mod class;
mod cli;
mod clients;
mod contain;
mod exit;
mod grade;
mod gradescope;
mod grading;
mod inspect;
mod observe;
mod picture;
mod regrade;
mod report;
mod run;
mod server;
mod target;
mod trouble;

use std::process::ExitCode;

use crate::cli::Verb;
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
    // The points are the lab's whose checker this is; a binary outside any lab takes the
    // lab it runs in.
    let settings = target::binary_root().or_else(|| root.clone());
    if let Some(Err(failure)) = settings.as_deref().map(grade::points::load) {
        return ExitCode::from(exit::told(Trouble::Usage(failure)));
    }
    match &options.verb {
        Some(Verb::Checks { json }) => {
            print!("{}", grade::table_listing(*json));
            return ExitCode::SUCCESS;
        }
        Some(Verb::Hint { todo }) => return hint(*todo),
        Some(Verb::Gradescope {
            root: folder,
            options: passed,
        }) => return gradescope::autograde(root, folder, passed),
        _ => {}
    }
    if let Some(class) = options.verb.as_ref().and_then(Verb::class_options) {
        return class::run_verb(root, &class);
    }
    if options.watch {
        let watched = target::require_root(root).and_then(|root| regrade::watch(&root, &options));
        return ExitCode::from(watched.map_or_else(exit::told, |()| 0));
    }
    let outcome = grading::grade(&options, root);
    let status = exit::exit_status(&outcome);
    if let Err(trouble) = outcome {
        exit::tell(trouble);
    }
    ExitCode::from(status)
}

/// `checker hint TODO`: the longer hint for one TODO.
fn hint(todo: u8) -> ExitCode {
    match report::hints::long(todo) {
        Some(hint) => {
            println!("{hint}");
            ExitCode::SUCCESS
        }
        None => ExitCode::from(exit::told(Trouble::Usage(lab::Failure::new(
            format!("hint {todo}"),
            "there is no such TODO",
        )))),
    }
}
