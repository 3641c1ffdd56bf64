//! The run as JSON, in the shape an autograder platform reads (Gradescope's
//! `results.json` or PrairieLearn's external grader results), or in the lab's own, which
//! is the run's value serialised.

use serde_json::{Value, json};

use crate::cli::JsonFormat;
use crate::grade::{CheckId, Outcome, Verdict, Weight};
use crate::report::{inert, reason, text};
use crate::run::{RunOutcome, RunResult};

/// The run in `format`.
pub fn render(result: &RunResult, format: JsonFormat) -> Value {
    match format {
        JsonFormat::Gradescope => gradescope(result),
        JsonFormat::Prairielearn => prairielearn(result),
        JsonFormat::Lab => lab(result),
    }
}

/// The lab's own shape: the run's value as it serialises (its schema is documented on
/// [`RunResult`]).
pub fn lab(result: &RunResult) -> Value {
    serde_json::to_value(result).expect("a run's value serialises to JSON")
}

/// The whole report as a platform shows it (no paths of the grading machine), and the
/// compiler's errors if there are any (inert: they quote the submission's source).
fn output(result: &RunResult) -> String {
    let mut output = text::for_platform(result);
    if let RunOutcome::DoesNotCompile { errors, .. } = &result.outcome {
        for error in errors {
            output.push('\n');
            output.push_str(&inert(error));
        }
    }
    output
}

/// What one check's test says: the reason it did not pass, or `passed`.
fn said(verdict: &Verdict) -> String {
    let said = match &verdict.outcome {
        Outcome::Passed => "passed".to_owned(),
        Outcome::Failed(finding) => reason(&finding.to_string()).into_owned(),
        Outcome::NotChecked(finding) => format!("not checked: {}", reason(&finding.to_string())),
    };
    match verdict.check.weight() {
        Weight::Bonus => format!("the bonus, not counted in the score: {said}"),
        Weight::Optional => format!("task 3, optional, not counted in the score: {said}"),
        Weight::Points(_) => said,
    }
}

/// Gradescope's shape: the score, the time taken, the report, and one test per check,
/// numbered in the grading table's order. The bonus and task 3 are tests worth nothing,
/// listed only when the student started them (`Verdict::attempted`): work that is
/// optional and was never begun is no failure, and the report above the tests says it
/// was not attempted. Students see the report and every reason; the checker's stdout is
/// the same report, kept hidden.
pub fn gradescope(result: &RunResult) -> Value {
    let tests: Vec<Value> = result
        .verdicts()
        .iter()
        .filter(|verdict| verdict.check.max_points() > 0 || verdict.attempted())
        .map(|verdict| {
            let number = CheckId::ALL
                .iter()
                .position(|check| *check == verdict.check)
                .map_or(0, |index| index + 1);
            json!({
                "number": number.to_string(),
                "visibility": "visible",
                "name": verdict.check.name(),
                "score": verdict.points(),
                "max_score": verdict.check.max_points(),
                "status": if verdict.passed() { "passed" } else { "failed" },
                "output": said(verdict),
            })
        })
        .collect();
    json!({
        "score": result.score().points,
        "execution_time": result.took.as_secs_f64(),
        "output": output(result),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    })
}

/// PrairieLearn's shape: a score from 0 to 1 and one test per check; a server that does
/// not compile is not gradable, and the message says why.
pub fn prairielearn(result: &RunResult) -> Value {
    let score = result.score();
    let tests: Vec<Value> = result
        .verdicts()
        .iter()
        .map(|verdict| {
            json!({
                "name": verdict.check.name(),
                "points": verdict.points(),
                "max_points": verdict.check.max_points(),
                "message": said(verdict),
            })
        })
        .collect();
    let mut value = json!({
        "gradable": true,
        "score": score.fraction(),
        "message": score.total_line(),
        "output": output(result),
        "tests": tests,
    });
    // A server that does not compile costs no attempt: PrairieLearn shows the compiler's
    // errors as the submission's format errors.
    if let RunOutcome::DoesNotCompile { errors, .. } = &result.outcome {
        value["gradable"] = json!(false);
        value["message"] = json!("the server does not compile: the compiler's errors are below");
        value["format_errors"] = errors.iter().map(|error| inert(error)).collect();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grade::Selection;
    use crate::report::samples;

    fn tests_of(value: &Value) -> Vec<(String, u64, u64)> {
        value["tests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|test| {
                (
                    test["name"].as_str().unwrap().to_owned(),
                    test["score"].as_u64().or(test["points"].as_u64()).unwrap(),
                    test["max_score"]
                        .as_u64()
                        .or(test["max_points"].as_u64())
                        .unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn gradescope_holds_the_score_the_report_and_a_test_per_check() {
        let run = samples::task_one_done();
        let value = gradescope(&run);
        assert_eq!(value["score"], 50);
        assert_eq!(value["execution_time"], 12.34);
        let output = value["output"].as_str().unwrap();
        assert_eq!(output, text::for_platform(&run));
        // Nothing names a file of the grading machine, which the student can never open;
        // the server log's last lines are there instead.
        assert!(!output.contains("/lab/"), "{output}");
        assert!(
            output.contains("\nLast lines of the server log:\n  | Client 5 wants to send a file\n")
        );
        let tests = tests_of(&value);
        // The bonus was not checked, so it is no test; task 3 failed on work begun.
        assert_eq!(tests.len(), 5);
        assert_eq!(tests[0], ("task 1: receives a whole upload".into(), 25, 25));
        assert_eq!(tests[4], ("task 3: async uploads".into(), 0, 0));
        assert_eq!(value["tests"][4]["number"], "6");
        assert_eq!(
            value["tests"][4]["output"],
            "task 3, optional, not counted in the score: it panicked at TODO 8"
        );
        assert_eq!(value["tests"][2]["status"], "failed");
        assert_eq!(value["tests"][2]["number"], "3");
        assert_eq!(value["visibility"], "visible");
        assert!(output.contains(
            "bonus: no zombies not checked:\n  the bonus is judged only on a server that passed \"a process per client\"\n"
        ));
    }

    #[test]
    fn gradescope_lists_optional_work_only_once_it_was_begun() {
        let run = samples::task_three_never_begun();
        let value = gradescope(&run);
        let names: Vec<_> = tests_of(&value).into_iter().map(|test| test.0).collect();
        // The bonus was not checked (task 2 failed) and task 3's given code ran: neither
        // shows as a failed test; the report above the tests still says what happened.
        assert_eq!(
            names,
            [
                "task 1: receives a whole upload",
                "task 1: keeps serving",
                "task 2: concurrent uploads",
                "task 2: a process per client",
            ]
        );
        assert_eq!(value["score"], 50);
        assert!(
            value["output"]
                .as_str()
                .unwrap()
                .contains("not yet implemented: TODO 8")
        );
    }

    #[test]
    fn a_build_failure_holds_the_compilers_errors_once_and_says_not_checked_once() {
        let value = gradescope(&samples::does_not_compile(Selection::TaskOne));
        assert_eq!(value["score"], 0);
        let output = value["output"].as_str().unwrap();
        assert!(
            output.ends_with("Total: 0/50\n\nerror[E0308]: mismatched types"),
            "{output}"
        );
        assert_eq!(
            value["tests"][0]["output"],
            "not checked: the server does not compile"
        );
        assert_eq!(tests_of(&value).len(), 2);
    }

    #[test]
    fn the_json_holds_the_servers_escapes_written_out() {
        for format in [JsonFormat::Gradescope, JsonFormat::Prairielearn] {
            let value = render(&samples::hostile_output(), format);
            let output = value["output"].as_str().unwrap();
            assert!(!output.contains(['\x1b', '\x07', '\r']), "{output:?}");
            assert!(output.contains("  | Server listening on 127.0.0.1:5000\\x1b[2J\\x1b[H\n"));
            let said = value["tests"][0]["output"]
                .as_str()
                .or(value["tests"][0]["message"].as_str())
                .unwrap();
            assert!(
                said.ends_with("evil.rs:1:1: \\x1b]0;pwned\\x07boom"),
                "{said}"
            );
        }
        let mut broken = samples::does_not_compile(Selection::TaskOne);
        if let RunOutcome::DoesNotCompile { errors, .. } = &mut broken.outcome {
            errors[0] = "error: unknown start of token: \\u{1b}\n1 | let s = \"\x1b[2J\";".into();
        }
        let output = gradescope(&broken)["output"].as_str().unwrap().to_owned();
        assert!(
            output.ends_with("error: unknown start of token: \\u{1b}\n1 | let s = \"\\x1b[2J\";"),
            "{output}"
        );
    }

    #[test]
    fn prairielearn_scores_from_0_to_1_and_a_build_failure_is_not_gradable() {
        let value = prairielearn(&samples::task_one_done());
        assert_eq!(value["gradable"], true);
        assert_eq!(value["score"], 0.5);
        assert_eq!(
            value["message"],
            "Total: 50/100, bonus not checked, task 3 failed"
        );
        assert_eq!(
            tests_of(&value)[1],
            ("task 1: keeps serving".into(), 25, 25)
        );
        assert!(value.get("format_errors").is_none());
        let broken = prairielearn(&samples::does_not_compile(Selection::All));
        assert_eq!(broken["gradable"], false);
        assert!(broken["output"].as_str().unwrap().contains("error[E0308]"));
        let format_errors = broken["format_errors"].as_array().unwrap();
        assert!(!format_errors.is_empty());
        assert!(
            format_errors
                .iter()
                .all(|error| error.as_str().unwrap().starts_with("error")),
            "{format_errors:?}"
        );
        assert!(format_errors[0].as_str().unwrap().contains("error[E0308]"));
        assert_eq!(prairielearn(&samples::bonus_alone())["score"], 1.0);
    }

    #[test]
    fn the_labs_json_is_the_runs_value_with_slugs_and_todos() {
        let value = lab(&samples::task_one_done());
        assert_eq!(value["version"], 1);
        assert_eq!(value["outcome"], "graded");
        assert_eq!(value["selection"], "all");
        assert_eq!(value["score"]["points"], 50);
        assert_eq!(value["score"]["bonus"], "not-checked");
        let verdicts = value["verdicts"].as_array().unwrap();
        assert_eq!(verdicts.len(), 6);
        assert_eq!(verdicts[0]["check"], "whole-upload");
        assert_eq!(verdicts[0]["status"], "passed");
        assert_eq!(verdicts[0]["finding"], Value::Null);
        assert_eq!(verdicts[2]["check"], "concurrent-uploads");
        assert_eq!(verdicts[2]["finding"], "one-at-a-time");
        assert_eq!(verdicts[2]["todos"], json!([5]));
        assert!(
            verdicts[2]["reason"]
                .as_str()
                .unwrap()
                .ends_with("Receive each upload in a child process of its own (TODO 5)")
        );
        assert_eq!(verdicts[4]["status"], "not-checked");
        assert_eq!(verdicts[4]["finding"], "needs-passed");
        let broken = lab(&samples::does_not_compile(Selection::TaskOne));
        assert_eq!(broken["outcome"], "does-not-compile");
        assert_eq!(broken["verdicts"][0]["finding"], "does-not-compile");
        assert_eq!(broken["logs"], Value::Null);
    }
}
