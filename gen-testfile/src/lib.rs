//! Writes the lab's test file: a given number of random bytes, appearing whole or not at
//! all. Used by the `gen-testfile` command and by the checker.

// The lab is built on Linux's own interfaces (epoll, fork, signalfd, /proc). Anywhere
// else the build stops here with one message, before the first command of the handout.
#[cfg(not(target_os = "linux"))]
compile_error!(
    "the async-server lab needs Linux (epoll, fork, signalfd, /proc): on macOS or Windows, \
     open the repository in its development container (.devcontainer/, see the README), or \
     on Windows in WSL 2"
);

#[cfg(target_os = "linux")]
mod random_file;
#[cfg(target_os = "linux")]
pub use random_file::{BadSize, DEFAULT_SIZE, human_size, parse_size, write_random_file};
