//! The experiments' tables in the text report: read sizes against throughput
//! (`--experiment buf-size`), and a process per client against one loop
//! (`--experiment clients`), each with what its rows show.

use gen_testfile::human_size;

use crate::checks::experiment::Row;
use crate::checks::many_clients::{self, Design, LoadRow};
use crate::report::reason;

/// The table of `--experiment clients`, what each limit did, and what the rows show.
pub(super) fn load_table(rows: &[LoadRow]) -> Vec<String> {
    let mut lines = vec![format!(
        "\n{:>7}  {:<20}  {:>8}  {:>10}  {:>10}  {:>9}  {:>12}",
        "clients", "design", "seconds", "peak PSS", "peak RSS", "processes", "ctx switches"
    )];
    let mut findings = Vec::new();
    for row in rows {
        let design = row.design.name();
        match &row.load {
            Ok(load) => {
                lines.push(format!(
                    "{:>7}  {design:<20}  {:>8.2}  {:>10}  {:>10}  {:>9}  {:>12}",
                    row.clients,
                    load.seconds,
                    human_size(load.peak_memory),
                    human_size(load.peak_resident),
                    load.processes,
                    load.switches
                ));
                if load.overflows > 0 {
                    findings.push(format!(
                        "{} clients, {design}: a listener's queue (its backlog) was full {} times meanwhile, so those connections \
                         were dropped and tried again a second later (/proc/net/netstat ListenOverflows, counted for the whole \
                         machine): that time is the limit's, not the design's",
                        row.clients, load.overflows
                    ));
                }
                if row.design == Design::Processes && row.clients > 1 && load.processes == 1 {
                    findings.push(format!(
                        "{} clients, {design}: the server had no child at any look, so this row measures a server that \
                         receives the uploads itself, one after the other",
                        row.clients
                    ));
                } else if !load.all_seen() {
                    findings.push(format!(
                        "{} clients, {design}: with every client paused halfway through its upload, the checker saw at \
                         most {} of the {} processes it expected at once, so the peaks of this row are those of fewer \
                         clients",
                        row.clients, load.processes, load.expected_processes
                    ));
                }
            }
            Err(why) => {
                lines.push(format!(
                    "{:>7}  {design:<20}  {:>8}",
                    row.clients, "cut short"
                ));
                findings.push(format!(
                    "{} clients, {design}: {}",
                    row.clients,
                    reason(why)
                ));
            }
        }
    }
    if !findings.is_empty() {
        lines.push(String::new());
        lines.extend(findings.into_iter().map(|finding| format!("- {finding}")));
    }
    lines.push(
        "\nPeak PSS and RSS: the most memory of the server and its live children at one look, as the sum of their \
         proportional set sizes (a page shared by n processes counts 1/n in each) and of their resident sets (a shared \
         page counts in every process), taken while every client is paused halfway through its upload, so that every \
         process is there at once (the seconds leave that pause out). Context switches: the last count seen of every \
         process (a child's last moments after the last look are missed, so for a process per client this is a lower \
         bound)."
            .to_owned(),
    );
    lines.extend(many_clients::summary(rows));
    lines
}

/// The experiment's table, its fastest size, and what the first and last rows show.
pub(super) fn experiment_table(rows: &[Row]) -> Vec<String> {
    let mut lines = vec![format!(
        "\n{:>10}  {:>9}  {:>9}  {:>16}",
        "read size", "seconds", "MiB/s", "reads per upload"
    )];
    lines.extend(rows.iter().map(|row| {
        format!(
            "{:>10}  {:>9.3}  {:>9.1}  {:>16}",
            human_size(row.read_size),
            row.seconds,
            row.throughput,
            row.fewest_reads
        )
    }));
    if let Some(fastest) = rows
        .iter()
        .max_by(|a, b| a.throughput.total_cmp(&b.throughput))
    {
        lines.push(format!(
            "\nFastest: reads of {} ({:.1} MiB/s).",
            human_size(fastest.read_size),
            fastest.throughput
        ));
    }
    if let (Some(first), Some(last)) = (rows.first(), rows.last())
        && rows.len() > 1
    {
        lines.push(format!(
            "Reads of {} are {:.0} times as fast as reads of {}: each read is a system call, whatever its size.",
            human_size(last.read_size),
            last.throughput / first.throughput,
            human_size(first.read_size)
        ));
    }
    lines
}
