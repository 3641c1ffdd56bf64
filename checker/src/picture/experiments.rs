//! The experiments' pictures: throughput against the read size (`buf-size.svg`), and a
//! process per client against one loop for more and more clients (`clients.svg`).

use std::path::Path;

use gen_testfile::human_size;
use lab::MIB;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::checks::experiment::Row;
use crate::checks::many_clients::{self, Load, LoadRow};
use crate::picture::COLOURS;

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
    for (panel, (title, value)) in panels.iter().zip(figures) {
        draw_load_panel(panel, title, value, rows, &counts)?;
    }
    root.present()?;
    Ok(())
}

/// One panel of `clients.svg`: `value` of every row against the number of clients, a
/// line per design, on logarithmic axes marked at the counts measured.
fn draw_load_panel(
    panel: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    title: &str,
    value: Figure,
    rows: &[LoadRow],
    counts: &[usize],
) -> Result<(), Box<dyn std::error::Error>> {
    let (fewest, most) = (
        counts.iter().copied().min().unwrap_or(1).max(1) as f64,
        counts.iter().copied().max().unwrap_or(1).max(1) as f64,
    );
    let (low, high) = value_range(rows, value);
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
        .y_label_formatter(&y_label)
        .light_line_style(WHITE)
        .draw()?;
    // The x axis is marked at the counts measured.
    for &clients in counts {
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
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], colour.stroke_width(2)));
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
    Ok(())
}

/// The range of a panel's logarithmic y axis: below the least of the rows' values and
/// above the most, with room on both sides.
fn value_range(rows: &[LoadRow], value: Figure) -> (f64, f64) {
    let values = rows
        .iter()
        .filter_map(|row| row.load.as_ref().ok())
        .map(value);
    let (low, high) = values.fold((f64::MAX, 0.0_f64), |(low, high), v| {
        (low.min(v), high.max(v))
    });
    let (low, high) = ((low.max(1e-3) / 2.0).min(0.5), high.max(1.0) * 2.0);
    (low, high)
}

/// A value on a panel's y axis: whole numbers as such, others with a decimal or two.
fn y_label(value: &f64) -> String {
    match *value {
        v if v >= 1.0 && (v - v.round()).abs() < 1e-9 => format!("{v:.0}"),
        v if v >= 1.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}
