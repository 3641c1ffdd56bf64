//! The checker's clients: threads that upload the test file with the lab's own send loop
//! and record, for each client, how far it got and when.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};

use crate::contain::{SocketSource, connect_to};

/// How the report, the logs and the pictures name the checker's client `number`: by a
/// letter, `upload A`, so that it is never taken for a socket number.
pub fn upload_name(number: usize) -> String {
    match u8::try_from(number).ok().filter(|n| (1..=26).contains(n)) {
        Some(n) => format!("upload {}", char::from(b'A' + n - 1)),
        None => format!("upload {number}"),
    }
}

/// The client's name with the socket the server gave it, where /proc showed it:
/// `upload E (socket 6 in the server)`.
pub fn upload_with_socket(number: usize, socket: Option<i32>) -> String {
    match socket {
        Some(fd) => format!("{} (socket {fd} in the server)", upload_name(number)),
        None => upload_name(number),
    }
}

/// The client log, shared by every client thread. Each line is tagged with the client's
/// name (`upload A`) and the time since the checker started.
pub struct ClientLog {
    file: Mutex<File>,
    started: Instant,
}

impl ClientLog {
    pub fn new(file: File, started: Instant) -> Self {
        ClientLog {
            file: Mutex::new(file),
            started,
        }
    }

    /// Writes a line that belongs to no client (a section title).
    pub fn note(&self, text: &str) {
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = writeln!(file, "{}", crate::server::log::line(text));
    }

    fn line(&self, client: usize, text: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = writeln!(file, "[{} +{elapsed:.2}s] {text}", upload_name(client));
    }
}

/// What one client has done so far.
pub struct Upload {
    /// The client's number in the logs.
    pub number: usize,
    sent: AtomicU64,
    /// Whether the client has sent the milestone amount.
    reached: AtomicBool,
    /// How the upload ended: the bytes sent, or what went wrong.
    ended: OnceLock<Result<u64, String>>,
    /// The client's own port, once connected: the server's socket for it is the one
    /// whose remote port this is.
    local_port: OnceLock<u16>,
    /// The descriptor the server (or its child) holds this client's connection under,
    /// once /proc has shown it.
    server_socket: OnceLock<i32>,
}

impl Upload {
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn reached_milestone(&self) -> bool {
        self.reached.load(Ordering::Relaxed)
    }

    pub fn ended(&self) -> Option<&Result<u64, String>> {
        self.ended.get()
    }

    /// Whether the client got its whole file through.
    pub fn finished(&self) -> bool {
        self.ended().is_some_and(Result::is_ok)
    }

    /// The client's port, once it has connected.
    pub fn local_port(&self) -> Option<u16> {
        self.local_port.get().copied()
    }

    /// The socket the server gave this client, if /proc has shown it.
    pub fn server_socket(&self) -> Option<i32> {
        self.server_socket.get().copied()
    }

    /// Notes the socket the server gave this client.
    pub fn found_server_socket(&self, fd: i32) {
        let _ = self.server_socket.set(fd);
    }
}

/// Uploads running in threads. The threads are not joined: each ends by itself when its
/// upload ends, and when the server is stopped every socket closes and every blocked send
/// fails at once, so none can outlive its server.
pub struct Uploads {
    pub uploads: Vec<Arc<Upload>>,
    /// How many bytes each client uploads.
    pub bytes: u64,
    pub started: Instant,
}

/// What each client of a batch uploads.
#[derive(Clone)]
pub struct Plan {
    pub file: PathBuf,
    /// How many bytes of the file each client uploads.
    pub bytes: u64,
    /// The amount that counts as "well under way".
    pub milestone: u64,
    /// Where the client pauses, keeping the connection open, until it is released.
    pub hold: Option<Arc<Hold>>,
    /// Where the client pauses once its whole file is sent, before it ends the upload,
    /// until it is released: whoever receives it waits for the end meanwhile.
    pub closing: Option<Arc<Hold>>,
    /// Where the client waits once until the server has read everything it sent, as
    /// over a slow network: a server that reads its socket without blocking then finds
    /// it empty, every run, not only when the scheduler happens to make it so.
    pub drain_at: Option<u64>,
}

/// A pause in the middle of an upload: the client has sent `at` bytes and waits, with
/// the connection open, until [`Hold::release`] (or a minute at most).
pub struct Hold {
    pub at: u64,
    released: AtomicBool,
}

impl Hold {
    pub fn new(at: u64) -> Arc<Self> {
        Arc::new(Hold {
            at,
            released: AtomicBool::new(false),
        })
    }

    pub fn release(&self) {
        self.released.store(true, Ordering::Relaxed);
    }

    fn wait(&self) {
        let deadline = Instant::now() + SEND_TIMEOUT;
        while !self.released.load(Ordering::Relaxed) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
    }
}

/// The file as a client reads it: pauses at the hold, if there is one, and at its end
/// before the closing hold, if there is one.
struct HeldFile {
    file: io::Take<File>,
    read: u64,
    hold: Option<Arc<Hold>>,
    closing: Option<Arc<Hold>>,
}

impl Read for HeldFile {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let n = self.read_held(buffer)?;
        if n == 0
            && let Some(closing) = self.closing.take()
        {
            closing.wait();
        }
        Ok(n)
    }
}

impl HeldFile {
    fn read_held(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let Some(hold) = &self.hold else {
            return self.file.read(buffer);
        };
        if self.read == hold.at {
            hold.wait();
        }
        let room = if self.read < hold.at {
            (hold.at - self.read).min(buffer.len() as u64) as usize
        } else {
            buffer.len()
        };
        let n = self.file.read(&mut buffer[..room])?;
        self.read += n as u64;
        Ok(n)
    }
}

impl Uploads {
    /// Starts `count` clients at once, numbered from `first_number`, each uploading to
    /// 127.0.0.1:`port` as `plan` says. `stopped` is set once the checker stops the
    /// server itself: a client that fails from then on says so rather than blaming it.
    /// One that fails once the server (`server_pid`) has exited says that the server's
    /// end took its processes with it: the checker ends them all.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        log: &Arc<ClientLog>,
        port: u16,
        sockets: Option<Arc<SocketSource>>,
        stopped: &Arc<AtomicBool>,
        server_pid: i32,
        plan: &Plan,
        first_number: usize,
        count: usize,
    ) -> Self {
        let started = Instant::now();
        let uploads: Vec<_> = (first_number..first_number + count)
            .map(|number| {
                Arc::new(Upload {
                    number,
                    sent: AtomicU64::new(0),
                    reached: AtomicBool::new(false),
                    ended: OnceLock::new(),
                    local_port: OnceLock::new(),
                    server_socket: OnceLock::new(),
                })
            })
            .collect();
        for upload in &uploads {
            let (upload, log, plan) = (Arc::clone(upload), Arc::clone(log), plan.clone());
            let stopped = Arc::clone(stopped);
            let sockets = sockets.clone();
            thread::spawn(move || {
                let outcome = run_client(&upload, &log, port, sockets.as_deref(), &plan);
                match &outcome {
                    Err(_) if stopped.load(Ordering::SeqCst) => log.line(
                        upload.number,
                        &format!(
                            "ended after {} bytes: the checker stopped the server \
                             (the server log says why)",
                            upload.sent()
                        ),
                    ),
                    Err(_) if crate::inspect::has_exited(server_pid) => log.line(
                        upload.number,
                        &format!(
                            "ended after {} bytes: the server had exited, and the checker \
                             ends the processes of a server that exited (the server log \
                             says how it exited)",
                            upload.sent()
                        ),
                    ),
                    Err(error) => log.line(upload.number, &format!("client: {error}")),
                    Ok(_) => {}
                }
                let _ = upload.ended.set(outcome);
            });
        }
        Uploads {
            uploads,
            bytes: plan.bytes,
            started,
        }
    }

    /// How many clients have ended.
    pub fn ended(&self) -> usize {
        self.uploads
            .iter()
            .filter(|upload| upload.ended().is_some())
            .count()
    }

    /// The total bytes sent by all clients.
    pub fn total_sent(&self) -> u64 {
        self.uploads.iter().map(|upload| upload.sent()).sum()
    }
}

/// Waits (2 s at most) until the server has read everything sent on the connection from
/// `client` to `server`, then 20 ms more, so that a reader finds the socket empty.
fn wait_until_read(server: u16, client: u16) {
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        let table = crate::inspect::tcp_table();
        match crate::inspect::connection(&table, server, client) {
            (Some(ours), Some(theirs)) if ours.unsent > 0 || theirs.queued > 0 => {
                thread::sleep(Duration::from_millis(2));
            }
            _ => break,
        }
    }
    thread::sleep(Duration::from_millis(20));
}

/// The client's socket send buffer, in bytes (the kernel doubles it for bookkeeping).
const SEND_BUFFER: usize = 64 * 1024;

/// How long a send may block before the client gives up on a server that stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

fn run_client(
    upload: &Upload,
    log: &ClientLog,
    port: u16,
    sockets: Option<&SocketSource>,
    plan: &Plan,
) -> Result<u64, String> {
    let path = &plan.file;
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let server = connect_to(sockets, port, Duration::from_secs(5))
        .map_err(|e| format!("cannot connect to 127.0.0.1:{port}: {e}"))?;
    server
        .set_write_timeout(Some(SEND_TIMEOUT))
        .map_err(|e| e.to_string())?;
    // A small, fixed send buffer keeps "sent" close to "received by the server": the
    // kernel would otherwise let a client queue megabytes that nobody has read yet.
    setsockopt(&server, sockopt::SndBuf, &SEND_BUFFER)
        .map_err(|e| format!("setting SO_SNDBUF: {e}"))?;
    let client_port = server
        .local_addr()
        .map_err(|e| format!("reading the client's address: {e}"))?
        .port();
    let _ = upload.local_port.set(client_port);
    log.line(upload.number, "connected");
    let mut drain_at = plan.drain_at;
    let file = HeldFile {
        file: file.take(plan.bytes),
        read: 0,
        hold: plan.hold.clone(),
        closing: plan.closing.clone(),
    };
    let sent = lab::send_upload(&server, file, |sent, step| {
        upload.sent.store(sent, Ordering::Relaxed);
        if drain_at.is_some_and(|at| sent >= at) {
            drain_at = None;
            wait_until_read(port, client_port);
        }
        if sent >= plan.milestone {
            upload.reached.store(true, Ordering::Relaxed);
        }
        if let Some(mib) = step {
            log.line(upload.number, &format!("Sent {mib} MiB"));
        }
    })
    .map_err(|failure| failure.to_string())?;
    log.line(upload.number, &format!("Sent {sent} bytes to the server"));
    Ok(sent)
}
