//! The run as a row of the class grade book, in the columns of `scripts/grade-class.sh`.
//! The book is read by spreadsheets and by scripts, and a submission chooses its own name:
//! every field is quoted as RFC 4180 says (a comma in a name stays in its field), made
//! inert like the report's text, and one that a spreadsheet would take for a formula
//! starts with `'`. `scripts/grade-book.sh` writes the rows of the runs that gave none by
//! the same rules.

use crate::grade::Status;
use crate::report::quote;
use crate::run::{RunOutcome, RunResult};

/// The grade book's columns.
pub const COLUMNS: [&str; 6] = [
    "submission",
    "score",
    "bonus",
    "task3",
    "failed_checks",
    "seconds",
];

/// The grade book's first line, and the row of `result`: what `--csv` writes.
pub fn file(result: &RunResult) -> String {
    write(&[COLUMNS.map(str::to_owned), fields(result)])
}

/// The row of `result`: its name, the points, the status words of the bonus and of task 3
/// (each empty when it was not asked for), the checks that did not pass (or `does not
/// compile`), and the seconds the run took, build included.
fn fields(result: &RunResult) -> [String; 6] {
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
        quote(&result.name).into_owned(),
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
}

/// `records` as CSV, each field safe from a spreadsheet's formulas.
fn write(records: &[[String; 6]]) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for record in records {
        writer
            .write_record(record.iter().map(|field| no_formula(field)))
            .expect("a record of six fields written to memory");
    }
    let bytes = writer
        .into_inner()
        .expect("CSV written to memory is flushed without error");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// `field`, with a `'` before it when a spreadsheet would run it as a formula (`=`, `+`,
/// `-`, `@`) or its first character could hide that (a tab, a carriage return): the
/// spreadsheet shows the text instead. No number of the grade book is negative, so no
/// number is changed.
pub fn no_formula(field: &str) -> String {
    if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Selection;
    use crate::report::samples;

    /// The row of `result`, without the header.
    fn row(result: &RunResult) -> String {
        let file = file(result);
        let (header, row) = file.split_once('\n').unwrap();
        assert_eq!(header, COLUMNS.join(","));
        row.to_owned()
    }

    fn named(name: &str) -> RunResult {
        let mut run = samples::passing();
        run.name = name.to_owned();
        run
    }

    #[test]
    fn a_row_per_run_in_the_grade_books_columns() {
        assert_eq!(row(&samples::passing()), "alice,100,passed,passed,,12.3\n");
        assert_eq!(
            row(&samples::task_one_done()),
            "alice,50,not checked,failed,task 2: concurrent uploads;task 2: a process per client;bonus: no zombies;task 3: async uploads,12.3\n"
        );
        assert_eq!(
            row(&samples::task_one_failing()),
            "alice,0,,,task 1: receives a whole upload;task 1: keeps serving,12.3\n"
        );
        assert_eq!(
            row(&samples::does_not_compile(Selection::All)),
            "alice,0,not checked,not checked,does not compile,12.3\n"
        );
    }

    #[test]
    fn the_file_is_the_header_and_the_row() {
        assert_eq!(
            file(&samples::passing()),
            "submission,score,bonus,task3,failed_checks,seconds\nalice,100,passed,passed,,12.3\n"
        );
    }

    #[test]
    fn a_name_with_commas_or_quotes_stays_one_field() {
        assert_eq!(
            row(&named("smith, john")),
            "\"smith, john\",100,passed,passed,,12.3\n"
        );
        assert_eq!(
            row(&named("mallory,100,passed")),
            "\"mallory,100,passed\",100,passed,passed,,12.3\n"
        );
        assert_eq!(
            row(&named("say \"hi\"")),
            "\"say \"\"hi\"\"\",100,passed,passed,,12.3\n"
        );
    }

    #[test]
    fn a_name_a_spreadsheet_would_run_is_shown_as_text() {
        assert_eq!(
            row(&named("=HYPERLINK(\"x\")")),
            "\"'=HYPERLINK(\"\"x\"\")\",100,passed,passed,,12.3\n"
        );
        for name in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert_eq!(
                row(&named(name)),
                format!("'{name},100,passed,passed,,12.3\n"),
                "{name:?}"
            );
        }
        assert_eq!(no_formula("a=b"), "a=b");
    }

    #[test]
    fn a_name_with_line_breaks_or_escapes_stays_on_its_line_and_inert() {
        assert_eq!(
            row(&named("eve\r\nbob,0\x1b[2J")),
            "\"eve\\r\\nbob,0\\x1b[2J\",100,passed,passed,,12.3\n"
        );
        assert_eq!(
            row(&named("\rcarriage")),
            "\\rcarriage,100,passed,passed,,12.3\n"
        );
    }
}
