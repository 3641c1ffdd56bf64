use super::*;

#[test]
fn a_process_is_sampled_with_memory_and_switches() {
    // A process of its own, which has no children (other tests here start some).
    let mut sleeper = std::process::Command::new("sleep")
        .arg("10")
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(50));
    let mut samples = Samples::default();
    samples.take(sleeper.id() as i32);
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    assert_eq!(samples.processes, 1);
    assert!(samples.peak_memory > 0 && samples.peak_resident >= samples.peak_memory);
    assert!(samples.switches.values().sum::<u64>() > 0);
}

#[test]
fn the_summary_compares_the_largest_count_both_designs_went_through() {
    let load = |seconds, peak_memory, processes, switches| {
        Ok(Load {
            seconds,
            peak_memory,
            peak_resident: peak_memory,
            processes,
            expected_processes: processes,
            switches,
            overflows: 0,
        })
    };
    let row = |clients, design, load| LoadRow {
        clients,
        design,
        load,
    };
    let rows = [
        row(10, Design::Processes, load(1.0, 40 << 20, 11, 200)),
        row(10, Design::OneLoop, load(2.0, 4 << 20, 1, 20)),
        row(500, Design::Processes, Err("stopped".into())),
        row(500, Design::OneLoop, load(9.0, 5 << 20, 1, 30)),
    ];
    assert_eq!(
        summary(&rows).unwrap(),
        "At 10 clients one loop took 2.00 times the time of a process per client, with 10.0 times less memory \
         (1 process against 11) and 10.0 times fewer context switches."
    );
}

/// A process per client whose children were not all seen at once gives no memory
/// ratio: its peak is that of fewer clients.
#[test]
fn the_summary_compares_no_memory_where_not_every_process_was_seen() {
    let load = |processes, expected_processes| {
        Ok(Load {
            seconds: 1.0,
            peak_memory: 40 << 20,
            peak_resident: 40 << 20,
            processes,
            expected_processes,
            switches: 100,
            overflows: 0,
        })
    };
    let rows = [
        LoadRow {
            clients: 256,
            design: Design::Processes,
            load: load(21, 257),
        },
        LoadRow {
            clients: 256,
            design: Design::OneLoop,
            load: load(1, 1),
        },
    ];
    let said = summary(&rows).unwrap();
    assert_eq!(
        said,
        "At 256 clients one loop took 1.00 times the time of a process per client, memory not compared (the \
         checker saw at most 21 of the 257 processes of a process per client at once, so its peak is not that of \
         256 clients) and 1.0 times fewer context switches."
    );
    assert!(!said.contains("less memory"), "{said}");
}
