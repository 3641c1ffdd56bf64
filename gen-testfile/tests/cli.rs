//! The `gen-testfile` command as a user runs it.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use tempfile::TempDir;

fn gen_testfile(dir: &Path) -> Command {
    let mut command = Command::cargo_bin("gen-testfile").unwrap();
    command.current_dir(dir);
    command
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<_> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn sizes_are_exact() {
    let dir = TempDir::new().unwrap();
    for (size, bytes) in [("0", 0), ("1", 1), ("1K", 1024), ("3M", 3 << 20)] {
        let name = format!("file-{size}");
        gen_testfile(dir.path())
            .args(["--size", size, "--output", &name])
            .assert()
            .success()
            .stdout(format!(
                "Wrote {bytes} random bytes ({}) to {name}\n",
                gen_testfile::human_size(bytes)
            ));
        assert_eq!(fs::metadata(dir.path().join(&name)).unwrap().len(), bytes);
    }
}

#[test]
fn default_is_100_mib_in_test_file_txt() {
    let dir = TempDir::new().unwrap();
    gen_testfile(dir.path())
        .assert()
        .success()
        .stdout("Wrote 104857600 random bytes (100 MiB) to test-file.txt\n");
    let written = fs::metadata(dir.path().join("test-file.txt")).unwrap();
    assert_eq!(written.len(), 104_857_600);
    assert_eq!(names_in(dir.path()), ["test-file.txt"]);
}

#[test]
fn content_is_random_not_constant() {
    let dir = TempDir::new().unwrap();
    for name in ["a", "b"] {
        gen_testfile(dir.path())
            .args(["--size", "3M", "--output", name])
            .assert()
            .success();
    }
    let a = fs::read(dir.path().join("a")).unwrap();
    let b = fs::read(dir.path().join("b")).unwrap();
    let distinct = a.iter().fold([false; 256], |mut seen, &byte| {
        seen[byte as usize] = true;
        seen
    });
    assert_eq!(distinct.iter().filter(|&&seen| seen).count(), 256);
    assert_ne!(a, b, "two runs wrote the same bytes");
    // The second half is random too, not a copy of the first (the halves are made apart).
    assert_ne!(a[..a.len() / 2], a[a.len() / 2..]);
}

#[test]
fn bad_sizes_are_refused_and_leave_no_file() {
    let dir = TempDir::new().unwrap();
    for size in ["abc", "-1", "10X", "1.5M", ""] {
        gen_testfile(dir.path())
            .args(["--size", size])
            .assert()
            .code(1)
            .stdout("")
            .stderr(predicate::str::starts_with("gen-testfile: bad --size: "));
    }
    assert!(
        names_in(dir.path()).is_empty(),
        "left behind: {:?}",
        names_in(dir.path())
    );
}

#[test]
fn unwritable_path_is_refused_and_leaves_no_file() {
    let dir = TempDir::new().unwrap();
    fs::write(dir.path().join("plain-file"), "").unwrap();
    gen_testfile(dir.path())
        .args(["--size", "1K", "--output", "plain-file/test-file.txt"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "gen-testfile: cannot write plain-file/test-file.txt: ",
        ));
    gen_testfile(dir.path())
        .args(["--size", "1K", "--output", "no-such-dir/test-file.txt"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("No such file or directory"));
    assert_eq!(names_in(dir.path()), ["plain-file"]);
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let dir = TempDir::new().unwrap();
    gen_testfile(dir.path())
        .arg("--sise=1K")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unexpected argument '--sise'"));
    assert!(names_in(dir.path()).is_empty());
}
