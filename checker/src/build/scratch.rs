//! Grading one student's `server.rs`: the file is built as the skeleton's server in a
//! scratch copy of the lab, so the instructor's own `skeleton/` is never touched, not even
//! for a moment.
//!
//! Contained, the build sees the scratch copy at `/lab` and nothing else of the machine's
//! but the system, the toolchain and the crates. Its target directory is a private layer
//! over a warm one (`target/submissions-warm`, the lab's own library and every crate built
//! once, by a build that holds no submission): a submission compiles only its server,
//! writes only its layer, and no submission can read another's output.

use std::fs;
use std::io;
use std::os::unix::fs::{MetadataExt, lchown};
use std::path::{Path, PathBuf};

use lab::{Context, Failure};
use tempfile::TempDir;

use crate::build::{self, Build, BuildFailure};
use crate::contain::{self, BuildWorld, LAB_PATH, Purpose, TargetDir, limits};
use crate::server::guard;

/// Where a student's file goes in the scratch copy: the path their panics and compiler
/// errors name, as in their own copy of the lab.
pub const SERVER_SOURCE: &str = "skeleton/src/bin/server.rs";

/// The packages of the lab a submission's build needs: the workspace names all three.
const PACKAGES: &[&str] = &["checker", "skeleton", "gen-testfile"];

/// A scratch copy of the lab holding one submission, removed when dropped.
pub struct Scratch {
    dir: TempDir,
}

impl Scratch {
    /// Copies what a build of the workspace at `root` reads (its manifests, and each
    /// package's manifest and sources, with their times, so that cargo finds the warm
    /// build fresh) into a temporary directory, with `submission` as the skeleton's server.
    pub fn new(root: &Path, submission: &Path) -> lab::Result<Self> {
        if submission.is_dir() {
            return Err(Failure::new(
                format!("--submission {}", submission.display()),
                "is a folder",
            )
            .hint("give the path of a student's server.rs file"));
        }
        let source = fs::read(submission)
            .with_context(|| format!("reading the submission {}", submission.display()))?;
        let scratch = Self::of_lab(root)?;
        fs::write(scratch.dir.path().join(SERVER_SOURCE), source)
            .context("writing the submission into the scratch copy")?;
        Ok(scratch)
    }

    /// A scratch copy of the lab at `root` as it is (the warm build's).
    fn of_lab(root: &Path) -> lab::Result<Self> {
        // The checker's pid in the name tells the next run whose copy it is.
        let dir = tempfile::Builder::new()
            .prefix(&format!("{PREFIX}{}-", std::process::id()))
            .tempdir()
            .context("creating a scratch copy of the lab")?;
        guard::remove_on_interrupt(dir.path());
        for file in ["Cargo.toml", "Cargo.lock"] {
            copy_keeping_time(&root.join(file), &dir.path().join(file))
                .with_context(|| format!("copying {file} into the scratch copy"))?;
        }
        for package in PACKAGES {
            let (from, to) = (root.join(package), dir.path().join(package));
            fs::create_dir_all(&to).context("creating the scratch copy")?;
            copy_keeping_time(&from.join("Cargo.toml"), &to.join("Cargo.toml"))
                .with_context(|| format!("copying {package}/Cargo.toml into the scratch copy"))?;
            copy_sources(&from.join("src"), &to.join("src"))
                .with_context(|| format!("copying {package}/src into the scratch copy"))?;
        }
        fs::create_dir(dir.path().join("target")).context("creating the scratch copy")?;
        Ok(Scratch { dir })
    }

    /// Builds the submission's server and returns its binary, which lies in the scratch
    /// copy, where no other checker run can replace it. `contained`: in its own world on a
    /// layer over the warm target directory (warmed first if it needs to be); otherwise
    /// with plain cargo in `target/submissions`.
    pub fn build(&self, root: &Path, contained: bool) -> Result<PathBuf, BuildFailure> {
        let shared = root.join("target").join("submissions");
        if !contained {
            let built = Build {
                root: self.dir.path(),
                package: "skeleton",
                unify_with: &["checker"],
                bin: "server",
                target_dir: Some(&shared),
                contain: None,
                lib_only: false,
            }
            .run(true)?;
            let binary = self.dir.path().join("server");
            fs::copy(&built, &binary).map_err(|e| {
                BuildFailure::Environment(format!("copying {}: {e}", built.display()))
            })?;
            return Ok(binary);
        }
        let warm = warm(root)?;
        let world = self.world(TargetDir::Layer {
            warm,
            cap: limits::BUILD_OUTPUT,
        })?;
        Build {
            root: self.dir.path(),
            package: "skeleton",
            unify_with: &[],
            bin: "server",
            target_dir: None,
            contain: Some(&world),
            lib_only: false,
        }
        .run(true)
    }

    /// The build's world: this scratch copy, the toolchain, the crates, `target`. The
    /// machine's cargo configuration stays out: it may hold `[env]` values, tokens or
    /// addresses with credentials, which a build could embed.
    fn world(&self, target: TargetDir) -> Result<BuildWorld, BuildFailure> {
        let toolchain = build::toolchain().map_err(BuildFailure::Environment)?;
        let home = build::cargo_home();
        let profile = if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        };
        give_to_build(self.dir.path()).map_err(|e| {
            BuildFailure::Environment(format!("handing the scratch copy to the build: {e}"))
        })?;
        Ok(BuildWorld {
            lab: self.dir.path().to_owned(),
            toolchain,
            registry: home
                .as_ref()
                .map(|home| home.join("registry"))
                .filter(|registry| registry.is_dir()),
            target,
            export: Some(Path::new(LAB_PATH).join(format!("target/{profile}/server"))),
        })
    }
}

/// Makes sure the warm target directory holds the lab's library and every crate, built
/// contained from the lab's own sources (no submission): cargo decides what is fresh.
fn warm(root: &Path) -> Result<PathBuf, BuildFailure> {
    let environment = |e: io::Error| BuildFailure::Environment(format!("the warm build: {e}"));
    let dir = root.join("target").join("submissions-warm");
    fs::create_dir_all(&dir).map_err(environment)?;
    give_to_build(&dir).map_err(environment)?;
    let scratch =
        Scratch::of_lab(root).map_err(|failure| BuildFailure::Environment(failure.to_string()))?;
    let world = BuildWorld {
        export: None,
        ..scratch.world(TargetDir::Shared(dir.clone()))?
    };
    Build {
        root: scratch.dir.path(),
        package: "skeleton",
        unify_with: &[],
        bin: "server",
        target_dir: None,
        contain: Some(&world),
        lib_only: true,
    }
    .run(false)
    .map_err(|failure| match failure {
        BuildFailure::DoesNotCompile(errors) => BuildFailure::Environment(format!(
            "the lab's own library does not compile: {}",
            errors.join(" ")
        )),
        other => other,
    })?;
    Ok(dir)
}

/// For a root checker, hands `dir` (what a build may write) to the builds' identity; a
/// plain user's builds are that user already.
fn give_to_build(dir: &Path) -> io::Result<()> {
    let build = contain::identity(&Purpose::Build(placeholder_world()));
    if !nix::unistd::Uid::effective().is_root() {
        return Ok(());
    }
    let mut next = vec![dir.to_owned()];
    while let Some(path) = next.pop() {
        let meta = fs::symlink_metadata(&path)?;
        if meta.uid() != build.uid {
            lchown(&path, Some(build.uid), Some(build.gid))?;
        }
        if meta.is_dir() {
            next.extend(fs::read_dir(&path)?.flatten().map(|entry| entry.path()));
        }
    }
    Ok(())
}

/// A world that says only "a build", for asking whose a build is.
fn placeholder_world() -> BuildWorld {
    BuildWorld {
        lab: PathBuf::new(),
        toolchain: PathBuf::new(),
        registry: None,
        target: TargetDir::Shared(PathBuf::new()),
        export: None,
    }
}

/// Copies a file with its modification time.
fn copy_keeping_time(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)?;
    let modified = fs::metadata(from)?.modified()?;
    fs::File::options()
        .write(true)
        .open(to)?
        .set_modified(modified)
}

/// Copies a package's sources: every file and folder beneath `from`, with their times.
fn copy_sources(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let target = to.join(entry.file_name());
        if kind.is_dir() {
            copy_sources(&entry.path(), &target)?;
        } else if kind.is_file() {
            copy_keeping_time(&entry.path(), &target)?;
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
