//! Tells the checker's tests whether this copy of the lab has the reference solution:
//! `cfg(lab_has_solution)`. The tests that grade the reference or the fault fixture (which
//! lives in solution/) are compiled only then, so a student's copy runs only tests that
//! prove something there, and none that would only say it skipped.

use std::path::Path;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(lab_has_solution)");
    println!("cargo::rerun-if-changed=build.rs");
    if Path::new("../solution/Cargo.toml").is_file() {
        println!("cargo::rustc-cfg=lab_has_solution");
    }
}
