//! Thin wrappers over [`nix::sys::epoll::Epoll`] for the two things the server does with
//! its interest list: add a descriptor to watch for input, and remove it again.
//!
//! Each descriptor is registered with its own number as the event's data, so when
//! `epoll_wait` reports an event, `event.data() as RawFd` says which descriptor is ready.

use std::os::fd::{AsFd, AsRawFd};

use nix::sys::epoll::{Epoll, EpollEvent, EpollFlags};

use crate::{Context, Result};

/// Adds `fd` to the interest list of `epoll`, to be reported when it has input to read
/// (for a listening socket: a client waiting to be accepted). Level-triggered: epoll
/// keeps reporting the descriptor for as long as input is waiting.
pub fn add(epoll: &Epoll, fd: &impl AsFd) -> Result<()> {
    let raw = fd.as_fd().as_raw_fd();
    let event = EpollEvent::new(EpollFlags::EPOLLIN, raw as u64);
    epoll
        .add(fd.as_fd(), event)
        .with_context(|| format!("adding descriptor {raw} to epoll"))
}

/// Removes `fd` from the interest list of `epoll`. Call it *before* closing `fd`: a
/// registration belongs to the open file behind the descriptor, and if another process
/// (a forked child) still has that file open, closing only our descriptor leaves the
/// registration behind, reporting events for a number we no longer own.
pub fn remove(epoll: &Epoll, fd: &impl AsFd) -> Result<()> {
    let raw = fd.as_fd().as_raw_fd();
    epoll
        .delete(fd.as_fd())
        .with_context(|| format!("removing descriptor {raw} from epoll"))
}
