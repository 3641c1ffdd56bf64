//! Building the server under test with cargo, and finding the exact binary it built.

use std::env;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Builds binary `bin` of package `package` in the workspace at `root`, with the checker's
/// own profile. Cargo's progress and the compiler's messages go to `messages` (the
/// checker's stderr, so a student sees compile errors as usual).
///
/// The packages in `unify_with` join the selection (only `bin` is built): cargo picks
/// the features of shared dependencies from the selected packages, so selecting the
/// checker too makes them the features `cargo run -p checker` already compiled, and
/// nothing is compiled a second time.
/// Returns the path of the executable, or why there is none.
pub fn build(
    root: &Path,
    package: &str,
    unify_with: &[&str],
    bin: &str,
    messages: Stdio,
) -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--package", package]);
    for other in unify_with {
        command.args(["--package", other]);
    }
    command.args(["--bin", bin, "--message-format=json-render-diagnostics"]);
    if !cfg!(debug_assertions) {
        command.arg("--release");
    }
    let mut cargo = command
        .stdout(Stdio::piped())
        .stderr(messages)
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let json = BufReader::new(cargo.stdout.take().expect("piped stdout"));
    let mut executable = None;
    for line in json.lines().map_while(Result::ok) {
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

    #[test]
    fn the_exact_binary_built_is_found() {
        let dir = package("demo-found", "fn main() {}\n");
        let binary = build(dir.path(), "demo-found", &[], "demo-found", Stdio::null()).unwrap();
        let target = env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| dir.path().join("target"), PathBuf::from);
        assert!(binary.starts_with(&target), "{}", binary.display());
        assert!(binary.ends_with("demo-found") && binary.is_file());
    }

    #[test]
    fn a_compile_error_is_reported_as_not_compiling() {
        let dir = package("demo-broken", "fn main() { let x: u32 = \"text\"; }\n");
        let failure =
            build(dir.path(), "demo-broken", &[], "demo-broken", Stdio::null()).unwrap_err();
        assert_eq!(
            failure,
            "the demo-broken package does not compile: fix the errors cargo printed above"
        );
    }
}
