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

use gen_testfile::human_size;
use lab::MIB;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::checks::experiment::Row;
use crate::checks::many_clients::{self, Load, LoadRow};
use crate::clients::{Upload, Uploads};
use crate::observe::Observer;

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

/// Draws the read-size experiment into the SVG file `path`: throughput against read
/// size, both on logarithmic axes, a point per size.
pub fn draw_buf_sizes(rows: &[Row], path: &Path) -> Result<(), String> {
    draw_rows(rows, path).map_err(|e| format!("drawing {}: {e}", path.display()))
}

fn draw_rows(rows: &[Row], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (720, 420)).into_drawing_area();
    root.fill(&WHITE)?;
    let sizes = rows.iter().map(|row| row.read_size as f64);
    let rates = rows.iter().map(|row| row.throughput);
    let (smallest, largest) = (
        sizes.clone().fold(f64::MAX, f64::min),
        sizes.fold(1.0, f64::max),
    );
    let (slowest, fastest) = (
        rates.clone().fold(f64::MAX, f64::min),
        rates.fold(0.001, f64::max),
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "One upload, once per read size: the cost is a system call per read",
            ("sans-serif", 16),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(
            (smallest / 2.0..largest * 4.0).log_scale(),
            (slowest / 2.0..fastest * 2.0).log_scale(),
        )?;
    // The x axis is marked at the sizes measured, not at powers of ten: a line through
    // each, and its size at the bottom.
    chart
        .configure_mesh()
        .x_desc("bytes per read (--buf-size)")
        .y_desc("MiB/s")
        .disable_x_mesh()
        .x_label_formatter(&|_| String::new())
        .y_label_formatter(&|rate| format!("{rate:.0}"))
        .light_line_style(WHITE)
        .draw()?;
    let (bottom, top) = (slowest / 2.0, fastest * 2.0);
    for row in rows {
        let size = row.read_size as f64;
        chart.draw_series(LineSeries::new(
            [(size, bottom), (size, top)],
            RGBColor(210, 210, 210).stroke_width(1),
        ))?;
        chart.draw_series(std::iter::once(Text::new(
            human_size(row.read_size),
            (size, bottom * 1.08),
            ("sans-serif", 12)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Center, VPos::Bottom)),
        )))?;
    }
    let points: Vec<(f64, f64)> = rows
        .iter()
        .map(|row| (row.read_size as f64, row.throughput))
        .collect();
    let colour = COLOURS[1];
    chart.draw_series(LineSeries::new(
        points.iter().copied(),
        colour.stroke_width(2),
    ))?;
    chart.draw_series(
        points
            .iter()
            .map(|&point| Circle::new(point, 4, colour.filled())),
    )?;
    for row in rows {
        chart.draw_series(std::iter::once(Text::new(
            format!("{:.1} MiB/s", row.throughput),
            (row.read_size as f64 * 1.1, row.throughput * 0.8),
            ("sans-serif", 12).into_font().color(&BLACK),
        )))?;
    }
    root.present()?;
    Ok(())
}

/// What one panel of `clients.svg` shows of a run.
type Figure = fn(&Load) -> f64;

/// Draws `--experiment clients` into the SVG file `path`: four panels against the number
/// of clients (time, peak memory, processes, context switches), one line per design.
pub fn draw_clients(rows: &[LoadRow], path: &Path) -> Result<(), String> {
    draw_loads(rows, path).map_err(|e| format!("drawing {}: {e}", path.display()))
}

fn draw_loads(rows: &[LoadRow], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (960, 640)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "A process per client against one loop, for more and more clients at once",
        ("sans-serif", 18),
    )?;
    let panels = root.split_evenly((2, 2));
    let figures: [(&str, Figure); 4] = [
        ("seconds until every upload was reported", |load| {
            load.seconds
        }),
        (
            "peak memory of the server and its children (MiB, PSS)",
            |load| load.peak_memory as f64 / MIB as f64,
        ),
        ("processes at once", |load| load.processes as f64),
        ("context switches (of every process seen)", |load| {
            load.switches as f64
        }),
    ];
    let mut counts: Vec<usize> = rows.iter().map(|row| row.clients).collect();
    counts.sort_unstable();
    counts.dedup();
    let (fewest, most) = (
        counts.iter().copied().min().unwrap_or(1).max(1) as f64,
        counts.iter().copied().max().unwrap_or(1).max(1) as f64,
    );
    for (panel, (title, value)) in panels.iter().zip(figures) {
        let values = rows
            .iter()
            .filter_map(|row| row.load.as_ref().ok())
            .map(value);
        let (low, high) = values.fold((f64::MAX, 0.0_f64), |(low, high), v| {
            (low.min(v), high.max(v))
        });
        let (low, high) = ((low.max(1e-3) / 2.0).min(0.5), high.max(1.0) * 2.0);
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 14))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(56)
            .build_cartesian_2d(
                (fewest / 1.5..most * 1.5).log_scale(),
                (low..high).log_scale(),
            )?;
        chart
            .configure_mesh()
            .x_desc("clients")
            .disable_x_mesh()
            .x_label_formatter(&|_| String::new())
            .y_labels(6)
            .y_label_formatter(&|v| match *v {
                v if v >= 1.0 && (v - v.round()).abs() < 1e-9 => format!("{v:.0}"),
                v if v >= 1.0 => format!("{v:.1}"),
                v => format!("{v:.2}"),
            })
            .light_line_style(WHITE)
            .draw()?;
        // The x axis is marked at the counts measured.
        for &clients in &counts {
            let x = clients as f64;
            chart.draw_series(LineSeries::new(
                [(x, low), (x, high)],
                RGBColor(215, 215, 215).stroke_width(1),
            ))?;
            chart.draw_series(std::iter::once(Text::new(
                clients.to_string(),
                (x, low * 1.1),
                ("sans-serif", 12)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))?;
        }
        for (index, design) in many_clients::Design::BOTH.into_iter().enumerate() {
            let colour = COLOURS[index];
            let mut points: Vec<(f64, f64)> = rows
                .iter()
                .filter(|row| row.design == design)
                .filter_map(|row| Some((row.clients as f64, value(row.load.as_ref().ok()?))))
                // A log axis has no place for 0.
                .filter(|&(_, v)| v > 0.0)
                .collect();
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            chart
                .draw_series(LineSeries::new(
                    points.iter().copied(),
                    colour.stroke_width(2),
                ))?
                .label(design.name())
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2))
                });
            chart.draw_series(
                points
                    .iter()
                    .map(|&point| Circle::new(point, 3, colour.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(RGBColor(200, 200, 200))
            .draw()?;
    }
    root.present()?;
    Ok(())
}
