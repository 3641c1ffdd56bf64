//! The grade: the checks of the grading table, what each is worth, and the verdict on
//! each. This module depends on nothing else of the checker; the checks produce
//! verdicts, the report prints them.

/// What passing a check is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// Points out of 100.
    Points(u32),
    /// Reported, never counted.
    Bonus,
}

/// One line of the grading table.
#[derive(Debug)]
pub struct Check {
    pub name: &'static str,
    pub weight: Weight,
}

impl Check {
    /// A check worth 25 of the 100 points.
    const fn graded(name: &'static str) -> Self {
        Check {
            name,
            weight: Weight::Points(25),
        }
    }
}

pub const WHOLE_UPLOAD: Check = Check::graded("task 1: receives a whole upload");
pub const KEEPS_SERVING: Check = Check::graded("task 1: keeps serving");
pub const CONCURRENT: Check = Check::graded("task 2: concurrent uploads");
pub const PROCESS_PER_CLIENT: Check = Check::graded("task 2: a process per client");
pub const NO_ZOMBIES: Check = Check {
    name: "bonus: no zombies",
    weight: Weight::Bonus,
};

/// How a check came out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// Failed, and why, in plain words that name the TODO to look at.
    Failed(String),
    /// Not judged, because what it builds on failed; why.
    NotChecked(String),
}

impl Outcome {
    /// The outcome of a judgement that returns its reason for failing.
    pub fn of(judged: Result<(), String>) -> Self {
        match judged {
            Ok(()) => Outcome::Passed,
            Err(reason) => Outcome::Failed(reason),
        }
    }

    /// The status word of the report.
    pub fn status(&self) -> &'static str {
        match self {
            Outcome::Passed => "passed",
            Outcome::Failed(_) => "failed",
            Outcome::NotChecked(_) => "not checked",
        }
    }

    /// Why it did not pass, if it did not.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Passed => None,
            Outcome::Failed(reason) | Outcome::NotChecked(reason) => Some(reason),
        }
    }
}

/// The verdict on one check.
#[derive(Debug)]
pub struct Verdict {
    pub check: &'static Check,
    pub outcome: Outcome,
}

impl Verdict {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }

    /// The points it earned, out of [`Verdict::max_points`].
    pub fn points(&self) -> u32 {
        match self.check.weight {
            Weight::Points(points) if self.passed() => points,
            _ => 0,
        }
    }

    pub fn max_points(&self) -> u32 {
        match self.check.weight {
            Weight::Points(points) => points,
            Weight::Bonus => 0,
        }
    }
}

/// The sum of a set of verdicts.
#[derive(Debug, PartialEq, Eq)]
pub struct Score {
    pub points: u32,
    pub max: u32,
    /// The bonus outcome's status word, if the bonus was among the verdicts.
    pub bonus: Option<&'static str>,
    /// Whether every check that counts passed (the bonus counts only when it is all
    /// that was asked for).
    pub all_passed: bool,
}

impl Score {
    pub fn of(verdicts: &[Verdict]) -> Self {
        let counted: Vec<_> = verdicts
            .iter()
            .filter(|verdict| verdict.check.weight != Weight::Bonus)
            .collect();
        let bonus = verdicts
            .iter()
            .find(|verdict| verdict.check.weight == Weight::Bonus);
        let all_passed = if counted.is_empty() {
            bonus.is_some_and(Verdict::passed)
        } else {
            counted.iter().all(|verdict| verdict.passed())
        };
        Score {
            points: counted.iter().map(|verdict| verdict.points()).sum(),
            max: counted.iter().map(|verdict| verdict.max_points()).sum(),
            bonus: bonus.map(|verdict| verdict.outcome.status()),
            all_passed,
        }
    }

    /// `Total: 75/100, bonus not checked`, or `Total: bonus passed` for the bonus alone.
    pub fn total_line(&self) -> String {
        match (self.max, self.bonus) {
            (0, Some(bonus)) => format!("Total: bonus {bonus}"),
            (_, Some(bonus)) => format!("Total: {}/{}, bonus {bonus}", self.points, self.max),
            (_, None) => format!("Total: {}/{}", self.points, self.max),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(check: &'static Check, outcome: Outcome) -> Verdict {
        Verdict { check, outcome }
    }

    #[test]
    fn the_bonus_is_reported_but_never_counted() {
        let verdicts = [
            verdict(&WHOLE_UPLOAD, Outcome::Passed),
            verdict(&KEEPS_SERVING, Outcome::Passed),
            verdict(&CONCURRENT, Outcome::Failed("x".into())),
            verdict(&PROCESS_PER_CLIENT, Outcome::Failed("x".into())),
            verdict(&NO_ZOMBIES, Outcome::NotChecked("x".into())),
        ];
        let score = Score::of(&verdicts);
        assert_eq!(score.total_line(), "Total: 50/100, bonus not checked");
        assert!(!score.all_passed);
    }

    #[test]
    fn the_bonus_alone_passes_or_fails_the_run() {
        let passed = [verdict(&NO_ZOMBIES, Outcome::Passed)];
        assert_eq!(Score::of(&passed).total_line(), "Total: bonus passed");
        assert!(Score::of(&passed).all_passed);
        let failed = [verdict(&NO_ZOMBIES, Outcome::Failed("x".into()))];
        assert!(!Score::of(&failed).all_passed);
    }

    #[test]
    fn a_check_not_checked_scores_nothing() {
        let verdicts = [verdict(&CONCURRENT, Outcome::NotChecked("x".into()))];
        assert_eq!(Score::of(&verdicts).total_line(), "Total: 0/25");
    }
}
