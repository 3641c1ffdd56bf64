//! The checker's pictures, drawn after the verdicts from what it recorded anyway: the
//! uploads over time (`uploads.svg`), one panel per server the run started; and the
//! read-size experiment (`buf-size.svg`); and the experiment with many clients
//! (`clients.svg`).
//!
//! Drawn with plotters' SVG backend and its own text layout: the SVG names a font family
//! and leaves the glyphs to the viewer, so no font or system library is needed.

use std::cell::RefCell;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use lab::MIB;
use plotters::prelude::*;

use crate::clients::{Upload, Uploads};
use crate::observe::Observer;

mod experiments;

pub use experiments::{draw_buf_sizes, draw_clients};

/// The lines' colours, by client in order: dark enough to read on white, and apart.
const COLOURS: [RGBColor; 8] = [
    RGBColor(200, 30, 45),
    RGBColor(30, 90, 200),
    RGBColor(20, 140, 60),
    RGBColor(230, 120, 0),
    RGBColor(130, 50, 170),
    RGBColor(120, 80, 40),
    RGBColor(0, 140, 150),
    RGBColor(60, 60, 60),
];

/// The most points kept per line: enough for the shape, and the file stays small.
const MOST_POINTS: usize = 150;

/// One client's upload over time: seconds since its server started, and bytes sent.
pub struct Series {
    pub client: usize,
    pub points: Vec<(f64, u64)>,
}

/// One server of the run: its scenario, its clients, and where the checker stopped it
/// with a verdict, if it did.
pub struct Trace {
    pub title: String,
    started: Instant,
    pub series: Vec<Series>,
    pub stopped: Option<(f64, String)>,
    /// Every client started for this server: each sample records them all, so that a
    /// client that waits (held, queued) draws its flat line from its start.
    clients: Vec<Arc<Upload>>,
}

/// What the uploads did, as the scenarios watched them: an observer of the run.
#[derive(Default)]
pub struct Recorder {
    traces: RefCell<Vec<Trace>>,
}

impl Observer for Recorder {
    fn server_started(&self, title: &str) {
        self.traces.borrow_mut().push(Trace {
            title: title.to_owned(),
            started: Instant::now(),
            series: Vec::new(),
            stopped: None,
            clients: Vec::new(),
        });
    }

    fn uploads_started(&self, uploads: &Uploads) {
        if let Some(trace) = self.traces.borrow_mut().last_mut() {
            trace.clients.extend(uploads.uploads.iter().cloned());
        }
        self.uploads(uploads);
    }

    fn uploads(&self, _uploads: &Uploads) {
        let mut traces = self.traces.borrow_mut();
        let Some(trace) = traces.last_mut() else {
            return;
        };
        let at = trace.started.elapsed().as_secs_f64();
        for upload in &trace.clients {
            let point = (at, upload.sent());
            match trace
                .series
                .iter_mut()
                .find(|series| series.client == upload.number)
            {
                Some(series) => series.points.push(point),
                None => trace.series.push(Series {
                    client: upload.number,
                    points: vec![point],
                }),
            }
        }
    }

    fn uploads_over(&self, uploads: &Uploads) {
        self.uploads(uploads);
    }

    fn server_stopped(&self, why: &str) {
        if let Some(trace) = self.traces.borrow_mut().last_mut() {
            trace.stopped = Some((trace.started.elapsed().as_secs_f64(), why.to_owned()));
        }
    }
}

impl Recorder {
    /// Draws every server that ran uploads into the SVG file `path`.
    pub fn draw(&self, path: &Path) -> Result<(), String> {
        let traces = self.traces.borrow();
        let drawn: Vec<&Trace> = traces
            .iter()
            .filter(|trace| !trace.series.is_empty())
            .collect();
        draw_uploads(&drawn, path).map_err(|e| format!("drawing {}: {e}", path.display()))
    }
}

/// Every `n`-th point and the last, so that a line has at most [`MOST_POINTS`].
fn thinned(points: &[(f64, u64)]) -> Vec<(f64, f64)> {
    let step = points.len().div_ceil(MOST_POINTS).max(1);
    let mut kept: Vec<(f64, f64)> = points
        .iter()
        .step_by(step)
        .map(|&(at, bytes)| (at, bytes as f64 / MIB as f64))
        .collect();
    if let Some(&(at, bytes)) = points.last()
        && !(points.len() - 1).is_multiple_of(step)
    {
        kept.push((at, bytes as f64 / MIB as f64));
    }
    kept
}

fn draw_uploads(traces: &[&Trace], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let panels = traces.len().max(1);
    let root = SVGBackend::new(path, (900, 280 * panels as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    for (trace, area) in traces.iter().zip(root.split_evenly((panels, 1))) {
        let end = trace
            .series
            .iter()
            .filter_map(|series| series.points.last().map(|point| point.0))
            .chain(trace.stopped.as_ref().map(|stop| stop.0))
            .fold(0.1_f64, f64::max);
        let top = trace
            .series
            .iter()
            .filter_map(|series| series.points.iter().map(|point| point.1).max())
            .max()
            .unwrap_or(MIB)
            .max(MIB) as f64
            / MIB as f64;
        // Both axes begin a little before zero, so that no line lies hidden on an axis.
        let mut chart = ChartBuilder::on(&area)
            .caption(&trace.title, ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(-end * 0.01..end * 1.05, -top * 0.04..top * 1.12)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the server started")
            .y_desc("MiB sent")
            .light_line_style(WHITE)
            .draw()?;
        let mut series: Vec<&Series> = trace.series.iter().collect();
        series.sort_by_key(|series| series.client);
        for (index, series) in series.into_iter().enumerate() {
            let colour = COLOURS[index % COLOURS.len()];
            let points = thinned(&series.points);
            chart.draw_series(LineSeries::new(
                points.iter().copied(),
                colour.stroke_width(2),
            ))?;
            // Where the line ends: even a short upload shows as a dot.
            if let Some(&last) = points.last() {
                chart.draw_series(std::iter::once(Circle::new(last, 3, colour.filled())))?;
            }
            // The key, top left, where rising lines leave room.
            chart.draw_series(std::iter::once(Text::new(
                crate::clients::upload_name(series.client),
                (end * 0.01, top * (1.07 - 0.09 * index as f64)),
                ("sans-serif", 13).into_font().color(&colour),
            )))?;
        }
        if let Some((at, why)) = &trace.stopped {
            let width = end * 0.004;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(*at, 0.0), (*at + width, top * 1.1)],
                RED.mix(0.6).filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("the checker stopped the server: {why}"),
                (*at * 0.5, top * 1.05),
                ("sans-serif", 13).into_font().color(&RED),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}
