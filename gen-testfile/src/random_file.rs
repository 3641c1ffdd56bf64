//! The test file's size, parsed and shown, and the file written whole or not at all.

use std::fmt;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::thread;

use rand::Rng;
use rand::rngs::SmallRng;

/// The size of the test file unless told otherwise: 100 MiB.
pub const DEFAULT_SIZE: u64 = 100 << 20;

/// How many bytes are generated and written at a time.
const CHUNK: usize = 1 << 20;

/// A size that could not be understood, with the reason.
#[derive(Debug, PartialEq, Eq)]
pub struct BadSize(String);

impl fmt::Display for BadSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadSize {}

/// Reads a size such as `1048576`, `512K`, `100M`, `1G` or `3MiB`: a whole number of
/// bytes, optionally followed by K, M or G (binary units: 1K is 1024 bytes), in either case.
pub fn parse_size(text: &str) -> Result<u64, BadSize> {
    let digits_end = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, suffix) = text.split_at(digits_end);
    if digits.is_empty() {
        return Err(BadSize(format!(
            "`{text}` is not a size: expected a whole number of bytes, optionally with K, M or G (for example 100M)"
        )));
    }
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => {
            return Err(BadSize(format!(
                "`{text}` has an unknown unit `{suffix}`: use K, M or G (KiB, MiB, GiB)"
            )));
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| BadSize(format!("`{text}` is too large")))
}

/// Writes `size` random bytes to `path`. The bytes go to a temporary file beside `path`
/// that is renamed over it only once complete, so a reader never sees half a file and a
/// failure leaves nothing behind.
pub fn write_random_file(path: &Path, size: u64) -> io::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file = tempfile::Builder::new()
        .prefix(".gen-testfile-")
        .permissions(fs::Permissions::from_mode(0o644))
        .tempfile_in(directory)?;
    // Copying into the page cache costs more than making the bytes, so each core fills
    // and writes its own share of the file.
    let shares = thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let share = size.div_ceil(shares).next_multiple_of(CHUNK as u64);
    thread::scope(|scope| {
        let writers: Vec<_> = (0..size.div_ceil(share.max(1)))
            .map(|i| {
                let start = i * share;
                let end = size.min(start + share);
                let file = file.as_file();
                scope.spawn(move || write_random_range(file, start, end))
            })
            .collect();
        writers.into_iter().try_for_each(|writer| {
            writer
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    })?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Fills bytes `start..end` of `file` with random bytes.
fn write_random_range(file: &File, start: u64, end: u64) -> io::Result<()> {
    let mut rng: SmallRng = rand::make_rng();
    let mut chunk = vec![0; CHUNK];
    let mut offset = start;
    while offset < end {
        let n = (end - offset).min(CHUNK as u64) as usize;
        rng.fill_bytes(&mut chunk[..n]);
        file.write_all_at(&chunk[..n], offset)?;
        offset += n as u64;
    }
    Ok(())
}

/// A short human form of a byte count: `100 MiB`, `3 KiB`, `12345 bytes`.
pub fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_with_units_are_binary() {
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("1"), Ok(1));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("3m"), Ok(3 << 20));
        assert_eq!(parse_size("100MiB"), Ok(100 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
    }

    #[test]
    fn malformed_sizes_are_refused() {
        for text in [
            "",
            "abc",
            "-1",
            "10X",
            "1.5M",
            "M",
            "99999999999999999999",
            "17179869184G",
        ] {
            assert!(parse_size(text).is_err(), "{text:?} was accepted");
        }
    }

    #[test]
    fn human_sizes_pick_the_largest_exact_unit() {
        assert_eq!(human_size(100 << 20), "100 MiB");
        assert_eq!(human_size(1536), "1536 bytes");
        assert_eq!(human_size(3 << 10), "3 KiB");
    }
}
