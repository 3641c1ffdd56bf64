//! The checker proven against servers whose faults are known: the untouched skeleton, the
//! reference solution, and the fixture `faulty-server` (solution/src/bin/faulty-server.rs)
//! with one defect at a time. Each must get exactly the verdict its defect deserves, for a
//! reason that names the defect, and no process of the run may remain afterwards.
//!
//! The students' copy of the lab has no solution/, so there the tests that need the
//! reference or the fixture are not compiled (`cfg(lab_has_solution)`, set by the
//! checker's build script). The untouched server is graded from a copy of the shipped
//! skeleton, so its test holds at every stage of a student's work.
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use common::*;

/// The shipped skeleton, graded the way a student grades it. Only in the lab's own
/// repository: a student's skeleton is their work in progress (the next test covers the
/// untouched server in every copy).
#[test]
fn shipped_skeleton_fails_at_once_naming_todo_1() {
    if !has_solution() {
        return;
    }
    let run = run_in_turn(None, &["--size", "8M"]).unwrap();
    assert!(
        run.stdout
            .starts_with("Grading skeleton: skeleton/src/bin/server.rs\nbuilds "),
        "{}",
        run.stdout
    );
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    assert_eq!(run.code(), Some(1));
    run.assert_says("it panicked at skeleton/src/bin/server.rs:");
    run.assert_says("not yet implemented: TODO 1: create an epoll instance");
    run.assert_says("Total: 0/100, bonus not checked, task 3 not checked");
}

#[test]
fn solution_scores_100_with_the_bonus() {
    if !has_solution() {
        return;
    }
    let run = run_in_turn(None, &["--solution", "--size", "8M", "--clients", "3"]).unwrap();
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
    run.assert_says("Total: 100/100, bonus passed, task 3 passed");
    assert_eq!(run.code(), Some(0));
}

#[test]
fn full_default_run_on_the_solution_passes() {
    if !has_solution() {
        return;
    }
    let run = run_in_turn(None, &["--solution"]).unwrap();
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
    assert_eq!(run.code(), Some(0));
    let clients = fs::read_to_string(run.log_dir.path().join("client_output.log")).unwrap();
    // Uploads A to C are the small ones of "keeps serving"; D and E the whole ones.
    for upload in ["D", "E"] {
        assert!(
            clients.contains(&format!("[upload {upload} +")),
            "{clients}"
        );
    }
    assert_eq!(
        clients
            .matches("] Sent 104857600 bytes to the server")
            .count(),
        2,
        "{clients}"
    );
    assert_eq!(clients.matches("] Sent 100 MiB").count(), 2, "{clients}");
}

/// One test per fixture fault: the verdicts it deserves, what the report must say (the
/// reason, naming the TODO to fix), what it must not say, and the finding the lab's JSON
/// gives a check (by their slugs), which scripts read instead of the words.
macro_rules! fault_verdicts {
    ($($test:ident: $fault:literal => $verdicts:expr, exit $code:literal,
        says [$($says:literal),*] $(, never [$($never:literal),*])?
        $(, finds [$($check:literal: $finding:literal),*])?;)*) => {$(
        #[test]
        fn $test() {
            let Some(run) = run_faulty_lab($fault) else {
                return;
            };
            assert_eq!(run.verdicts(), $verdicts, "{}", run.stdout);
            assert_eq!(run.code(), Some($code), "{}", run.stdout);
            $(run.assert_says($says);)*
            $($(run.assert_does_not_say($never);)*)?
            $($(run.assert_finding($check, $finding);)*)?
        }
    )*};
}

fault_verdicts! {
    finished_client_left_in_epoll_spins_and_is_sent_to_todo_4: "left-in-epoll"
        => [P, F, F, F, N, P], exit 1,
        says ["the server is spinning", "of finished clients", "(TODO 4)"],
        finds ["keeps-serving": "spins-on-finished-clients"];
    serial_server_scores_50_and_is_sent_to_task_2: "serial" => [P, P, F, F, N, P], exit 1,
        says ["the server serves one client at a time", "it received the uploads itself",
              "Total: 50/100, bonus not checked", "Task 1 is done. Next: task 2 (TODO 5).",
              "judged only on a server that passed \"a process per client\""],
        finds ["concurrent-uploads": "one-at-a-time", "process-per-client": "no-child-process",
               "no-zombies": "needs-passed"];
    parent_keeping_its_socket_copy_fails_on_leaked_descriptors: "keeps-parent-copy"
        => [P, P, P, F, N, P], exit 1,
        says ["the parent keeps its copy of each client socket", "Total: 75/100, bonus not checked"],
        finds ["process-per-client": "parent-keeps-copies"];
    closing_without_removing_from_epoll_fails_on_the_stale_registration: "no-remove"
        => [P, P, P, F, N, P], exit 1,
        says ["epoll instance still watches descriptor", "Remove a client from epoll before closing it (TODO 4)"],
        finds ["process-per-client": "stale-registrations"];
    server_without_epoll_fails_task_1_saying_so: "no-epoll" => [F, F, N, N, N, N], exit 1,
        says ["so the server does not wait with epoll. Look at TODO 1", "Total: 0/100"],
        finds ["whole-upload": "listener-not-in-epoll", "concurrent-uploads": "needs-whole-upload"];
    // It is gone before the second pause: that is no death at a pause, and no EINTR.
    server_exiting_after_its_first_client_fails: "exits-after-first" => [F, F, N, N, N, N], exit 1,
        says ["the server stopped (exit status 0)"], never ["EINTR", "paused"];
    server_reading_part_of_the_upload_fails_on_the_byte_count: "partial-read"
        => [F, F, N, N, N, N], exit 1,
        says ["the server reported 524288 bytes, but the client sent 8388608"],
        never ["did it stop or crash"],
        finds ["whole-upload": "whole-upload-miscounted"];
    server_that_only_prints_the_lines_fails: "never-reads" => [F, F, N, N, N, N], exit 1,
        says ["sat unread"];
    server_that_never_reaps_scores_100_without_the_bonus: "never-reaps"
        => [P, P, P, P, F, P], exit 0,
        says ["Total: 100/100, bonus not begun", "still zombies", "(TODO 6 and TODO 7)"],
        finds ["no-zombies": "zombies-without-reaper"];
    child_living_on_in_the_loop_fails_a_process_per_client: "child-returns"
        => [P, P, P, F, N, P], exit 1,
        says ["std::process::exit and never return into the server's loop (TODO 5)"],
        never ["bonus passed"];
    child_dying_in_the_loop_fails_a_process_per_client_not_task_1: "child-returns-dies"
        => [P, P, P, F, N, P], exit 1,
        says ["ENOENT", "never return into the server's loop (TODO 5)"];
    server_ending_on_eintr_fails_keeps_serving: "exits-on-eintr" => [P, F, P, P, P, P], exit 1,
        says ["EINTR", "SIGSTOP, then SIGCONT", "just wait again (TODO 2)", "Total: 75/100, bonus passed",
              // The log lines shown are those of the server that failed, not the last one's.
              "  | server: waiting for events: EINTR"],
        finds ["keeps-serving": "stopped-after-pause"];
    edge_triggered_listener_is_sent_to_accept_not_to_fork: "edge-triggered"
        => [P, F, N, N, N, N], exit 1,
        says ["to be accepted while the server sat idle in epoll_wait", "(TODO 3)", "level-triggered"],
        never ["TODO 5", "Task 1 is done"],
        finds ["keeps-serving": "not-accepted", "concurrent-uploads": "needs-every-client-accepted"];
    client_never_added_to_epoll_is_sent_to_todo_3: "not-added" => [F, F, N, N, N, N], exit 1,
        says ["not in its epoll interest list", "Add every accepted client to epoll (TODO 3)"],
        never ["stopped reading"];
    threads_instead_of_processes_are_named: "threads" => [P, P, P, F, N, P], exit 1,
        says ["threads, not processes. Fork a child per upload (TODO 5)"],
        finds ["process-per-client": "threads-not-processes"];
    parent_waiting_for_each_child_serves_one_at_a_time: "waits-for-child"
        => [P, P, F, F, N, P], exit 1,
        says ["waiting for its child in waitpid", "(TODO 5)", "bonus not checked"],
        finds ["concurrent-uploads": "waits-for-child"];
    blocking_reaper_fails_the_bonus_only: "blocking-reaper" => [P, P, P, P, F, P], exit 0,
        says ["not served within", "WNOHANG", "(TODO 7)", "Total: 100/100, bonus failed"],
        finds ["no-zombies": "late-client-not-served"];
    unread_signalfd_costs_the_bonus_not_task_1: "unread-signalfd" => [P, P, P, P, F, P], exit 0,
        says ["SIGCHLD is still pending", "read_signal", "(TODO 7)"],
        never ["TODO 4"],
        finds ["no-zombies": "spins-on-unread-signalfd"];
    signalfd_without_blocking_sigchld_is_sent_to_todo_6: "sigchld-unblocked"
        => [P, P, P, P, F, P], exit 0,
        says ["SIGCHLD is not blocked", "SigBlk", "which blocks no signal", "(TODO 6)"],
        finds ["no-zombies": "sigchld-not-blocked"];
    // Lines of the student's own, with colons, from the parent and from a child: no error,
    // and no evidence of who printed them.
    debug_lines_of_ones_own_cost_nothing: "debug-lines" => [P, P, P, P, P, P], exit 0,
        says ["Total: 100/100, bonus passed"];
    // The child reads its socket without blocking: EAGAIN the first time the socket is
    // empty, which the clients make happen in every run. The server's own line is quoted,
    // and the reason says plainly that the run could not tell which TODO made it so.
    nonblocking_child_is_judged_on_its_quoted_error_every_run: "nonblocking-child"
        => [F, F, N, N, N, N], exit 1,
        says ["which had printed", "server: receiving from client", "Resource temporarily unavailable",
              "The run could not tell which TODO's code this comes from"],
        never ["child processes", "Task 1 is done", "(TODO"];
    // A bonus mistake that stops the server from serving costs task 1, naming TODO 6 and
    // where the server was blocked, and is found within seconds.
    blocking_signalfd_costs_keeps_serving_naming_todo_6: "blocking-signalfd"
        => [P, F, P, P, F, P], exit 1,
        says ["blocked in read on the signalfd", "signalfd_read_iter", "SFD_NONBLOCK", "(TODO 6)"],
        never ["no data moved"],
        finds ["keeps-serving": "stuck"];
    client_closed_before_any_read_is_sent_to_todo_3: "forgets-client" => [F, F, N, N, N, N], exit 1,
        says ["closed the connection before reading from it", "Keep every accepted client in `clients`", "(TODO 3)"],
        never ["TODO 5"],
        finds ["whole-upload": "closed-unread"];
    one_child_reaped_per_signal_fails_the_bonus_naming_todo_7: "reaps-one" => [P, P, P, P, F, P], exit 0,
        says ["still zombies (pid ", "their SIGCHLDs reached it as one signal", "until it reports StillAlive (TODO 7)"],
        finds ["no-zombies": "one-reaped-per-signal"];
    // Task 3's mistakes: each its own reason, and none costs task 1 or 2 a point.
    eagain_taken_for_an_error_fails_task_3_naming_todo_9: "async-eagain-error"
        => [P, P, P, P, P, F], exit 0,
        says ["it took EAGAIN for an error", "Resource temporarily unavailable (os error 11)", "(TODO 9)",
              "Total: 100/100, bonus passed, task 3 failed"],
        finds ["async-uploads": "eagain-taken-for-error"];
    one_read_per_event_is_counted_and_sent_to_todo_9: "async-one-read"
        => [P, P, P, P, P, F], exit 0,
        says ["the server read each client once per event", "each a single read", "(TODO 9)"],
        never ["TODO 8"],
        finds ["async-uploads": "one-read-per-event"];
    a_count_lost_between_events_fails_on_the_sizes: "async-local-count"
        => [P, P, P, P, P, F], exit 0,
        says ["lost count of some", "`client.received`", "(TODO 9)"],
        finds ["async-uploads": "count-lost"];
    a_socket_left_blocking_is_told_by_its_flags: "async-blocking"
        => [P, P, P, P, P, F], exit 0,
        says ["were blocking while the uploads ran", "lack O_NONBLOCK", "(TODO 8)"],
        finds ["async-uploads": "blocking-sockets"];
    an_end_of_stream_missed_is_told_by_close_wait: "async-misses-eof"
        => [P, P, P, P, P, F], exit 0,
        says ["CLOSE_WAIT", "return Piece::End (TODO 9)", "epoll keeps reporting a socket at its end"],
        finds ["async-uploads": "end-of-upload-missed"];
    reads_without_a_fair_share_serve_one_client_at_a_time: "async-no-share"
        => [P, P, P, P, P, F], exit 0,
        says ["the loop served one client at a time", "lab::FAIR_SHARE", "(TODO 9)"],
        never ["TODO 5"],
        finds ["async-uploads": "loop-serves-one-at-a-time"];
    // Traced as the uploads begin: the bytes its reads asked for against the --buf-size
    // it was given.
    fixed_read_buffer_in_task_3_is_told_by_its_read_sizes: "async-fixed-buffer"
        => [P, P, P, P, P, F], exit 0,
        says ["started with --buf-size 12", "asked for 4096 bytes, more than the 12 it was given",
              "the size the command line gives (TODO 9)", "Total: 100/100, bonus passed, task 3 failed"],
        never ["TODO 8"],
        finds ["async-uploads": "buf-size-ignored"];
    // A child that prints a line per read outgrows the server log: the report names the
    // checker's limit, its number and what to change, and the server loses nothing for it.
    flooded_log_is_named_as_the_checkers_limit_and_costs_nothing: "prints-every-read"
        => [P, P, P, P, P, P], exit 0,
        says ["Server log: cut where a server printed more than 16 MiB, the most the log keeps whole (the checker's limit)",
              "print less", "Total: 100/100, bonus passed"],
        never ["Connection reset by peer"];
}

#[test]
fn task_3_alone_passes_on_the_solution() {
    if !has_solution() {
        return;
    }
    let run = run_in_turn(None, &["--solution", "--size", "8M", "--task", "3"]).unwrap();
    assert!(
        run.stdout
            .contains("\ntask 3: async uploads ....................... passed ... optional\nTotal: task 3 passed\n"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("task 2:"), "{}", run.stdout);
    assert!(!run.stdout.contains("Not observed"), "{}", run.stdout);
    assert_eq!(run.code(), Some(0));
}

#[test]
fn server_that_never_accepts_is_stopped_and_both_logs_say_the_checker_did_it() {
    let Some(run) = run_faulty("never-accepts") else {
        return;
    };
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    run.assert_says("Total: 0/100");
    let server = fs::read_to_string(run.log_dir.path().join("server_output.log")).unwrap();
    // Both scenarios that ran stopped their server, asleep outside epoll_wait with no byte
    // moving, and the log says so.
    let stops: Vec<&str> = server
        .lines()
        .filter(|line| line.starts_with("----- checker: stopped the server"))
        .collect();
    assert_eq!(
        stops,
        ["----- checker: stopped the server and its children (SIGKILL to its process group): \
          verdict reached, the server was blocked outside epoll_wait; the report says more -----";
            2],
        "{server}"
    );
    let clients = fs::read_to_string(run.log_dir.path().join("client_output.log")).unwrap();
    assert!(
        clients.contains("the checker stopped the server (the server log says why)"),
        "{clients}"
    );
    assert!(!clients.contains("did it stop or crash"), "{clients}");
}

#[test]
fn failure_report_shows_the_server_log_and_where_both_logs_are() {
    let Some(run) = run_faulty("partial-read") else {
        return;
    };
    let server_log = run.log_dir.path().join("server_output.log");
    let client_log = run.log_dir.path().join("client_output.log");
    run.assert_says("Last lines of the server log:\n");
    run.assert_says(&format!(
        "Server log: {}",
        server_log.canonicalize().unwrap().display()
    ));
    run.assert_says(&format!(
        "Client log: {}",
        client_log.canonicalize().unwrap().display()
    ));
    let server = fs::read_to_string(server_log).unwrap();
    assert!(
        server.contains("Received 524288 bytes from [Client "),
        "{server}"
    );
    let clients = fs::read_to_string(client_log).unwrap();
    assert!(clients.contains("[upload A +"), "{clients}");
}

#[test]
fn two_checker_runs_at_once_do_not_disturb_each_other() {
    let Some(fixture) = fixture() else {
        return;
    };
    let _turn = take_turn();
    let runs: Vec<Run> = thread::scope(|scope| {
        let both: Vec<_> = (0..2)
            .map(|_| scope.spawn(|| run_checker(Some((fixture, "none")), &["--size", "2M"])))
            .collect();
        both.into_iter().map(|run| run.join().unwrap()).collect()
    });
    for run in &runs {
        assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
        let log = fs::read_to_string(run.log_dir.path().join("server_output.log")).unwrap();
        assert_eq!(
            log.matches("Server listening on").count(),
            4,
            "one server per scenario: {log}"
        );
    }
}

/// Starts the checker on a server that never accepts, interrupts it with `signal` once
/// the server runs, and checks that nothing of the run is left: no process, and no
/// temporary test file.
fn interrupt_checker_with(signal: Signal) {
    let Some(fixture) = fixture() else {
        return;
    };
    let _turn = take_turn();
    let log_dir = TempDir::new().unwrap();
    let checker = checker(log_dir.path())
        .args(["--size", "8M", "--log-dir"])
        .arg(log_dir.path())
        .arg("--server")
        .arg(fixture)
        .env("FAULTY_SERVER_FAULT", "never-accepts")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let server_log = log_dir.path().join("server_output.log");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !fs::read_to_string(&server_log)
        .unwrap_or_default()
        .contains("Server listening")
    {
        assert!(Instant::now() < deadline, "the server never started");
        thread::sleep(Duration::from_millis(20));
    }
    assert!(!processes_marked(log_dir.path()).is_empty());
    let temporary = || {
        fs::read_dir(log_dir.path())
            .unwrap()
            .flatten()
            .filter(|entry| entry.file_name().to_string_lossy().starts_with(".checker-"))
            .count()
    };
    assert_eq!(temporary(), 1, "the 8 MiB test file is a temporary one");
    kill(Pid::from_raw(checker.id() as i32), signal).unwrap();
    let output = checker.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    assert_eq!(processes_marked(log_dir.path()), Vec::<i32>::new());
    assert_eq!(temporary(), 0, "the temporary test file was left behind");
}

#[test]
fn interrupted_checker_stops_its_server_and_removes_its_test_file() {
    interrupt_checker_with(Signal::SIGINT);
}

#[test]
fn terminated_checker_stops_its_server_and_removes_its_test_file() {
    interrupt_checker_with(Signal::SIGTERM);
}

// Reasons that lead to the fix: each names the TODO whose code holds the mistake, from
// what the run saw (where the server's own lines place a fork, the error that stopped
// it and the lab line it followed, a signalfd held but not watched, a report before the
// end), and the mistake costs the points of that TODO's task.
fault_verdicts! {
    // The given receive left above the fork: the parent receives, then forks; task 1's
    // loop is right, so task 1 keeps its points.
    receiving_before_the_fork_is_told_by_the_lines_and_costs_task_2: "receives-then-forks"
        => [P, P, F, F, N, P], exit 1,
        says ["the server forked only after it had received the upload itself",
              "reported the upload again", "must move into the child, after the fork (TODO 5)",
              "Total: 50/100"],
        never ["0 child processes", "TODO 4"],
        finds ["concurrent-uploads": "forked-after-receiving",
               "process-per-client": "forked-after-receiving"];
    forking_where_the_client_is_accepted_is_sent_to_todo_3: "fork-in-accept"
        => [F, F, N, N, N, N], exit 1,
        says ["as soon as it accepted it", "came before `Client", "(TODO 3)"],
        never ["it must read until the client closes"],
        finds ["whole-upload": "forked-at-accept", "keeps-serving": "forked-at-accept"];
    listener_added_again_for_the_client_is_sent_to_todo_3: "adds-listener-again"
        => [F, F, N, N, N, N], exit 1,
        says ["EEXIST", "right after `<< New client connected on socket",
              "was added to epoll instead of the new client's socket", "(TODO 3)"],
        finds ["whole-upload": "server-stopped", "keeps-serving": "server-stopped"];
    // A bonus mistake that stops the server costs what it stops, and says so.
    echild_taken_for_an_error_names_todo_7: "echild-fatal"
        => [P, F, F, F, N, P], exit 1,
        says ["ECHILD", "the last child was reaped", "Stop at ECHILD as at StillAlive (TODO 7)"],
        finds ["keeps-serving": "server-stopped", "process-per-client": "server-stopped"];
    signalfd_never_added_to_epoll_is_sent_to_todo_6: "signalfd-not-added"
        => [P, P, P, P, F, P], exit 0,
        says ["still zombies", "but its epoll instance does not watch it", "(TODO 6)"],
        never ["TODO 7"],
        finds ["no-zombies": "signalfd-not-watched"];
    eagain_taken_for_the_end_is_sent_to_todo_9: "async-eagain-is-end"
        => [P, P, P, P, P, F], exit 0,
        says ["had already reported an upload", "WouldBlock (EAGAIN)", "(TODO 9)"],
        never ["TODO 5"],
        finds ["async-uploads": "reported-before-the-end"];
    // The pid a created line names, against the children /proc showed, both as the
    // server's PID namespace numbers them.
    parent_printing_its_own_pid_fails_a_process_per_client: "parent-prints-own-pid"
        => [P, P, P, F, N, P], exit 1,
        says ["is the server's own pid (the parent's), not a child's",
              "the pid that fork returned to it for the child (TODO 5)", "Total: 75/100"],
        finds ["process-per-client": "created-line-names-no-child", "no-zombies": "needs-passed"];
    // Silent clients against the entries the event buffer keeps from earlier waits.
    wait_returning_the_buffer_length_is_sent_to_todo_2: "wait-returns-capacity"
        => [P, F, P, P, N, P], exit 1,
        says ["had connected and sent nothing, its connection open, yet the server announced it",
              "was registered for input only and left alone",
              "not the buffer's length (TODO 2)", "Total: 75/100, bonus not checked",
              "the bonus is judged only on a loop that handles the events each wait returned"],
        never ["TODO 3"],
        finds ["keeps-serving": "handled-silent-client", "no-zombies": "needs-reported-events-only"];
    // The same mistake only when the wait times out: seen once the silent clients are
    // held past the timeout /proc shows.
    wait_counting_the_buffer_when_it_times_out_is_sent_to_todo_2: "timeout-returns-capacity"
        => [P, F, P, P, N, P], exit 1,
        says ["epoll_wait has a timeout of 200 ms", "no wait returned the listener",
              "not the buffer's length (TODO 2)", "Total: 75/100, bonus not checked"],
        never ["TODO 3"],
        finds ["keeps-serving": "accepted-unreported", "no-zombies": "needs-reported-events-only"];
}

/// The pids a reason quotes are the ones the server's log shows: the server runs in a
/// PID namespace of its own, whose pids differ from those the checker sees.
#[test]
fn pids_in_a_reason_are_those_of_the_server_log() {
    let Some(run) = run_faulty("signalfd-not-added") else {
        return;
    };
    let log = fs::read_to_string(run.log_dir.path().join("server_output.log")).unwrap();
    let reason = run
        .stdout
        .lines()
        .find(|line| line.contains("finished children are still zombies (pid "))
        .unwrap_or_else(|| panic!("no zombies in the report: {}", run.stdout));
    let pids: Vec<&str> = reason
        .split("pid ")
        .skip(1)
        .map(|rest| rest.split([',', ')']).next().unwrap())
        .collect();
    assert!(!pids.is_empty(), "{reason}");
    for pid in pids {
        assert!(
            log.contains(&format!("<< Process {pid} created to handle client ")),
            "pid {pid} of {reason:?} is not in the server log:\n{log}"
        );
    }
}
