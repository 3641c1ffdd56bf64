//! A Landlock domain (the kernel's unprivileged access control, Linux 5.13 and later):
//! once a process has restricted itself, it and everything it starts may read and run
//! files anywhere but write only beneath the folders allowed, and may neither mount nor
//! unmount. Nothing it does later can lift the domain.

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
const ALL: u64 = (1 << 13) - 1;
const RULE_PATH_BENEATH: libc::c_int = 1;

#[repr(C)]
struct RulesetAttr {
    handled_access_fs: u64,
}

#[repr(C, packed)]
struct PathBeneathAttr {
    allowed_access: u64,
    parent_fd: i32,
}

/// Restricts this process: read and execute anywhere, everything beneath `writable`,
/// and read and write on the device files in `devices`.
pub fn restrict(writable: &[&Path], devices: &[&Path]) -> io::Result<()> {
    let attr = RulesetAttr {
        handled_access_fs: ALL,
    };
    // SAFETY: the attribute struct lives across the call and its size is given.
    let ruleset = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            &attr as *const RulesetAttr,
            std::mem::size_of::<RulesetAttr>(),
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
    for dir in writable {
        allow(fd, dir, ALL)?;
    }
    for device in devices {
        allow(fd, device, READ_FILE | WRITE_FILE)?;
    }
    // SAFETY: plain system calls on a descriptor we own.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
        if libc::syscall(libc::SYS_landlock_restrict_self, fd, 0) != 0 {
            return Err(io::Error::last_os_error());
        }
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
