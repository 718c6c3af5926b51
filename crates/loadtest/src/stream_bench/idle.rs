//! Many idle event streams: what each costs the server in memory, and what holding them costs
//! it in CPU.
//!
//! The streams are opened with plain sockets (a request line and four headers, then the
//! answer read and discarded): the load generator must hold ten thousand of them cheaply, and
//! what is measured is the server's side. The server's resident memory (VmRSS) is read before
//! and after they are open, and its CPU time over the holding window.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    task::JoinSet,
};

use crate::{
    LoadError,
    cpu::{clock_ticks_per_second, process_ticks, status_kib},
};

/// What holding idle streams cost the server.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    /// Streams open at once.
    pub streams: usize,
    /// The server's resident memory before opening them, in MiB.
    pub rss_before_mib: f64,
    /// And with them all open, in MiB.
    pub rss_open_mib: f64,
    /// The difference, per stream, in KiB.
    pub kib_per_stream: f64,
    /// Seconds the streams were held.
    pub held_seconds: f64,
    /// The server's CPU over that time, as a share of one core (0.01 = 1 %).
    pub server_cpu_share: f64,
}

/// Opens `streams` streams of `org` as `session` on the server at `address` (host:port), holds
/// them for `hold`, and measures the server process `pid`.
pub async fn run(
    address: &str,
    org: &str,
    session: &str,
    streams: usize,
    hold: Duration,
    pid: u32,
) -> Result<IdleReport, LoadError> {
    let rss_before = rss_mib(pid)?;
    let request = format!(
        "GET /v1/teams/{org}/streams HTTP/1.1\r\nHost: {address}\r\nX-Session-Id: {session}\r\n\
         Accept: text/event-stream\r\nConnection: close\r\n\r\n"
    );
    let mut held = JoinSet::new();
    // Opened a few hundred at a time: the server's listen queue is not what is measured.
    for batch in (0..streams).collect::<Vec<_>>().chunks(256) {
        let mut opening = JoinSet::new();
        for _ in batch {
            let request = request.clone();
            let address = address.to_owned();
            opening.spawn(async move { open(&address, &request).await });
        }
        while let Some(opened) = opening.join_next().await {
            let stream = opened.map_err(|err| LoadError::Setup(err.to_string()))??;
            held.spawn(drain(stream));
        }
    }
    // Let the allocator and the server's tasks settle before reading its memory.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_open = rss_mib(pid)?;
    let ticks_before = process_ticks(pid)?;
    let started = Instant::now();
    tokio::time::sleep(hold).await;
    let ticks = process_ticks(pid)?.saturating_sub(ticks_before);
    let held_seconds = started.elapsed().as_secs_f64();
    // A finished drain is a stream the server ended (a JoinSet's len counts finished tasks
    // until they are joined, so they are joined here).
    let mut ended = 0;
    while held.try_join_next().is_some() {
        ended += 1;
    }
    held.shutdown().await;
    if ended > 0 {
        return Err(LoadError::Setup(format!(
            "{ended} of {streams} streams ended while held"
        )));
    }
    Ok(IdleReport {
        streams,
        rss_before_mib: rss_before,
        rss_open_mib: rss_open,
        kib_per_stream: (rss_open - rss_before) * 1024.0 / streams as f64,
        held_seconds,
        server_cpu_share: ticks as f64 / clock_ticks_per_second() as f64 / held_seconds,
    })
}

/// Opens one stream: sends the request and reads the answer's head, which must be a 200.
async fn open(address: &str, request: &str) -> Result<TcpStream, LoadError> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|err| LoadError::Setup(format!("connecting to {address}: {err}")))?;
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|err| LoadError::Setup(err.to_string()))?;
    let mut head = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream
            .read(&mut buffer)
            .await
            .map_err(|err| LoadError::Setup(err.to_string()))?;
        if read == 0 || head.len() > 16 * 1024 {
            return Err(LoadError::Setup("the stream's answer ended early".into()));
        }
        head.extend_from_slice(&buffer[..read]);
    }
    if !head.starts_with(b"HTTP/1.1 200") {
        let line = String::from_utf8_lossy(&head);
        return Err(LoadError::Setup(format!(
            "the server refused a stream: {}",
            line.lines().next().unwrap_or_default()
        )));
    }
    Ok(stream)
}

/// Reads and discards what the server sends (keep-alive comments) until it ends the stream
/// (the request asked for `Connection: close`, so the end of the answer closes the socket).
async fn drain(mut stream: TcpStream) {
    let mut buffer = [0_u8; 512];
    while let Ok(read) = stream.read(&mut buffer).await {
        if read == 0 {
            break;
        }
    }
}

/// A process's resident memory, in MiB.
fn rss_mib(pid: u32) -> Result<f64, LoadError> {
    status_kib(pid, "VmRSS")
        .map(|kib| kib as f64 / 1024.0)
        .ok_or_else(|| LoadError::Proc(format!("/proc/{pid}/status: no VmRSS")))
}
