//! Conditions that count only once they have held for a while: a client waiting unserved,
//! a server blocked in one call, no byte moving, a server asleep. Every such wait in the
//! checks notes, at each look, whether its condition holds, and this one type keeps when it
//! began.

use std::time::{Duration, Instant};

/// A condition that counts once it has held for `need`, unchanged: at each look the
/// caller says what holds now (`Some(state)`, or `None` for nothing), and a state unlike
/// the last one starts the count afresh (blocked in another call is not blocked longer).
pub struct Lasting<State = ()> {
    need: Duration,
    since: Option<(Instant, State)>,
}

impl<State: PartialEq> Lasting<State> {
    pub fn new(need: Duration) -> Self {
        Lasting { need, since: None }
    }

    /// Notes what holds now; returns how long it has held unchanged, once that is at
    /// least `need`.
    pub fn holds_as(&mut self, now: Option<State>) -> Option<Duration> {
        let Some(state) = now else {
            self.since = None;
            return None;
        };
        let since = match self.since.take() {
            Some((since, was)) if was == state => since,
            _ => Instant::now(),
        };
        self.since = Some((since, state));
        let lasted = since.elapsed();
        (lasted >= self.need).then_some(lasted)
    }
}

impl Lasting<()> {
    /// Notes whether the condition holds now; returns how long it has held, once that is
    /// at least `need`.
    pub fn holds(&mut self, now: bool) -> Option<Duration> {
        self.holds_as(now.then_some(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_condition_counts_once_it_has_held_long_enough() {
        let mut quiet = Lasting::new(Duration::from_millis(30));
        assert_eq!(quiet.holds(true), None);
        std::thread::sleep(Duration::from_millis(40));
        assert!(
            quiet
                .holds(true)
                .is_some_and(|lasted| lasted >= Duration::from_millis(30))
        );
        assert_eq!(quiet.holds(false), None);
        assert_eq!(quiet.holds(true), None, "a break starts the count afresh");
    }

    #[test]
    fn another_state_starts_the_count_afresh() {
        let mut blocked = Lasting::new(Duration::from_millis(30));
        assert_eq!(blocked.holds_as(Some(("read", 4))), None);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(blocked.holds_as(Some(("read", 5))), None);
        std::thread::sleep(Duration::from_millis(40));
        assert!(blocked.holds_as(Some(("read", 5))).is_some());
    }
}
