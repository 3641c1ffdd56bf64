//! Building the server under test with cargo, and finding the exact binary it built.

use std::env;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds binary `bin` of package `package` in the workspace at `root`, with the checker's
/// own profile. Cargo's progress and the compiler's messages go to stderr as usual.
/// Returns the path of the executable, or why there is none.
pub fn build(root: &Path, package: &str, bin: &str) -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root).args([
        "build",
        "--package",
        package,
        "--bin",
        bin,
        "--message-format=json-render-diagnostics",
    ]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let mut cargo = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let messages = BufReader::new(cargo.stdout.take().expect("piped stdout"));
    let mut executable = None;
    for line in messages.lines().map_while(Result::ok) {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if message["reason"] == "compiler-artifact"
            && message["target"]["name"] == bin
            && let Some(path) = message["executable"].as_str()
        {
            executable = Some(PathBuf::from(path));
        }
    }
    let status = cargo
        .wait()
        .map_err(|e| format!("cargo did not finish: {e}"))?;
    match executable {
        Some(path) if status.success() => Ok(path),
        _ => Err(format!(
            "the {package} package does not compile: fix the errors cargo printed above"
        )),
    }
}
