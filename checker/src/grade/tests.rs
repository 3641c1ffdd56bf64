//! Tests of the grade: the table, the selections, the verdicts and their sum.

use super::*;
use crate::checks::finding::Finding;

fn verdict(check: CheckId, outcome: Outcome) -> Verdict {
    Verdict { check, outcome }
}

#[test]
fn optional_work_is_attempted_unless_its_given_code_ran() {
    use crate::checks::evidence::{Blame, Cut, Origin, Stopped};
    let stopped = |how: &str, blame: Blame| {
        Outcome::Failed(Finding::Cut(Cut::ServerStopped(Stopped {
            how: how.to_owned(),
            blame,
        })))
    };
    let untouched = stopped(
        "it panicked at skeleton/src/bin/server.rs:274:5: not yet implemented: TODO 8: make the socket 5 non-blocking",
        Blame::Todo(Origin::NotYetDone(8)),
    );
    assert!(!verdict(CheckId::AsyncUploads, untouched.clone()).attempted());
    // The same given code met by another check names a TODO that is not its own.
    assert!(verdict(CheckId::WholeUpload, untouched).attempted());
    // A student's own panic that merely mentions a TODO is work begun.
    // TODO 8 done, TODO 9 as handed out: begun.
    let second = stopped(
        "it panicked at skeleton/src/bin/server.rs:300:5: not yet implemented: TODO 9: read what is there",
        Blame::Todo(Origin::NotYetDone(9)),
    );
    assert!(verdict(CheckId::AsyncUploads, second).attempted());
    let own = stopped(
        "it panicked at server.rs:9:1: TODO 8 is hard",
        Blame::Untold,
    );
    assert!(verdict(CheckId::AsyncUploads, own).attempted());
    let no_signalfd = Outcome::Failed(Finding::ZombiesWithoutReaper { zombies: vec![7] });
    assert!(!verdict(CheckId::NoZombies, no_signalfd).attempted());
    let not_checked = Outcome::NotChecked(Finding::NeedsWholeUpload);
    assert!(!verdict(CheckId::NoZombies, not_checked).attempted());
    assert!(verdict(CheckId::NoZombies, Outcome::Passed).attempted());
}

#[test]
fn the_bonus_is_reported_but_never_counted() {
    let verdicts = [
        verdict(CheckId::WholeUpload, Outcome::Passed),
        verdict(CheckId::KeepsServing, Outcome::Passed),
        verdict(CheckId::Concurrent, Outcome::Failed(Finding::NoWholeUpload)),
        verdict(
            CheckId::ProcessPerClient,
            Outcome::Failed(Finding::NoWholeUpload),
        ),
        verdict(
            CheckId::NoZombies,
            Outcome::NotChecked(Finding::NeedsWholeUpload),
        ),
        verdict(
            CheckId::AsyncUploads,
            Outcome::Failed(Finding::NoWholeUpload),
        ),
    ];
    let score = Score::of(&verdicts);
    assert_eq!(
        score.total_line(),
        "Total: 50/100, bonus not checked, task 3 failed"
    );
    assert!(!score.all_passed);
    assert_eq!(score.fraction(), 0.5);
}

#[test]
fn the_bonus_alone_passes_or_fails_the_run() {
    let passed = [verdict(CheckId::NoZombies, Outcome::Passed)];
    assert_eq!(Score::of(&passed).total_line(), "Total: bonus passed");
    assert!(Score::of(&passed).all_passed);
    let failed = [verdict(
        CheckId::NoZombies,
        Outcome::Failed(Finding::NoWholeUpload),
    )];
    assert!(!Score::of(&failed).all_passed);
    assert_eq!(Score::of(&failed).fraction(), 0.0);
}

#[test]
fn task_three_alone_passes_or_fails_the_run_but_never_costs_points() {
    let passed = [verdict(CheckId::AsyncUploads, Outcome::Passed)];
    assert_eq!(Score::of(&passed).total_line(), "Total: task 3 passed");
    assert!(Score::of(&passed).all_passed);
    let mut all: Vec<_> = CheckId::ALL
        .iter()
        .map(|&check| verdict(check, Outcome::Passed))
        .collect();
    all[5].outcome = Outcome::Failed(Finding::NoWholeUpload);
    let score = Score::of(&all);
    assert!(score.all_passed);
    assert_eq!(
        score.total_line(),
        "Total: 100/100, bonus passed, task 3 failed"
    );
}

#[test]
fn a_check_not_checked_scores_nothing() {
    let verdicts = [verdict(
        CheckId::Concurrent,
        Outcome::NotChecked(Finding::NeedsWholeUpload),
    )];
    assert_eq!(Score::of(&verdicts).total_line(), "Total: 0/25");
}

#[test]
fn each_selection_is_a_part_of_the_table_in_its_order() {
    assert_eq!(
        Selection::TaskOne.checks(),
        [CheckId::WholeUpload, CheckId::KeepsServing]
    );
    assert_eq!(Selection::Bonus.checks(), [CheckId::NoZombies]);
    assert_eq!(Selection::TaskThree.checks(), [CheckId::AsyncUploads]);
    let max: u32 = Selection::All
        .checks()
        .iter()
        .map(|check| check.max_points())
        .sum();
    assert_eq!(max, 100);
}

#[test]
fn every_check_has_one_row_with_a_slug_of_its_own() {
    for check in CheckId::ALL {
        assert_eq!(check.row().id, check);
        let slug = check.slug();
        assert!(
            slug.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
            "{slug}"
        );
        assert_eq!(
            CheckId::ALL
                .iter()
                .filter(|other| other.slug() == slug)
                .count(),
            1
        );
    }
    assert_eq!(CheckId::ALL.len(), TABLE.len());
}
