//! Tests of the text report: each asserts the lines a reader sees.

use super::*;
use crate::grade::Selection;
use crate::report::samples;
use crate::server::log::LogCut;

#[test]
fn a_passing_run_lists_every_check_and_where_the_logs_are() {
    assert_eq!(
        plain(&samples::passing()),
        "\
Grading skeleton: skeleton/src/bin/server.rs
builds ...................................... passed
Test file: /lab/test-file.txt (100 MiB)
Uploading 100 MiB from 2 clients at once, then 8 MiB from each of 3 clients at once (--mode async)...
task 1: receives a whole upload ............. passed ... 25/25
task 1: keeps serving ....................... passed ... 25/25
task 2: concurrent uploads .................. passed ... 25/25
task 2: a process per client ................ passed ... 25/25
bonus: no zombies ........................... passed ... bonus
task 3: async uploads ....................... passed ... optional
Total: 100/100, bonus passed, task 3 passed

Server log: /lab/skeleton/server_output.log
Client log: /lab/skeleton/client_output.log
Uploads picture: /lab/skeleton/uploads.svg
"
    );
}

/// The first lines say what the run does: an experiment grades nothing, and the
/// uploads named are the ones the selected checks make.
#[test]
fn the_notes_say_what_is_measured_and_uploaded() {
    assert_eq!(
        note_line(&Note::Measuring(
            "skeleton: skeleton/src/bin/server.rs".into()
        )),
        "Measuring skeleton: skeleton/src/bin/server.rs"
    );
    let uploading = |selection, clients| {
        let (clients, then_async) = crate::checks::uploads_of(selection, 100 * lab::MIB, clients);
        note_line(&Note::Uploading {
            size: 100 * lab::MIB,
            clients,
            then_async,
        })
    };
    assert_eq!(
        uploading(Selection::TaskThree, 2),
        "Uploading 100 MiB from one client, then 8 MiB from each of 3 clients at once (--mode async)..."
    );
    assert_eq!(
        uploading(Selection::TaskOne, 2),
        "Uploading 100 MiB from one client..."
    );
    assert_eq!(
        uploading(Selection::TaskTwo, 4),
        "Uploading 100 MiB from 4 clients at once..."
    );
    assert_eq!(
        uploading(Selection::All, 5),
        "Uploading 100 MiB from 5 clients at once, then 8 MiB from each of 5 clients at once (--mode async)..."
    );
}

/// A server that outgrew the log is told so, with the checker's limit and what to
/// change.
#[test]
fn a_cut_log_is_named_as_the_checkers_limit() {
    assert_eq!(
        note_line(&Note::LogCut(LogCut::KeptTheLabsLines)),
        "Server log: cut where a server printed more than 16 MiB, the most the log keeps whole (the checker's \
         limit); from there on it kept only the lab's own lines and errors (up to 32 MiB), as the log says where. \
         A debug line per read is millions of lines for one upload: print less, and the log keeps everything"
    );
    assert!(
        note_line(&Note::LogCut(LogCut::KeptNothingMore))
            .contains("(the checker's limit); from there on it kept only the lab's own lines and errors, and past 32 MiB nothing at all")
    );
}

#[test]
fn a_failing_run_gives_the_next_step_the_reasons_and_the_log_tail() {
    let text = plain(&samples::task_one_done());
    let after_total = text
        .split_once("Total: 50/100, bonus not checked, task 3 failed\n")
        .unwrap()
        .1;
    assert!(
        after_total.starts_with(
            "Task 1 is done. Next: task 2, TODO 5 in skeleton/src/bin/server.rs.\n\n\
             task 2: concurrent uploads failed:\n  upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes \
             (not yet 10 MiB): the server serves one client at a time. Receive each upload in a child process of its own (TODO 5)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "bonus: no zombies not checked:\n  the bonus is judged only on a server that passed"
        ),
        "{text}"
    );
    // Each cause's hint once, under the check it first failed, and where to read more.
    assert_eq!(text.matches("\n  hint: ").count(), 3, "{text}");
    assert!(
        text.contains(
            "own (TODO 5)\n  hint: The loop stays inside one upload until it ends: task 2 hands each upload to a process of its own.\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("\nMore on TODO 5: cargo run -p checker -- hint 5\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "\nLast lines of the server log:\n  | Client 5 wants to send a file\n\nServer log: "
        ),
        "{text}"
    );
}

#[test]
fn the_short_screen_has_the_checks_the_total_and_the_first_failure() {
    let screen = strip_ansi(&short(&samples::task_one_done()));
    assert!(
        screen.starts_with("task 1: receives a whole upload ............. passed ... 25/25\n"),
        "{screen}"
    );
    assert!(
        screen.ends_with(
            "Total: 50/100, bonus not checked, task 3 failed\n\
             Task 1 is done. Next: task 2, TODO 5 in skeleton/src/bin/server.rs.\n\n\
             task 2: concurrent uploads failed:\n  upload E (socket 6 in the server) finished while upload D had sent only 196608 bytes \
             (not yet 10 MiB): the server serves one client at a time. Receive each upload in a child process of its own (TODO 5)\n  \
             hint: The loop stays inside one upload until it ends: task 2 hands each upload to a process of its own.\n\n\
             More on TODO 5: cargo run -p checker -- hint 5\n"
        ),
        "{screen}"
    );
    let broken = strip_ansi(&short(&samples::does_not_compile(Selection::TaskOne)));
    assert!(
        broken.ends_with("Total: 0/50\n\nerror[E0308]: mismatched types\n"),
        "{broken}"
    );
}

#[test]
fn escapes_and_carriage_returns_from_the_server_are_shown_not_obeyed() {
    let run = samples::hostile_output();
    let text = plain(&run);
    assert!(
        text.starts_with("Grading submission: evil\\x1b[8m.rs\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "task 1: receives a whole upload failed:\n  the server stopped (exit status 101): it panicked at evil.rs:1:1: \\x1b]0;pwned\\x07boom\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "\nLast lines of the server log:\n  | Server listening on 127.0.0.1:5000\\x1b[2J\\x1b[H\n  | \\rtask 1: receives a whole upload ............. passed ... 25/25\n"
        ),
        "{text}"
    );
    // The terminal's text still has the checker's own colours, and nothing else.
    let coloured = render(&run);
    assert!(coloured.contains("\x1b[31m"), "{coloured:?}");
    assert_eq!(
        coloured.matches('\x1b').count(),
        2 * 2 + 2 * 2,
        "{coloured:?}"
    );
    assert!(!coloured.contains('\r') && !coloured.contains('\x07'));
    let screen = short(&run);
    assert!(
        screen.contains("it panicked at evil.rs:1:1: \\x1b]0;pwned\\x07boom"),
        "{screen}"
    );
}

#[test]
fn a_flood_from_the_server_is_cut() {
    let mut run = samples::task_one_failing();
    if let RunOutcome::Graded {
        failed_server_tail, ..
    } = &mut run.outcome
    {
        failed_server_tail[0] = "x".repeat(100_000);
    }
    let text = plain(&run);
    assert!(
        text.contains(&format!(
            "  | {}… (99700 more characters)\n",
            "x".repeat(300)
        )),
        "{text}"
    );
}

#[test]
fn task_1_alone_is_scored_out_of_50() {
    let text = plain(&samples::task_one_failing());
    assert!(text.contains("\nTotal: 0/50\n"), "{text}");
    assert!(!text.contains("task 2:"), "{text}");
    assert!(!text.contains("Task 1 is done"), "{text}");
}

#[test]
fn a_finished_lab_points_to_task_three() {
    let mut run = samples::passing();
    if let RunOutcome::Graded { verdicts, .. } = &mut run.outcome {
        verdicts[5].outcome = samples::stopped("it panicked at TODO 8");
    }
    let screen = strip_ansi(&short(&run));
    assert!(
        screen.contains(
            "Total: 100/100, bonus passed, task 3 failed\n\
             The lab is done. Beyond it, if you like: task 3 (optional, `--mode async`), TODOs 8 and 9 in skeleton/src/bin/server.rs.\n"
        ),
        "{screen}"
    );
}

#[test]
fn the_bonus_alone_has_its_own_total() {
    let text = plain(&samples::bonus_alone());
    assert!(
        text.contains(
            "bonus: no zombies ........................... passed ... bonus\nTotal: bonus passed\n"
        ),
        "{text}"
    );
}

#[test]
fn a_build_failure_is_scored_like_any_run() {
    let text = plain(&samples::does_not_compile(Selection::TaskOne));
    assert!(
        text.ends_with(
            "builds ...................................... failed\n\n\
             skeleton/src/bin/server.rs does not compile: fix the errors the compiler reported\n\
             Total: 0/50\n"
        ),
        "{text}"
    );
    let all = plain(&samples::does_not_compile(Selection::All));
    assert!(
        all.ends_with("Total: 0/100, bonus not checked, task 3 not checked\n"),
        "{all}"
    );
}

/// Optional work whose given code ran untouched reads `not begun`, on its line, in the
/// total and above its reason: it is no failure of work done. The JSON keeps `failed`.
#[test]
fn optional_work_never_begun_reads_not_begun() {
    let run = samples::task_three_never_begun();
    let report = plain(&run);
    assert!(
        report.contains(
            "\ntask 3: async uploads ....................... not begun ... optional\nTotal: 50/100, bonus not checked, task 3 not begun\n"
        ),
        "{report}"
    );
    assert!(
        report.contains("\ntask 3: async uploads not begun:\n  it panicked at server.rs:274:5"),
        "{report}"
    );
    let json = crate::report::json::lab(&run);
    assert_eq!(json["score"]["task_three"], "failed", "{json}");
}
