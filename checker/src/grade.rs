//! The grade: the checks of the grading table in its order, what each is worth, which a
//! run selects, the verdict on each and their sum. Checks and outcomes are identified by
//! their types; their words are for people only.

use clap::ValueEnum;

pub mod points;
mod score;
mod verdict;

pub use score::Score;
pub use verdict::{Outcome, Standing, Status, Verdict, status_of};

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

#[cfg(test)]
mod tests;
