//! The run as it goes, on the checker's stdout: each note as soon as the run says it, and
//! live progress of the uploads with a bar per client, drawn only on a terminal (the
//! report's plain lines say it all elsewhere).

use std::cell::RefCell;
use std::io::Write;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::clients::Uploads;
use crate::observe::Observer;
use crate::report::text;
use crate::run::Note;

pub struct Terminal {
    bars: MultiProgress,
    /// The bar of each client of the uploads under way, by the client's number.
    shown: RefCell<Vec<(usize, ProgressBar)>>,
}

impl Terminal {
    pub fn new() -> Self {
        Terminal {
            bars: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            shown: RefCell::default(),
        }
    }

    /// Whether progress is drawn (stdout is a terminal).
    fn is_live(&self) -> bool {
        !self.bars.is_hidden()
    }
}

/// Prints `text` on stdout. A closed stdout (`checker | head`) is ignored: it is no reason
/// to stop halfway, let alone to leave a server running.
pub fn print(text: &str) {
    let _ = write!(anstream::stdout(), "{text}");
}

impl Observer for Terminal {
    fn note(&self, note: &Note) {
        print(&format!("{}\n", text::note_line(note)));
    }

    fn uploads(&self, uploads: &Uploads) {
        if !self.is_live() {
            return;
        }
        let mut shown = self.shown.borrow_mut();
        for upload in &uploads.uploads {
            let bar = match shown.iter().find(|(number, _)| *number == upload.number) {
                Some((_, bar)) => bar.clone(),
                None => {
                    let bar = self.bars.add(ProgressBar::new(uploads.bytes));
                    bar.set_style(bar_style());
                    bar.set_prefix(crate::clients::upload_name(upload.number));
                    shown.push((upload.number, bar.clone()));
                    bar
                }
            };
            bar.set_position(upload.sent());
        }
    }

    fn uploads_over(&self, _uploads: &Uploads) {
        for (_, bar) in self.shown.borrow_mut().drain(..) {
            bar.finish_and_clear();
            self.bars.remove(&bar);
        }
    }
}

/// `  upload D [#########-----------]  12.0 MiB/100.0 MiB  9.8 MiB/s`
fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "  {prefix:>9} [{bar:30}] {bytes:>10}/{total_bytes:<10} {bytes_per_sec}",
    )
    .expect("a valid template")
    .progress_chars("#>-")
}
