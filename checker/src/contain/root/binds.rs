//! The binds of the world: sources of the machine's opened by the shim, and how they
//! travel to init (their descriptors' numbers in init's environment).

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// A source of the machine's to bind into the world, opened before any mount.
pub struct Bind {
    pub(super) source: File,
    /// Where it goes, relative to the new root.
    pub(super) target: PathBuf,
    pub(super) writable: bool,
    pub(super) is_dir: bool,
}

/// How a bind travels from the shim to init: its descriptor's number and the rest.
#[derive(serde::Serialize, serde::Deserialize)]
struct SentBind {
    fd: i32,
    target: PathBuf,
    writable: bool,
    is_dir: bool,
}

/// The binds as text for init's environment; their descriptors stay open across exec.
pub fn send(binds: &[Bind]) -> String {
    let sent: Vec<SentBind> = binds
        .iter()
        .map(|bind| SentBind {
            fd: bind.source.as_raw_fd(),
            target: bind.target.clone(),
            writable: bind.writable,
            is_dir: bind.is_dir,
        })
        .collect();
    serde_json::to_string(&sent).unwrap_or_default()
}

/// The descriptors of `binds`, to keep open across init's exec.
pub fn descriptors(binds: &[Bind]) -> Vec<i32> {
    binds.iter().map(|bind| bind.source.as_raw_fd()).collect()
}

/// The binds init was given (see [`send`]), now its own, close-on-exec.
pub fn receive(text: &str) -> Result<Vec<Bind>, String> {
    let sent: Vec<SentBind> =
        serde_json::from_str(text).map_err(|e| format!("a bad list of binds: {e}"))?;
    Ok(sent
        .into_iter()
        .map(|bind| {
            // SAFETY: the shim left these descriptors open for init alone.
            let source = unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(bind.fd) };
            let _ = nix::fcntl::fcntl(
                &source,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
            );
            Bind {
                source,
                target: bind.target,
                writable: bind.writable,
                is_dir: bind.is_dir,
            }
        })
        .collect())
}
