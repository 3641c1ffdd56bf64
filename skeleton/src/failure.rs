//! Errors as the lab's programs print them: `<program>: <what failed>: <reason>`, then a
//! hint where one helps, and exit status 1.

use std::fmt;
use std::process::ExitCode;

/// Something that went wrong, with what the program was doing and, if it helps, what the
/// user can do about it.
#[derive(Debug)]
pub struct Failure {
    what: String,
    why: String,
    hint: Option<String>,
}

/// The result of anything in the lab that can fail.
pub type Result<T> = std::result::Result<T, Failure>;

impl Failure {
    /// A failure of `what` because of `why`.
    pub fn new(what: impl Into<String>, why: impl fmt::Display) -> Self {
        Failure {
            what: what.into(),
            why: why.to_string(),
            hint: None,
        }
    }

    /// Adds a hint: what the user can do to fix it.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.why)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Failure {}

/// Says what was being done when a lower-level error happened.
pub trait Context<T> {
    /// Wraps the error as a [`Failure`] of `what`.
    fn context(self, what: &str) -> Result<T>;
    /// Like [`Context::context`], for a description that costs something to build.
    fn with_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, what: &str) -> Result<T> {
        self.map_err(|error| Failure::new(what, error))
    }

    fn with_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| Failure::new(what(), error))
    }
}

/// Turns the outcome of a program's work into its exit status, printing a failure to
/// stderr as `<program>: <failure>`.
pub fn exit_status(program: &str, outcome: Result<()>) -> ExitCode {
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            let message = failure.to_string();
            let program = program.to_owned();
            print_error(&crate::Line::Error { program, message }.to_string());
            ExitCode::FAILURE
        }
    }
}

/// Writes `line` to stderr in one `write`. `eprintln!` may write a line in pieces, and
/// when several processes share one log (a server and its children), another process's
/// line can then land in the middle of it.
pub fn print_error(line: &str) {
    use std::io::Write as _;
    let _ = std::io::stderr().write_all(format!("{line}\n").as_bytes());
}
