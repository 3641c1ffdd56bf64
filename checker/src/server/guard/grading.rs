//! One grading's state, a value owned by its run: its time limit and the deadline thread
//! that keeps it, whether it was stopped and why, its temporary folders; and what cancels
//! it from another thread.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::{lock, registry, time_limit_reason};

/// One grading's state that other threads must reach: its deadline thread, a watch that
/// cancels it, the process guard, the interrupt handler.
pub struct Grading {
    pub(super) id: u64,
    pub(super) state: Mutex<State>,
    /// Wakes the deadline thread when the state changes.
    changed: Condvar,
    /// Temporary folders to remove if the grading is cancelled or the checker
    /// interrupted: the normal paths remove them when their owner is dropped.
    pub(super) temporary: Mutex<Vec<PathBuf>>,
}

/// Where a grading stands.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum State {
    /// Under way; its time limit, once the deadline is set.
    Running { limit: Option<Duration> },
    /// Its time limit passed at `at`, and every server was stopped.
    TimedOut { limit: Duration, at: Instant },
    /// Cancelled (`why`): every server was stopped.
    Cancelled { why: String },
    /// Over: its owner dropped it.
    Over,
}

/// A grading under way: [`Grading::begin`]'s value, owned by the run. Dropped, the
/// grading is over: its deadline thread ends and the registry forgets it.
pub struct GradingUnderWay(Arc<Grading>);

/// What may cancel a grading from another thread.
#[derive(Clone)]
pub struct Canceller(Arc<Grading>);

impl Grading {
    /// Begins a grading: the grading under way until the value is dropped.
    pub fn begin() -> GradingUnderWay {
        let mut registry = registry();
        registry.begun += 1;
        let grading = Arc::new(Grading {
            id: registry.begun,
            state: Mutex::new(State::Running { limit: None }),
            changed: Condvar::new(),
            temporary: Mutex::new(Vec::new()),
        });
        registry.gradings.push(Arc::clone(&grading));
        GradingUnderWay(grading)
    }

    /// Gives the rest of the grading `limit`: then every running server group of it is
    /// stopped, and no new server starts. A server that never ends (or reads a little
    /// every few seconds) cannot make a run last for hours. The deadline thread ends
    /// with the grading.
    pub fn stop_after(self: &Arc<Self>, limit: Duration) {
        {
            let mut state = lock(&self.state);
            if let State::Running { limit: set } = &mut *state {
                *set = Some(limit);
            }
        }
        let grading = Arc::clone(self);
        let _ = thread::Builder::new()
            .name("deadline".into())
            .spawn(move || grading.wait_for_deadline(Instant::now() + limit));
    }

    /// The deadline thread: waits until `deadline` or the end of the grading, whichever
    /// comes first, and stops the grading at the deadline.
    fn wait_for_deadline(&self, deadline: Instant) {
        let mut state = lock(&self.state);
        loop {
            let State::Running { limit: Some(limit) } = &*state else {
                return;
            };
            let now = Instant::now();
            if now >= deadline {
                let limit = *limit;
                drop(state);
                self.stop(
                    State::TimedOut {
                        limit,
                        at: Instant::now(),
                    },
                    &time_limit_reason(limit),
                );
                return;
            }
            state = self
                .changed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
        }
    }

    /// Stops the grading, unless it is stopped or over already: `to` is its state from
    /// now on, and each of its running groups is stopped with `why` in its log. The
    /// registry is held throughout, so no server of it starts meanwhile.
    fn stop(&self, to: State, why: &str) {
        let running = registry();
        {
            let mut state = lock(&self.state);
            if !matches!(*state, State::Running { .. }) {
                return;
            }
            *state = to;
        }
        self.changed.notify_all();
        for (_, server) in running.running.iter().filter(|(id, _)| *id == self.id) {
            server.stop(why);
        }
    }

    /// Why the grading can go on no longer, once its time limit has passed or it was
    /// cancelled.
    pub(super) fn stopped(&self) -> Option<String> {
        match &*lock(&self.state) {
            State::TimedOut { limit, .. } => Some(time_limit_reason(*limit)),
            State::Cancelled { why } => Some(why.clone()),
            State::Running { .. } | State::Over => None,
        }
    }

    /// A handle that cancels this grading from another thread.
    pub fn canceller(self: &Arc<Self>) -> Canceller {
        Canceller(Arc::clone(self))
    }

    pub(super) fn remove_temporaries(&self) {
        for dir in lock(&self.temporary).drain(..) {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

impl std::ops::Deref for GradingUnderWay {
    type Target = Arc<Grading>;

    fn deref(&self) -> &Arc<Grading> {
        &self.0
    }
}

impl Drop for GradingUnderWay {
    fn drop(&mut self) {
        let mut registry = registry();
        *lock(&self.0.state) = State::Over;
        self.0.changed.notify_all();
        registry
            .gradings
            .retain(|grading| !Arc::ptr_eq(grading, &self.0));
        let id = self.0.id;
        registry.running.retain(|(grading, _)| *grading != id);
    }
}

impl Canceller {
    /// Cancels the grading: every process group it started is killed (its log says
    /// `why`), nothing new of it starts, and its temporary folders are removed. What it
    /// was doing then ends soon, with nothing left to wait for.
    pub fn cancel(&self, why: &str) {
        self.0.stop(
            State::Cancelled {
                why: why.to_owned(),
            },
            why,
        );
        self.0.remove_temporaries();
    }
}
