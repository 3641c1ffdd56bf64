//! A Landlock domain (the kernel's unprivileged access control, Linux 5.13 and later):
//! once a process has restricted itself, it and everything it starts may read and run
//! files anywhere in its world but write only beneath the paths allowed, may neither
//! mount nor unmount, and may trace no process outside the domain. Nothing it does later
//! can lift the domain.
//!
//! Written on the system calls rather than the `landlock` crate (0.4.8 was read for this):
//! its `RulesetCreated::restrict_self` would do between fork and exec, where nothing may
//! allocate, since it only calls `prctl` and `landlock_restrict_self`, but it takes the
//! ruleset by value, so the child would copy it bitwise out of init's memory, and that it
//! allocates nothing is a fact of today's source, not a promise the crate makes. Five
//! crates more to compile (the crate, `enumflags2` and `thiserror` with their derives) for
//! the hundred lines below are not worth an unpromised property in the one place where an
//! allocation can deadlock: here the child makes one system call on a descriptor.

use std::ffi::CString;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

// The file system rights of Landlock's first version, which every kernel with Landlock
// knows (include/uapi/linux/landlock.h).
const EXECUTE: u64 = 1 << 0;
const WRITE_FILE: u64 = 1 << 1;
const READ_FILE: u64 = 1 << 2;
const READ_DIR: u64 = 1 << 3;
const ALL_OF_VERSION_1: u64 = (1 << 13) - 1;
/// Moving or linking a file into another folder (version 2). A domain that does not
/// handle it refuses every such move with EXDEV, so rustc could not rename its output
/// into place.
const REFER: u64 = 1 << 13;
/// Truncating a file (version 3).
const TRUNCATE: u64 = 1 << 14;
const FILE_RIGHTS: u64 = EXECUTE | WRITE_FILE | READ_FILE;
const RULE_PATH_BENEATH: libc::c_int = 1;

/// Scopes (version 6): no connecting to abstract Unix sockets, and no signal, outside
/// the domain (init, above all).
const SCOPE_ABSTRACT_UNIX_SOCKET: u64 = 1 << 0;
const SCOPE_SIGNAL: u64 = 1 << 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
    handled_access_net: u64,
    scoped: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// A ruleset: read and execute anywhere, everything beneath `writable`, and read and
/// write on the device files in `devices`. [`restrict_self`] puts a process under it.
pub fn ruleset(writable: &[&Path], devices: &[&Path]) -> io::Result<OwnedFd> {
    let all = all_rights();
    let scoped = version() >= 6;
    let attr = RulesetAttr {
        handled_access_fs: all,
        handled_access_net: 0,
        scoped: if scoped {
            SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        } else {
            0
        },
    };
    // An older kernel knows the first field only: it is given that much.
    let size = if scoped {
        std::mem::size_of::<RulesetAttr>()
    } else {
        std::mem::size_of::<u64>()
    };
    // SAFETY: the attribute struct lives across the call and its size is given.
    let ruleset = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const RulesetAttr,
            size,
            0,
        )
    };
    if ruleset < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just gave us this descriptor.
    let ruleset = unsafe { OwnedFd::from_raw_fd(ruleset as RawFd) };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&ruleset);
    allow(fd, Path::new("/"), EXECUTE | READ_FILE | READ_DIR)?;
    for path in writable {
        // A file takes only the rights that apply to files.
        let rights = if path.is_dir() {
            all
        } else {
            FILE_RIGHTS | (all & TRUNCATE)
        };
        allow(fd, path, rights)?;
    }
    for device in devices {
        allow(fd, device, READ_FILE | WRITE_FILE)?;
    }
    Ok(ruleset)
}

/// The version of Landlock this kernel has (0 without it).
fn version() -> i64 {
    const VERSION: libc::c_uint = 1;
    // SAFETY: asking for the version takes no attribute.
    unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<RulesetAttr>(),
            0,
            VERSION,
        )
    }
}

/// Every file system right this kernel's Landlock knows.
fn all_rights() -> u64 {
    let version = version();
    let mut rights = ALL_OF_VERSION_1;
    if version >= 2 {
        rights |= REFER;
    }
    if version >= 3 {
        rights |= TRUNCATE;
    }
    rights
}

/// Puts this process under `ruleset`, for good. One system call: safe between fork and
/// exec (no new privileges must be set already).
pub fn restrict_self(ruleset: RawFd) -> io::Result<()> {
    // SAFETY: a plain system call on a descriptor the caller owns.
    if unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn allow(ruleset: RawFd, path: &Path, access: u64) -> io::Result<()> {
    let name = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: a NUL-terminated path; the descriptor is closed below.
    let parent = unsafe { libc::open(name.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if parent < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: as above.
    let parent = unsafe { OwnedFd::from_raw_fd(parent) };
    let rule = PathBeneathAttr {
        allowed_access: access,
        parent_fd: std::os::fd::AsRawFd::as_raw_fd(&parent),
    };
    // SAFETY: the rule lives across the call.
    let added = unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset,
            RULE_PATH_BENEATH,
            &rule as *const PathBeneathAttr,
            0,
        )
    };
    if added != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
