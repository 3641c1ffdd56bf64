//! Evidence from /proc about the server under test: what the operating system says it
//! does, whatever it prints. One module per kind of thing the kernel shows.

mod descriptors;
mod net;
mod process;
mod signals;
mod syscalls;
mod whereabouts;

pub use descriptors::*;
pub use net::*;
pub use process::*;
pub use signals::*;
pub use syscalls::*;
pub use whereabouts::*;
