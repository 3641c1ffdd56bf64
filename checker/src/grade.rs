//! The grade: the checks of the grading table in its order, what each is worth, which a
//! run selects, the verdict on each and their sum. Checks and outcomes are identified by
//! their types; their words are for people only.

use std::fmt;

use clap::ValueEnum;

use crate::checks::finding::Finding;

pub mod points;
mod score;

pub use score::Score;

/// One line of the grading table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckId {
    WholeUpload,
    KeepsServing,
    Concurrent,
    ProcessPerClient,
    NoZombies,
    AsyncUploads,
}

/// What passing a check is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Points out of 100.
    Points(u32),
    /// Reported, never counted: the bonus.
    Bonus,
    /// Reported, never counted: task 3, beyond the lab.
    Optional,
}

/// What must hold before a check's judgement means anything, beyond the server building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Judged on every server that builds.
    Builds,
    /// Judged only on a server that receives a whole upload and that "keeps serving" saw
    /// accept every client: task 2 and task 3 build on task 1's loop, and a server that
    /// leaves clients unaccepted would fail them by the machine's load, for task 1's
    /// mistake.
    TaskOne,
    /// Judged only when this other check passed.
    Passed(CheckId),
}

/// One row of the grading table: everything the checker knows about a check that is not
/// a judgement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub id: CheckId,
    /// A stable name for scripts and kits, in kebab case.
    pub slug: &'static str,
    /// The check's name in the report.
    pub name: &'static str,
    /// Its name without its task, for sentences: `a process per client`.
    pub title: &'static str,
    pub weight: Weight,
    /// The TODOs of the handout whose work the check judges.
    pub todos: &'static [u8],
    pub gate: Gate,
}

/// The grading table as `checker checks` prints it: a line per check, or (`json`) an
/// array of objects with each check's slug, name, points (none for the bonus and task 3,
/// which count no points), weight, TODOs and gate.
pub fn table_listing(json: bool) -> String {
    let weight = |check: &Check| match check.weight {
        Weight::Points(_) => ("points", Some(check.id.max_points())),
        Weight::Bonus => ("bonus", None),
        Weight::Optional => ("optional", None),
    };
    let gate = |check: &Check| match check.gate {
        Gate::Builds => "builds".to_owned(),
        Gate::TaskOne => "task-one".to_owned(),
        Gate::Passed(other) => format!("passed:{}", other.slug()),
    };
    if json {
        let rows: Vec<serde_json::Value> = TABLE
            .iter()
            .map(|check| {
                serde_json::json!({
                    "slug": check.slug,
                    "name": check.name,
                    "weight": weight(check).0,
                    "points": weight(check).1,
                    "todos": check.todos,
                    "gate": gate(check),
                })
            })
            .collect();
        return serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n";
    }
    let mut text = format!(
        "{:<20} {:<34} {:<8} {:<6} {}\n",
        "slug", "name", "points", "todos", "judged after"
    );
    for check in &TABLE {
        let points = match weight(check) {
            (_, Some(points)) => points.to_string(),
            (kind, None) => kind.to_owned(),
        };
        let todos: Vec<String> = check.todos.iter().map(u8::to_string).collect();
        text.push_str(&format!(
            "{:<20} {:<34} {:<8} {:<6} {}\n",
            check.slug,
            check.name,
            points,
            todos.join(","),
            gate(check)
        ));
    }
    text
}

/// The grading table, in its order: the one place its facts are written.
pub const TABLE: [Check; 6] = [
    Check {
        id: CheckId::WholeUpload,
        slug: "whole-upload",
        name: "task 1: receives a whole upload",
        title: "receives a whole upload",
        weight: Weight::Points(25),
        todos: &[1, 2, 3],
        gate: Gate::Builds,
    },
    Check {
        id: CheckId::KeepsServing,
        slug: "keeps-serving",
        name: "task 1: keeps serving",
        title: "keeps serving",
        weight: Weight::Points(25),
        todos: &[2, 3, 4],
        gate: Gate::Builds,
    },
    Check {
        id: CheckId::Concurrent,
        slug: "concurrent-uploads",
        name: "task 2: concurrent uploads",
        title: "concurrent uploads",
        weight: Weight::Points(25),
        todos: &[5],
        gate: Gate::TaskOne,
    },
    Check {
        id: CheckId::ProcessPerClient,
        slug: "process-per-client",
        name: "task 2: a process per client",
        title: "a process per client",
        weight: Weight::Points(25),
        todos: &[4, 5],
        gate: Gate::TaskOne,
    },
    Check {
        id: CheckId::NoZombies,
        slug: "no-zombies",
        name: "bonus: no zombies",
        title: "no zombies",
        weight: Weight::Bonus,
        todos: &[6, 7],
        gate: Gate::Passed(CheckId::ProcessPerClient),
    },
    Check {
        id: CheckId::AsyncUploads,
        slug: "async-uploads",
        name: "task 3: async uploads",
        title: "async uploads",
        weight: Weight::Optional,
        todos: &[8, 9],
        gate: Gate::TaskOne,
    },
];

impl CheckId {
    /// The checks in the grading table's order.
    pub const ALL: [CheckId; 6] = {
        let mut all = [CheckId::WholeUpload; 6];
        let mut row = 0;
        while row < TABLE.len() {
            all[row] = TABLE[row].id;
            row += 1;
        }
        all
    };

    /// The check's row in the grading table.
    pub fn row(self) -> &'static Check {
        TABLE
            .iter()
            .find(|row| row.id == self)
            .expect("every check has a row in the grading table")
    }

    /// The check's name in the report.
    pub fn name(self) -> &'static str {
        self.row().name
    }

    /// Its name without its task, for sentences.
    pub fn title(self) -> &'static str {
        self.row().title
    }

    pub fn slug(self) -> &'static str {
        self.row().slug
    }

    pub fn weight(self) -> Weight {
        self.row().weight
    }

    pub fn todos(self) -> &'static [u8] {
        self.row().todos
    }

    pub fn gate(self) -> Gate {
        self.row().gate
    }

    /// The most points it can earn: the table's, or what the lab's points.toml sets.
    pub fn max_points(self) -> u32 {
        match self.weight() {
            Weight::Points(points) => points::of(self, points),
            Weight::Bonus | Weight::Optional => 0,
        }
    }
}

/// Which checks a run grades (`--task`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Selection {
    /// Task 1: a whole upload, and keeps serving.
    #[value(name = "1")]
    TaskOne,
    /// Task 2: concurrent uploads, a process per client.
    #[value(name = "2")]
    TaskTwo,
    /// The bonus alone: no zombies.
    Bonus,
    /// Task 3 alone: async uploads (`--mode async`).
    #[value(name = "3")]
    TaskThree,
    /// Every check.
    All,
}

impl Selection {
    /// The checks selected, in the order of the grading table.
    pub fn checks(self) -> &'static [CheckId] {
        match self {
            Selection::TaskOne => &CheckId::ALL[..2],
            Selection::TaskTwo => &CheckId::ALL[2..4],
            Selection::Bonus => &CheckId::ALL[4..5],
            Selection::TaskThree => &CheckId::ALL[5..],
            Selection::All => &CheckId::ALL,
        }
    }

    pub fn includes(self, check: CheckId) -> bool {
        self.checks().contains(&check)
    }
}

/// How a check came out, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    NotChecked,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotChecked => "not checked",
        })
    }
}

/// How a check's outcome reads in a report: its status, except for optional work (the
/// bonus, task 3) that failed on its untouched given code, which reads `not begun`. The
/// lab's JSON keeps the status (`failed`, with `attempted: false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Is(Status),
    NotBegun,
}

impl Standing {
    /// The status behind the words.
    pub fn status(self) -> Status {
        match self {
            Standing::Is(status) => status,
            Standing::NotBegun => Status::Failed,
        }
    }
}

impl From<Status> for Standing {
    fn from(status: Status) -> Self {
        Standing::Is(status)
    }
}

impl fmt::Display for Standing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Standing::Is(status) => status.fmt(f),
            Standing::NotBegun => f.write_str("not begun"),
        }
    }
}

/// How a check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Failed, and what the judgement found.
    Failed(Finding),
    /// Not judged, because what it builds on failed; why.
    NotChecked(Finding),
}

impl Outcome {
    /// The outcome of a judgement that returns what it found when it fails.
    pub fn of(judged: Result<(), Finding>) -> Self {
        match judged {
            Ok(()) => Outcome::Passed,
            Err(reason) => Outcome::Failed(reason),
        }
    }

    pub fn status(&self) -> Status {
        match self {
            Outcome::Passed => Status::Passed,
            Outcome::Failed(_) => Status::Failed,
            Outcome::NotChecked(_) => Status::NotChecked,
        }
    }

    /// Why it did not pass, if it did not.
    pub fn finding(&self) -> Option<&Finding> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed(finding) | Outcome::NotChecked(finding) => Some(finding),
        }
    }
}

/// The verdict on one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub check: CheckId,
    pub outcome: Outcome,
}

impl Verdict {
    /// Every check of `selection`, not checked for the same reason.
    pub fn none_checked(selection: Selection, why: &Finding) -> Vec<Verdict> {
        selection
            .checks()
            .iter()
            .map(|&check| Verdict {
                check,
                outcome: Outcome::NotChecked(why.clone()),
            })
            .collect()
    }

    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }

    /// How the verdict reads in a report ([`Standing`]).
    pub fn standing(&self) -> Standing {
        let status = self.outcome.status();
        if self.check.max_points() == 0 && status == Status::Failed && !self.attempted() {
            Standing::NotBegun
        } else {
            Standing::Is(status)
        }
    }

    /// Whether the student started the work the check judges: false when it was not
    /// checked at all, or when it failed and its finding shows the given code of the
    /// check's first TODO untouched (`Finding::untouched_todo`): a student who did that
    /// TODO and not the next has begun.
    pub fn attempted(&self) -> bool {
        match &self.outcome {
            Outcome::Passed => true,
            Outcome::NotChecked(_) => false,
            Outcome::Failed(finding) => {
                finding.untouched_todo() != self.check.todos().first().copied()
                    || finding.untouched_todo().is_none()
            }
        }
    }

    /// The points it earned, out of the check's [`CheckId::max_points`].
    pub fn points(&self) -> u32 {
        if self.passed() {
            self.check.max_points()
        } else {
            0
        }
    }
}

/// The outcome of `check` among `verdicts`, if it was graded.
pub fn status_of(verdicts: &[Verdict], check: CheckId) -> Option<Status> {
    verdicts
        .iter()
        .find(|verdict| verdict.check == check)
        .map(|verdict| verdict.outcome.status())
}

#[cfg(test)]
mod tests;
