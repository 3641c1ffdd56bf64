// The server exactly as handed out, TODOs untouched: the tests build it (as the example
// `untouched-server`) to prove the given code at every stage of your work. Do not edit
// this copy; your work goes in skeleton/src/bin/server.rs.

//! The upload server of the async-server lab.
//!
//! One thread and one epoll instance: the listening socket and every connected client are
//! registered for input, and the loop in `serve` reacts to whichever is ready. Task 1
//! (TODOs 1 to 4) builds that loop; task 2 (TODO 5) gives every upload a process of its
//! own so that slow uploads no longer wait for each other; the bonus (TODOs 6 and 7)
//! reaps those processes when they exit. Task 3 (TODOs 8 and 9, optional, `--mode async`)
//! serves every upload at once from the one loop, with no process per client: each event
//! reads what its client has sent so far and goes back to waiting. The README explains
//! each TODO.
//!
//! Errors: every function here returns `lab::Result`. Pass a failure up with a few words
//! on what failed, as the given code does: `.context("creating the epoll instance")?`
//! (the `lab::Context` trait, for nix's and std's errors alike). A bare `?` on a nix or
//! io error does not compile: "`?` couldn't convert the error to `Failure`".

use std::collections::HashMap;
use std::io;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::process::ExitCode;

use clap::Parser;
use lab::{Context, Line, Mode, Piece, ServerOptions};
use nix::sys::epoll::{Epoll, EpollEvent};
use nix::sys::signalfd::SignalFd;

/// A connected client: its socket and, in task 3, what the loop knows of its upload.
struct Client {
    socket: TcpStream,
    /// Whether its first event has come (task 3: the upload has begun).
    started: bool,
    /// Bytes of its upload received so far (task 3: the loop receives an upload piece by
    /// piece, so the count must outlive each piece).
    received: u64,
}

/// The connected clients, by socket descriptor. The map owns each socket: taking a client
/// out of the map and dropping it is what closes the connection.
type Clients = HashMap<RawFd, Client>;

fn main() -> ExitCode {
    lab::exit_status("server", serve(&ServerOptions::parse()))
}

fn serve(options: &ServerOptions) -> lab::Result<()> {
    let listener = lab::listen(options.port)?;
    let address = listener
        .local_addr()
        .context("reading the listening address")?;
    println!("{}", Line::Listening(address.to_string()));

    let epoll = create_event_loop(&listener)?;
    let child_exits = watch_child_exits(&epoll)?;
    let mut clients = Clients::new();
    let mut events = [EpollEvent::empty(); 32];
    loop {
        let ready = wait_for_events(&epoll, &mut events)?;
        for event in &events[..ready] {
            let fd = event.data() as RawFd;
            if fd == listener.as_raw_fd() {
                accept_client(&epoll, &listener, &mut clients, options.mode)?;
            } else if let Some(exits) = &child_exits
                && fd == exits.as_raw_fd()
            {
                reap_children(exits)?;
            } else {
                handle_client(&epoll, &mut clients, fd, options)?;
            }
        }
    }
}

/// Task 1: the epoll instance that the whole server waits on, with the listening socket
/// already in its interest list.
fn create_event_loop(listener: &TcpListener) -> lab::Result<Epoll> {
    // TODO 1: create an epoll instance (`Epoll::new` with
    // `nix::sys::epoll::EpollCreateFlags::EPOLL_CLOEXEC`) and add the listening socket to
    // it with `lab::w_epoll::add`, so that a client knocking on the listener wakes the loop.
    // Errors go up with `.context("...")?` (see the top of this file).
    todo!(
        "TODO 1: create an epoll instance and add the listener (socket {}) to it",
        listener.as_raw_fd()
    )
    // END TODO 1
}

/// Task 1: blocks until at least one registered descriptor is ready, fills `events` with
/// the ready ones and returns how many there are.
fn wait_for_events(epoll: &Epoll, events: &mut [EpollEvent]) -> lab::Result<usize> {
    // TODO 2: `epoll.wait` with no timeout (`nix::sys::epoll::EpollTimeout::NONE`): the
    // server has nothing to do until a descriptor is ready. A signal can interrupt the
    // wait (`nix::errno::Errno::EINTR`): that is no error, just wait again.
    todo!(
        "TODO 2: wait on epoll {} for up to {} events",
        epoll.0.as_raw_fd(),
        events.len()
    )
    // END TODO 2
}

/// Accepts the client waiting on `listener` and keeps it in `clients` until its upload is
/// handled; in task 3 its socket is made non-blocking first.
fn accept_client(
    epoll: &Epoll,
    listener: &TcpListener,
    clients: &mut Clients,
    mode: Mode,
) -> lab::Result<()> {
    let socket = accept(epoll, listener)?;
    if mode == Mode::Async {
        make_nonblocking(&socket)?;
    }
    let client = Client {
        socket,
        started: false,
        received: 0,
    };
    clients.insert(client.socket.as_raw_fd(), client);
    Ok(())
}

/// Task 1: accepts the connection waiting on `listener` and watches its socket for input.
fn accept(epoll: &Epoll, listener: &TcpListener) -> lab::Result<TcpStream> {
    // TODO 3: accept the connection, print `<< New client connected on socket <fd> >>`
    // (`lab::Line::Connected { fd }` writes it), add the client's socket to epoll
    // (`lab::w_epoll::add`) and return the socket (the caller keeps it in `clients`).
    todo!(
        "TODO 3: accept the client waiting on socket {}, and add it to epoll {}",
        listener.as_raw_fd(),
        epoll.0.as_raw_fd()
    )
    // END TODO 3
}

/// Serves the client whose socket has input: in tasks 1 and 2 the start of its upload,
/// which is received whole; in task 3 the next piece of it.
fn handle_client(
    epoll: &Epoll,
    clients: &mut Clients,
    fd: RawFd,
    options: &ServerOptions,
) -> lab::Result<()> {
    if options.mode == Mode::Async {
        return receive_piece(epoll, clients, fd, options.buf_size);
    }
    let Some(client) = clients.remove(&fd) else {
        return Ok(());
    };
    println!("{}", Line::WantsToSend { fd });
    receive(&client.socket, options.buf_size)?;
    stop_watching(epoll, client.socket)
}

/// Task 1: the server is done with `client`; forget it.
fn stop_watching(epoll: &Epoll, client: TcpStream) -> lab::Result<()> {
    // TODO 4: remove the client's socket from epoll (`lab::w_epoll::remove`), and only
    // then close it (dropping a `TcpStream` closes it). In this order no registration can
    // outlive its socket, which matters in task 2, where a child process still has the
    // same socket open.
    todo!(
        "TODO 4: remove client {} from epoll {}, then close it",
        client.as_raw_fd(),
        epoll.0.as_raw_fd()
    )
    // END TODO 4
}

/// Receives the upload of `client` and prints how many bytes arrived.
fn receive(client: &TcpStream, buf_size: u32) -> lab::Result<()> {
    // TODO 5 (task 2): as given, the upload is received right here and every other client
    // waits until it is done. Receive it in a child process instead, so that the loop can
    // serve other clients meanwhile. Flush stdout (or the child inherits unprinted lines
    // and prints them again), then `nix::unistd::fork`. The child receives the upload with
    // `lab::receive_upload` and exits (`std::process::exit`: 0 if the upload was complete,
    // 1 if not); it must never return into the loop. The parent prints
    // `<< Process <pid> created to handle client <fd> >>` (`lab::Line::ProcessCreated`)
    // and returns at once; its caller
    // then closes the parent's copy of the socket, the child keeps its own.
    // `fork` is an `unsafe fn`: call it as `unsafe { fork() }` under a `// SAFETY:` comment
    // that says why it is sound here. nix's documentation warns that in a program with
    // several threads the child may only call async-signal-safe functions (no `println!`,
    // no allocation), since another thread may have held a lock at the fork that nobody
    // will release. This server has exactly one thread, so the child may print and
    // allocate like any code.
    lab::receive_upload(client, buf_size);
    Ok(())
    // END TODO 5
}

/// Bonus: a descriptor that becomes readable whenever a child process exits, added to
/// epoll, so that the loop wakes up to reap it. `None` while the bonus is not done.
fn watch_child_exits(epoll: &Epoll) -> lab::Result<Option<SignalFd>> {
    // TODO 6 (bonus): block SIGCHLD (`nix::sys::signal::SigSet::thread_block`) so that it
    // is no longer delivered the ordinary way, create a `SignalFd` for it (non-blocking,
    // close-on-exec) and add that to epoll. Then return it in `Some`. As given, nothing
    // tells the loop that a child exited, so finished children stay zombies (`ps` shows
    // them as <defunct>) until the server itself exits.
    let _ = epoll;
    Ok(None)
    // END TODO 6
}

/// Bonus: reaps every child that has exited and prints
/// `<< Process <pid> exited with status <code> >>` (`lab::Line::ProcessExited`) for each.
fn reap_children(exits: &SignalFd) -> lab::Result<()> {
    // TODO 7 (bonus): read the pending signals from `exits` until there are none (several
    // exits can arrive as one signal), then call `nix::sys::wait::waitpid(None,
    // Some(WaitPidFlag::WNOHANG))` until it reports no more exited children (`StillAlive`,
    // or ECHILD: no children at all). A child killed by a signal (`WaitStatus::Signaled`)
    // gets `<< Process <pid> was killed by <signal> >>` (`lab::Line::ProcessKilled`), for
    // example `... by SIGKILL >>`.
    todo!(
        "TODO 7: reap the children that have exited (SIGCHLD signalfd {})",
        exits.as_raw_fd()
    )
    // END TODO 7
}

/// Task 3: receives what the client on `fd` has sent since its last event; at the end of
/// its upload, reports it and forgets the client, as task 1 does.
fn receive_piece(
    epoll: &Epoll,
    clients: &mut Clients,
    fd: RawFd,
    buf_size: u32,
) -> lab::Result<()> {
    let Some(client) = clients.get_mut(&fd) else {
        return Ok(());
    };
    if !client.started {
        client.started = true;
        println!("{}", Line::WantsToSend { fd });
    }
    let piece = read_available(client, buf_size);
    if let Ok(Piece::More) = piece {
        return Ok(());
    }
    let Some(client) = clients.remove(&fd) else {
        return Ok(());
    };
    match piece {
        Ok(_) => println!(
            "{}",
            Line::Received {
                bytes: client.received,
                fd
            }
        ),
        Err(error) => lab::print_error(
            &Line::Error {
                program: "server".into(),
                message: format!(
                    "receiving from client {fd}: {error} after {} bytes",
                    client.received
                ),
            }
            .to_string(),
        ),
    }
    stop_watching(epoll, client.socket)
}

/// Task 3: a new client's socket, made ready for a loop that must never wait on one
/// client.
fn make_nonblocking(socket: &TcpStream) -> lab::Result<()> {
    // TODO 8 (task 3): make the socket non-blocking (`TcpStream::set_nonblocking`). Then a
    // read that finds nothing to read fails at once with `io::ErrorKind::WouldBlock`
    // (EAGAIN) instead of waiting for the client's next bytes while every other client
    // waits for the loop.
    todo!(
        "TODO 8: make the socket {} of a new client non-blocking",
        socket.as_raw_fd()
    )
    // END TODO 8
}

/// Task 3: reads what `client` has sent so far, at most `buf_size` bytes per read and
/// about [`lab::FAIR_SHARE`] bytes in all, and adds it to `client.received`.
fn read_available(client: &mut Client, buf_size: u32) -> io::Result<Piece> {
    // TODO 9 (task 3): read from `client.socket` into a buffer of `buf_size` bytes, again
    // and again, adding what each read returns to `client.received`, until a read
    // - fails with `io::ErrorKind::WouldBlock` (EAGAIN): nothing more for now, and no
    //   error. Return `Ok(Piece::More)`; epoll reports the socket when more arrives;
    // - returns 0: the client closed the connection. Return `Ok(Piece::End)`;
    // - fails with `io::ErrorKind::Interrupted`: read again;
    // - fails any other way: return the error (the connection broke).
    // Also return `Ok(Piece::More)` once this call has read `lab::FAIR_SHARE` bytes: a
    // client that sends faster than 10-byte reads can empty its socket would otherwise keep
    // the loop to itself. Epoll reports the socket again at once, after the other clients.
    // The count lives in `client`, not here: this function sees one piece of the upload.
    todo!(
        "TODO 9: read what client {} has sent, {buf_size} bytes at a time ({} bytes so far)",
        client.socket.as_raw_fd(),
        client.received
    )
    // END TODO 9
}
