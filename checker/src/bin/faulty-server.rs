//! The reference server with one known defect, chosen by the environment variable
//! `FAULTY_SERVER_FAULT`, for proving that the checker fails each defect for the right
//! reason. Without the variable it behaves like the reference.
//!
//! | fault               | defect                                                      |
//! |---------------------|-------------------------------------------------------------|
//! | `serial`            | task 1 only: receives every upload itself, no fork          |
//! | `keeps-parent-copy` | forks, but the parent never closes its copy of the socket   |
//! | `no-remove`         | forks and closes its copy, but never removes it from epoll  |
//! | `no-epoll`          | a blocking accept loop that receives inline, no epoll       |
//! | `exits-after-first` | stops after its first client                                |
//! | `partial-read`      | reads the first 512 KiB of each upload, then closes         |
//! | `never-reads`       | prints the expected lines, never reads the socket           |
//! | `never-accepts`     | listens, then sleeps                                        |
//! | `never-reaps`       | forks, but never reaps its children                         |

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::process::{self, ExitCode};
use std::thread;
use std::time::Duration;

use clap::Parser;
use lab::{Context, Failure, ServerOptions, w_epoll};
use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::{ForkResult, fork};

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
}

impl Fault {
    fn from_env() -> Result<Self, Failure> {
        let name = std::env::var("FAULTY_SERVER_FAULT").unwrap_or_default();
        Ok(match name.as_str() {
            "" | "none" => Fault::None,
            "serial" => Fault::Serial,
            "keeps-parent-copy" => Fault::KeepsParentCopy,
            "no-remove" => Fault::NoRemove,
            "no-epoll" => Fault::NoEpoll,
            "exits-after-first" => Fault::ExitsAfterFirst,
            "partial-read" => Fault::PartialRead,
            "never-reads" => Fault::NeverReads,
            "never-accepts" => Fault::NeverAccepts,
            "never-reaps" => Fault::NeverReaps,
            other => {
                return Err(Failure::new(
                    "FAULTY_SERVER_FAULT",
                    format!("unknown fault `{other}`"),
                ));
            }
        })
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
        _ => {}
    }

    let epoll = Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC).context("creating epoll")?;
    w_epoll::add(&epoll, &listener)?;
    let exits = if fault == Fault::NeverReaps {
        None
    } else {
        Some(watch_child_exits(&epoll)?)
    };
    let mut clients: HashMap<RawFd, TcpStream> = HashMap::new();
    let mut never_closed = Vec::new();
    let mut events = [EpollEvent::empty(); 32];
    loop {
        let ready = match epoll.wait(&mut events, EpollTimeout::NONE) {
            Err(Errno::EINTR) => continue,
            ready => ready.context("waiting for events")?,
        };
        for event in &events[..ready] {
            let fd = event.data() as RawFd;
            if fd == listener.as_raw_fd() {
                let (client, _) = listener.accept().context("accepting a client")?;
                println!(
                    "<< New client connected on socket {} >>",
                    client.as_raw_fd()
                );
                w_epoll::add(&epoll, &client)?;
                clients.insert(client.as_raw_fd(), client);
            } else if let Some(exits) = &exits
                && fd == exits.as_raw_fd()
            {
                reap_children(exits);
            } else if let Some(client) = clients.remove(&fd) {
                println!("Client {fd} wants to send a file");
                match fault {
                    Fault::Serial => {
                        lab::receive_upload(&client, options.buf_size);
                        w_epoll::remove(&epoll, &client)?;
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
                    _ => {
                        receive_in_child(&client, options.buf_size)?;
                        match fault {
                            Fault::KeepsParentCopy => {
                                w_epoll::remove(&epoll, &client)?;
                                never_closed.push(client);
                            }
                            Fault::NoRemove => drop(client),
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

fn receive_in_child(client: &TcpStream, buf_size: u32) -> lab::Result<()> {
    io::stdout().flush().context("flushing stdout")?;
    // SAFETY: this server has one thread, so the child may run ordinary code after fork.
    match unsafe { fork() }.context("forking")? {
        ForkResult::Child => {
            let complete = lab::receive_upload(client, buf_size).is_some();
            process::exit(if complete { 0 } else { 1 });
        }
        ForkResult::Parent { child } => {
            println!(
                "<< Process {child} created to handle client {} >>",
                client.as_raw_fd()
            );
            Ok(())
        }
    }
}

fn watch_child_exits(epoll: &Epoll) -> lab::Result<SignalFd> {
    let mut sigchld = SigSet::empty();
    sigchld.add(Signal::SIGCHLD);
    sigchld.thread_block().context("blocking SIGCHLD")?;
    let exits = SignalFd::with_flags(&sigchld, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
        .context("creating a signalfd")?;
    w_epoll::add(epoll, &exits)?;
    Ok(exits)
}

fn reap_children(exits: &SignalFd) {
    while let Ok(Some(_)) = exits.read_signal() {}
    while let Ok(status) = waitpid(None, Some(WaitPidFlag::WNOHANG)) {
        match status.pid() {
            Some(pid) => println!("<< Process {pid} exited with status {status:?} >>"),
            None => break,
        }
    }
}
