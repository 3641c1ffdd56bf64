//! Writes the random test file that the lab's client uploads.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use gen_testfile::{human_size, parse_size, write_random_file};

/// Writes a file of random bytes for the client to upload.
#[derive(Debug, Parser)]
#[command(version)]
struct Options {
    /// Size in bytes, or with K, M or G for KiB, MiB or GiB.
    #[arg(long, default_value = "100M", allow_hyphen_values = true)]
    size: String,

    /// Where to write the file.
    #[arg(long, default_value = "test-file.txt")]
    output: PathBuf,
}

fn main() -> ExitCode {
    let options = Options::parse();
    let size = match parse_size(&options.size) {
        Ok(size) => size,
        Err(error) => return fail(&format!("bad --size: {error}")),
    };
    let path = options.output.display();
    match write_random_file(&options.output, size) {
        Ok(()) => {
            println!("Wrote {size} random bytes ({}) to {path}", human_size(size));
            ExitCode::SUCCESS
        }
        Err(error) => fail(&format!("cannot write {path}: {error}")),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("gen-testfile: {message}");
    ExitCode::FAILURE
}
