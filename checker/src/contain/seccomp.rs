//! The system calls a contained program may not make, as a seccomp filter.
//!
//! - Every contained program: no new namespaces, mounts or root changes, no tracing, no
//!   kernel keyrings (they would outlive the grading), no BPF, perf, io_uring or
//!   userfaultfd (kernel surfaces no server needs), no module or reboot calls, and no
//!   system call of another architecture's table (32-bit or x32 entry points), and no
//!   `prctl(PR_SET_DUMPABLE)` (it would hide the process's /proc files from the checker).
//! - A server, also: its one `execve` is the one init starts it with. The filter sends
//!   every `execve` and `execveat` to init (a user notification); init lets the first one
//!   through and refuses every later one, and tells the checker what was tried.
//!
//! Written by hand on `libc`'s definitions: the filter is a few instructions, and the
//! crate that knows user notifications (`libseccomp`) needs the C library installed on
//! every machine that builds the checker.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

use crate::contain::channel::{self, Message};

#[cfg(target_arch = "x86_64")]
const ARCH: u32 = 0xC000_003E; // AUDIT_ARCH_X86_64
#[cfg(target_arch = "aarch64")]
const ARCH: u32 = 0xC000_00B7; // AUDIT_ARCH_AARCH64

/// System calls refused with EPERM.
const REFUSED: &[libc::c_long] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_chroot,
    libc::SYS_unshare,
    libc::SYS_setns,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_kexec_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_reboot,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_open_by_handle_at,
    libc::SYS_fsopen,
    libc::SYS_fsmount,
    libc::SYS_move_mount,
    libc::SYS_open_tree,
    libc::SYS_mount_setattr,
    // Memory that no process is charged for, which no limit of the checker's caps.
    libc::SYS_memfd_create,
    libc::SYS_shmget,
];

/// The socket families a contained program may use: the machine's network is out of its
/// namespace, but some families (vsock, for one) are not divided by namespaces at all.
const FAMILIES: &[i32] = &[libc::AF_UNIX, libc::AF_INET, libc::AF_INET6];

/// The flags of `clone` that make new namespaces.
const NEW_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET) as u32;

// Offsets into struct seccomp_data: the call's number, its architecture, and the low
// half of its first argument (little-endian on both architectures).
const NR: u32 = 0;
const ARCH_AT: u32 = 4;
const ARG0_LOW: u32 = 16;

const LOAD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const RETURN: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const IF_EQUAL: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const IF_AT_LEAST: u16 = (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16;
const IF_ANY_BIT: u16 = (libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K) as u16;

const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;
const NOTIFY: u32 = libc::SECCOMP_RET_USER_NOTIF;

fn errno(number: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (number as u32 & libc::SECCOMP_RET_DATA)
}

fn op(code: u16, k: u32, if_true: u8, if_false: u8) -> libc::sock_filter {
    libc::sock_filter {
        code,
        jt: if_true,
        jf: if_false,
        k,
    }
}

/// The filter, as instructions. With `notify_exec`, executions go to init.
pub fn program(notify_exec: bool) -> Vec<libc::sock_filter> {
    let mut code = vec![
        op(LOAD, ARCH_AT, 0, 0),
        op(IF_EQUAL, ARCH, 1, 0),
        op(RETURN, KILL, 0, 0),
        op(LOAD, NR, 0, 0),
    ];
    if cfg!(target_arch = "x86_64") {
        // The x32 entry points: the same calls under other numbers.
        code.push(op(IF_AT_LEAST, 0x4000_0000, 0, 1));
        code.push(op(RETURN, KILL, 0, 0));
    }
    for &call in REFUSED {
        code.push(op(IF_EQUAL, call as u32, 0, 1));
        code.push(op(RETURN, errno(libc::EPERM), 0, 0));
    }
    // socket and socketpair: only the families a server or a build needs.
    for call in [libc::SYS_socket, libc::SYS_socketpair] {
        let count = FAMILIES.len() as u8;
        code.push(op(IF_EQUAL, call as u32, 0, count + 3));
        code.push(op(LOAD, ARG0_LOW, 0, 0));
        for (at, &family) in FAMILIES.iter().enumerate() {
            code.push(op(IF_EQUAL, family as u32, count - at as u8, 0));
        }
        code.push(op(RETURN, errno(libc::EAFNOSUPPORT), 0, 0));
        code.push(op(RETURN, ALLOW, 0, 0));
    }
    // A process that made itself undumpable would hide its /proc files from a checker
    // that is not root: no more evidence.
    code.push(op(IF_EQUAL, libc::SYS_prctl as u32, 0, 4));
    code.push(op(LOAD, ARG0_LOW, 0, 0));
    code.push(op(IF_EQUAL, libc::PR_SET_DUMPABLE as u32, 0, 1));
    code.push(op(RETURN, errno(libc::EPERM), 0, 0));
    code.push(op(RETURN, ALLOW, 0, 0));
    // clone3 hides its flags in memory a filter cannot read: refused as unknown, so that
    // the C library falls back to clone, whose flags it can.
    code.push(op(IF_EQUAL, libc::SYS_clone3 as u32, 0, 1));
    code.push(op(RETURN, errno(libc::ENOSYS), 0, 0));
    code.push(op(IF_EQUAL, libc::SYS_clone as u32, 0, 4));
    code.push(op(LOAD, ARG0_LOW, 0, 0));
    code.push(op(IF_ANY_BIT, NEW_NAMESPACES, 0, 1));
    code.push(op(RETURN, errno(libc::EPERM), 0, 0));
    code.push(op(RETURN, ALLOW, 0, 0));
    if notify_exec {
        code.push(op(IF_EQUAL, libc::SYS_execve as u32, 1, 0));
        code.push(op(IF_EQUAL, libc::SYS_execveat as u32, 0, 1));
        code.push(op(RETURN, NOTIFY, 0, 0));
    }
    code.push(op(RETURN, ALLOW, 0, 0));
    code
}

/// Puts this process under `filter` (no new privileges must be set already); returns the
/// listener for its notifications, if it sends any. Between fork and exec: plain system
/// calls on memory prepared before the fork.
pub fn install(filter: &libc::sock_fprog, notify: bool) -> io::Result<Option<RawFd>> {
    // Without SPEC_ALLOW the kernel also turns on its speculative store bypass
    // mitigation for the process, which makes a server doing ten-byte reads a tenth
    // slower; the server holds no secret of anyone else's to leak that way.
    let mut flags = libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW;
    if notify {
        flags |= libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
    }
    // SAFETY: the program lives across the call; the kernel copies it.
    let done = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            filter as *const libc::sock_fprog,
        )
    };
    if done < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(notify.then_some(done as RawFd))
}

/// Init's side: answers the executions of the program and of everything it starts. The
/// first is the program's own start, let through; every later one is refused with EPERM
/// and told to the checker on `channel`. Returns when the listener fails; init ends with
/// the program in any case.
pub fn supervise(listener: OwnedFd, mut channel: File) {
    let mut first = true;
    loop {
        // SAFETY: a zeroed notification is what the kernel expects to fill.
        let mut request: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: the ioctl fills the struct it is given.
        let received = unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_RECV,
                &mut request,
            )
        };
        if received < 0 {
            match io::Error::last_os_error().raw_os_error() {
                Some(libc::EINTR) | Some(libc::ENOENT) => continue,
                _ => return,
            }
        }
        let mut response = libc::seccomp_notif_resp {
            id: request.id,
            val: 0,
            error: 0,
            flags: 0,
        };
        if first {
            first = false;
            response.flags = libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32;
        } else {
            response.error = -libc::EPERM;
            let path_at = if request.data.nr == libc::SYS_execveat as i32 {
                request.data.args[1]
            } else {
                request.data.args[0]
            };
            let path = read_path(request.pid, path_at);
            channel::send(&mut channel, &Message::ExecRefused(path));
        }
        // SAFETY: as above; a notification whose process died fails with ENOENT.
        unsafe {
            libc::ioctl(
                listener.as_raw_fd(),
                libc::SECCOMP_IOCTL_NOTIF_SEND,
                &mut response,
            );
        }
    }
}

/// The path a process asked to execute, read from its memory (256 bytes at most).
fn read_path(pid: u32, at: u64) -> String {
    let Ok(memory) = File::open(format!("/proc/{pid}/mem")) else {
        return "(a path that could not be read)".into();
    };
    let mut bytes = [0u8; 256];
    let read = std::os::unix::fs::FileExt::read_at(&memory, &mut bytes, at).unwrap_or(0);
    let end = bytes[..read].iter().position(|&b| b == 0).unwrap_or(read);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_inside_the_program() {
        for notify in [false, true] {
            let code = program(notify);
            assert!(
                code.len() < 255,
                "a BPF jump reaches 255 instructions at most"
            );
            for (at, instruction) in code.iter().enumerate() {
                if instruction.code & 0x07 == libc::BPF_JMP as u16 {
                    let furthest = at + 1 + usize::from(instruction.jt.max(instruction.jf));
                    assert!(furthest < code.len(), "instruction {at} jumps out");
                }
            }
            assert_eq!(code.last().unwrap().k, ALLOW);
        }
    }
}
