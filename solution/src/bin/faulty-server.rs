//! The reference server with one known defect, chosen by the environment variable
//! `FAULTY_SERVER_FAULT`, for proving that the checker fails each defect for the right
//! reason. Without the variable it behaves like the reference. What the checker can
//! observe is the reference's in every respect but the one the fault names: the lines it
//! prints, the descriptors it holds, the processes it forks.
//!
//! | fault                | defect                                                      | TODO |
//! |----------------------|-------------------------------------------------------------|------|
//! | `serial`             | task 1 only: receives every upload itself, no fork          | 5    |
//! | `keeps-parent-copy`  | forks, but the parent never closes its copy of the socket   | 4, 5 |
//! | `no-remove`          | forks and closes its copy, but never removes it from epoll  | 4    |
//! | `no-epoll`           | a blocking accept loop that receives inline, no epoll       | 1    |
//! | `exits-after-first`  | stops after its first client                                | 3    |
//! | `partial-read`       | reads the first 512 KiB of each upload, then closes         |      |
//! | `never-reads`        | prints the expected lines, never reads the socket           |      |
//! | `never-accepts`      | listens, then sleeps                                        | 1    |
//! | `never-reaps`        | forks, but never reaps its children (bonus not done)        | 6, 7 |
//! | `child-returns`      | the child returns into the loop, ignoring the remove error  | 5    |
//! | `child-returns-dies` | the child returns into the loop and dies on ENOENT          | 5    |
//! | `exits-on-eintr`     | stops when a signal interrupts `epoll_wait`                 | 2    |
//! | `edge-triggered`     | listener registered edge-triggered, one accept per event    | 1, 3 |
//! | `not-added`          | accepts a client but never adds it to epoll                 | 3    |
//! | `threads`            | a thread per upload instead of a process                    | 5    |
//! | `waits-for-child`    | forks, then waits for the child before going on             | 5    |
//! | `blocking-reaper`    | reaps with `waitpid` without WNOHANG, until none is left    | 7    |
//! | `unread-signalfd`    | reaps, but never reads the signalfd                         | 7    |
//! | `sigchld-unblocked`  | makes the signalfd without blocking SIGCHLD first           | 6    |
//! | `left-in-epoll`      | task 1 only, and a finished client stays in epoll, open     | 4    |
//! | `forks-grandchildren`| each child forks 80 more processes that sleep               | 5    |
//! | `prints-every-read`  | each child prints a debug line for every read               |      |
//! | `slow-reads`         | each child reads 256 KiB every 3 s: slow, never stalled 5 s |      |
//! | `debug-lines`        | correct, with debug lines of its own in parent and child    |      |
//! | `nonblocking-child`  | the child makes its socket non-blocking: EAGAIN is an error |      |
//! | `blocking-signalfd`  | a signalfd without SFD_NONBLOCK, read until None            | 6    |
//! | `forgets-client`     | accepts and registers a client, but never keeps it          | 3    |
//! | `reaps-one`          | one waitpid per SIGCHLD, however many children exited       | 7    |
//! | `child-hoards-memory`| each child asks for 1 GiB first: more than the checker's cap |      |
//! | `receives-then-forks`| the given receive left above the fork: the parent receives, then forks a child that reports 0 bytes | 5 |
//! | `fork-in-accept`     | forks a receiving child where the client is accepted, then forks again on its data | 3 |
//! | `adds-listener-again`| adds the listener to epoll again where the client belongs: EEXIST | 3 |
//! | `echild-fatal`       | reaps until waitpid fails, and ECHILD (no child left) stops the server | 7 |
//! | `signalfd-not-added` | blocks SIGCHLD and makes the signalfd, never adds it to epoll | 6 |
//! | `parent-prints-own-pid` | the parent names its own pid in `<< Process ... created ... >>` | 5 |
//! | `wait-returns-capacity` | the wait's count is the event buffer's length, not the number ready | 2 |
//! | `timeout-returns-capacity` | waits 200 ms at most, and counts the whole buffer when it times out | 2 |
//!
//! With `--mode async` it serves as the reference's task 3 does, but for the task 3 faults:
//!
//! | fault                | defect (task 3)                                             | TODO |
//! |----------------------|-------------------------------------------------------------|------|
//! | `async-eagain-error` | takes EAGAIN for an error and drops the client              | 9    |
//! | `async-one-read`     | one read per event, the rest left for the next event        | 9    |
//! | `async-local-count`  | counts in a local variable: only the last event is reported | 9    |
//! | `async-blocking`     | leaves the client's socket blocking                         | 8    |
//! | `async-misses-eof`   | takes a read of 0 for "nothing more now": spins at the end  | 9    |
//! | `async-no-share`     | reads until EAGAIN with no fair share                       | 9    |
//! | `async-eagain-is-end`| takes EAGAIN for the end of the upload                      | 9    |
//! | `async-fixed-buffer` | reads into a 4096-byte buffer, whatever `--buf-size` says   | 9    |
//!
//! Hostile faults: the reference, plus an attempt to escape the checker or touch what it
//! must not. `FAULTY_SERVER_TARGETS` names the files to attack (separated by `:`).
//!
//! | fault                | attempt                                                     |
//! |----------------------|-------------------------------------------------------------|
//! | `setsid-grandchild`  | each child leaves a grandchild behind in a session of its own |
//! | `daemon`             | the server daemonizes: its parent exits, a child serves on  |
//! | `fork-flood`         | each child starts 100 processes in sessions of their own    |
//! | `rewrites-later`     | a process of its own waits for the checker to end, then rewrites the targets |
//! | `tampers`            | writes into every target at start (and says how that went)  |
//! | `fills-disk`         | writes 320 MiB of files in /tmp and its folder at start     |
//! | `reads-targets`      | reads every target at start and says how much it got        |
//! | `runs-targets`       | executes every target at start and says how that went       |
//! | `reaches-out`        | sends to every sink `FAULTY_SERVER_SINKS` names (`tcp:PORT`, `udp:PORT`, `abstract:NAME`), and opens a `vsock:` socket |
//! | `leaves-notes`       | leaves System V shared memory and a message queue (key `0x1ab5eed`) and a key in the user's keyring |
//! | `floods-memory`      | asks for 4 GiB of memory at start                           |
//! | `fakes-checker`      | prints a line as the checker's shim would, and terminal escape sequences |
//! | `rewrites-log`       | tries to truncate and rewind what its output goes to        |

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::process::{self, ExitCode};
use std::thread;
use std::time::Duration;

use clap::Parser;
use lab::{Context, Failure, Mode, ServerOptions, w_epoll};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags, EpollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};

/// Every fault by its name; `none` is the reference.
const FAULTS: &[(&str, Fault)] = &[
    ("none", Fault::None),
    ("serial", Fault::Serial),
    ("keeps-parent-copy", Fault::KeepsParentCopy),
    ("no-remove", Fault::NoRemove),
    ("no-epoll", Fault::NoEpoll),
    ("exits-after-first", Fault::ExitsAfterFirst),
    ("partial-read", Fault::PartialRead),
    ("never-reads", Fault::NeverReads),
    ("never-accepts", Fault::NeverAccepts),
    ("never-reaps", Fault::NeverReaps),
    ("child-returns", Fault::ChildReturns),
    ("child-returns-dies", Fault::ChildReturnsDies),
    ("exits-on-eintr", Fault::ExitsOnEintr),
    ("edge-triggered", Fault::EdgeTriggered),
    ("not-added", Fault::NotAdded),
    ("threads", Fault::Threads),
    ("waits-for-child", Fault::WaitsForChild),
    ("blocking-reaper", Fault::BlockingReaper),
    ("unread-signalfd", Fault::UnreadSignalfd),
    ("sigchld-unblocked", Fault::SigchldUnblocked),
    ("left-in-epoll", Fault::LeftInEpoll),
    ("forks-grandchildren", Fault::ForksGrandchildren),
    ("prints-every-read", Fault::PrintsEveryRead),
    ("slow-reads", Fault::SlowReads),
    ("debug-lines", Fault::DebugLines),
    ("nonblocking-child", Fault::NonblockingChild),
    ("blocking-signalfd", Fault::BlockingSignalfd),
    ("forgets-client", Fault::ForgetsClient),
    ("reaps-one", Fault::ReapsOne),
    ("child-hoards-memory", Fault::ChildHoardsMemory),
    ("async-eagain-error", Fault::AsyncEagainError),
    ("async-one-read", Fault::AsyncOneRead),
    ("async-local-count", Fault::AsyncLocalCount),
    ("async-blocking", Fault::AsyncBlocking),
    ("async-misses-eof", Fault::AsyncMissesEof),
    ("async-no-share", Fault::AsyncNoShare),
    // Mistakes whose reasons must lead to their TODO.
    ("receives-then-forks", Fault::ReceivesThenForks),
    ("fork-in-accept", Fault::ForkInAccept),
    ("adds-listener-again", Fault::AddsListenerAgain),
    ("echild-fatal", Fault::EchildFatal),
    ("signalfd-not-added", Fault::SignalfdNotAdded),
    ("parent-prints-own-pid", Fault::ParentPrintsOwnPid),
    ("wait-returns-capacity", Fault::WaitReturnsCapacity),
    ("timeout-returns-capacity", Fault::TimeoutReturnsCapacity),
    ("async-eagain-is-end", Fault::AsyncEagainIsEnd),
    ("async-fixed-buffer", Fault::AsyncFixedBuffer),
    ("setsid-grandchild", Fault::SetsidGrandchild),
    ("daemon", Fault::Daemon),
    ("fork-flood", Fault::ForkFlood),
    ("rewrites-later", Fault::RewritesLater),
    ("tampers", Fault::Tampers),
    ("fills-disk", Fault::FillsDisk),
    ("reads-targets", Fault::ReadsTargets),
    ("runs-targets", Fault::RunsTargets),
    ("reaches-out", Fault::ReachesOut),
    ("leaves-notes", Fault::LeavesNotes),
    ("floods-memory", Fault::FloodsMemory),
    ("fakes-checker", Fault::FakesChecker),
    ("rewrites-log", Fault::RewritesLog),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    Serial,
    KeepsParentCopy,
    NoRemove,
    NoEpoll,
    ExitsAfterFirst,
    PartialRead,
    NeverReads,
    NeverAccepts,
    NeverReaps,
    ChildReturns,
    ChildReturnsDies,
    ExitsOnEintr,
    EdgeTriggered,
    NotAdded,
    Threads,
    WaitsForChild,
    BlockingReaper,
    UnreadSignalfd,
    SigchldUnblocked,
    LeftInEpoll,
    ForksGrandchildren,
    PrintsEveryRead,
    SlowReads,
    DebugLines,
    NonblockingChild,
    BlockingSignalfd,
    ForgetsClient,
    ReapsOne,
    ChildHoardsMemory,
    AsyncEagainError,
    AsyncOneRead,
    AsyncLocalCount,
    AsyncBlocking,
    AsyncMissesEof,
    AsyncNoShare,
    ReceivesThenForks,
    ForkInAccept,
    AddsListenerAgain,
    EchildFatal,
    SignalfdNotAdded,
    ParentPrintsOwnPid,
    WaitReturnsCapacity,
    TimeoutReturnsCapacity,
    AsyncEagainIsEnd,
    AsyncFixedBuffer,
    SetsidGrandchild,
    Daemon,
    ForkFlood,
    RewritesLater,
    Tampers,
    FillsDisk,
    ReadsTargets,
    RunsTargets,
    ReachesOut,
    LeavesNotes,
    FloodsMemory,
    FakesChecker,
    RewritesLog,
}

impl Fault {
    fn from_env() -> Result<Self, Failure> {
        let name = std::env::var("FAULTY_SERVER_FAULT").unwrap_or_default();
        let name = if name.is_empty() { "none" } else { &name };
        FAULTS
            .iter()
            .find(|(known, _)| *known == name)
            .map(|&(_, fault)| fault)
            .ok_or_else(|| Failure::new("FAULTY_SERVER_FAULT", format!("unknown fault `{name}`")))
    }
}

fn main() -> ExitCode {
    let options = ServerOptions::parse();
    lab::exit_status(
        "server",
        Fault::from_env().and_then(|fault| serve(&options, fault)),
    )
}

fn serve(options: &ServerOptions, fault: Fault) -> lab::Result<()> {
    let listener = lab::listen(options.port)?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    println!("Server listening on {address}");
    match fault {
        Fault::NeverAccepts => loop {
            thread::sleep(Duration::from_secs(3600));
        },
        Fault::NoEpoll => return serve_blocking(&listener, options.buf_size),
        Fault::Tampers
        | Fault::FillsDisk
        | Fault::ReadsTargets
        | Fault::RewritesLater
        | Fault::RunsTargets
        | Fault::ReachesOut
        | Fault::LeavesNotes
        | Fault::FloodsMemory
        | Fault::FakesChecker
        | Fault::RewritesLog => attack(fault),
        Fault::Daemon => {
            io::stdout().flush().context("flushing stdout")?;
            // SAFETY: one thread, as everywhere in this server.
            if let ForkResult::Parent { .. } = unsafe { fork() }.context("forking")? {
                return Ok(());
            }
            nix::unistd::setsid().context("setsid")?;
        }
        _ => {}
    }

    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).context("creating epoll")?;
    if fault == Fault::EdgeTriggered {
        let flags = EpollFlags::EPOLLIN | EpollFlags::EPOLLET;
        let event = EpollEvent::new(flags, listener.as_raw_fd() as u64);
        epoll
            .add(listener.as_fd(), event)
            .context("adding the listener")?;
    } else {
        w_epoll::add(&epoll, &listener)?;
    }
    let exits = match fault {
        Fault::NeverReaps => None,
        _ => Some(watch_child_exits(&epoll, fault)?),
    };
    let mut clients: HashMap<RawFd, TcpStream> = HashMap::new();
    // Task 3: bytes received so far, and whether the first data has come, per client.
    let mut counts: HashMap<RawFd, (u64, bool)> = HashMap::new();
    let in_async = options.mode == Mode::Async;
    let mut never_closed = Vec::new();
    let mut events = [EpollEvent::empty(); 32];
    loop {
        let timeout = match fault {
            Fault::TimeoutReturnsCapacity => EpollTimeout::from(200u16),
            _ => EpollTimeout::NONE,
        };
        let ready = match epoll.wait(&mut events, timeout) {
            Err(Errno::EINTR) if fault != Fault::ExitsOnEintr => continue,
            ready => ready.context("waiting for events")?,
        };
        // The whole buffer, as if every entry were ready: the ones past the count are
        // left over from earlier waits.
        let ready = match fault {
            Fault::WaitReturnsCapacity => events.len(),
            Fault::TimeoutReturnsCapacity if ready == 0 => events.len(),
            _ => ready,
        };
        for event in &events[..ready] {
            let fd = event.data() as RawFd;
            if fd == listener.as_raw_fd() {
                let (client, _) = listener.accept().context("accepting a client")?;
                println!(
                    "<< New client connected on socket {} >>",
                    client.as_raw_fd()
                );
                match fault {
                    Fault::NotAdded => {}
                    Fault::AddsListenerAgain => w_epoll::add(&epoll, &listener)?,
                    _ => w_epoll::add(&epoll, &client)?,
                }
                if fault == Fault::ForkInAccept {
                    receive_in_child(&client, options.buf_size, fault)?;
                }
                if fault == Fault::DebugLines {
                    println!("debug: accepted socket {}", client.as_raw_fd());
                    println!("DEBUG: clients now: {}", clients.len() + 1);
                }
                if in_async && fault != Fault::AsyncBlocking {
                    client
                        .set_nonblocking(true)
                        .context("making the socket non-blocking")?;
                }
                // Dropped at the end of this block: closed, and gone from epoll with it.
                if fault != Fault::ForgetsClient {
                    clients.insert(client.as_raw_fd(), client);
                }
            } else if let Some(exits) = &exits
                && fd == exits.as_raw_fd()
            {
                reap_children(exits, fault)?;
            } else if in_async {
                let Some(client) = clients.get(&fd) else {
                    continue;
                };
                let (received, started) = counts.entry(fd).or_default();
                if !*started {
                    *started = true;
                    println!("Client {fd} wants to send a file");
                }
                let piece = read_piece(client, options.buf_size, received, fault);
                if let Ok(lab::Piece::More) = piece {
                    continue;
                }
                let (received, _) = counts.remove(&fd).unwrap_or_default();
                match piece {
                    Ok(_) => println!("Received {received} bytes from [Client {fd}]"),
                    Err(error) => eprintln!(
                        "server: receiving from client {fd}: {error} after {received} bytes"
                    ),
                }
                if let Some(client) = clients.remove(&fd) {
                    w_epoll::remove(&epoll, &client)?;
                }
            } else if let Some(client) = clients.remove(&fd) {
                println!("Client {fd} wants to send a file");
                match fault {
                    Fault::Serial => {
                        lab::receive_upload(&client, options.buf_size);
                        w_epoll::remove(&epoll, &client)?;
                    }
                    Fault::LeftInEpoll => {
                        lab::receive_upload(&client, options.buf_size);
                        never_closed.push(client);
                    }
                    Fault::PartialRead => {
                        receive_first(&client, 512 * 1024);
                        w_epoll::remove(&epoll, &client)?;
                    }
                    Fault::NeverReads => {
                        let claimed =
                            std::env::var("FAULTY_SERVER_CLAIM").unwrap_or_else(|_| "0".into());
                        println!("Received {claimed} bytes from [Client {fd}]");
                        w_epoll::remove(&epoll, &client)?;
                        never_closed.push(client);
                    }
                    Fault::Threads => {
                        w_epoll::remove(&epoll, &client)?;
                        let buf_size = options.buf_size;
                        thread::spawn(move || lab::receive_upload(&client, buf_size));
                    }
                    Fault::ReceivesThenForks => {
                        lab::receive_upload(&client, options.buf_size);
                        receive_in_child(&client, options.buf_size, fault)?;
                        w_epoll::remove(&epoll, &client)?;
                    }
                    _ => {
                        receive_in_child(&client, options.buf_size, fault)?;
                        match fault {
                            Fault::KeepsParentCopy => {
                                w_epoll::remove(&epoll, &client)?;
                                never_closed.push(client);
                            }
                            Fault::NoRemove => drop(client),
                            // In the child, back from its upload: the parent has already
                            // removed the socket from the shared epoll instance.
                            Fault::ChildReturns => {
                                let _ = w_epoll::remove(&epoll, &client);
                            }
                            _ => w_epoll::remove(&epoll, &client)?,
                        }
                    }
                }
                if fault == Fault::ExitsAfterFirst {
                    return Ok(());
                }
            }
        }
    }
}

/// Task 3: reads what `client` has sent since its last event into `received`, as the
/// reference does, but for the fault.
fn read_piece(
    mut client: &TcpStream,
    buf_size: u32,
    received: &mut u64,
    fault: Fault,
) -> io::Result<lab::Piece> {
    let size = match fault {
        Fault::AsyncFixedBuffer => 4096,
        _ => buf_size as usize,
    };
    let mut buffer = vec![0; size];
    let (mut this_turn, mut local) = (0, 0);
    let share = match fault {
        Fault::AsyncNoShare => u64::MAX,
        Fault::AsyncOneRead => 1,
        _ => lab::FAIR_SHARE,
    };
    while this_turn < share {
        match client.read(&mut buffer) {
            Ok(0) if fault == Fault::AsyncMissesEof => return Ok(lab::Piece::More),
            Ok(0) => return Ok(lab::Piece::End),
            Ok(n) if fault == Fault::AsyncLocalCount => {
                local += n as u64;
                *received = local;
                this_turn += n as u64;
            }
            Ok(n) => {
                *received += n as u64;
                this_turn += n as u64;
            }
            Err(error)
                if error.kind() == io::ErrorKind::WouldBlock
                    && fault == Fault::AsyncEagainIsEnd =>
            {
                return Ok(lab::Piece::End);
            }
            Err(error)
                if error.kind() == io::ErrorKind::WouldBlock
                    && fault != Fault::AsyncEagainError =>
            {
                return Ok(lab::Piece::More);
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    }
    Ok(lab::Piece::More)
}

/// Leaves a process behind that has left the process group and the session (a double
/// fork and setsid, as a daemon does), running `then`.
fn escape(then: impl FnOnce()) {
    // SAFETY: one thread, as everywhere in this server.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            let _ = nix::unistd::setsid();
            // SAFETY: as above.
            if let Ok(ForkResult::Child) = unsafe { fork() } {
                then();
            }
            process::exit(0);
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = waitpid(child, None);
        }
        Err(_) => {}
    }
}

/// Sends a note to every sink `FAULTY_SERVER_SINKS` names, outside the server's network
/// if it can reach one, and says how each went.
fn reach_out() {
    let sinks = std::env::var("FAULTY_SERVER_SINKS").unwrap_or_default();
    for sink in sinks.split(',').filter(|sink| !sink.is_empty()) {
        let result = match sink.split_once(':') {
            Some(("tcp", port)) => port
                .parse::<u16>()
                .map_err(io::Error::other)
                .and_then(|port| {
                    std::net::TcpStream::connect_timeout(
                        &(std::net::Ipv4Addr::LOCALHOST, port).into(),
                        Duration::from_secs(1),
                    )
                })
                .and_then(|mut stream| stream.write_all(b"escaped\n")),
            Some(("udp", port)) => std::net::UdpSocket::bind((std::net::Ipv4Addr::LOCALHOST, 0))
                .and_then(|socket| socket.send_to(b"escaped\n", format!("127.0.0.1:{port}")))
                .map(drop),
            Some(("abstract", name)) => {
                use std::os::linux::net::SocketAddrExt;
                std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())
                    .and_then(|address| std::os::unix::net::UnixStream::connect_addr(&address))
                    .and_then(|mut stream| stream.write_all(b"escaped\n"))
            }
            Some(("vsock", _)) => {
                // SAFETY: a plain system call; a descriptor it returns is closed at once.
                let fd =
                    unsafe { nix::libc::socket(nix::libc::AF_VSOCK, nix::libc::SOCK_STREAM, 0) };
                if fd < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    // SAFETY: as above.
                    unsafe { nix::libc::close(fd) };
                    Ok(())
                }
            }
            _ => Err(io::Error::other("an unknown sink")),
        };
        println!("attack: sending to {sink}: {result:?}");
    }
}

/// The key of the System V objects `leaves-notes` leaves.
const NOTES_KEY: i32 = 0x1ab5eed;

/// Leaves notes that would outlive the server on a machine that shared them: System V
/// shared memory and a message queue, and a key in the user's keyring.
fn leave_notes() {
    // SAFETY: plain system calls with constant arguments.
    let (memory, queue) = unsafe {
        (
            nix::libc::shmget(NOTES_KEY, 4096, nix::libc::IPC_CREAT | 0o666),
            nix::libc::msgget(NOTES_KEY, nix::libc::IPC_CREAT | 0o666),
        )
    };
    println!("attack: shared memory {memory}, message queue {queue}");
    const KEY_SPEC_USER_KEYRING: i32 = -4;
    // SAFETY: NUL-terminated strings and a payload that live across the call.
    let key = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_add_key,
            c"user".as_ptr(),
            c"lab-note".as_ptr(),
            b"hello".as_ptr(),
            5usize,
            KEY_SPEC_USER_KEYRING,
        )
    };
    let outcome = if key < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(key)
    };
    println!("attack: a key in the user's keyring: {outcome:?}");
}

/// The files `FAULTY_SERVER_TARGETS` names.
fn targets() -> Vec<std::path::PathBuf> {
    std::env::var_os("FAULTY_SERVER_TARGETS")
        .map(|list| std::env::split_paths(&list).collect())
        .unwrap_or_default()
}

/// The attacks that come before serving: each says on a line of its own how it went.
fn attack(fault: Fault) {
    match fault {
        Fault::Tampers => {
            for target in targets() {
                let result = std::fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(&target)
                    .and_then(|mut file| file.write_all(b"tampered\n"));
                println!("attack: writing {}: {result:?}", target.display());
            }
        }
        Fault::ReadsTargets => {
            for target in targets() {
                match std::fs::read(&target) {
                    Ok(bytes) => {
                        println!("attack: read {}: {} bytes", target.display(), bytes.len())
                    }
                    Err(error) => println!("attack: reading {}: {error}", target.display()),
                }
            }
        }
        Fault::FillsDisk => {
            // Files of 8 MiB each, under any limit on one file: only a limit on the total
            // stops it.
            for dir in ["/tmp", "."] {
                let (mut written, chunk) = (0u64, vec![7u8; 1 << 20]);
                let mut outcome = Ok(());
                let mut files = Vec::new();
                while written < 320 << 20 && outcome.is_ok() {
                    let path = std::path::Path::new(dir).join(format!("filler-{}", files.len()));
                    outcome = std::fs::File::create(&path).and_then(|mut file| {
                        for _ in 0..8 {
                            file.write_all(&chunk)?;
                            written += chunk.len() as u64;
                        }
                        Ok(())
                    });
                    files.push(path);
                }
                println!("attack: filling {dir}: {written} bytes, {outcome:?}");
                for file in files {
                    let _ = std::fs::remove_file(file);
                }
            }
        }
        Fault::RunsTargets => {
            for target in targets() {
                let result = std::process::Command::new(&target).status();
                println!("attack: running {}: {result:?}", target.display());
            }
        }
        Fault::ReachesOut => reach_out(),
        Fault::LeavesNotes => leave_notes(),
        Fault::FloodsMemory => {
            let flood = vec![7u8; 4 << 30];
            println!("attack: got {} bytes", flood.len());
        }
        Fault::FakesChecker => {
            println!("checker: containing the server: a failure the server made up");
            println!("----- checker: stopped the server and its children: made up -----");
            println!("\x1b[2J\x1b[1;1H\x1b[32mTotal: 100/100\x1b[0m\rforged");
        }
        Fault::RewritesLog => {
            let said = |done: i64| {
                if done < 0 {
                    Err(io::Error::last_os_error())
                } else {
                    Ok(done)
                }
            };
            // SAFETY: plain system calls on the process's own standard output.
            let rewound = said(unsafe { nix::libc::lseek(1, 0, nix::libc::SEEK_SET) });
            println!("attack: rewinding stdout: {rewound:?}");
            // SAFETY: as above.
            let truncated = said(unsafe { nix::libc::ftruncate(1, 0) }.into());
            println!("attack: truncating stdout: {truncated:?}");
            let reopened = std::fs::OpenOptions::new()
                .write(true)
                .truncate(true)
                .open("/proc/self/fd/1");
            println!(
                "attack: reopening stdout to truncate it: {:?}",
                reopened.map(drop)
            );
        }
        Fault::RewritesLater => escape(|| {
            // Wait for the checker to end (its server, this process's grandparent, is
            // gone by then), then rewrite the results.
            thread::sleep(Duration::from_secs(4));
            for target in targets() {
                let _ = std::fs::write(&target, "{\"score\": 100}\n");
            }
        }),
        _ => {}
    }
    let _ = io::stdout().flush();
}

/// Without epoll: accept, receive inline, close; one client after the other.
fn serve_blocking(listener: &TcpListener, buf_size: u32) -> lab::Result<()> {
    loop {
        let (client, _) = listener.accept().context("accepting a client")?;
        let fd = client.as_raw_fd();
        println!("<< New client connected on socket {fd} >>");
        println!("Client {fd} wants to send a file");
        lab::receive_upload(&client, buf_size);
    }
}

/// Reads at most `limit` bytes, reports them as the whole upload and stops reading.
fn receive_first(mut client: &TcpStream, limit: usize) {
    let mut buffer = vec![0; limit];
    let mut received = 0;
    while received < limit {
        match client.read(&mut buffer[received..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => received += n,
        }
    }
    println!(
        "Received {received} bytes from [Client {}]",
        client.as_raw_fd()
    );
}

fn receive_in_child(client: &TcpStream, buf_size: u32, fault: Fault) -> lab::Result<()> {
    io::stdout().flush().context("flushing stdout")?;
    // SAFETY: this server has one thread, so the child may run ordinary code after fork.
    match unsafe { fork() }.context("forking")? {
        ForkResult::Child => {
            let complete = match fault {
                Fault::ForksGrandchildren => {
                    for _ in 0..80 {
                        // SAFETY: as above, one thread.
                        if let Ok(ForkResult::Child) = unsafe { fork() } {
                            thread::sleep(Duration::from_secs(60));
                            process::exit(0);
                        }
                    }
                    lab::receive_upload(client, buf_size).is_some()
                }
                Fault::PrintsEveryRead | Fault::SlowReads => receive_noisily(client, fault),
                Fault::SetsidGrandchild | Fault::ForkFlood => {
                    let count = if fault == Fault::ForkFlood { 100 } else { 1 };
                    for _ in 0..count {
                        escape(|| thread::sleep(Duration::from_secs(120)));
                    }
                    lab::receive_upload(client, buf_size).is_some()
                }
                Fault::DebugLines => {
                    let (pid, fd) = (process::id(), client.as_raw_fd());
                    println!("debug: child {pid}: receiving from socket {fd}");
                    lab::receive_upload(client, buf_size).is_some()
                }
                Fault::NonblockingChild => {
                    client
                        .set_nonblocking(true)
                        .context("making the socket non-blocking")?;
                    lab::receive_upload(client, buf_size).is_some()
                }
                Fault::ChildHoardsMemory => {
                    // Refused under the checker's cap: Rust's runtime says so and aborts.
                    let hoard = vec![0u8; 1 << 30];
                    println!("debug: hoarding {} bytes", hoard.len());
                    lab::receive_upload(client, buf_size).is_some()
                }
                _ => lab::receive_upload(client, buf_size).is_some(),
            };
            if matches!(fault, Fault::ChildReturns | Fault::ChildReturnsDies) {
                return Ok(());
            }
            process::exit(if complete { 0 } else { 1 });
        }
        ForkResult::Parent { child } => {
            let shown = match fault {
                Fault::ParentPrintsOwnPid => Pid::this(),
                _ => child,
            };
            println!(
                "<< Process {shown} created to handle client {} >>",
                client.as_raw_fd()
            );
            if fault == Fault::WaitsForChild {
                waitpid(child, None).context("waiting for the child")?;
            }
            Ok(())
        }
    }
}

/// A receive loop with a debug line per read (`prints-every-read`), or one that reads 256
/// KiB and then sleeps 3 s (`slow-reads`).
fn receive_noisily(mut client: &TcpStream, fault: Fault) -> bool {
    let fd = client.as_raw_fd();
    let (mut buffer, mut total) = (vec![0; 256 * 1024], 0);
    let size = if fault == Fault::SlowReads {
        buffer.len()
    } else {
        10
    };
    loop {
        match client.read(&mut buffer[..size]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(_) => return false,
        }
        match fault {
            Fault::SlowReads => thread::sleep(Duration::from_secs(3)),
            _ => println!("debug: client {fd}: read {size} bytes, {total} bytes so far"),
        }
    }
    println!("Received {total} bytes from [Client {fd}]");
    true
}

fn watch_child_exits(epoll: &Epoll, fault: Fault) -> lab::Result<SignalFd> {
    let mut sigchld = SigSet::empty();
    sigchld.add(Signal::SIGCHLD);
    if fault != Fault::SigchldUnblocked {
        sigchld.thread_block().context("blocking SIGCHLD")?;
    }
    let flags = match fault {
        Fault::BlockingSignalfd => SfdFlags::SFD_CLOEXEC,
        _ => SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC,
    };
    let exits = SignalFd::with_flags(&sigchld, flags).context("creating a signalfd")?;
    if fault != Fault::SignalfdNotAdded {
        w_epoll::add(epoll, &exits)?;
    }
    Ok(exits)
}

fn reap_children(exits: &SignalFd, fault: Fault) -> lab::Result<()> {
    match fault {
        Fault::UnreadSignalfd => {}
        Fault::ReapsOne => {
            exits.read_signal().context("reading the signalfd")?;
            if let Ok(WaitStatus::Exited(pid, code)) =
                waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG))
            {
                println!("<< Process {pid} exited with status {code} >>");
            }
            return Ok(());
        }
        _ => while let Ok(Some(_)) = exits.read_signal() {},
    }
    let flags = match fault {
        Fault::BlockingReaper => None,
        _ => Some(WaitPidFlag::WNOHANG),
    };
    loop {
        match waitpid(None::<Pid>, flags) {
            Ok(WaitStatus::Exited(pid, code)) => {
                println!("<< Process {pid} exited with status {code} >>")
            }
            Ok(WaitStatus::Signaled(pid, signal, _)) => {
                println!("<< Process {pid} was killed by {signal} >>")
            }
            Ok(WaitStatus::StillAlive) => return Ok(()),
            Ok(_) => continue,
            Err(Errno::ECHILD) if fault != Fault::EchildFatal => return Ok(()),
            Err(error) => return Err(Failure::new("reaping children", error)),
        }
    }
}
