//! Slow and early-refused clients against the real server, over raw TCP: a head trickled a byte a
//! second, a body that stalls, an idle kept-alive connection, more connections than
//! `--max-connections`, bodies past `--max-buffered-body-bytes`, a TLS handshake never begun,
//! and a 2 MiB body refused unread (the client must read the answer, not a connection reset).
//!
//! The connection layer does not touch the database, but every story runs on both backends
//! anyway: the server it drives is the whole server, `/readyz` included. Every story is bounded
//! by [`STORY_LIMIT`].
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::{io, time::Duration};

use common::TestDb;
use common::http::TestServer;
use hypnos_server::ServerConfig;
use reqwest::StatusCode;
use serde_json::Value;
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::{sleep, timeout},
};

/// No story may take longer than this.
const STORY_LIMIT: Duration = Duration::from_secs(90);

common::on_both_backends!(
    timeout = STORY_LIMIT;
    a_trickled_head_is_cut_off_after_the_header_timeout,
    a_stalled_body_is_answered_408_while_others_are_served,
    an_idle_kept_alive_connection_closes_after_the_keep_alive_timeout,
    connections_past_the_cap_wait_and_are_served_later,
    bodies_past_the_buffered_budget_are_answered_503,
    an_early_refusal_of_a_large_body_is_read_whole_without_a_reset,
    a_tls_handshake_never_begun_is_cut_off,
    shutdown_closes_idle_connections_at_once,
);

/// The server on `db` with the settings `tune` changes (log-in limits out of the way).
async fn start(db: &TestDb, tune: impl FnOnce(&mut ServerConfig)) -> TestServer {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    config.login_rate_per_ip = 100_000;
    tune(&mut config);
    TestServer::start_with(config).await
}

/// `host:port` of the server.
fn address(server: &TestServer) -> String {
    server
        .base
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_string()
}

/// An answer read off a raw socket.
#[derive(Debug)]
struct RawResponse {
    status: u16,
    head: String,
    body: Vec<u8>,
}

impl RawResponse {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Reads one response (head, then a `Content-Length` body) from `stream`.
async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<RawResponse> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before the head",
            ));
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    let mut body = buffer[head_end..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed inside the body",
            ));
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    Ok(RawResponse { status, head, body })
}

/// Reads until the server closes (EOF or a reset); what arrived meanwhile.
async fn until_closed(stream: &mut (impl AsyncRead + Unpin)) -> Vec<u8> {
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    rest
}

/// Whether an error is the peer resetting or having gone.
fn is_reset(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionAborted
    )
}

async fn honest_readyz(server: &TestServer) {
    let response = reqwest::get(server.url("/readyz")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

fn post_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    )
}

async fn a_trickled_head_is_cut_off_after_the_header_timeout(db: TestDb) {
    let server = start(&db, |config| {
        config.header_read_timeout = Duration::from_secs(2);
    })
    .await;
    let head = "GET /readyz HTTP/1.1\r\nHost: localhost\r\nX-Padding: \
                aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
    let stream = TcpStream::connect(address(&server)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let trickle = tokio::spawn(async move {
        let mut sent = 0;
        for byte in head.bytes() {
            if writer.write_all(&[byte]).await.is_err() {
                break;
            }
            sent += 1;
            sleep(Duration::from_secs(1)).await;
        }
        sent
    });
    // Another client is served while the trickler holds its connection.
    honest_readyz(&server).await;
    let answered = until_closed(&mut reader).await;
    assert!(
        answered.is_empty(),
        "a head that never arrived whole gets no answer: {:?}",
        String::from_utf8_lossy(&answered)
    );
    let sent = trickle.await.unwrap();
    assert!(
        sent < head.len(),
        "the server closed before the head was complete ({sent} of {} bytes)",
        head.len()
    );
    honest_readyz(&server).await;
    server.stop().await;
}

async fn a_stalled_body_is_answered_408_while_others_are_served(db: TestDb) {
    let server = start(&db, |config| {
        config.body_read_timeout = Duration::from_secs(2);
    })
    .await;
    let mut stalled = TcpStream::connect(address(&server)).await.unwrap();
    stalled
        .write_all(post_head("/auth/login-s", 4000).as_bytes())
        .await
        .unwrap();
    stalled.write_all(br#"{"email":"slow@exam"#).await.unwrap();
    // Served meanwhile.
    honest_readyz(&server).await;
    let answer = read_response(&mut stalled).await.unwrap();
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.json()["error"], "REQUEST_TIMEOUT");
    assert!(answer.json()["message"].is_string());
    assert!(
        answer
            .head
            .to_ascii_lowercase()
            .contains("connection: close"),
        "{}",
        answer.head
    );
    assert!(until_closed(&mut stalled).await.is_empty());
    honest_readyz(&server).await;
    server.stop().await;
}

async fn an_idle_kept_alive_connection_closes_after_the_keep_alive_timeout(db: TestDb) {
    let server = start(&db, |config| {
        config.header_read_timeout = Duration::from_secs(1);
        config.keep_alive_timeout = Duration::from_secs(4);
    })
    .await;
    let mut stream = TcpStream::connect(address(&server)).await.unwrap();
    stream.write_all(get("/readyz").as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream).await.unwrap().status, 200);
    // Idle for longer than the head timeout: the connection is kept (the keep-alive timeout
    // applies between requests), and serves a second request.
    sleep(Duration::from_secs(2)).await;
    stream.write_all(get("/readyz").as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut stream).await.unwrap().status, 200);
    // Then, idle, it is closed by the server.
    assert!(until_closed(&mut stream).await.is_empty());
    server.stop().await;
}

async fn connections_past_the_cap_wait_and_are_served_later(db: TestDb) {
    let server = start(&db, |config| {
        config.max_connections = 4;
        config.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    // Four times the cap, all silent: the first four are served (and cut off after the head
    // timeout), the others wait in the listen queue for a slot.
    let mut silent = Vec::new();
    for _ in 0..16 {
        silent.push(TcpStream::connect(address(&server)).await.unwrap());
    }
    // A client arriving now waits its turn, and is served.
    honest_readyz(&server).await;
    // Every silent connection got its slot and was closed in turn; none got an answer.
    for stream in &mut silent {
        assert!(until_closed(stream).await.is_empty());
    }
    drop(silent);
    honest_readyz(&server).await;
    server.stop().await;
}

async fn bodies_past_the_buffered_budget_are_answered_503(db: TestDb) {
    let server = start(&db, |config| {
        config.max_body_bytes = 64 * 1024;
        config.auth_max_body_bytes = 64 * 1024;
        config.max_buffered_body_bytes = 64 * 1024;
        config.body_read_timeout = Duration::from_secs(3);
    })
    .await;
    // One client sends most of a body that fits the budget, and stalls: it holds those bytes.
    let mut hog = TcpStream::connect(address(&server)).await.unwrap();
    hog.write_all(post_head("/auth/login-s", 64_000).as_bytes())
        .await
        .unwrap();
    hog.write_all(&[b' '; 60_000]).await.unwrap();
    // The budget is taken as bytes arrive: give the server time to take the hog's before the
    // other bodies race it (on a loaded machine one could otherwise get there first).
    sleep(Duration::from_secs(1)).await;
    // Another body does not fit beside it: 503, until the hog is cut off.
    let other = format!("{}{}", " ".repeat(20_000), r#"{"email":"a@example.com"}"#);
    let mut busy = None;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(address(&server)).await.unwrap();
        stream
            .write_all(format!("{}{other}", post_head("/auth/login-s", other.len())).as_bytes())
            .await
            .unwrap();
        let answer = read_response(&mut stream).await.unwrap();
        if answer.status == 503 {
            busy = Some(answer);
            break;
        }
        sleep(Duration::from_millis(100)).await;
    }
    let busy = busy.expect("a body past the budget is refused while the hog holds it");
    assert_eq!(busy.json()["error"], "BUSY");
    assert!(busy.head.to_ascii_lowercase().contains("retry-after"));
    // The hog is cut off by the body timeout, and the budget is free again.
    let cut = read_response(&mut hog).await.unwrap();
    assert_eq!(cut.status, 408, "{cut:?}");
    drop(hog);
    let mut served = None;
    for _ in 0..50 {
        let mut stream = TcpStream::connect(address(&server)).await.unwrap();
        stream
            .write_all(format!("{}{other}", post_head("/auth/login-s", other.len())).as_bytes())
            .await
            .unwrap();
        let answer = read_response(&mut stream).await.unwrap();
        if answer.status != 503 {
            served = Some(answer);
            break;
        }
        sleep(Duration::from_millis(100)).await;
    }
    let served = served.expect("the body is taken once the budget is free");
    assert_eq!(served.status, 200, "{served:?}");
    server.stop().await;
}

async fn an_early_refusal_of_a_large_body_is_read_whole_without_a_reset(db: TestDb) {
    let server = start(&db, |_| {}).await;
    let (answers_lost, resets) = refuse_large_bodies(&address(&server), 50).await;
    eprintln!("early refusal: {answers_lost} answers lost, {resets} resets in 50 requests");
    assert_eq!(
        (answers_lost, resets),
        (0, 0),
        "every client reads the whole refusal, with no reset"
    );
    honest_readyz(&server).await;
    server.stop().await;
}

/// POSTs a 2 MiB body without a session to `/graphql` `rounds` times, sending the body while
/// reading the answer as Node's http client does; how many refusals were not read whole, and how
/// many reads or writes met a reset.
async fn refuse_large_bodies(address: &str, rounds: usize) -> (usize, usize) {
    let body = vec![b'x'; 2 * 1024 * 1024];
    let mut resets = 0;
    let mut answers_lost = 0;
    for _ in 0..rounds {
        let stream = TcpStream::connect(address).await.unwrap();
        let (mut reader, mut writer) = stream.into_split();
        let head = post_head("/graphql", body.len());
        let body = body.clone();
        let sending = tokio::spawn(async move {
            writer.write_all(head.as_bytes()).await?;
            // In pieces, as a client on a real link sends it: the answer comes while the body is
            // still on its way.
            for piece in body.chunks(64 * 1024) {
                writer.write_all(piece).await?;
                sleep(Duration::from_millis(2)).await;
            }
            writer.flush().await
        });
        let answer = read_response(&mut reader).await;
        let sent = sending.await.unwrap();
        match &answer {
            Ok(answer) => {
                // /graphql answers a refused session 200 with a GraphQL error (the newest
                // apps read an error's message only from a 2xx answer).
                assert_eq!(answer.status, 200, "{answer:?}");
                assert_eq!(
                    answer.json()["errors"][0]["extensions"]["code"],
                    "UNAUTHORIZED"
                );
            }
            Err(err) => {
                answers_lost += 1;
                resets += usize::from(is_reset(err));
            }
        }
        if let Err(err) = &sent {
            resets += usize::from(is_reset(err));
        }
    }
    (answers_lost, resets)
}

async fn a_tls_handshake_never_begun_is_cut_off(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();
    let server = start(&db, |config| {
        config.tls_cert = Some(cert_path);
        config.tls_key = Some(key_path);
        config.header_read_timeout = Duration::from_secs(1);
    })
    .await;
    let mut silent = TcpStream::connect(address(&server)).await.unwrap();
    assert!(until_closed(&mut silent).await.is_empty());
    // HTTPS is served all the while, and offers HTTP/1.1.
    let https = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let response = https.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.version(), reqwest::Version::HTTP_11);
    server.stop().await;
}

async fn shutdown_closes_idle_connections_at_once(db: TestDb) {
    let server = start(&db, |_| {}).await;
    let mut idle = TcpStream::connect(address(&server)).await.unwrap();
    idle.write_all(get("/readyz").as_bytes()).await.unwrap();
    assert_eq!(read_response(&mut idle).await.unwrap().status, 200);
    // The keep-alive timeout is 75 s and the grace period 30 s: stopping must not wait for
    // either, since the connection has no request in flight.
    timeout(Duration::from_secs(20), server.stop())
        .await
        .expect("the server stops without waiting for idle connections");
    assert!(until_closed(&mut idle).await.is_empty());
}
