//! The checker's pictures: `uploads.svg` must show what the lab teaches. Side by side, a
//! task 2 server's uploads rise together; a server that serves one client at a time draws a
//! staircase, one client climbing while the other stays flat.
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// One panel of `uploads.svg`: its caption and the lines of its clients, each as the
/// points of its polyline (SVG pixels, y grows downwards).
struct Panel {
    caption: String,
    lines: Vec<Vec<(f64, f64)>>,
    /// Text drawn in the panel (the clients' labels, the checker's marks).
    texts: Vec<String>,
    /// Red marks: where the checker stopped the server.
    marks: usize,
}

impl Panel {
    /// How far each line climbs, in pixels.
    fn climbs(&self) -> Vec<f64> {
        self.lines
            .iter()
            .map(|line| {
                let ys = line.iter().map(|point| point.1);
                ys.clone().fold(f64::MIN, f64::max) - ys.fold(f64::MAX, f64::min)
            })
            .collect()
    }
}

/// The panels of an uploads picture, in the order the scenarios ran. A line of a client
/// is a polyline of stroke width 2 (the axes are drawn 1 wide).
fn panels(svg: &Path) -> Vec<Panel> {
    let text = fs::read_to_string(svg).unwrap();
    let document = roxmltree::Document::parse(&text).expect("the SVG parses");
    let mut panels: Vec<Panel> = Vec::new();
    for node in document.descendants().filter(|node| node.is_element()) {
        match node.tag_name().name() {
            "text" => {
                let said = node.text().unwrap_or_default().trim().to_owned();
                let caption = said.starts_with("keeps serving:")
                    || said.contains(" whole upload")
                    || said.starts_with("bonus:")
                    || said.starts_with("task 3:");
                if caption {
                    panels.push(Panel {
                        caption: said,
                        lines: Vec::new(),
                        texts: Vec::new(),
                        marks: 0,
                    });
                } else if let Some(panel) = panels.last_mut() {
                    panel.texts.push(said);
                }
            }
            "polyline" if node.attribute("stroke-width") == Some("2") => {
                let points = node
                    .attribute("points")
                    .unwrap_or_default()
                    .split_whitespace()
                    .map(|pair| {
                        let (x, y) = pair.split_once(',').unwrap();
                        (x.parse().unwrap(), y.parse().unwrap())
                    })
                    .collect();
                panels
                    .last_mut()
                    .expect("a line before any caption")
                    .lines
                    .push(points);
            }
            "rect" if node.attribute("fill") == Some("#FF0000") => {
                if let Some(panel) = panels.last_mut() {
                    panel.marks += 1;
                }
            }
            _ => {}
        }
    }
    panels
}

/// The picture of a run, after checking that the report names it after the logs.
fn picture(run: &Run) -> std::path::PathBuf {
    let svg = run.log_dir.path().join("uploads.svg");
    let canonical = svg.canonicalize().expect("uploads.svg is written");
    run.assert_says(&format!(
        "Client log: {}\nUploads picture: {}\n",
        run.log_dir
            .path()
            .join("client_output.log")
            .canonicalize()
            .unwrap()
            .display(),
        canonical.display()
    ));
    let size = fs::metadata(&svg).unwrap().len();
    assert!(size < 100 * 1024, "uploads.svg has {size} bytes");
    svg
}

#[test]
fn task_2_uploads_rise_together() {
    let Some(run) = run_faulty("none") else {
        return;
    };
    let panels = panels(&picture(&run));
    let captions: Vec<&str> = panels.iter().map(|panel| panel.caption.as_str()).collect();
    assert_eq!(captions.len(), 4, "{captions:?}");
    assert!(captions[0].starts_with("keeps serving:"), "{captions:?}");
    assert_eq!(captions[1], "2 whole uploads of 8 MiB at once");
    assert!(captions[2].starts_with("bonus:"), "{captions:?}");
    assert_eq!(
        captions[3],
        "task 3: 3 uploads of 8 MiB at once, --mode async"
    );
    // One line per client: three in turn and four silent ones, two at once, six for the
    // bonus (a held one, a quick one, a late one, and three that end together), three for
    // task 3.
    let lines: Vec<usize> = panels.iter().map(|panel| panel.lines.len()).collect();
    assert_eq!(lines, [7, 2, 6, 3]);
    let climbs = panels[3].climbs();
    assert!(
        climbs
            .iter()
            .all(|&climb| climb > 0.8 * climbs[0].max(climbs[1]).max(climbs[2])),
        "task 3's uploads did not rise together: {climbs:?}"
    );
    assert!(
        panels[1].texts.contains(&"upload D".to_owned()),
        "{:?}",
        panels[1].texts
    );
    assert!(
        panels[1].texts.contains(&"upload E".to_owned()),
        "{:?}",
        panels[1].texts
    );
    let climbs = panels[1].climbs();
    let (low, high) = (climbs[0].min(climbs[1]), climbs[0].max(climbs[1]));
    assert!(
        low > 0.8 * high,
        "the two uploads did not rise together: {climbs:?}"
    );
    assert!(
        panels.iter().all(|panel| panel.marks == 0),
        "no stop marks expected"
    );
}

#[test]
fn serial_uploads_draw_a_staircase() {
    let Some(run) = run_faulty("serial") else {
        return;
    };
    let panels = panels(&picture(&run));
    // The bonus is not checked on this server: no panel of its own; task 3 has one.
    let captions: Vec<&str> = panels.iter().map(|panel| panel.caption.as_str()).collect();
    assert_eq!(captions.len(), 3, "{captions:?}");
    assert!(captions[2].starts_with("task 3:"), "{captions:?}");
    let at_once = &panels[1];
    assert_eq!(at_once.lines.len(), 2);
    let climbs = at_once.climbs();
    let (flat, climbing) = (climbs[0].min(climbs[1]), climbs[0].max(climbs[1]));
    assert!(
        climbing > 10.0 * flat.max(1.0),
        "expected one line to climb while the other stays flat: {climbs:?}"
    );
    // The checker stopped that server with its verdict, and the picture marks where.
    assert_eq!(at_once.marks, 1);
    assert!(
        at_once
            .texts
            .iter()
            .any(|text| text
                == "the checker stopped the server: the clients were served one at a time"),
        "{:?}",
        at_once.texts
    );
}

#[test]
fn buf_size_experiment_has_a_row_per_size_and_gets_faster_with_bigger_reads() {
    let Some(run) = run_in_turn(
        Some("none"),
        &[
            "--experiment",
            "buf-size",
            "--size",
            "8M",
            "--buf-sizes",
            "10,100,1000",
        ],
    ) else {
        return;
    };
    assert_eq!(run.code(), Some(0), "{}", run.stdout);
    let table: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("read size"))
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(|line| line.split_whitespace().collect())
        .collect();
    let sizes: Vec<String> = table.iter().map(|row| row[..2].join(" ")).collect();
    assert_eq!(
        sizes,
        ["10 bytes", "100 bytes", "1000 bytes"],
        "{}",
        run.stdout
    );
    let reads: Vec<&str> = table.iter().map(|row| row[4]).collect();
    assert_eq!(reads, ["838861", "83887", "8389"], "{}", run.stdout);
    let rates: Vec<f64> = table.iter().map(|row| row[3].parse().unwrap()).collect();
    assert!(
        rates.windows(2).all(|pair| pair[0] < pair[1]),
        "throughput must rise with the read size: {rates:?}\n{}",
        run.stdout
    );
    let svg = run.log_dir.path().join("buf-size.svg");
    run.assert_says(&format!(
        "Picture: {}",
        svg.canonicalize().unwrap().display()
    ));
    let text = fs::read_to_string(&svg).unwrap();
    let document = roxmltree::Document::parse(&text).expect("the SVG parses");
    // One line (2 wide; the axes are 1 wide) through a point per size.
    let lines = document
        .descendants()
        .filter(|node| node.has_tag_name("polyline") && node.attribute("stroke-width") == Some("2"))
        .count();
    assert_eq!(lines, 1, "{text}");
    let points = document
        .descendants()
        .filter(|node| node.has_tag_name("circle"))
        .count();
    assert_eq!(points, 3, "{text}");
}

#[test]
fn clients_experiment_compares_both_designs_at_each_count() {
    let Some(run) = run_in_turn(
        Some("none"),
        &["--experiment", "clients", "--client-counts", "1,4"],
    ) else {
        return;
    };
    assert_eq!(run.code(), Some(0), "{}", run.stdout);
    run.assert_says("Uploading 256 KiB from each of 1, 4 clients at once");
    let rows: Vec<Vec<&str>> = run
        .stdout
        .lines()
        .skip_while(|line| !line.trim_start().starts_with("clients  design"))
        .skip(1)
        .take_while(|line| !line.is_empty())
        .map(|line| line.split_whitespace().collect())
        .collect();
    let designs: Vec<String> = rows.iter().map(|row| row[..3].join(" ")).collect();
    assert_eq!(
        designs,
        ["1 a process", "1 one loop", "4 a process", "4 one loop"],
        "{}",
        run.stdout
    );
    // Processes at once: with every client paused halfway, the server and a child per
    // client, every one seen; the loop alone.
    let processes = |row: &[&str]| row[row.len() - 2].parse::<usize>().unwrap();
    assert_eq!(processes(&rows[2]), 5, "{}", run.stdout);
    run.assert_does_not_say("memory not compared");
    run.assert_does_not_say("processes it expected at once");
    assert_eq!(processes(&rows[1]), 1, "{}", run.stdout);
    assert_eq!(processes(&rows[3]), 1, "{}", run.stdout);
    run.assert_says("At 4 clients one loop took ");
    let svg = run.log_dir.path().join("clients.svg");
    run.assert_says(&format!(
        "Picture: {}",
        svg.canonicalize().unwrap().display()
    ));
    let text = fs::read_to_string(&svg).unwrap();
    let document = roxmltree::Document::parse(&text).expect("the SVG parses");
    // Four panels, a line per design in each (2 wide; axes and grid are 1 wide), and the
    // legends' marks.
    let lines = document
        .descendants()
        .filter(|node| node.has_tag_name("polyline") && node.attribute("stroke-width") == Some("2"))
        .count();
    assert!(lines >= 8, "{lines} lines in {text}");
    for caption in [
        "seconds until every upload was reported",
        "processes at once",
    ] {
        assert!(text.contains(caption), "{caption}");
    }
    // Nothing of the run is left.
    assert_eq!(
        fs::read_to_string(run.log_dir.path().join("server_output.log"))
            .unwrap()
            .matches("----- checker: experiment: ")
            .count(),
        4
    );
}
