//! The contained program's world: a new root on an empty tmpfs that holds only what the
//! plan allows, entered with `pivot_root`. Nothing else of the machine's file system is
//! in it, so nothing else can be read, run or embedded, whatever its name.
//!
//! Sources are opened by the shim with the checker's own rights, once it has entered its
//! mount namespace (a bind's source must lie in it) but before it takes the namespace's
//! identity (that unprivileged user may not even reach them: a toolchain under a home
//! folder of mode 700), passed to init as descriptors, and bound through /proc/self/fd.

use std::ffi::CString;
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, symlink};
use std::path::{Path, PathBuf};

use nix::mount::{MsFlags, mount};

mod binds;

pub use binds::{Bind, descriptors, receive, send};

use crate::contain::{LAB_PATH, Plan, Purpose, SERVER_PATH, TargetDir};

/// Where init assembles the new root before entering it: a mount point that exists on
/// every machine and that the namespace's own mounts may cover.
const ASSEMBLY: &str = "/tmp";

/// The machine's folders every program needs, read-only: where merged (`/bin` a link to
/// `usr/bin`), the link is made again instead.
const SYSTEM: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
];

/// Files of /etc that programs read: the dynamic linker's cache and the alternatives
/// (`cc` is `/etc/alternatives/cc` on Debian).
const ETC: &[&str] = &["/etc/ld.so.cache", "/etc/alternatives"];

/// The devices a program may use.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

/// Builds the world `plan` describes from `binds` and enters it. Runs in init, before
/// the program starts; afterwards `/` is the new root and the machine's is gone.
pub fn enter(plan: &Plan, binds: &[Bind]) -> Result<(), String> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("making the mounts private: {e}"))?;
    let links = merged_links();
    let root = Path::new(ASSEMBLY);
    mount(
        Some("tmpfs"),
        root,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some("size=16m,mode=755"),
    )
    .map_err(|e| format!("mounting the new root: {e}"))?;
    for (link, to) in &links {
        symlink(to, root.join(relative(Path::new(link))))
            .map_err(|e| format!("linking {link}: {e}"))?;
    }
    if matches!(plan.purpose, Purpose::Build(_)) {
        cargo_home(root)?;
    }
    for bind in binds {
        bind_into(root, bind)?;
    }
    if let Purpose::Build(world) = &plan.purpose
        && let TargetDir::Layer { cap, .. } = &world.target
    {
        layer(root, *cap)?;
    }
    etc_files(root)?;
    devices(root)?;
    private_tmp(root, plan)?;
    mkdir(&root.join("proc"))?;
    // hidepid=2: a process sees in /proc only the processes it could trace: not init.
    mount(
        Some("proc"),
        &root.join("proc"),
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("hidepid=2"),
    )
    .map_err(|e| format!("mounting the namespace's /proc: {e}"))?;
    pivot(root)?;
    set_attributes(Path::new("/"), MOUNT_ATTR_RDONLY, false)
        .map_err(|e| format!("making the new root read-only: {e}"))
}

/// Opens everything the plan binds, with the rights of whoever calls it.
pub fn sources(plan: &Plan) -> Result<Vec<Bind>, String> {
    let mut binds = Vec::new();
    let mut add = |source: &Path, target: &Path, writable: bool| -> Result<(), String> {
        let file = open_path(source)?;
        let is_dir = file
            .metadata()
            .map_err(|e| format!("looking at {}: {e}", source.display()))?
            .is_dir();
        binds.push(Bind {
            source: file,
            target: relative(target).to_owned(),
            writable,
            is_dir,
        });
        Ok(())
    };
    for dir in SYSTEM {
        let path = Path::new(dir);
        if path.is_dir() && !path.is_symlink() {
            add(path, path, false)?;
        }
    }
    for path in ETC.iter().map(Path::new).filter(|path| path.exists()) {
        add(path, path, false)?;
    }
    match &plan.purpose {
        Purpose::Server => add(&plan.program, Path::new(SERVER_PATH), false)?,
        Purpose::Build(world) => {
            add(&world.toolchain, &world.toolchain, false)?;
            add(&world.lab, Path::new(LAB_PATH), true)?;
            if let Some(registry) = &world.registry {
                add(registry, Path::new("/cargo/registry"), false)?;
            }
            match &world.target {
                TargetDir::Shared(dir) => add(dir, &Path::new(LAB_PATH).join("target"), true)?,
                TargetDir::Layer { warm, .. } => add(warm, Path::new("/warm"), false)?,
            }
        }
    }
    Ok(binds)
}

/// The system folders that are links on this machine, with where they lead.
fn merged_links() -> Vec<(&'static str, PathBuf)> {
    SYSTEM
        .iter()
        .filter_map(|dir| Some((*dir, fs::read_link(dir).ok()?)))
        .collect()
}

fn open_path(path: &Path) -> Result<File, String> {
    let name = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| format!("{} holds a NUL byte", path.display()))?;
    // SAFETY: a NUL-terminated path; the descriptor is owned by the File below.
    let fd = unsafe { libc::open(name.as_ptr(), libc::O_PATH | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(format!(
            "opening {}: {}",
            path.display(),
            io::Error::last_os_error()
        ));
    }
    // SAFETY: the kernel just gave us this descriptor.
    Ok(unsafe { <File as std::os::fd::FromRawFd>::from_raw_fd(fd) })
}

fn relative(path: &Path) -> &Path {
    path.strip_prefix("/").unwrap_or(path)
}

fn mkdir(path: &Path) -> Result<(), String> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o755)
        .create(path)
        .map_err(|e| format!("creating {}: {e}", path.display()))
}

fn bind_into(root: &Path, bind: &Bind) -> Result<(), String> {
    let target = root.join(&bind.target);
    if bind.is_dir {
        mkdir(&target)?;
    } else {
        if let Some(parent) = target.parent() {
            mkdir(parent)?;
        }
        File::create(&target).map_err(|e| format!("creating {}: {e}", target.display()))?;
    }
    let source = format!("/proc/self/fd/{}", bind.source.as_raw_fd());
    let none: Option<&str> = None;
    mount(
        Some(source.as_str()),
        &target,
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .map_err(|e| format!("binding {}: {e}", bind.target.display()))?;
    let mut attributes = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
    if !bind.writable {
        attributes |= MOUNT_ATTR_RDONLY;
    }
    set_attributes(&target, attributes, true)
        .map_err(|e| format!("sealing {}: {e}", bind.target.display()))
}

/// The few files of /etc a program may look up, written for this world.
fn etc_files(root: &Path) -> Result<(), String> {
    let etc = root.join("etc");
    mkdir(&etc)?;
    let files = [
        (
            "passwd",
            "root:x:0:0:root:/tmp:/bin/false\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        ),
        ("group", "root:x:0:\nnogroup:x:65534:\n"),
        ("hosts", "127.0.0.1 localhost\n::1 localhost\n"),
    ];
    for (name, text) in files {
        fs::write(etc.join(name), text).map_err(|e| format!("writing /etc/{name}: {e}"))?;
    }
    Ok(())
}

/// /dev: a few devices bound from the machine's, and the usual links.
fn devices(root: &Path) -> Result<(), String> {
    let dev = root.join("dev");
    mkdir(&dev)?;
    let none: Option<&str> = None;
    for name in DEVICES {
        let target = dev.join(name);
        File::create(&target).map_err(|e| format!("creating /dev/{name}: {e}"))?;
        mount(
            Some(Path::new("/dev").join(name).as_path()),
            &target,
            none,
            MsFlags::MS_BIND,
            none,
        )
        .map_err(|e| format!("binding /dev/{name}: {e}"))?;
    }
    for (link, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("shm", "/tmp"),
    ] {
        symlink(to, dev.join(link)).map_err(|e| format!("linking /dev/{link}: {e}"))?;
    }
    Ok(())
}

/// The one place a program may write: a tmpfs of the plan's size, where nothing can be
/// executed. /var/tmp leads there too.
fn private_tmp(root: &Path, plan: &Plan) -> Result<(), String> {
    let tmp = root.join("tmp");
    mkdir(&tmp)?;
    let size = format!("size={},mode=1777", plan.tmp_cap);
    mount(
        Some("tmpfs"),
        &tmp,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(size.as_str()),
    )
    .map_err(|e| format!("mounting a tmpfs of {} bytes on /tmp: {e}", plan.tmp_cap))?;
    mkdir(&root.join("var"))?;
    symlink("/tmp", root.join("var/tmp")).map_err(|e| format!("linking /var/tmp: {e}"))
}

/// The build's cargo home: a small writable tmpfs (cargo keeps its locks and its record
/// of use there), under the binds of the machine's registry and configuration.
fn cargo_home(root: &Path) -> Result<(), String> {
    let home = root.join("cargo");
    mkdir(&home)?;
    mount(
        Some("tmpfs"),
        &home,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=64m,mode=755"),
    )
    .map_err(|e| format!("mounting cargo's home: {e}"))
}

/// A build's target directory as a private layer over the warm one: reads come from the
/// warm folder, writes go to a tmpfs of `cap` bytes that vanishes with the build.
fn layer(root: &Path, cap: u64) -> Result<(), String> {
    let space = root.join("layer");
    mkdir(&space)?;
    let size = format!("size={cap},mode=755");
    mount(
        Some("tmpfs"),
        &space,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(size.as_str()),
    )
    .map_err(|e| format!("mounting the build's layer: {e}"))?;
    for dir in ["upper", "work"] {
        mkdir(&space.join(dir))?;
    }
    let target = root.join(relative(Path::new(LAB_PATH))).join("target");
    let options = format!(
        "lowerdir={},upperdir={},workdir={},userxattr",
        root.join("warm").display(),
        space.join("upper").display(),
        space.join("work").display()
    );
    mount(
        Some("overlay"),
        &target,
        Some("overlay"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options.as_str()),
    )
    .map_err(|e| format!("mounting the build's target layer: {e}"))
}

/// Enters `root`: the old root is stacked under it and then detached, so nothing of it
/// stays reachable.
fn pivot(root: &Path) -> Result<(), String> {
    std::env::set_current_dir(root).map_err(|e| format!("entering the new root: {e}"))?;
    // SAFETY: two NUL-terminated paths that live across the call.
    let pivoted = unsafe { libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) };
    if pivoted != 0 {
        return Err(format!("pivot_root: {}", io::Error::last_os_error()));
    }
    nix::mount::umount2(".", nix::mount::MntFlags::MNT_DETACH)
        .map_err(|e| format!("detaching the old root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("entering the new root: {e}"))
}

const MOUNT_ATTR_RDONLY: u64 = 0x1;
const MOUNT_ATTR_NOSUID: u64 = 0x2;
const MOUNT_ATTR_NODEV: u64 = 0x4;

/// Sets mount attributes on the mount at `path` (and those beneath, if `recursive`):
/// mount_setattr, Linux 5.12 and later, which keeps whatever flags the kernel locked.
fn set_attributes(path: &Path, attributes: u64, recursive: bool) -> io::Result<()> {
    #[repr(C)]
    struct MountAttr {
        attr_set: u64,
        attr_clr: u64,
        propagation: u64,
        userns_fd: u64,
    }
    const AT_RECURSIVE: libc::c_uint = 0x8000;
    let attr = MountAttr {
        attr_set: attributes,
        attr_clr: 0,
        propagation: 0,
        userns_fd: 0,
    };
    let name = CString::new(path.as_os_str().as_bytes())?;
    let flags = if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: a NUL-terminated path and an attribute struct that live across the call.
    let done = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            libc::AT_FDCWD,
            name.as_ptr(),
            flags,
            &attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    if done != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
