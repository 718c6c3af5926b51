//! Rate limits against the real server over HTTP, on SQLite and on PostgreSQL (issue 12): an
//! attacker failing log-ins for someone's e-mail from one address is limited while the owner
//! still logs in from another; the per-account ceiling stops many addresses together; only
//! failed log-ins count (many successful ones are never refused), and once failures reach a
//! limit the right passphrase is refused too; a failure counts against the address that sent
//! the wrong proof; `X-Forwarded-For` counts
//! only from trusted proxies; IPv6 clients are counted per /64; two servers on one database share
//! the counters; an over-limit or oversized authentication request is refused without its body
//! being read; invitation look-ups are limited per caller; a reset of an unknown e-mail does
//! the work of a known one. Every test is bounded in time.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../common/mod.rs"]
mod common;
mod logins;
mod requests;
mod store;

use std::time::Duration;

use common::app::TestApp;
use common::http::{
    TestServer, post,
    users::{User, begin_login, login, sign_up_and_log_in},
};
use hypnos_crypto::{encoding::to_hex, random};
use hypnos_server::{
    ServerConfig,
    storage::{Counter, OverLimit},
};
use reqwest::{Client, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Settings for these tests: the given limits, and the loopback interface as the trusted
/// proxy, so that each test client names its address in `X-Forwarded-For`.
fn config(db: &common::TestDb, per_account: u32, global: u32, per_ip: u32) -> ServerConfig {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    config.login_rate_per_account = per_account;
    config.login_rate_per_account_global = global;
    config.login_rate_per_ip = per_ip;
    config.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    config
}

/// An HTTP client whose requests come, through the trusted proxy, from `address`.
fn client_from(address: &str) -> Client {
    let mut headers = HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().unwrap());
    Client::builder().default_headers(headers).build().unwrap()
}

/// One login-a for `email` (a valid SRP value): its status.
async fn login_a(server: &TestServer, http: &Client, email: &str) -> StatusCode {
    let (status, body) = post(
        http,
        server.url("/auth/login-a"),
        json!({"email": email, "srpA": "02".repeat(256)}),
    )
    .await;
    assert!(
        status == StatusCode::OK || status == StatusCode::TOO_MANY_REQUESTS,
        "{status} {body}"
    );
    if status == StatusCode::TOO_MANY_REQUESTS {
        assert_eq!(body["error"], "RATE_LIMITED", "{body}");
    }
    status
}

/// A wrong proof for the log-in `starter` (any 32 bytes but the expected ones): 401.
async fn wrong_m1(server: &TestServer, http: &Client, starter: &str) {
    assert_eq!(
        wrong_m1_status(server, http, starter).await,
        StatusCode::UNAUTHORIZED
    );
}

/// A wrong proof for the log-in `starter`: its status (401, or 429 over a limit).
async fn wrong_m1_status(server: &TestServer, http: &Client, starter: &str) -> StatusCode {
    let (status, body) = post(
        http,
        server.url("/auth/login-m1"),
        json!({"srpM1": to_hex(&random::bytes::<32>().unwrap()), "sessionStarterId": starter}),
    )
    .await;
    match status {
        StatusCode::UNAUTHORIZED => assert_eq!(body["error"], "UNAUTHORIZED", "{body}"),
        StatusCode::TOO_MANY_REQUESTS => assert_eq!(body["error"], "RATE_LIMITED", "{body}"),
        other => panic!("login-m1 answered {other} {body}"),
    }
    status
}

/// One failed log-in for `email` from `http`: login-a (not limited by the brute-force limits,
/// a start is no guess), then login-m1 with a wrong proof. The status of login-m1:
/// UNAUTHORIZED (the guess was let through and refused as wrong), or TOO_MANY_REQUESTS.
async fn failed_login(server: &TestServer, http: &Client, email: &str) -> StatusCode {
    let (status, body) = post(
        http,
        server.url("/auth/login-a"),
        json!({"email": email, "srpA": "02".repeat(256)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let starter = body["sessionStarterId"].as_str().unwrap();
    wrong_m1_status(server, http, starter).await
}

/// How many of `count` failed log-ins for `email` from `http` had their guess let through.
async fn failed_logins_allowed(server: &TestServer, http: &Client, email: &str, count: u32) -> u32 {
    let mut allowed = 0;
    for _ in 0..count {
        if failed_login(server, http, email).await == StatusCode::UNAUTHORIZED {
            allowed += 1;
        }
    }
    allowed
}

/// A reset request with a wrong token (the fields are what a reset sends).
fn reset_body(user: &User, email: &str) -> Value {
    let mut body = user.keys_body();
    body["email"] = json!(email);
    body["token"] = json!("ab".repeat(32));
    body
}
