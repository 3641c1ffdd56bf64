//! Grading one student's `server.rs`: the file is built as the skeleton's server in a
//! scratch copy of the lab, so the instructor's own `skeleton/` is never touched, not even
//! for a moment. The copies share one target directory, `target/submissions`, so a second
//! submission compiles only its server.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use lab::{Context, Failure};
use tempfile::TempDir;

use crate::build::{Build, BuildFailure};
use crate::contain::Confinement;
use crate::server::guard;

/// Where a student's file goes in the scratch copy: the path their panics and compiler
/// errors name, as in their own copy of the lab.
pub const SERVER_SOURCE: &str = "skeleton/src/bin/server.rs";

/// A scratch copy of the lab holding one submission, removed when dropped.
pub struct Scratch {
    dir: TempDir,
}

impl Scratch {
    /// Copies the workspace at `root` (its manifests and the checker, skeleton and
    /// gen-testfile packages; no build output, logs or test file) into a temporary
    /// directory, with `submission` as the skeleton's server.
    pub fn new(root: &Path, submission: &Path) -> lab::Result<Self> {
        let source = fs::read(submission)
            .with_context(|| format!("reading the submission {}", submission.display()))?;
        // The checker's pid in the name tells the next run whose copy it is.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()
            .context("creating a scratch copy of the lab")?;
        guard::remove_on_interrupt(dir.path());
        for file in ["Cargo.toml", "Cargo.lock"] {
            fs::copy(root.join(file), dir.path().join(file))
                .with_context(|| format!("copying {file} into the scratch copy"))?;
        }
        for package in ["checker", "skeleton", "gen-testfile"] {
            copy_tree(&root.join(package), &dir.path().join(package))
                .with_context(|| format!("copying {package}/ into the scratch copy"))?;
        }
        fs::write(dir.path().join(SERVER_SOURCE), source)
            .context("writing the submission into the scratch copy")?;
        Ok(Scratch { dir })
    }

    /// Builds the submission's server and moves the binary into the scratch copy, where no
    /// other checker run can replace it.
    pub fn build(
        &self,
        root: &Path,
        contain: Option<&Confinement>,
    ) -> Result<PathBuf, BuildFailure> {
        let built = Build {
            root: self.dir.path(),
            package: "skeleton",
            unify_with: &["checker"],
            bin: "server",
            target_dir: Some(&root.join("target").join("submissions")),
            contain,
        }
        .run(true)?;
        let binary = self.dir.path().join("server");
        fs::copy(&built, &binary)
            .map_err(|e| BuildFailure::Environment(format!("copying {}: {e}", built.display())))?;
        Ok(binary)
    }
}

/// Copies the directory `from` to `to`, leaving out build output and the checker's logs.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name_text = name.to_string_lossy();
        if name_text == "target" || name_text.ends_with("_output.log") {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &to.join(&name))?;
        } else if kind.is_file() {
            fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// How the names of scratch copies begin, before the pid of their checker.
const PREFIX: &str = "checker-submission-";

/// Removes the scratch copies whose checker is gone (killed with SIGKILL, which leaves
/// no chance to clean up); returns how many there were.
pub fn remove_abandoned() -> usize {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return 0;
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let Some(pid) = name
                .to_str()
                .and_then(|name| name.strip_prefix(PREFIX))
                .and_then(|rest| rest.split('-').next())
                .and_then(|pid| pid.parse::<u32>().ok())
            else {
                return false;
            };
            !checker_alive(pid)
        })
        .filter(|entry| fs::remove_dir_all(entry.path()).is_ok())
        .count()
}

/// Whether `pid` is a running checker (and not some other program that got the pid).
fn checker_alive(pid: u32) -> bool {
    let Ok(exe) = fs::read_link(format!("/proc/{pid}/exe")) else {
        return false;
    };
    std::env::current_exe().is_ok_and(|me| me.file_name() == exe.file_name())
}

/// The error for a `--submission` that is no file.
pub fn missing(path: &Path) -> Failure {
    Failure::new(format!("--submission {}", path.display()), "no such file")
        .hint("give the path of a student's server.rs")
}
