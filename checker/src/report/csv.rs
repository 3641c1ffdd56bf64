//! The run as a row of the class grade book, in the columns of `scripts/grade-class.sh`.

use crate::grade::Status;
use crate::run::{RunOutcome, RunResult};

/// The grade book's first line.
pub const HEADER: &str = "submission,score,bonus,task3,failed_checks,seconds";

/// The row of `result`: its name, the points, the status words of the bonus and of task 3
/// (each empty when it was not asked for), the checks that did not pass (or `does not
/// compile`), and the seconds the run took, build included.
pub fn row(result: &RunResult) -> String {
    let score = result.score();
    let failed = match &result.outcome {
        RunOutcome::DoesNotCompile { .. } => "does not compile".to_owned(),
        _ => result
            .verdicts()
            .iter()
            .filter(|verdict| verdict.outcome.status() != Status::Passed)
            .map(|verdict| verdict.check.name())
            .collect::<Vec<_>>()
            .join(";"),
    };
    [
        field(&result.name),
        score.points.to_string(),
        score
            .bonus
            .map(|bonus| bonus.to_string())
            .unwrap_or_default(),
        score
            .task_three
            .map(|task_three| task_three.to_string())
            .unwrap_or_default(),
        failed,
        format!("{:.1}", result.took.as_secs_f64()),
    ]
    .join(",")
}

/// A field of the grade book: commas and line breaks would split it.
fn field(text: &str) -> String {
    text.replace([',', '\n', '\r'], ";")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Selection;
    use crate::report::samples;

    #[test]
    fn a_row_per_run_in_the_grade_books_columns() {
        assert_eq!(
            HEADER.split(',').count(),
            row(&samples::passing()).split(',').count()
        );
        assert_eq!(row(&samples::passing()), "alice,100,passed,passed,,12.3");
        assert_eq!(
            row(&samples::task_one_done()),
            "alice,50,not checked,failed,task 2: concurrent uploads;task 2: a process per client;bonus: no zombies;task 3: async uploads,12.3"
        );
        assert_eq!(
            row(&samples::task_one_failing()),
            "alice,0,,,task 1: receives a whole upload;task 1: keeps serving,12.3"
        );
        assert_eq!(
            row(&samples::does_not_compile(Selection::All)),
            "alice,0,not checked,not checked,does not compile,12.3"
        );
    }
}
