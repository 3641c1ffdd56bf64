//! Tests of the build: real cargo runs on small packages made for them.

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
        lib_only: false,
    }
}

#[test]
fn the_exact_binary_built_is_found() {
    let dir = package("demo-found", "fn main() {}\n");
    let binary = demo(&dir, "demo-found").run(false).unwrap();
    let target =
        env::var_os("CARGO_TARGET_DIR").map_or_else(|| dir.path().join("target"), PathBuf::from);
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
