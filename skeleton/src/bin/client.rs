//! The lab's client: uploads a file to the server and closes the connection.

use std::fs::File;
use std::io;
use std::net::{Ipv4Addr, TcpStream};
use std::process::ExitCode;

use clap::Parser;
use lab::{ClientOptions, Failure};

fn main() -> ExitCode {
    lab::exit_status("client", upload(&ClientOptions::parse()))
}

fn upload(options: &ClientOptions) -> lab::Result<()> {
    let path = options.file.display();
    let mut file = File::open(&options.file).map_err(|error| {
        let failure = Failure::new(format!("cannot open {path}"), &error);
        match error.kind() {
            io::ErrorKind::NotFound => failure
                .hint("create the test file first with `cargo run -p gen-testfile`, or name another with --file"),
            _ => failure,
        }
    })?;
    let port = options.port;
    let server = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|error| {
        let failure = Failure::new(format!("cannot connect to 127.0.0.1:{port}"), &error);
        match error.kind() {
            io::ErrorKind::ConnectionRefused => failure.hint(format!(
                "no server is listening there: start it first (`cargo run -p skeleton --bin server -- --port {port}`)"
            )),
            _ => failure,
        }
    })?;
    let sent = lab::send_upload(&server, &mut file, |_, milestone| {
        if let Some(mib) = milestone {
            println!("Sent {mib} MiB");
        }
    })?;
    println!("Sent {sent} bytes to the server");
    Ok(())
}
