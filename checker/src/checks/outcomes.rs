//! The outcomes of a run's checks as they are judged, with when each was decided: the
//! gates of the grading table, the run's time limit and the memory cap are applied to
//! them, and the verdicts are read from them in the order of the grading table.

use std::time::Instant;

use crate::checks::evidence::InTurn;
use crate::checks::finding::{Finding, Limit};
use crate::checks::{Graded, judge};
use crate::grade::{CheckId, Gate, Outcome, Selection, Verdict};
use crate::server::guard;

/// The outcomes judged so far in a run, by check, with when each was decided.
#[derive(Default)]
pub(super) struct Outcomes(Vec<(CheckId, Outcome, Instant)>);

impl Outcomes {
    pub(super) fn set(&mut self, check: CheckId, outcome: Outcome) {
        self.0.retain(|(judged, _, _)| *judged != check);
        self.0.push((check, outcome, Instant::now()));
    }

    fn take(&mut self, check: CheckId) -> Option<Outcome> {
        let at = self.0.iter().position(|(judged, _, _)| *judged == check)?;
        Some(self.0.remove(at).1)
    }

    fn passed(&self, check: CheckId) -> bool {
        self.0
            .iter()
            .any(|(judged, outcome, _)| *judged == check && *outcome == Outcome::Passed)
    }

    /// Whether `check` can be judged, by its gate in the grading table; if not, why.
    pub(super) fn gate(&self, check: CheckId, in_turn: &InTurn) -> judge::Judged {
        match check.gate() {
            Gate::Builds => Ok(()),
            Gate::TaskOne => judge::task_two_judged(self.passed(CheckId::WholeUpload), in_turn),
            Gate::Passed(other) if self.passed(other) => Ok(()),
            Gate::Passed(other) => Err(judge::needs_passed(check, other)),
        }
    }

    /// The run's time limit decides no verdict: a check that did not pass, decided once
    /// the limit had been reached (its scenario was cut by it, or never ran), says that it
    /// was not decided within the limit, whatever the cut looked like. So a longer
    /// `--timeout` can only turn "not decided" into a verdict, never change one.
    pub(super) fn not_decided_past_the_time_limit(&mut self) {
        for (_, outcome, decided) in &mut self.0 {
            let Some(limit) = guard::limit_reached_before(*decided) else {
                continue;
            };
            let finding = Finding::Limit(Limit::Time { limit });
            *outcome = match outcome {
                Outcome::Passed => continue,
                Outcome::Failed(_) => Outcome::Failed(finding),
                Outcome::NotChecked(_) => Outcome::NotChecked(finding),
            };
        }
    }

    /// A check that failed on a server one of whose processes reached the memory cap
    /// (its section of the log, `section` of the check, holds Rust's word of the refused
    /// allocation) names that cap, whatever the cut looked like (a reset connection, a
    /// server that stopped).
    pub(super) fn name_the_memory_cap(&mut self, section: impl Fn(CheckId) -> Option<Vec<String>>) {
        for (check, outcome, _) in &mut self.0 {
            if !matches!(outcome, Outcome::Failed(_)) {
                continue;
            }
            let refused = section(*check).and_then(|lines| {
                lines
                    .iter()
                    .find_map(|line| crate::server::allocation_failed(line))
            });
            if let Some(asked) = refused {
                *outcome = Outcome::Failed(Finding::Limit(Limit::Memory {
                    asked,
                    cap: crate::contain::limits::SERVER_MEMORY,
                }));
            }
        }
    }

    /// The verdicts on the checks of `selection`, in the order of the grading table, and
    /// the section of the log (`section_of` a check) behind the first failed one.
    pub(super) fn graded(
        mut self,
        selection: Selection,
        section_of: impl Fn(CheckId) -> Option<u64>,
        not_observed: Vec<String>,
    ) -> Graded {
        let verdicts: Vec<Verdict> = selection
            .checks()
            .iter()
            .filter_map(|&check| {
                Some(Verdict {
                    check,
                    outcome: self.take(check)?,
                })
            })
            .collect();
        let failed_log_start = verdicts
            .iter()
            .find(|verdict| matches!(verdict.outcome, Outcome::Failed(_)))
            .and_then(|verdict| section_of(verdict.check));
        Graded {
            verdicts,
            failed_log_start,
            not_observed,
        }
    }
}
