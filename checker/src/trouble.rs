//! Why a run gives no grade. This is never a verdict on the server: it travels from where
//! it happens to the exit policy in `main` and nowhere else.

use lab::Failure;

#[derive(Debug)]
pub enum Trouble {
    /// The command line asks for something impossible (exit status 2).
    Usage(Failure),
    /// The checker itself could not grade: its environment, a busy port, a log it cannot
    /// write, a server binary it cannot start (exit status 3).
    Checker(Failure),
}

impl From<Failure> for Trouble {
    fn from(failure: Failure) -> Self {
        Trouble::Checker(failure)
    }
}
