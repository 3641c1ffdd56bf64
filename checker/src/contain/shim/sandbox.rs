//! The sandbox the program takes on in its own process, between fork and exec: resource
//! limits, no new privileges, the Landlock domain, no capability, and the seccomp filter
//! whose listener goes to init. Everything is prepared in init beforehand ([`Sandbox`]),
//! so that the child makes plain system calls on memory it already has ([`Ready`]).

use std::fs;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

use nix::sys::prctl;
use nix::sys::signal::Signal;

use crate::contain::{LAB_PATH, Plan, Purpose, landlock, seccomp};

/// What the program's process takes on just before exec, prepared beforehand.
pub(super) struct Sandbox {
    ruleset: OwnedFd,
    filter: Vec<libc::sock_filter>,
    notify: bool,
    limits: [(libc::__rlimit_resource_t, u64); 5],
    last_capability: i32,
    /// The program's end of the pair it sends the filter's listener on, and init's.
    listener_to_init: OwnedFd,
    pub(super) listener_from_program: OwnedFd,
    message: Box<Outgoing>,
}

/// The message buffers for sending one descriptor, filled in after the fork.
struct Outgoing {
    header: libc::msghdr,
    byte: [u8; 1],
    slice: libc::iovec,
    control: [u64; 4],
}

impl Sandbox {
    pub(super) fn prepare(plan: &Plan) -> Result<Sandbox, String> {
        let server = matches!(plan.purpose, Purpose::Server);
        let devices: Vec<PathBuf> = ["null", "zero", "full", "random", "urandom"]
            .iter()
            .map(|name| Path::new("/dev").join(name))
            .collect();
        let mut writable = vec![PathBuf::from("/tmp")];
        if !server {
            let lab = Path::new(LAB_PATH);
            writable.extend([lab.join("target"), lab.join("Cargo.lock"), "/cargo".into()]);
        }
        let writable: Vec<&Path> = writable.iter().map(PathBuf::as_path).collect();
        let devices: Vec<&Path> = devices.iter().map(PathBuf::as_path).collect();
        let ruleset = landlock::ruleset(&writable, &devices)
            .map_err(|e| format!("preparing the Landlock domain: {e}"))?;
        let last_capability = fs::read_to_string("/proc/sys/kernel/cap_last_cap")
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(40);
        let (to_init, from_program) = UnixStream::pair().map_err(|e| format!("socketpair: {e}"))?;
        Ok(Sandbox {
            ruleset,
            filter: seccomp::program(server),
            notify: server,
            limits: [
                (libc::RLIMIT_NPROC, plan.processes),
                (libc::RLIMIT_DATA, plan.memory),
                (libc::RLIMIT_AS, 2 * plan.memory),
                (libc::RLIMIT_FSIZE, plan.file_size),
                (libc::RLIMIT_CORE, 0),
            ],
            last_capability,
            listener_to_init: to_init.into(),
            listener_from_program: from_program.into(),
            message: Box::new(Outgoing {
                // SAFETY: a zeroed msghdr is a valid empty one.
                header: unsafe { std::mem::zeroed() },
                byte: [0],
                slice: libc::iovec {
                    iov_base: std::ptr::null_mut(),
                    iov_len: 0,
                },
                control: [0; 4],
            }),
        })
    }

    /// The raw values the child uses (it owns nothing: the parent keeps everything alive
    /// until the spawn has returned).
    pub(super) fn ready(&self) -> Ready {
        Ready {
            ruleset: self.ruleset.as_raw_fd(),
            filter: libc::sock_fprog {
                len: self.filter.len() as u16,
                filter: self.filter.as_ptr() as *mut libc::sock_filter,
            },
            notify: self.notify,
            limits: self.limits,
            last_capability: self.last_capability,
            to_init: self.listener_to_init.as_raw_fd(),
            message: &*self.message as *const Outgoing as *mut Outgoing,
        }
    }
}

/// What `become_program` reads, by value or by pointer into the parent's memory (which
/// the child has a copy of).
pub(super) struct Ready {
    ruleset: RawFd,
    filter: libc::sock_fprog,
    notify: bool,
    limits: [(libc::__rlimit_resource_t, u64); 5],
    last_capability: i32,
    to_init: RawFd,
    message: *mut Outgoing,
}

// SAFETY: `Ready` is used only in the forked child, which has one thread.
unsafe impl Send for Ready {}
unsafe impl Sync for Ready {}

/// In the program's process, just before exec: a clean start, then the sandbox. Plain
/// system calls only (init has threads).
pub(super) fn become_program(ready: &Ready) -> io::Result<()> {
    let check = |result: libc::c_int| {
        if result < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(())
        }
    };
    prctl::set_pdeathsig(Signal::SIGKILL)?;
    // Init is a Rust program, which ignores SIGPIPE: the program starts with every
    // signal's default and none blocked.
    crate::server::start_clean()?;
    // SAFETY: plain system calls on values prepared before the fork.
    unsafe {
        for (resource, value) in ready.limits {
            let limit = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            check(libc::setrlimit(resource, &limit))?;
        }
        check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
        landlock::restrict_self(ready.ruleset)?;
        // No capability, now or after exec: root of the namespace gets none back.
        let bits = libc::SECBIT_NOROOT
            | libc::SECBIT_NOROOT_LOCKED
            | libc::SECBIT_NO_SETUID_FIXUP
            | libc::SECBIT_NO_SETUID_FIXUP_LOCKED
            | libc::SECBIT_KEEP_CAPS_LOCKED;
        check(libc::prctl(
            libc::PR_SET_SECUREBITS,
            bits as libc::c_ulong,
            0,
            0,
            0,
        ))?;
        for capability in 0..=ready.last_capability {
            check(libc::prctl(libc::PR_CAPBSET_DROP, capability, 0, 0, 0))?;
        }
        check(libc::prctl(
            libc::PR_CAP_AMBIENT,
            libc::PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ))?;
        drop_capabilities()?;
        let listener = seccomp::install(&ready.filter, ready.notify)?;
        if let Some(listener) = listener {
            send_descriptor(ready.to_init, listener, &mut *ready.message)?;
            libc::close(listener);
        }
        libc::close(ready.to_init);
    }
    Ok(())
}

/// Empties the effective, permitted and inheritable sets (capset, version 3).
unsafe fn drop_capabilities() -> io::Result<()> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    // SAFETY: the header and two data structs, as version 3 of capset reads them.
    if unsafe { libc::syscall(libc::SYS_capset, &header, data.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Sends `fd` on the Unix socket `to`, with buffers prepared before the fork.
unsafe fn send_descriptor(to: RawFd, fd: RawFd, message: &mut Outgoing) -> io::Result<()> {
    message.byte[0] = b'l';
    message.slice.iov_base = message.byte.as_mut_ptr().cast();
    message.slice.iov_len = 1;
    message.header.msg_iov = &mut message.slice;
    message.header.msg_iovlen = 1;
    message.header.msg_control = message.control.as_mut_ptr().cast();
    // SAFETY: CMSG_SPACE of one descriptor fits the 32 bytes of `control`.
    unsafe {
        message.header.msg_controllen = libc::CMSG_SPACE(size_of::<RawFd>() as u32) as _;
        let header = libc::CMSG_FIRSTHDR(&message.header);
        (*header).cmsg_level = libc::SOL_SOCKET;
        (*header).cmsg_type = libc::SCM_RIGHTS;
        (*header).cmsg_len = libc::CMSG_LEN(size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(header).cast::<RawFd>(), fd);
        if libc::sendmsg(to, &message.header, 0) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
