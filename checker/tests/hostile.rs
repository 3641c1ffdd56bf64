//! Submissions that try to escape or to cheat, against the containment: nothing they start
//! outlives grading, nothing they write reaches the grade or the lab, nothing hidden can
//! be read, and a build that never ends is stopped. Each attack is a fault of the fixture
//! (solution/src/bin/faulty-server.rs) or a submission written here; every process is
//! looked up by the marker in its environment, never by name.
#![cfg(lab_has_solution)]

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use common::*;

/// Runs `fault` with `targets` as its targets; the run itself checks nothing is left.
fn attack(fault: &str, targets: &[&Path], extra: &[&str]) -> Option<Run> {
    let fixture = fixture()?;
    let _turn = take_turn();
    let joined = std::env::join_paths(targets).unwrap();
    let log_dir = TempDir::new().unwrap();
    let output = checker(log_dir.path())
        .args(["--size", "8M", "--log-dir"])
        .arg(log_dir.path())
        .args(extra)
        .arg("--server")
        .arg(fixture)
        .env("FAULTY_SERVER_FAULT", fault)
        .env("FAULTY_SERVER_TARGETS", joined)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        !stdout.contains("Isolation: none"),
        "this machine cannot contain servers, so the attack proves nothing:\n{stdout}"
    );
    let left = processes_marked(log_dir.path());
    assert!(left.is_empty(), "{fault}: left running: {left:?}\n{stdout}");
    Some(Run {
        output,
        stdout,
        log_dir,
    })
}

fn server_log(run: &Run) -> String {
    fs::read_to_string(run.log_dir.path().join("server_output.log")).unwrap()
}

#[test]
fn escaped_processes_do_not_outlive_grading() {
    for (fault, verdicts) in [
        ("setsid-grandchild", [P, P, P, P, P, P]),
        ("daemon", [F, F, N, N, N, N]),
        ("fork-flood", [F, F, N, N, N, N]),
    ] {
        let Some(run) = attack(fault, &[], &[]) else {
            return;
        };
        assert_eq!(run.verdicts(), verdicts, "{fault}:\n{}", run.stdout);
    }
}

#[test]
fn a_process_waiting_for_the_checker_to_end_cannot_rewrite_the_results() {
    let dir = TempDir::new().unwrap();
    let json = dir.path().join("results.json");
    let csv = dir.path().join("grades.csv");
    let Some(run) = attack(
        "rewrites-later",
        &[&json, &csv],
        &[
            "--json",
            json.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
        ],
    ) else {
        return;
    };
    let (json_then, csv_then) = (fs::read(&json).unwrap(), fs::read(&csv).unwrap());
    // The attacker meant to write 4 s after the server started.
    thread::sleep(Duration::from_secs(5));
    assert_eq!(fs::read(&json).unwrap(), json_then, "{}", run.stdout);
    assert_eq!(fs::read(&csv).unwrap(), csv_then);
    assert!(!String::from_utf8_lossy(&json_then).contains("{\"score\": 100}"));
    assert!(processes_marked(run.log_dir.path()).is_empty());
}

#[test]
fn the_tree_results_and_checker_cannot_be_written() {
    let dir = TempDir::new().unwrap();
    let copies = ["README.md", "grades.csv", "checker"].map(|name| dir.path().join(name));
    fs::write(&copies[0], "the lab\n").unwrap();
    fs::write(&copies[1], "submission,score\nalice,50\n").unwrap();
    fs::copy(env!("CARGO_BIN_EXE_checker"), &copies[2]).unwrap();
    let before: Vec<Vec<u8>> = copies.iter().map(|copy| fs::read(copy).unwrap()).collect();
    let readme = workspace().join("README.md");
    let readme_before = fs::read(&readme).unwrap();
    let targets: Vec<&Path> = copies
        .iter()
        .map(|copy| copy.as_path())
        .chain([readme.as_path()])
        .collect();
    let Some(run) = attack("tampers", &targets, &[]) else {
        return;
    };
    let after: Vec<Vec<u8>> = copies.iter().map(|copy| fs::read(copy).unwrap()).collect();
    assert!(before == after, "a file was changed");
    assert_eq!(fs::read(&readme).unwrap(), readme_before);
    let log = server_log(&run);
    // Four targets, and four servers (keeps serving, uploads at once, the bonus, task 3).
    assert_eq!(log.matches("attack: writing ").count(), 4 * 4, "{log}");
    assert!(!log.contains(": Ok(())"), "{log}");
    // The attempts cost nothing: the server itself is the reference.
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
}

#[test]
fn a_disk_filler_is_stopped_at_the_cap() {
    let Some(run) = attack("fills-disk", &[], &[]) else {
        return;
    };
    let log = server_log(&run);
    let filled: Vec<u64> = log
        .lines()
        .filter_map(|line| line.strip_prefix("attack: filling "))
        .filter_map(|rest| rest.split_once(": ")?.1.split(' ').next()?.parse().ok())
        .collect();
    // Four servers, /tmp and the working folder each: one cap of 64 MiB for all places.
    assert_eq!(filled.len(), 8, "{log}");
    assert!(filled.iter().all(|&bytes| bytes <= 64 << 20), "{filled:?}");
    assert!(log.contains("No space left on device"), "{log}");
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
}

#[test]
fn the_reference_and_the_instructors_guide_cannot_be_read() {
    let solution = workspace().join("solution/src/bin/server.rs");
    let guide = workspace().join("INSTRUCTORS.md");
    let Some(run) = attack("reads-targets", &[&solution, &guide], &[]) else {
        return;
    };
    let log = server_log(&run);
    for target in [&solution, &guide] {
        let said: Vec<&str> = log
            .lines()
            .filter(|line| line.starts_with(&format!("attack: read {}: ", target.display())))
            .collect();
        assert!(
            said.iter().all(|line| line.ends_with(": 0 bytes")),
            "{target:?} was read: {said:?}"
        );
    }
    assert!(
        log.contains("No such file or directory") || log.contains(": 0 bytes"),
        "{log}"
    );
}

/// The untouched server with `extra` appended, as a submission file in `dir`.
fn submission(dir: &TempDir, name: &str, extra: &str) -> String {
    let untouched = fs::read_to_string(workspace().join("skeleton/tests/untouched/server.rs"));
    let path = dir.path().join(name);
    fs::write(&path, untouched.unwrap() + extra).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn a_build_that_never_ends_is_stopped_and_graded_0() {
    let dir = TempDir::new().unwrap();
    let file = submission(
        &dir,
        "endless.rs",
        "\n#[allow(long_running_const_eval)]\npub const NEVER: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n",
    );
    let started = Instant::now();
    let run = run_in_turn(None, &["--submission", &file, "--timeout", "8"]).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    run.assert_says("The server was not graded: the build did not finish within the time limit");
    run.assert_says("Total: 0/100, bonus not checked");
}

#[test]
fn a_scratch_copy_left_by_a_killed_checker_is_removed_by_the_next_run() {
    let dir = TempDir::new().unwrap();
    let endless = submission(
        &dir,
        "endless.rs",
        "\n#[allow(long_running_const_eval)]\npub const NEVER: u64 = { let mut i = 0u64; loop { i = i.wrapping_add(1); } };\n",
    );
    let _turn = take_turn();
    let marker = dir.path().join("marker");
    let mut running = checker(&marker)
        .args(["--submission", &endless, "--log-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("checker-submission-{}-", running.id());
    let scratch = || {
        fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .find(|entry| entry.file_name().to_string_lossy().starts_with(&prefix))
            .map(|entry| entry.path())
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while scratch().is_none() || processes_marked(&marker).len() < 3 {
        assert!(Instant::now() < deadline, "the build never started");
        thread::sleep(Duration::from_millis(20));
    }
    kill(Pid::from_raw(running.id() as i32), Signal::SIGKILL).unwrap();
    running.wait().unwrap();
    let left = scratch().expect("SIGKILL leaves the scratch copy");
    let deadline = Instant::now() + Duration::from_secs(5);
    while !processes_marked(&marker).is_empty() && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        processes_marked(&marker),
        Vec::<i32>::new(),
        "the build outlived its checker"
    );
    let untouched = submission(&dir, "untouched.rs", "");
    let output = checker(&marker)
        .args([
            "--submission",
            &untouched,
            "--task",
            "1",
            "--size",
            "8M",
            "--log-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Removed a scratch copy left by a checker that was killed")
            || stdout.contains("scratch copies left by checkers that were killed"),
        "{stdout}"
    );
    assert!(!left.exists(), "{} is still there", left.display());
}

/// The lines `attack: <what>: <outcome>` the fixture printed, for the attack on `what`.
fn outcomes<'a>(log: &'a str, what: &str) -> Vec<&'a str> {
    let start = format!("attack: {what}: ");
    log.lines()
        .filter_map(|line| line.strip_prefix(start.as_str()))
        .collect()
}

#[test]
fn nothing_but_the_server_itself_can_be_run() {
    // The reference as built in the lab's target/, a shell, and a program in /usr.
    let reference = workspace().join("target/debug/solution-server");
    let (shell, program) = (Path::new("/bin/sh"), Path::new("/usr/bin/env"));
    let Some(run) = attack("runs-targets", &[&reference, shell, program], &[]) else {
        return;
    };
    let log = server_log(&run);
    // Four servers (keeps serving, uploads at once, the bonus, task 3) tried each.
    for target in [reference.as_path(), shell, program] {
        let said = outcomes(&log, &format!("running {}", target.display()));
        assert_eq!(said.len(), 4, "{target:?} in {log}");
        assert!(
            said.iter().all(|outcome| outcome.starts_with("Err(")),
            "{said:?}"
        );
        let noted = format!("the server tried to run {}: refused", target.display());
        assert_eq!(log.matches(&noted).count(), 4, "{noted} in {log}");
    }
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
}

#[test]
fn the_network_outside_the_server_is_out_of_reach() {
    use std::io::Read;
    use std::os::linux::net::SocketAddrExt;
    let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    tcp.set_nonblocking(true).unwrap();
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let name = format!("lab-sink-{}", std::process::id());
    let address = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let unix = std::os::unix::net::UnixListener::bind_addr(&address).unwrap();
    unix.set_nonblocking(true).unwrap();
    let sinks = format!(
        "tcp:{},udp:{},abstract:{name},vsock:any",
        tcp.local_addr().unwrap().port(),
        udp.local_addr().unwrap().port()
    );
    let fixture = fixture();
    let Some(_) = fixture else {
        return;
    };
    let _turn = take_turn();
    let log_dir = TempDir::new().unwrap();
    let output = checker(log_dir.path())
        .args(["--size", "8M", "--task", "1", "--log-dir"])
        .arg(log_dir.path())
        .arg("--server")
        .arg(fixture.unwrap())
        .env("FAULTY_SERVER_FAULT", "reaches-out")
        .env("FAULTY_SERVER_SINKS", &sinks)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(!stdout.contains("Isolation: none"), "{stdout}");
    let log = fs::read_to_string(log_dir.path().join("server_output.log")).unwrap();
    // Two servers (keeps serving, and receives a whole upload's own), three sinks each:
    // the connections are refused in the server's own network; a datagram may be sent
    // there, but arrives nowhere.
    assert_eq!(log.matches("attack: sending to ").count(), 4 * 2, "{log}");
    for sink in ["tcp:", "abstract:", "vsock:"] {
        let said: Vec<&str> = log
            .lines()
            .filter(|line| line.starts_with(&format!("attack: sending to {sink}")))
            .collect();
        assert!(said.iter().all(|line| line.contains("Err(")), "{said:?}");
    }
    // Some families are not divided by network namespaces: they are refused outright.
    assert!(
        log.contains("attack: sending to vsock:any: Err(Os { code: 97,"),
        "{log}"
    );
    assert!(
        matches!(tcp.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "a connection reached the machine's loopback"
    );
    let mut datagram = [0u8; 64];
    assert!(
        udp.recv(&mut datagram).is_err(),
        "a datagram reached the machine"
    );
    match unix.accept() {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock),
        Ok((mut stream, _)) => {
            let mut note = String::new();
            let _ = stream.read_to_string(&mut note);
            panic!("an abstract socket of the machine was reached: {note:?}");
        }
    }
    assert!(
        stdout.contains("task 1: receives a whole upload ............. passed"),
        "{stdout}"
    );
}

#[test]
fn notes_left_in_ipc_and_keyrings_do_not_outlive_grading() {
    let Some(run) = attack("leaves-notes", &[], &["--task", "1"]) else {
        return;
    };
    let log = server_log(&run);
    // Made in the server's own IPC namespace, which ends with it...
    assert!(log.contains("attack: shared memory "), "{log}");
    // ...and never on the machine. /proc/sysvipc lists keys in decimal.
    let key = 0x1ab5eed.to_string();
    for table in ["/proc/sysvipc/shm", "/proc/sysvipc/msg"] {
        let listed = fs::read_to_string(table).unwrap_or_default();
        assert!(
            !listed
                .lines()
                .skip(1)
                .any(|row| row.split_whitespace().next() == Some(&key)),
            "{table} holds the server's note:\n{listed}"
        );
    }
    let keys = outcomes(&log, "a key in the user's keyring");
    assert!(!keys.is_empty(), "{log}");
    assert!(
        keys.iter()
            .all(|outcome| outcome.contains("PermissionDenied")),
        "{keys:?}"
    );
}

/// A child that reaches the memory cap ends, and its client's connection with it: the
/// checks it cut name the checker's limit, not the reset connection.
#[test]
fn a_child_at_the_memory_cap_is_named_as_the_checkers_limit() {
    let Some(run) = attack("child-hoards-memory", &[], &[]) else {
        return;
    };
    assert_eq!(run.verdicts(), [F, F, N, N, N, N], "{}", run.stdout);
    for check in ["receives a whole upload", "keeps serving"] {
        run.assert_says(&format!(
            "task 1: {check} failed:\n  a process of the server asked for 1073741824 bytes of memory more and \
             was refused, so it ended: a process of a server may map 512 MiB at most (the checker's limit)"
        ));
    }
    run.assert_does_not_say("Connection reset by peer");
}

#[test]
fn a_memory_flood_is_stopped_at_the_cap_and_named() {
    let Some(run) = attack("floods-memory", &[], &["--task", "1"]) else {
        return;
    };
    assert_eq!(
        run.verdict("task 1: receives a whole upload"),
        F,
        "{}",
        run.stdout
    );
    run.assert_says(
        "when it asked for 4294967296 bytes of memory more: a process of a server may use \
         512 MiB at most, the checker's cap",
    );
}

#[test]
fn a_line_that_looks_like_the_checkers_is_the_servers_own() {
    let Some(run) = attack("fakes-checker", &[], &[]) else {
        return;
    };
    assert_eq!(run.code(), Some(0), "{}", run.stdout);
    assert_eq!(run.verdicts(), [P; 6], "{}", run.stdout);
    assert!(!run.stdout.contains('\x1b'), "{}", run.stdout);
    assert!(!run.stdout.contains("forged"), "{}", run.stdout);
    // In the log, a line in the checker's own format is marked as the server's.
    let log = server_log(&run);
    assert!(
        log.contains(
            "\n(printed by the server) ----- checker: stopped the server and its children: made up -----\n"
        ),
        "{log}"
    );
    assert!(!log.contains("\n----- checker: stopped the server and its children: made up"));
}

#[test]
fn the_server_cannot_rewrite_its_log() {
    let Some(run) = attack("rewrites-log", &[], &["--task", "1"]) else {
        return;
    };
    let log = server_log(&run);
    assert!(log.starts_with("----- checker: "), "{log}");
    for what in ["rewinding stdout", "truncating stdout"] {
        let said = outcomes(&log, what);
        assert!(!said.is_empty(), "{log}");
        assert!(
            said.iter().all(|outcome| outcome.starts_with("Err(")),
            "{what}: {said:?}"
        );
    }
    assert_eq!(run.verdict("task 1: keeps serving"), P, "{}", run.stdout);
}

/// The untouched server with `extra` appended, graded as the submission `name` (task 1,
/// 8 MiB uploads).
fn graded(dir: &TempDir, name: &str, extra: &str) -> Run {
    let file = submission(dir, name, extra);
    run_in_turn(
        None,
        &["--submission", &file, "--task", "1", "--size", "8M"],
    )
    .unwrap()
}

/// A submission that embeds a file at compile time: it must not compile, because the
/// file is not in the build's world, whoever may read it on the machine.
fn embeds(dir: &TempDir, name: &str, path: &Path) -> Run {
    let embedding = format!(
        "\npub static EMBEDDED: &[u8] = include_bytes!({:?});\n",
        path.display().to_string()
    );
    graded(dir, name, &embedding)
}

#[test]
fn a_build_reads_nothing_outside_its_world() {
    let dir = TempDir::new().unwrap();
    let readable_by_root_only = dir.path().join("secret");
    fs::write(&readable_by_root_only, "the answers\n").unwrap();
    fs::set_permissions(
        &readable_by_root_only,
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .unwrap();
    let lab_git = workspace().join(".git/HEAD");
    for (name, target) in [
        (
            "embeds-reference.rs",
            workspace().join("target/debug/solution-server"),
        ),
        ("embeds-git.rs", lab_git),
        ("embeds-secret.rs", readable_by_root_only.clone()),
        (
            "embeds-checker.rs",
            workspace().join("target/debug/checker"),
        ),
    ] {
        let run = embeds(&dir, name, &target);
        assert_eq!(run.code(), Some(1), "{name}: {}", run.stdout);
        run.assert_says("does not compile");
        let stderr = String::from_utf8_lossy(&run.output.stderr);
        assert!(stderr.contains("couldn't read"), "{name}: {stderr}");
    }
}

#[test]
fn a_build_sees_none_of_the_instructors_environment() {
    let dir = TempDir::new().unwrap();
    let run = graded(
        &dir,
        "environment.rs",
        "\nconst _: () = {\n    if option_env!(\"PWD\").is_some() || option_env!(\"OLDPWD\").is_some() {\n        panic!(\"the build saw the instructor's working folder\")\n    }\n    if let Some(home) = option_env!(\"HOME\") {\n        if home.len() != 4 {\n            panic!(\"the build saw a home that is not its own /tmp\")\n        }\n    }\n};\n",
    );
    run.assert_says("builds ...................................... passed");
}

#[test]
fn a_submission_cannot_embed_the_one_built_before_it() {
    let dir = TempDir::new().unwrap();
    let run = graded(&dir, "first.rs", "");
    run.assert_says("builds ...................................... passed");
    let second = embeds(&dir, "second.rs", Path::new("/lab/target/debug/server"));
    second.assert_says("does not compile");
    let warm = workspace().join("target/submissions/debug/server");
    let third = embeds(&dir, "third.rs", &warm);
    third.assert_says("does not compile");
}

/// A lab of the smallest shape the checker recognises, with the checker and the fixture
/// copied in, that any user can read: the whole checker then runs as a plain user.
fn lab_for_anyone(dir: &Path, fixture: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    fs::create_dir_all(dir.join("checker")).unwrap();
    fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"checker\"]\n",
    )
    .unwrap();
    fs::write(
        dir.join("checker/Cargo.toml"),
        "[package]\nname = \"checker\"\n",
    )
    .unwrap();
    let (checker_copy, fixture_copy) = (dir.join("checker-bin"), dir.join("faulty-server"));
    fs::copy(env!("CARGO_BIN_EXE_checker"), &checker_copy).unwrap();
    fs::copy(fixture, &fixture_copy).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    (checker_copy, fixture_copy)
}

#[test]
fn as_a_plain_user_a_hostile_server_is_contained_all_the_same() {
    use std::os::unix::fs::PermissionsExt;
    let Some(fixture) = fixture() else {
        return;
    };
    let lab = TempDir::new().unwrap();
    let (checker_copy, fixture_copy) = lab_for_anyone(lab.path(), fixture);
    let log_dir = TempDir::new().unwrap();
    fs::set_permissions(log_dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let root = nix::unistd::Uid::effective().is_root();
    // As root, the test drops to nobody for the checker's whole run; as a plain user it
    // is one already.
    let mut command = if root {
        let mut command = std::process::Command::new("setpriv");
        command
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(&checker_copy);
        command
    } else {
        std::process::Command::new(&checker_copy)
    };
    let _turn = take_turn();
    let output = command
        .current_dir(lab.path())
        .env("CHECKER_TEST_RUN", log_dir.path())
        .env("NO_COLOR", "1")
        .env("FAULTY_SERVER_FAULT", "runs-targets")
        .env("FAULTY_SERVER_TARGETS", "/bin/sh")
        .args(["--size", "8M", "--log-dir"])
        .arg(log_dir.path())
        .arg("--server")
        .arg(&fixture_copy)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stdout.contains("Isolation: none"), "{stdout}{stderr}");
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    let log = fs::read_to_string(log_dir.path().join("server_output.log")).unwrap();
    assert!(
        log.contains("the server tried to run /bin/sh: refused"),
        "{log}"
    );
    // The server ran as the plain user, mapped to the root of its namespace.
    let left = processes_marked(log_dir.path());
    assert!(left.is_empty(), "left running: {left:?}");
}

#[test]
fn a_submission_is_not_graded_where_it_cannot_be_contained_unless_asked() {
    let dir = TempDir::new().unwrap();
    let file = submission(&dir, "untouched.rs", "");
    let _turn = take_turn();
    let refused = checker(dir.path())
        .env("LAB_CHECKER_NO_CONTAIN", "1")
        .args([
            "--submission",
            &file,
            "--task",
            "1",
            "--size",
            "8M",
            "--log-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(3), "{stderr}");
    assert!(
        stderr
            .contains("checker: containing the submission: turned off with LAB_CHECKER_NO_CONTAIN"),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-uncontained"), "{stderr}");
    let allowed = checker(dir.path())
        .env("LAB_CHECKER_NO_CONTAIN", "1")
        .args([
            "--submission",
            &file,
            "--task",
            "1",
            "--size",
            "8M",
            "--allow-uncontained",
        ])
        .arg("--log-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&allowed.stdout);
    assert_eq!(allowed.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("Isolation: none (turned off with LAB_CHECKER_NO_CONTAIN)"),
        "{stdout}"
    );
    assert!(stdout.contains("Total: 0/50"), "{stdout}");
}

#[test]
fn a_build_that_floods_memory_is_stopped_at_the_cap_and_named() {
    let dir = TempDir::new().unwrap();
    let run = embeds(&dir, "zeroes.rs", Path::new("/dev/zero"));
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    run.assert_says(
        "The server was not graded: the build stopped when a process of it reached 4096 MiB of memory, the checker's cap for a build",
    );
    run.assert_says("Total: 0/50");
}

#[test]
fn a_submission_that_crashes_the_compiler_does_not_compile() {
    let dir = TempDir::new().unwrap();
    let depth = 200_000;
    let deep = format!(
        "\npub fn deep() -> u8 {{ {}1{} }}\n",
        "(".repeat(depth),
        ")".repeat(depth)
    );
    let run = graded(&dir, "deep.rs", &deep);
    assert_eq!(run.code(), Some(1), "{}", run.stdout);
    run.assert_says("does not compile");
    run.assert_says("Total: 0/50");
}

#[test]
fn a_submissions_text_reaches_the_terminal_inert_while_it_builds() {
    let dir = TempDir::new().unwrap();
    let run = graded(
        &dir,
        "c1.rs",
        "\ncompile_error!(\"A\\u{9b}2J\\u{9d}0;TITLE\\u{9c}\\u{1b}[2Jchecker: Total 50/50\");\n",
    );
    run.assert_says("does not compile");
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    assert!(stderr.contains("A\\u{9b}2J\\u{9d}0;TITLE"), "{stderr}");
    for raw in ['\u{9b}', '\u{9d}', '\u{1b}'] {
        assert!(
            !stderr.contains(raw),
            "{raw:?} reached the terminal: {stderr}"
        );
    }
}
