//! Building the server under test with cargo, and finding the exact binary it built; the
//! scratch copy a submission is built in (`scratch`).

use std::env;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

pub mod scratch;

use std::os::unix::process::CommandExt;

use crate::contain::{self, Confinement};
use crate::report;
use crate::server::guard;

/// Why there is no binary to grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildFailure {
    /// The code does not compile: the compiler's errors, as it rendered them.
    DoesNotCompile(Vec<String>),
    /// Cargo failed without a compiler error: the build environment's trouble (no cargo, no
    /// network for a crate, a lock file that needs updating), not the graded code's.
    Environment(String),
}

/// What to build, and where.
pub struct Build<'a> {
    /// The workspace.
    pub root: &'a Path,
    pub package: &'a str,
    /// Packages that join the selection (only `bin` is built): cargo picks the features of
    /// shared dependencies from the selected packages, so selecting the checker too makes
    /// them the features `cargo run -p checker` already compiled, and nothing is compiled
    /// a second time.
    pub unify_with: &'a [&'a str],
    pub bin: &'a str,
    /// A target directory other than cargo's own choice.
    pub target_dir: Option<&'a Path>,
    /// Runs cargo contained, where the machine can (a submission's build must not read
    /// the reference, and must end with the checker).
    pub contain: Option<&'a Confinement>,
}

impl Build<'_> {
    /// Builds the binary with the checker's own profile. With `show`, cargo's progress
    /// and the compiler's messages go to the checker's stderr as they come, so a student
    /// sees compile errors as usual. Returns the path of the executable, or why there is
    /// none.
    pub fn run(&self, show: bool) -> Result<PathBuf, BuildFailure> {
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = match self.contain {
            Some(plan) => {
                let cargo = on_path(&cargo).ok_or_else(|| {
                    BuildFailure::Environment(format!(
                        "cannot run cargo: {} is not on PATH",
                        Path::new(&cargo).display()
                    ))
                })?;
                let shim = env::current_exe().map_err(|e| {
                    BuildFailure::Environment(format!("finding the checker's own binary: {e}"))
                })?;
                let mut command = Command::new(shim);
                command.arg(cargo).env(contain::PLAN, plan.encode());
                command
            }
            None => Command::new(cargo),
        };
        // A group of its own, known to the guard: Ctrl-C, SIGTERM and the time limit stop
        // cargo and every rustc with it.
        command
            .process_group(0)
            .current_dir(self.root)
            .args(["build", "--package", self.package]);
        for other in self.unify_with {
            command.args(["--package", other]);
        }
        // The compiler's messages in colour only for a terminal, as cargo itself does.
        let colour = show && io::stderr().is_terminal() && env::var_os("NO_COLOR").is_none();
        let format = if colour {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        };
        command.args(["--bin", self.bin, format]);
        if let Some(dir) = self.target_dir {
            command.arg("--target-dir").arg(dir);
        }
        if !cfg!(debug_assertions) {
            command.arg("--release");
        }
        let running = guard::running_groups();
        let mut cargo = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| BuildFailure::Environment(format!("cannot run cargo: {e}")))?;
        let group = cargo.id() as i32;
        guard::register(running, group);
        // Cargo's own lines (progress, its errors) come on stderr; a thread passes them on
        // while the compiler's messages are read here.
        let stderr = cargo.stderr.take().expect("piped stderr");
        let cargo_lines = thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if show {
                    eprintln!("{line}");
                }
                lines.push(line);
            }
            lines
        });
        let json = BufReader::new(cargo.stdout.take().expect("piped stdout"));
        let (mut executable, mut errors) = (None, Vec::new());
        for line in json.lines().map_while(Result::ok) {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            match message["reason"].as_str() {
                Some("compiler-message") => {
                    let rendered = message["message"]["rendered"].as_str().unwrap_or_default();
                    if show {
                        let _ = io::stderr().write_all(rendered.as_bytes());
                    }
                    if message["message"]["level"] == "error" {
                        errors.push(report::strip_ansi(rendered));
                    }
                }
                Some("compiler-artifact") if message["target"]["name"] == self.bin => {
                    executable = message["executable"].as_str().map(PathBuf::from);
                }
                _ => {}
            }
        }
        let cargo_lines = cargo_lines.join().unwrap_or_default();
        let status = cargo.wait();
        guard::running_groups().retain(|registered| registered.group != group);
        let status =
            status.map_err(|e| BuildFailure::Environment(format!("cargo did not finish: {e}")))?;
        match executable {
            Some(path) if status.success() => Ok(path),
            _ if !errors.is_empty() => Err(BuildFailure::DoesNotCompile(errors)),
            _ => Err(BuildFailure::Environment(format!(
                "cargo build failed without a compiler error ({status}): {}",
                cargo_lines
                    .iter()
                    .rev()
                    .find(|line| line.trim_start().starts_with("error"))
                    .map_or("see cargo's messages above", String::as_str)
            ))),
        }
    }
}

/// `program` as a path to open: itself if it names a path, else the first match on PATH.
fn on_path(program: &std::ffi::OsStr) -> Option<PathBuf> {
    let program = Path::new(program);
    if program.components().count() > 1 {
        return program.is_file().then(|| program.to_owned());
    }
    env::split_paths(&env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A one-package workspace in a temporary directory whose binary `name` has `main_rs`.
    /// Each test names its package differently: with CARGO_TARGET_DIR set, all of them
    /// build into one target directory.
    fn package(name: &str, main_rs: &str) -> tempfile::TempDir {
        let dir = tempfile::TempDir::new().unwrap();
        let manifest = format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2024\"\n\n[workspace]\n"
        );
        fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        fs::create_dir(dir.path().join("src")).unwrap();
        fs::write(dir.path().join("src/main.rs"), main_rs).unwrap();
        dir
    }

    /// A build of the binary `name` of the package `name` in `dir`.
    fn demo<'a>(dir: &'a tempfile::TempDir, name: &'a str) -> Build<'a> {
        Build {
            root: dir.path(),
            package: name,
            unify_with: &[],
            bin: name,
            target_dir: None,
            contain: None,
        }
    }

    #[test]
    fn the_exact_binary_built_is_found() {
        let dir = package("demo-found", "fn main() {}\n");
        let binary = demo(&dir, "demo-found").run(false).unwrap();
        let target = env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| dir.path().join("target"), PathBuf::from);
        assert!(binary.starts_with(&target), "{}", binary.display());
        assert!(binary.ends_with("demo-found") && binary.is_file());
    }

    #[test]
    fn a_compile_error_is_reported_as_not_compiling() {
        let dir = package("demo-broken", "fn main() { let x: u32 = \"text\"; }\n");
        let failure = demo(&dir, "demo-broken").run(false).unwrap_err();
        let BuildFailure::DoesNotCompile(errors) = failure else {
            panic!("{failure:?}");
        };
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("error[E0308]: mismatched types"),
            "{errors:?}"
        );
    }

    #[test]
    fn a_missing_package_is_the_environments_trouble() {
        let dir = package("demo-alone", "fn main() {}\n");
        let build = Build {
            package: "no-such-package",
            ..demo(&dir, "demo-alone")
        };
        let failure = build.run(false).unwrap_err();
        assert!(
            matches!(&failure, BuildFailure::Environment(why) if why.contains("no-such-package")),
            "{failure:?}"
        );
    }
}
