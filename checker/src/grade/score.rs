//! The sum of a run's verdicts: its points, the bonus and task 3 beside them, and the
//! total line every rendering shows.

use crate::grade::{Standing, Verdict, Weight};

/// The sum of a set of verdicts: the one scoring of every run and every rendering.
#[derive(Debug, PartialEq, Eq)]
pub struct Score {
    pub points: u32,
    pub max: u32,
    /// The bonus outcome, if the bonus was among the verdicts.
    pub bonus: Option<Standing>,
    /// Task 3's outcome, if it was among the verdicts.
    pub task_three: Option<Standing>,
    /// Whether every check that counts passed (a check that is not counted counts only
    /// when it is all that was asked for).
    pub all_passed: bool,
}

impl Score {
    pub fn of(verdicts: &[Verdict]) -> Self {
        let counted: Vec<_> = verdicts
            .iter()
            .filter(|verdict| verdict.check.max_points() > 0)
            .collect();
        let find = |weight| {
            verdicts
                .iter()
                .find(|verdict| verdict.check.weight() == weight)
        };
        let (bonus, task_three) = (find(Weight::Bonus), find(Weight::Optional));
        let all_passed = if counted.is_empty() {
            bonus.or(task_three).is_some_and(Verdict::passed)
        } else {
            counted.iter().all(|verdict| verdict.passed())
        };
        Score {
            points: counted.iter().map(|verdict| verdict.points()).sum(),
            max: counted
                .iter()
                .map(|verdict| verdict.check.max_points())
                .sum(),
            bonus: bonus.map(Verdict::standing),
            task_three: task_three.map(Verdict::standing),
            all_passed,
        }
    }

    /// `Total: 75/100, bonus not checked, task 3 not begun`; `Total: bonus passed` for the
    /// bonus alone, `Total: task 3 passed` for task 3 alone.
    pub fn total_line(&self) -> String {
        let mut parts = Vec::new();
        if self.max > 0 || (self.bonus.is_none() && self.task_three.is_none()) {
            parts.push(format!("{}/{}", self.points, self.max));
        }
        if let Some(bonus) = self.bonus {
            parts.push(format!("bonus {bonus}"));
        }
        if let Some(task_three) = self.task_three {
            parts.push(format!("task 3 {task_three}"));
        }
        format!("Total: {}", parts.join(", "))
    }

    /// The score as a fraction of the points at stake (PrairieLearn's 0 to 1); the bonus
    /// alone is all or nothing.
    pub fn fraction(&self) -> f64 {
        match self.max {
            0 => f64::from(u8::from(self.all_passed)),
            max => f64::from(self.points) / f64::from(max),
        }
    }
}
