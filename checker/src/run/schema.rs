//! The lab's own JSON (`--json-format lab`): [`RunResult`] serialised in the versioned
//! shape its doc comment describes.

use std::path::Path;

use clap::ValueEnum;
use serde::{Serialize, Serializer};

use crate::checks::finding::Finding;
use crate::grade::{Status, Verdict};
use crate::run::{RunOutcome, RunResult};

/// The schema's version (see [`RunResult`]).
pub const SCHEMA_VERSION: u32 = 1;

impl Serialize for RunResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let score = self.score();
        let logs = match &self.outcome {
            RunOutcome::Graded { logs, .. } | RunOutcome::Measured { logs, .. } => Some(logs),
            RunOutcome::DoesNotCompile { .. } | RunOutcome::BuildUnfinished { .. } => None,
        };
        Schema {
            version: SCHEMA_VERSION,
            name: &self.name,
            source: self.source.as_deref(),
            selection: self
                .selection
                .to_possible_value()
                .map(|value| value.get_name().to_owned())
                .unwrap_or_default(),
            contained: self.contained,
            seconds: self.took.as_secs_f64(),
            outcome: match &self.outcome {
                RunOutcome::Graded { .. } => "graded",
                RunOutcome::DoesNotCompile { .. } => "does-not-compile",
                RunOutcome::BuildUnfinished { .. } => "build-unfinished",
                RunOutcome::Measured { .. } => "measured",
            },
            passed: self.passed(),
            score: ScoreSchema {
                points: score.points,
                max: score.max,
                all_passed: score.all_passed,
                bonus: score.bonus.map(|standing| status_slug(standing.status())),
                task_three: score
                    .task_three
                    .map(|standing| status_slug(standing.status())),
            },
            verdicts: self.verdicts().iter().map(VerdictSchema::of).collect(),
            logs: logs.map(|logs| LogsSchema {
                server: &logs.server,
                client: &logs.client,
            }),
        }
        .serialize(serializer)
    }
}

fn status_slug(status: Status) -> &'static str {
    match status {
        Status::Passed => "passed",
        Status::Failed => "failed",
        Status::NotChecked => "not-checked",
    }
}

#[derive(Serialize)]
struct Schema<'a> {
    version: u32,
    name: &'a str,
    source: Option<&'a str>,
    selection: String,
    contained: bool,
    seconds: f64,
    outcome: &'static str,
    passed: bool,
    score: ScoreSchema,
    verdicts: Vec<VerdictSchema>,
    logs: Option<LogsSchema<'a>>,
}

#[derive(Serialize)]
struct ScoreSchema {
    points: u32,
    max: u32,
    all_passed: bool,
    bonus: Option<&'static str>,
    task_three: Option<&'static str>,
}

#[derive(Serialize)]
struct VerdictSchema {
    check: &'static str,
    name: &'static str,
    status: &'static str,
    attempted: bool,
    points: u32,
    max_points: u32,
    concerns: &'static [u8],
    finding: Option<&'static str>,
    todos: Vec<u8>,
    reason: Option<String>,
}

impl VerdictSchema {
    fn of(verdict: &Verdict) -> Self {
        let finding = verdict.outcome.finding();
        VerdictSchema {
            check: verdict.check.slug(),
            name: verdict.check.name(),
            status: status_slug(verdict.outcome.status()),
            attempted: verdict.attempted(),
            points: verdict.points(),
            max_points: verdict.check.max_points(),
            concerns: verdict.check.todos(),
            finding: finding.map(Finding::slug),
            todos: finding.map(Finding::todos).unwrap_or_default(),
            // Inert: a reason may quote the server's lines.
            reason: finding.map(|finding| crate::report::reason(&finding.to_string()).into_owned()),
        }
    }
}

#[derive(Serialize)]
struct LogsSchema<'a> {
    server: &'a Path,
    client: &'a Path,
}
