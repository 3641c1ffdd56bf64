//! The checker's clients: threads that upload the test file with the lab's own send loop
//! and record, for each client, how far it got and when.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::socket::{setsockopt, sockopt};

/// The client log, shared by every client thread. Each line is tagged with the client's
/// number and the time since the checker started.
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
        let _ = writeln!(file, "----- checker: {text} -----");
    }

    fn line(&self, client: usize, text: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut file = self
            .file
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let _ = writeln!(file, "[client {client} +{elapsed:.2}s] {text}");
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

impl Uploads {
    /// Starts `count` clients at once, numbered from `first_number`, each uploading the
    /// first `bytes` of `file` to 127.0.0.1:`port` and noting when it has sent `milestone`
    /// bytes.
    pub fn start(
        log: &Arc<ClientLog>,
        port: u16,
        (file, bytes): (&Path, u64),
        first_number: usize,
        count: usize,
        milestone: u64,
    ) -> Self {
        let started = Instant::now();
        let uploads: Vec<_> = (first_number..first_number + count)
            .map(|number| {
                Arc::new(Upload {
                    number,
                    sent: AtomicU64::new(0),
                    reached: AtomicBool::new(false),
                    ended: OnceLock::new(),
                })
            })
            .collect();
        for upload in &uploads {
            let (upload, log, file) = (Arc::clone(upload), Arc::clone(log), file.to_owned());
            thread::spawn(move || {
                let outcome = run_client(&upload, &log, port, (&file, bytes), milestone);
                if let Err(error) = &outcome {
                    log.line(upload.number, &format!("client: {error}"));
                }
                let _ = upload.ended.set(outcome);
            });
        }
        Uploads {
            uploads,
            bytes,
            started,
        }
    }

    /// Whether every client has ended.
    pub fn all_ended(&self) -> bool {
        self.uploads.iter().all(|upload| upload.ended().is_some())
    }

    /// The total bytes sent by all clients.
    pub fn total_sent(&self) -> u64 {
        self.uploads.iter().map(|upload| upload.sent()).sum()
    }
}

/// The client's socket send buffer, in bytes (the kernel doubles it for bookkeeping).
const SEND_BUFFER: usize = 64 * 1024;

/// How long a send may block before the client gives up on a server that stopped reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

fn run_client(
    upload: &Upload,
    log: &ClientLog,
    port: u16,
    (path, bytes): (&Path, u64),
    milestone: u64,
) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let server = TcpStream::connect_timeout(&address, Duration::from_secs(5))
        .map_err(|e| format!("cannot connect to {address}: {e}"))?;
    server
        .set_write_timeout(Some(SEND_TIMEOUT))
        .map_err(|e| e.to_string())?;
    // A small, fixed send buffer keeps "sent" close to "received by the server": the
    // kernel would otherwise let a client queue megabytes that nobody has read yet.
    setsockopt(&server, sockopt::SndBuf, &SEND_BUFFER)
        .map_err(|e| format!("setting SO_SNDBUF: {e}"))?;
    log.line(upload.number, "connected");
    let sent = lab::send_upload(&server, file.take(bytes), |sent, step| {
        upload.sent.store(sent, Ordering::Relaxed);
        if sent >= milestone {
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
