//! The class grade book: its columns, a student's row, and the file. `checker class` and
//! `--csv` both write it, from the lab's JSON (`--json-format lab`), so that a row reads
//! the same however it was made. The book is read by spreadsheets and by scripts, and a
//! submission chooses its own name: every field is quoted as RFC 4180 says (a comma in a
//! name stays in its field), made inert like the report's text, and one that a
//! spreadsheet would take for a formula starts with `'`.

use std::path::Path;

use serde_json::Value;

use crate::grade::CheckId;
use crate::report::{json, quote};
use crate::run::RunResult;

/// The grade book's columns.
pub const COLUMNS: [&str; 7] = [
    "submission",
    "score",
    "bonus",
    "task3",
    "failed_checks",
    "findings",
    "seconds",
];

/// A row of the grade book.
pub type Row = [String; 7];

/// The grade book's first line, and the row of `result`: what `--csv` writes.
pub fn file(result: &RunResult) -> String {
    write(&[
        COLUMNS.map(str::to_owned),
        row(&result.name, &Ok(json::lab(result))),
    ])
}

/// The row of one student: the name; the points; the bonus's and task 3's status (each
/// empty when it was not asked for, `not-attempted` when the given code of its TODOs was
/// found untouched); the slugs of the checks that did not pass; the slugs of the findings,
/// each once; the seconds the grading took, build included. `result` is the lab's JSON,
/// or why there is none (the row then says only that).
pub fn row(name: &str, result: &Result<Value, String>) -> Row {
    let name = quote(name).into_owned();
    let result = match result {
        Ok(result) => result,
        Err(why) => {
            let mut row = Row::default();
            row[0] = name;
            row[4] = why.clone();
            return row;
        }
    };
    let text = |value: &Value| value.as_str().map(str::to_owned).unwrap_or_default();
    let verdicts = result["verdicts"].as_array().cloned().unwrap_or_default();
    let failed: Vec<String> = verdicts
        .iter()
        .filter(|verdict| verdict["status"] != "passed")
        .map(|verdict| text(&verdict["check"]))
        .collect();
    let mut findings: Vec<String> = Vec::new();
    for finding in verdicts
        .iter()
        .filter_map(|verdict| verdict["finding"].as_str())
    {
        if !findings.iter().any(|seen| seen == finding) {
            findings.push(finding.to_owned());
        }
    }
    // An optional check that failed on its untouched given code was never started.
    let optional = |check: &str, status: &Value| {
        let verdict = verdicts.iter().find(|verdict| verdict["check"] == check);
        match verdict {
            Some(verdict) if verdict["status"] == "failed" && verdict["attempted"] == false => {
                "not-attempted".to_owned()
            }
            _ => text(status),
        }
    };
    [
        name,
        result["score"]["points"].to_string(),
        optional(CheckId::NoZombies.slug(), &result["score"]["bonus"]),
        optional(CheckId::AsyncUploads.slug(), &result["score"]["task_three"]),
        failed.join(";"),
        findings.join(";"),
        result["seconds"]
            .as_f64()
            .map_or_else(String::new, |seconds| format!("{seconds:.1}")),
    ]
}

/// The grade book, header first, written to `path`.
pub fn write_book(path: &Path, rows: impl IntoIterator<Item = Row>) -> lab::Result<()> {
    use lab::Context;
    let records: Vec<Row> = std::iter::once(COLUMNS.map(str::to_owned))
        .chain(rows)
        .collect();
    std::fs::write(path, write(&records)).with_context(|| format!("writing {}", path.display()))
}

/// `records` as CSV, each field safe from a spreadsheet's formulas.
fn write(records: &[Row]) -> String {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for record in records {
        writer
            .write_record(record.iter().map(|field| no_formula(field)))
            .expect("a record written to memory");
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
        assert_eq!(row(&samples::passing()), "alice,100,passed,passed,,,12.3\n");
        assert_eq!(
            row(&samples::task_one_done()),
            "alice,50,not-checked,failed,concurrent-uploads;process-per-client;no-zombies;async-uploads,one-at-a-time;needs-passed;server-stopped,12.3\n"
        );
        assert_eq!(
            row(&samples::does_not_compile(Selection::All)),
            "alice,0,not-checked,not-checked,whole-upload;keeps-serving;concurrent-uploads;process-per-client;no-zombies;async-uploads,does-not-compile,12.3\n"
        );
    }

    #[test]
    fn a_student_without_a_result_has_a_row_that_says_why() {
        let row = super::row("dave", &Err("not graded (exit status 3): no cargo".into()));
        assert_eq!(
            write(&[row]),
            "dave,,,,not graded (exit status 3): no cargo,,\n"
        );
    }

    #[test]
    fn the_file_is_the_header_and_the_row() {
        assert_eq!(
            file(&samples::passing()),
            "submission,score,bonus,task3,failed_checks,findings,seconds\nalice,100,passed,passed,,,12.3\n"
        );
    }

    #[test]
    fn a_name_with_commas_or_quotes_stays_one_field() {
        assert_eq!(
            row(&named("smith, john")),
            "\"smith, john\",100,passed,passed,,,12.3\n"
        );
        assert_eq!(
            row(&named("mallory,100,passed")),
            "\"mallory,100,passed\",100,passed,passed,,,12.3\n"
        );
        assert_eq!(
            row(&named("say \"hi\"")),
            "\"say \"\"hi\"\"\",100,passed,passed,,,12.3\n"
        );
    }

    #[test]
    fn a_name_a_spreadsheet_would_run_is_shown_as_text() {
        assert_eq!(
            row(&named("=HYPERLINK(\"x\")")),
            "\"'=HYPERLINK(\"\"x\"\")\",100,passed,passed,,,12.3\n"
        );
        for name in ["+1", "-1", "@SUM(A1)", "\tx"] {
            assert_eq!(
                row(&named(name)),
                format!("'{name},100,passed,passed,,,12.3\n"),
                "{name:?}"
            );
        }
        assert_eq!(no_formula("a=b"), "a=b");
    }

    #[test]
    fn a_name_with_line_breaks_or_escapes_stays_on_its_line_and_inert() {
        assert_eq!(
            row(&named("eve\r\nbob,0\x1b[2J")),
            "\"eve\\r\\nbob,0\\x1b[2J\",100,passed,passed,,,12.3\n"
        );
        assert_eq!(
            row(&named("\rcarriage")),
            "\\rcarriage,100,passed,passed,,,12.3\n"
        );
    }
}
