//! What is graded, and with what: the lab the checker runs in, the server (the skeleton,
//! the solution, a binary or a submission built in a scratch copy), and the test file.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

use gen_testfile::{DEFAULT_SIZE, write_random_file};
use lab::{Context, Failure};

use crate::build::scratch::{self, Scratch};
use crate::build::{Build, BuildFailure};
use crate::cli::Options;
use crate::run::TestFileNote;
use crate::server::guard;
use crate::trouble::Trouble;

/// The lab the checker runs in, found at run time: the nearest folder, from the current
/// one upwards, whose `Cargo.toml` is a workspace with a `checker/` package; failing
/// that, the same search from the checker's own binary (which sits in the lab's target/).
/// A copied or moved lab therefore grades itself.
pub fn workspace_root() -> Option<PathBuf> {
    let from_here = env::current_dir().ok().and_then(|dir| lab_above(&dir));
    from_here.or_else(binary_root)
}

/// The lab the checker's own binary was built in, if it lies in one: where the
/// instructor's settings (points.toml) are read, so that a student's copy of the file in
/// the folder graded never weighs a grade.
pub fn binary_root() -> Option<PathBuf> {
    let binary = env::current_exe().ok()?;
    lab_above(binary.parent()?)
}

fn lab_above(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        let checker = fs::read_to_string(dir.join("checker/Cargo.toml")).ok()?;
        (manifest.contains("[workspace]") && checker.contains("name = \"checker\""))
            .then(|| dir.to_owned())
    })
}

/// The lab, or the usage error that says the checker runs only inside one.
pub fn require_root(root: Option<PathBuf>) -> Result<PathBuf, Trouble> {
    root.ok_or_else(|| {
        Trouble::Usage(
            Failure::new(
                "finding the lab",
                "no lab workspace in this folder or above it",
            )
            .hint("run the checker inside your copy of the lab (where its Cargo.toml is)"),
        )
    })
}

/// What the options ask to grade.
pub enum Choice {
    /// A package of the lab: its name, its server's binary, its source file.
    Package {
        package: &'static str,
        bin: &'static str,
        source: &'static str,
    },
    /// A server binary given with --server.
    Binary(PathBuf),
    /// A student's server.rs given with --submission.
    Submission(PathBuf),
}

impl Choice {
    /// Checks the options' choice against what is there.
    pub fn of(options: &Options, root: &Path) -> Result<Self, Trouble> {
        for (flag, path) in [
            ("--server", &options.server),
            ("--submission", &options.submission),
        ] {
            if let Some(path) = path.as_ref().filter(|path| path.is_dir()) {
                return Err(Trouble::Usage(
                    Failure::new(
                        format!("{flag} {}", path.display()),
                        "is a folder, not a file",
                    )
                    .hint(if flag == "--server" {
                        "give the path of a server binary, for example target/debug/server"
                    } else {
                        "give the path of a student's server.rs (a folder of submissions is \
                             graded with `checker class DIR OUT`)"
                    }),
                ));
            }
        }
        if let Some(path) = &options.server {
            if !path.is_file() {
                return Err(Trouble::Usage(
                    Failure::new(format!("--server {}", path.display()), "no such file")
                        .hint("give the path of a server binary, for example target/debug/server"),
                ));
            }
            return Ok(Choice::Binary(path.clone()));
        }
        if let Some(path) = &options.submission {
            if !path.is_file() {
                return Err(Trouble::Usage(scratch::missing(path)));
            }
            return Ok(Choice::Submission(path.clone()));
        }
        let (package, bin, source) = if options.solution {
            ("solution", "solution-server", "solution/src/bin/server.rs")
        } else {
            ("skeleton", "server", scratch::SERVER_SOURCE)
        };
        if !root.join(package).is_dir() {
            return Err(Trouble::Usage(
                Failure::new(
                    format!("--{package}"),
                    format!("there is no {package}/ in {}", root.display()),
                )
                .hint("this copy of the lab comes without the reference solution"),
            ));
        }
        Ok(Choice::Package {
            package,
            bin,
            source,
        })
    }

    /// What the report says is graded, if anything.
    pub fn describe(&self) -> Option<String> {
        match self {
            Choice::Package {
                package, source, ..
            } => Some(format!("{package}: {source}")),
            Choice::Submission(path) => Some(format!("submission: {}", path.display())),
            Choice::Binary(_) => None,
        }
    }

    /// The file to point students at in hints, if it is one of the lab's.
    pub fn source(&self) -> Option<String> {
        match self {
            Choice::Package { source, .. } => Some((*source).to_owned()),
            Choice::Submission(path) => Some(path.display().to_string()),
            Choice::Binary(_) => None,
        }
    }

    /// Where the logs go unless --log-dir says otherwise.
    pub fn default_log_dir(&self, root: &Path) -> PathBuf {
        match self {
            Choice::Package { package, .. } => root.join(package),
            Choice::Binary(_) | Choice::Submission(_) => PathBuf::from("."),
        }
    }

    /// A short name for the class grade book: the submission's name (its file's stem, or
    /// its folder's name for a `server.rs`), the package, or the binary's file name.
    pub fn name(&self) -> String {
        let stem = |path: &Path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        match self {
            Choice::Package { package, .. } => (*package).to_owned(),
            Choice::Binary(path) => stem(path),
            Choice::Submission(path) if stem(path) == "server" => path
                .canonicalize()
                .ok()
                .and_then(|path| Some(stem(path.parent()?)))
                .unwrap_or_else(|| stem(path)),
            Choice::Submission(path) => stem(path),
        }
    }
}

/// Why there is no server to grade.
pub enum NotBuilt {
    /// The compiler's errors (cargo has shown them).
    DoesNotCompile(Vec<String>),
    /// The build was stopped by one of the checker's limits (its time, its memory, the
    /// room for its output): which, in words.
    Stopped(String),
}

/// The server to grade, once built.
pub struct Built {
    /// The server binary, or why there is none.
    pub binary: Result<PathBuf, NotBuilt>,
    /// The scratch copy a submission is built and run in, removed when dropped.
    pub _scratch: Option<Scratch>,
}

/// Builds the server `choice` names; a submission's build is `contained` where the
/// machine can. A build that failed for the environment's reasons is the checker's
/// trouble, not the server's grade; one stopped at the time limit is the server's.
///
/// The lab's own packages build with plain cargo in the lab's workspace, as `cargo run`
/// would: it is the user's own code.
pub fn build(choice: &Choice, root: &Path, contained: bool) -> Result<Built, Trouble> {
    let (binary, scratch) = match choice {
        Choice::Binary(path) => (Ok(path.clone()), None),
        Choice::Submission(path) => {
            let scratch = Scratch::new(root, path)?;
            (scratch.build(root, contained), Some(scratch))
        }
        Choice::Package { package, bin, .. } => {
            let build = Build {
                root,
                package,
                unify_with: &["checker"],
                bin,
                target_dir: None,
                contain: None,
                lib_only: false,
            };
            (build.run(true), None)
        }
    };
    let binary = match binary {
        Ok(binary) => Ok(binary),
        Err(_) if guard::timed_out().is_some() => Err(NotBuilt::Stopped(format!(
            "the build did not finish within the time limit: {}",
            guard::timed_out().unwrap_or_default()
        ))),
        Err(BuildFailure::DoesNotCompile(errors)) => Err(NotBuilt::DoesNotCompile(errors)),
        Err(BuildFailure::CapReached(why)) => Err(NotBuilt::Stopped(why)),
        Err(BuildFailure::Environment(why)) => {
            return Err(Trouble::Checker(Failure::new("building the server", why)));
        }
    };
    Ok(Built {
        binary,
        _scratch: scratch,
    })
}

/// The file the clients upload: the shared test-file.txt when it fits, else a new one.
pub enum TestFile {
    Shared(PathBuf),
    Temporary(tempfile::TempDir),
}

impl TestFile {
    pub fn path(&self) -> PathBuf {
        match self {
            TestFile::Shared(path) => path.clone(),
            TestFile::Temporary(dir) => dir.path().join("test-file.txt"),
        }
    }

    /// The lab's test-file.txt when it has `size` bytes; one written anew when the
    /// default size is asked for; otherwise a temporary one in `log_dir`, removed when
    /// dropped (or when the checker is interrupted).
    pub fn prepare(root: &Path, log_dir: &Path, size: u64) -> lab::Result<(Self, TestFileNote)> {
        let shared = root.join("test-file.txt");
        let found = fs::metadata(&shared)
            .ok()
            .filter(|meta| meta.is_file())
            .map(|meta| meta.len());
        if found == Some(size) {
            let note = TestFileNote::Shared {
                path: shared.clone(),
                size,
            };
            return Ok((TestFile::Shared(shared), note));
        }
        if size == DEFAULT_SIZE {
            write_random_file(&shared, size)
                .with_context(|| format!("writing {}", shared.display()))?;
            let note = TestFileNote::Written {
                path: shared.clone(),
                found,
                size,
            };
            return Ok((TestFile::Shared(shared), note));
        }
        let dir = tempfile::Builder::new()
            .prefix(".checker-")
            .tempdir_in(log_dir)
            .with_context(|| format!("creating a temporary directory in {}", log_dir.display()))?;
        guard::remove_on_interrupt(dir.path());
        let file = TestFile::Temporary(dir);
        write_random_file(&file.path(), size).context("writing a temporary test file")?;
        Ok((file, TestFileNote::Temporary { size }))
    }
}
