//! The exit policy: the status a command ends with, and how the checker says on stderr
//! why there is no grade.

use crate::report;
use crate::run::RunResult;
use crate::trouble::Trouble;

/// The exit status: 0 when every graded check passed, 1 when one did not, 2 for bad usage
/// and 3 when the checker could not grade.
pub fn exit_status(outcome: &Result<RunResult, Trouble>) -> u8 {
    match outcome {
        Ok(result) if result.passed() => 0,
        Ok(_) => 1,
        Err(trouble) => trouble_status(trouble),
    }
}

/// The exit status of a command that ended in `trouble`: 2 for bad usage, 3 for the
/// checker's own.
pub fn trouble_status(trouble: &Trouble) -> u8 {
    match trouble {
        Trouble::Usage(_) => 2,
        Trouble::Checker(_) => 3,
    }
}

/// Says on stderr why there is no grade. Inert: the trouble may name the submission's file
/// or quote cargo's words about its source.
pub fn tell(trouble: Trouble) {
    let said = match trouble {
        Trouble::Usage(failure) => format!("checker: {failure}"),
        Trouble::Checker(failure) => format!(
            "checker: {failure}\n  the checker could not grade: this is no verdict on the server"
        ),
    };
    lab::print_error(&report::inert(&said));
}

/// Says why there is no grade and gives the status to exit with.
pub fn told(trouble: Trouble) -> u8 {
    let status = trouble_status(&trouble);
    tell(trouble);
    status
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
