//! Watching a run from the outside. The scenarios tell an [`Observer`] what happens (a
//! server started, how far the uploads are, where the checker stopped a server) and know
//! nothing of who listens: the progress bars, the picture's recorder and the live report
//! are observers, and so is anything a test wants to see.

use crate::clients::Uploads;
use crate::run::Note;

pub trait Observer {
    /// The run says `note`, before any verdict (what is graded, the build, the test file).
    fn note(&self, _note: &Note) {}
    /// A server started for the scenario `title`.
    fn server_started(&self, _title: &str) {}
    /// A batch of clients started: they upload from now on.
    fn uploads_started(&self, _uploads: &Uploads) {}
    /// How far each client of `uploads` has got, now.
    fn uploads(&self, _uploads: &Uploads) {}
    /// The checker stopped watching `uploads`: they all ended, or the watch was cut.
    fn uploads_over(&self, _uploads: &Uploads) {}
    /// The checker stopped the current server with a verdict, `why`.
    fn server_stopped(&self, _why: &str) {}
}

/// Two observers, each told everything.
pub struct Both<'a>(pub &'a dyn Observer, pub &'a dyn Observer);

impl Observer for Both<'_> {
    fn note(&self, note: &Note) {
        self.0.note(note);
        self.1.note(note);
    }

    fn server_started(&self, title: &str) {
        self.0.server_started(title);
        self.1.server_started(title);
    }

    fn uploads_started(&self, uploads: &Uploads) {
        self.0.uploads_started(uploads);
        self.1.uploads_started(uploads);
    }

    fn uploads(&self, uploads: &Uploads) {
        self.0.uploads(uploads);
        self.1.uploads(uploads);
    }

    fn uploads_over(&self, uploads: &Uploads) {
        self.0.uploads_over(uploads);
        self.1.uploads_over(uploads);
    }

    fn server_stopped(&self, why: &str) {
        self.0.server_stopped(why);
        self.1.server_stopped(why);
    }
}
