//! What a run says about each check: its status in one word, how it reads in a report,
//! its outcome with the finding behind a failure, and the verdict that ties an outcome to
//! its check.

use std::fmt;

use crate::checks::finding::Finding;

use super::{CheckId, Selection};

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
