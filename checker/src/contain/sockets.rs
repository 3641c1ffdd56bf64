//! The checker's clients in the server's network. A contained server has a network of its
//! own, with only a loopback interface: nothing of the machine's network reaches it, and
//! it reaches nothing. A socket belongs to the network it was created in, wherever it is
//! used later, so init creates TCP sockets in the server's network on the checker's
//! request and passes them over a Unix socket; the checker connects them to the server.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::socket::{
    AddressFamily, ControlMessage, ControlMessageOwned, MsgFlags, SockFlag, SockType, SockaddrIn,
    connect, recvmsg, sendmsg, socket,
};

/// A connected pair of Unix sockets, both close-on-exec: the checker's end and init's.
pub fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    let (ours, theirs) = UnixStream::pair()?;
    Ok((ours.into(), theirs.into()))
}

/// The checker's end: asks init for sockets in the server's network.
pub struct SocketSource {
    init: Mutex<UnixStream>,
}

impl SocketSource {
    pub fn new(fd: OwnedFd) -> Self {
        SocketSource {
            init: Mutex::new(UnixStream::from(fd)),
        }
    }

    /// A TCP socket of the server's network, not yet connected.
    pub fn tcp_socket(&self) -> io::Result<OwnedFd> {
        let init = self
            .init
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        init.set_read_timeout(Some(Duration::from_secs(5)))?;
        let ask = [IoSlice::new(b"t")];
        sendmsg::<()>(init.as_raw_fd(), &ask, &[], MsgFlags::empty(), None)?;
        receive_descriptor(init.as_raw_fd())?
            .ok_or_else(|| io::Error::other("the server's init sent no socket"))
    }
}

/// Receives one descriptor sent with SCM_RIGHTS on the Unix socket `from` (close-on-exec
/// here); `None` if the message carried none.
pub fn receive_descriptor(from: RawFd) -> io::Result<Option<OwnedFd>> {
    let mut byte = [0u8; 1];
    let mut buffer = [IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!(RawFd);
    let answer = recvmsg::<()>(
        from,
        &mut buffer,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )?;
    for message in answer.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = message
            && let Some(&fd) = fds.first()
        {
            // SAFETY: the kernel just installed this descriptor for us.
            return Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }));
        }
    }
    Ok(None)
}

/// Connects to 127.0.0.1:`port`, in the server's network when `source` is given, within
/// `timeout`.
pub fn connect_to(
    source: Option<&SocketSource>,
    port: u16,
    timeout: Duration,
) -> io::Result<TcpStream> {
    let address = SocketAddrV4::new(Ipv4Addr::LOCALHOST, port);
    let Some(source) = source else {
        return TcpStream::connect_timeout(&address.into(), timeout);
    };
    let socket = source.tcp_socket()?;
    // A full accept queue drops the SYN and retries for minutes: a blocking connect ends
    // at the socket's send timeout instead (as connect_timeout would).
    let stream = TcpStream::from(socket);
    stream.set_write_timeout(Some(timeout))?;
    connect(stream.as_raw_fd(), &SockaddrIn::from(address))?;
    stream.set_write_timeout(None)?;
    Ok(stream)
}

/// Init's side: answers each request on `checker` with a new TCP socket, until the
/// checker closes its end.
pub fn serve(checker: OwnedFd) {
    let checker = UnixStream::from(checker);
    loop {
        let mut byte = [0u8; 1];
        let mut buffer = [IoSliceMut::new(&mut byte)];
        match recvmsg::<()>(checker.as_raw_fd(), &mut buffer, None, MsgFlags::empty()) {
            Ok(read) if read.bytes > 0 => {}
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
        let Ok(socket) = socket(
            AddressFamily::Inet,
            SockType::Stream,
            SockFlag::SOCK_CLOEXEC,
            None,
        ) else {
            return;
        };
        let fds = [socket.as_raw_fd()];
        let rights = [ControlMessage::ScmRights(&fds)];
        let reply = [IoSlice::new(b"s")];
        if sendmsg::<()>(
            checker.as_raw_fd(),
            &reply,
            &rights,
            MsgFlags::empty(),
            None,
        )
        .is_err()
        {
            return;
        }
    }
}

/// Brings up the loopback interface of a new network namespace (it starts down).
pub fn loopback_up() -> io::Result<()> {
    let probe = socket(
        AddressFamily::Inet,
        SockType::Datagram,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // SAFETY: an ifreq of zeroes with the interface's name; the ioctls read and write it.
    unsafe {
        let mut request: libc::ifreq = std::mem::zeroed();
        for (slot, byte) in request.ifr_name.iter_mut().zip(b"lo\0") {
            *slot = *byte as libc::c_char;
        }
        if libc::ioctl(probe.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) < 0 {
            return Err(io::Error::last_os_error());
        }
        request.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(probe.as_raw_fd(), libc::SIOCSIFFLAGS, &request) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}
