//! Building the server under test with cargo, and finding the exact binary it built; the
//! scratch copy a submission is built in (`scratch`).

use std::env;
use std::io::{self, BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;

pub mod scratch;

use std::os::unix::process::CommandExt;

use crate::contain::{self, BuildWorld, LAB_PATH, Plan, Purpose, limits};
use crate::report;
use crate::server::guard;

/// Why there is no binary to grade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildFailure {
    /// The code does not compile: the compiler's errors, as it rendered them.
    DoesNotCompile(Vec<String>),
    /// The build reached one of the checker's caps (its memory, the room for its
    /// output): which, in words. Graded 0, like a build that never ends.
    CapReached(String),
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
    /// Runs cargo contained in this world (a submission's build): unprivileged, offline,
    /// seeing only the toolchain, the crates and its scratch copy, writing only its
    /// target directory. `root` is then the scratch copy, seen as [`LAB_PATH`].
    pub contain: Option<&'a BuildWorld>,
    /// Builds the package's library only (warming a target directory for the binaries).
    pub lib_only: bool,
}

impl Build<'_> {
    /// Builds the binary with the checker's own profile. With `show`, cargo's progress
    /// and the compiler's messages go to the checker's stderr as they come, so a student
    /// sees compile errors as usual. Returns the path of the executable, or why there is
    /// none.
    pub fn run(&self, show: bool) -> Result<PathBuf, BuildFailure> {
        let mut command = self.start(self.cargo_args(show))?;
        let cargo = command.child();
        let group = cargo.id() as i32;
        // Someone else's code (a contained build) reaches the terminal inert: the compiler
        // quotes a submission's text, control characters and all.
        let untrusted = self.contain.is_some();
        let said = self.read_messages(cargo, show, untrusted);
        let status = cargo.wait();
        guard::running_groups().retain(|registered| registered.group != group);
        let status =
            status.map_err(|e| BuildFailure::Environment(format!("cargo did not finish: {e}")))?;
        if let Running::Contained(launched) = &mut command
            && let Some(why) = launched.channel.failure()
        {
            return Err(BuildFailure::Environment(format!(
                "containing the build: {why}"
            )));
        }
        self.outcome(said, status)
    }

    /// Cargo's arguments: the package and its binary (or library), the message format,
    /// the profile.
    fn cargo_args(&self, show: bool) -> Vec<String> {
        let mut args: Vec<String> = vec!["build".into(), "--package".into(), self.package.into()];
        for other in self.unify_with {
            args.extend(["--package".into(), (*other).into()]);
        }
        // The compiler's messages in colour only for a terminal, as cargo itself does, and
        // for the user's own code: a submission's are shown inert, colours and all.
        let colour = show
            && self.contain.is_none()
            && io::stderr().is_terminal()
            && env::var_os("NO_COLOR").is_none();
        let format = if colour {
            "--message-format=json-diagnostic-rendered-ansi"
        } else {
            "--message-format=json"
        };
        if self.lib_only {
            args.push("--lib".into());
        } else {
            args.extend(["--bin".into(), self.bin.into()]);
        }
        args.push(format.into());
        if !cfg!(debug_assertions) {
            args.push("--release".into());
        }
        args
    }

    /// Starts cargo with `args`, contained or not, in a process group the guard knows.
    fn start(&self, mut args: Vec<String>) -> Result<Running, BuildFailure> {
        Ok(match self.contain {
            Some(world) => {
                args.extend(["--offline".into(), "--target-dir".into()]);
                args.push(format!("{LAB_PATH}/target"));
                let plan = build_plan(world, args);
                let mut command = contain::shim_command(&plan);
                command.stdout(Stdio::piped()).stderr(Stdio::piped());
                command.process_group(0);
                let running = guard::running_groups();
                let launched = contain::launch(&plan, command).map_err(|why| {
                    BuildFailure::Environment(format!("containing the build: {why}"))
                })?;
                guard::register(running, launched.child.id() as i32);
                Running::Contained(launched)
            }
            None => {
                let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let mut command = Command::new(cargo);
                command.args(&args);
                if let Some(dir) = self.target_dir {
                    command.arg("--target-dir").arg(dir);
                }
                // A group of its own, known to the guard: Ctrl-C, SIGTERM and the time
                // limit stop cargo and every rustc with it.
                // No input: under `checker watch` the terminal is the watch's, its keys
                // typed one by one.
                command
                    .process_group(0)
                    .current_dir(self.root)
                    .stdin(Stdio::null())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                let running = guard::running_groups();
                let child = command
                    .spawn()
                    .map_err(|e| BuildFailure::Environment(format!("cannot run cargo: {e}")))?;
                guard::register(running, child.id() as i32);
                Running::Plain(child)
            }
        })
    }

    /// Reads what cargo says until it closes its output: the compiler's messages (shown
    /// as they come with `show`), the executable it built, and cargo's own lines.
    fn read_messages(
        &self,
        cargo: &mut std::process::Child,
        show: bool,
        untrusted: bool,
    ) -> CargoSaid {
        // Cargo's own lines (progress, its errors) come on stderr; a thread passes them on
        // while the compiler's messages are read here.
        let stderr = cargo.stderr.take().expect("piped stderr");
        let cargo_lines = thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if show {
                    eprintln!("{}", shown(&line, untrusted));
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
                        let _ = io::stderr().write_all(shown(rendered, untrusted).as_bytes());
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
        CargoSaid {
            executable,
            errors,
            cargo_lines: cargo_lines.join().unwrap_or_default(),
        }
    }

    /// The binary, or why there is none, from what cargo said and how it ended.
    fn outcome(
        &self,
        said: CargoSaid,
        status: std::process::ExitStatus,
    ) -> Result<PathBuf, BuildFailure> {
        let CargoSaid {
            executable,
            errors,
            cargo_lines,
        } = said;
        if let Some(cap) = cap_reached(&errors, &cargo_lines) {
            return Err(BuildFailure::CapReached(cap));
        }
        if self.contain.is_some()
            && !self.lib_only
            && errors.is_empty()
            && !status.success()
            && let Some(crash) = compiler_crash(&cargo_lines, self.package, self.bin)
        {
            return Err(BuildFailure::DoesNotCompile(vec![crash]));
        }
        // A contained build's binary lies in a layer that vanished with it: init copied it
        // into the scratch copy first.
        let executable = match self.contain {
            Some(world) => world.export.as_ref().and_then(|built| {
                let name = built.file_name()?;
                Some(world.lab.join(name)).filter(|path| path.is_file())
            }),
            None => executable,
        };
        match executable {
            Some(path) if status.success() => Ok(path),
            None if status.success() && self.lib_only => Ok(PathBuf::new()),
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

/// What cargo said during a build: the executable it reported, the compiler's errors
/// (plain), and its own lines on stderr.
struct CargoSaid {
    executable: Option<PathBuf>,
    errors: Vec<String>,
    cargo_lines: Vec<String>,
}

/// A line of the build as the terminal shows it: as it is for the user's own code,
/// inert (control characters written out, line breaks kept) for someone else's.
fn shown(text: &str, untrusted: bool) -> std::borrow::Cow<'_, str> {
    if untrusted {
        report::inert(text)
    } else {
        text.into()
    }
}

/// Why the compiler failed on the submission without an error message, if it did (it
/// crashed: a stack overflow, an internal error): a fault of the submitted code's, not of
/// the grader's, since the warm build has compiled everything else.
fn compiler_crash(cargo_lines: &[String], package: &str, bin: &str) -> Option<String> {
    let failed_on_it = format!("could not compile `{package}` (bin \"{bin}\")");
    if !cargo_lines.iter().any(|line| line.contains(&failed_on_it)) {
        return None;
    }
    let said = cargo_lines
        .iter()
        .find(|line| line.contains("rustc interrupted by") || line.contains("error: "))
        .map_or("", |line| line.trim());
    Some(format!(
        "the compiler crashed on this code without an error of its own ({}): it does not compile",
        report::quote(said)
    ))
}

/// Cargo, running contained or not.
enum Running {
    Contained(contain::Launched),
    Plain(std::process::Child),
}

impl Running {
    fn child(&mut self) -> &mut std::process::Child {
        match self {
            Running::Contained(launched) => &mut launched.child,
            Running::Plain(child) => child,
        }
    }
}

/// The plan of a contained build: cargo of the toolchain with `args`, and an environment
/// of its own (none of the instructor's: no home, no working folder, no tokens).
fn build_plan(world: &BuildWorld, args: Vec<String>) -> Plan {
    let bin = world.toolchain.join("bin");
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), format!("{}:/usr/bin:/bin", bin.display())),
        ("CARGO_HOME".into(), "/cargo".into()),
        ("CARGO_NET_OFFLINE".into(), "true".into()),
        ("HOME".into(), "/tmp".into()),
        // rustc renames what it writes from its temporary folder into the target
        // directory: both must be on one mount.
        ("TMPDIR".into(), format!("{LAB_PATH}/target/tmp")),
        ("LANG".into(), "C.UTF-8".into()),
    ];
    // The marker the lab's tests find every process they started by.
    env.extend(env::vars().filter(|(name, _)| name == "CHECKER_TEST_RUN"));
    Plan {
        purpose: Purpose::Build(world.clone()),
        program: bin.join("cargo"),
        args,
        env,
        tmp_cap: limits::BUILD_TMP,
        processes: limits::BUILD_PROCESSES,
        memory: limits::BUILD_MEMORY,
        file_size: limits::BUILD_FILE,
    }
}

/// The checker's cap that a build reached, if its messages say so: its memory, or the
/// room for its output.
fn cap_reached(errors: &[String], cargo_lines: &[String]) -> Option<String> {
    let said = |words: &str| {
        errors
            .iter()
            .chain(cargo_lines)
            .any(|line| line.contains(words))
    };
    if said("memory allocation of") || said("Cannot allocate memory") || said("out of memory") {
        return Some(format!(
            "the build stopped when a process of it reached {} MiB of memory, the checker's \
             cap for a build (a huge constant, file or macro expansion?)",
            limits::BUILD_MEMORY / lab::MIB
        ));
    }
    if said("No space left on device") || said("File too large") {
        return Some(format!(
            "the build stopped when its output reached the checker's cap ({} MiB in all, {} MiB \
             a file): it wrote far more than a lab server needs",
            limits::BUILD_OUTPUT / lab::MIB,
            limits::BUILD_FILE / lab::MIB
        ));
    }
    None
}

/// Where the toolchain lies: rustc's sysroot, the folder holding `bin/cargo`,
/// `bin/rustc` and `lib/rustlib`. The cargo named by `CARGO` (as `cargo run` sets it)
/// decides; a rustup proxy is asked for the toolchain it stands for.
pub fn toolchain() -> Result<PathBuf, String> {
    let rustc = match env::var_os("CARGO").map(PathBuf::from) {
        Some(cargo) => {
            let bin = cargo
                .parent()
                .filter(|_| cargo.is_file())
                .ok_or_else(|| format!("cannot run cargo: {} is no file", cargo.display()))?;
            if let Some(sysroot) = bin
                .parent()
                .filter(|root| root.join("lib/rustlib").is_dir())
            {
                return Ok(sysroot.to_owned());
            }
            bin.join("rustc")
        }
        None => PathBuf::from("rustc"),
    };
    let output = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run {} to find the toolchain: {e}", rustc.display()))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    if !output.status.success() || !sysroot.join("bin/cargo").is_file() {
        return Err(format!(
            "cannot find the toolchain's cargo (rustc --print sysroot said {})",
            sysroot.display()
        ));
    }
    Ok(sysroot)
}

/// Cargo's home on this machine: its registry of downloaded crates and its configuration.
pub fn cargo_home() -> Option<PathBuf> {
    env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .filter(|home| home.is_dir())
}

#[cfg(test)]
mod tests;
