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

mod common;
#[path = "http/mod.rs"]
mod http;

use std::{future::Future, time::Duration};

use http::{
    TestServer, call, post,
    users::{User, begin_login, login, sign_up_and_log_in},
};
use hypnos_crypto::{encoding::to_hex, random};
use hypnos_server::{
    ServerConfig,
    storage::{Counter, OverLimit},
};
use reqwest::{Client, Method, StatusCode, header::HeaderMap};
use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Runs a test body under a time bound, so that no test can hang.
async fn bounded<F: Future<Output = ()>>(test: F) {
    tokio::time::timeout(Duration::from_secs(120), test)
        .await
        .expect("the test finished within two minutes");
}

/// Runs `$body` (an async fn taking `&common::TestDb`) as a test on each backend.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::common::TestDb::sqlite();
                    crate::bounded(crate::$name(&db)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = crate::common::TestDb::postgres().await;
                    crate::bounded(crate::$name(&db)).await;
                }
            )*
        }
    };
}

on_both_backends!(
    an_attacker_address_does_not_lock_the_owner_out,
    the_per_account_ceiling_stops_many_addresses,
    successful_log_ins_are_never_refused,
    after_the_failures_allowed_the_right_passphrase_is_refused_too,
    a_failure_counts_against_the_address_that_sent_the_proof,
    log_ins_started_before_the_limit_get_no_guess_after_it,
    forwarded_for_counts_only_from_trusted_proxies,
    ipv6_clients_are_counted_per_slash_64,
    two_servers_on_one_database_share_the_budget,
    over_limit_and_oversized_requests_are_refused_unread,
    invitation_look_ups_are_limited_per_caller,
    an_unknown_reset_does_the_work_of_a_known_one,
    store_counts_chains_and_purges_ended_windows,
    store_checks_counters_without_counting,
);

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

async fn an_attacker_address_does_not_lock_the_owner_out(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 3, 100, 1_000)).await;
    let owner_http = client_from("198.51.100.1");
    let victim = User::new("victim@example.com", "the victim's passphrase");
    sign_up_and_log_in(&server, &owner_http, &victim).await;

    // Ten wrong guesses at the victim's passphrase from one address: three are let through
    // (and refused as wrong), then login-m1 refuses them as over the limit.
    let attacker = client_from("203.0.113.66");
    assert_eq!(
        failed_logins_allowed(&server, &attacker, &victim.email, 10).await,
        3
    );
    assert_eq!(
        failed_login(&server, &attacker, &victim.email).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // The owner, from another address, still logs in (the old limit, per e-mail alone, said 429).
    login(&server, &owner_http, &victim.email, &victim.passphrase)
        .await
        .unwrap();
    // A reset counts with log-ins: refused to the attacker's address, not to the owner's
    // (whose wrong token is refused as such).
    let reset = reset_body(&victim, &victim.email);
    let (status, body) = post(&attacker, server.url("/auth/reset"), reset.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    let (status, body) = post(&owner_http, server.url("/auth/reset"), reset).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    server.stop().await;
}

async fn the_per_account_ceiling_stops_many_addresses(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 3, 10, 1_000)).await;
    let owner_http = client_from("198.51.100.1");
    let victim = User::new("victim@example.com", "the victim's passphrase");
    sign_up_and_log_in(&server, &owner_http, &victim).await;
    // A successful log-in counts nothing: 0 of the account's 10.

    // Attempts refused for their address do not use up the account's ceiling: 20 from one
    // address count 3 against it (3 of 10).
    let first = client_from("203.0.113.1");
    assert_eq!(
        failed_logins_allowed(&server, &first, &victim.email, 20).await,
        3
    );
    login(&server, &owner_http, &victim.email, &victim.passphrase)
        .await
        .unwrap();
    // Still 3 of 10. Three more addresses: 3 + 3 + 1 get through, then the ceiling holds for
    // everyone.
    let mut allowed = 0;
    for address in ["203.0.113.2", "203.0.113.3", "203.0.113.4"] {
        allowed += failed_logins_allowed(&server, &client_from(address), &victim.email, 3).await;
    }
    assert_eq!(allowed, 7);
    assert_eq!(
        failed_login(&server, &client_from("192.0.2.200"), &victim.email).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account is not affected.
    assert_eq!(
        failed_login(&server, &first, "someone-else@example.com").await,
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}

async fn forwarded_for_counts_only_from_trusted_proxies(db: &common::TestDb) {
    // No trusted proxy: a direct client cannot make itself many clients with the header.
    let mut direct = config(db, 1_000, 1_000, 4);
    direct.trusted_proxies = Vec::new();
    let server = TestServer::start_with(direct).await;
    let mut statuses = Vec::new();
    for index in 0..6 {
        statuses.push(
            login_a(
                &server,
                &client_from(&format!("192.0.2.{index}")),
                "a@x.org",
            )
            .await,
        );
    }
    assert_eq!(&statuses[..4], &[StatusCode::OK; 4]);
    assert_eq!(&statuses[4..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    server.stop().await;

    // Behind a trusted proxy, each client has its own budget; what a client writes to the left
    // of the address the proxy appended proves nothing.
    let server = TestServer::start_with(config(db, 1_000, 1_000, 4)).await;
    for index in 0..6 {
        let http = client_from(&format!("198.51.100.{index}"));
        assert_eq!(login_a(&server, &http, "b@x.org").await, StatusCode::OK);
    }
    let mut statuses = Vec::new();
    for index in 0..6 {
        let spoofed = client_from(&format!("10.1.1.{index}, 203.0.113.7"));
        statuses.push(login_a(&server, &spoofed, "c@x.org").await);
    }
    assert_eq!(&statuses[..4], &[StatusCode::OK; 4]);
    assert_eq!(&statuses[4..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    server.stop().await;
}

async fn ipv6_clients_are_counted_per_slash_64(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 1_000, 1_000, 4)).await;
    // Four addresses of one /64 share its four requests.
    let mut statuses = Vec::new();
    for address in [
        "2001:db8:1:2::1",
        "2001:db8:1:2::2",
        "2001:db8:1:2:ffff:ffff:ffff:ffff",
        "2001:db8:1:2:abcd::9",
        "2001:db8:1:2::7",
    ] {
        statuses.push(login_a(&server, &client_from(address), "d@x.org").await);
    }
    assert_eq!(&statuses[..4], &[StatusCode::OK; 4]);
    assert_eq!(statuses[4], StatusCode::TOO_MANY_REQUESTS);
    // The neighbouring /64 has its own.
    assert_eq!(
        login_a(&server, &client_from("2001:db8:1:3::1"), "d@x.org").await,
        StatusCode::OK
    );
    server.stop().await;
}

async fn two_servers_on_one_database_share_the_budget(db: &common::TestDb) {
    let first = TestServer::start_with(config(db, 4, 1_000, 1_000)).await;
    let second = TestServer::start_with(config(db, 4, 1_000, 1_000)).await;
    let attacker = client_from("203.0.113.66");
    // Each server alone would allow four failures; together they allow four.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(failed_login(&first, &attacker, "e@x.org").await);
        statuses.push(failed_login(&second, &attacker, "e@x.org").await);
    }
    assert_eq!(&statuses[..4], &[StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(&statuses[4..], &[StatusCode::TOO_MANY_REQUESTS; 2]);
    first.stop().await;
    second.stop().await;
}

async fn successful_log_ins_are_never_refused(db: &common::TestDb) {
    // Three failures per account and address, five per account: ten log-ins with the right
    // passphrase from one address, more than either, all succeed (the old limiter counted
    // every login-a and refused the fourth).
    let server = TestServer::start_with(config(db, 3, 5, 1_000)).await;
    let http = client_from("198.51.100.7");
    let owner = User::new("owner@example.com", "the owner's passphrase");
    sign_up_and_log_in(&server, &http, &owner).await;
    for _ in 0..10 {
        login(&server, &http, &owner.email, &owner.passphrase)
            .await
            .unwrap();
    }
    // They wrote no counter.
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limit_hits").await, 0);
    server.stop().await;
}

async fn after_the_failures_allowed_the_right_passphrase_is_refused_too(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 3, 100, 1_000)).await;
    let http = client_from("198.51.100.8");
    let owner = User::new("owner@example.com", "the owner's passphrase");
    sign_up_and_log_in(&server, &http, &owner).await;
    assert_eq!(
        failed_logins_allowed(&server, &http, &owner.email, 3).await,
        3
    );
    // The limit is reached: login-m1 refuses the right passphrase too, with the time to wait
    // (the window lasts a minute; the test does not wait for it).
    let (status, body) = login(&server, &http, &owner.email, &owner.passphrase)
        .await
        .unwrap_err();
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "RATE_LIMITED", "{body}");
    let (proof, starter) = begin_login(&server, &http, &owner.email, &owner.passphrase)
        .await
        .unwrap();
    let answer = http
        .post(server.url("/auth/login-m1"))
        .json(&json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": starter}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = answer.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    server.stop().await;
}

async fn a_failure_counts_against_the_address_that_sent_the_proof(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 2, 100, 1_000)).await;
    let starter_http = client_from("198.51.100.9");
    let guesser = client_from("203.0.113.99");
    // Log-ins started from one address, finished with wrong proofs from another.
    for _ in 0..2 {
        let (status, body) = post(
            &starter_http,
            server.url("/auth/login-a"),
            json!({"email": "g@x.org", "srpA": "02".repeat(256)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        wrong_m1(
            &server,
            &guesser,
            body["sessionStarterId"].as_str().unwrap(),
        )
        .await;
    }
    assert_eq!(
        failed_login(&server, &guesser, "g@x.org").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        failed_login(&server, &starter_http, "g@x.org").await,
        StatusCode::UNAUTHORIZED
    );
    server.stop().await;
}

async fn log_ins_started_before_the_limit_get_no_guess_after_it(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 2, 100, 1_000)).await;
    let owner_http = client_from("198.51.100.10");
    let owner = User::new("owner@example.com", "the owner's passphrase");
    sign_up_and_log_in(&server, &owner_http, &owner).await;
    // The attacker starts five log-ins before guessing (a start is no guess: all five are let
    // in), one of them with the right passphrase.
    let attacker = client_from("203.0.113.10");
    let mut starters = Vec::new();
    for _ in 0..4 {
        let (status, body) = post(
            &attacker,
            server.url("/auth/login-a"),
            json!({"email": owner.email, "srpA": "02".repeat(256)}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        starters.push(body["sessionStarterId"].as_str().unwrap().to_owned());
    }
    let (proof, right_starter) = begin_login(&server, &attacker, &owner.email, &owner.passphrase)
        .await
        .unwrap();
    // Two wrong guesses use up the limit; the third is refused as over it, and so is the
    // right proof: the same answer, so the refusal does not tell which guess was right.
    let mut statuses = Vec::new();
    for starter in &starters[..3] {
        statuses.push(wrong_m1_status(&server, &attacker, starter).await);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    let (status, body) = post(
        &attacker,
        server.url("/auth/login-m1"),
        json!({"srpM1": to_hex(proof.m1()), "sessionStarterId": right_starter}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["error"], "RATE_LIMITED", "{body}");
    // The owner, from its own address, still logs in.
    login(&server, &owner_http, &owner.email, &owner.passphrase)
        .await
        .unwrap();
    server.stop().await;
}

/// Sends a raw request head (and `body`, if any) and returns the status line of the answer.
/// The connection stays open, so an answer proves the server did not wait for the rest.
async fn raw_status(server: &TestServer, head: &str, body: &[u8]) -> String {
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    // The server may stop reading (and answer) before the body is through.
    let _ = stream.write_all(body).await;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    let read = async {
        while !answer.windows(4).any(|window| window == b"\r\n\r\n") {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => answer.extend_from_slice(&buffer[..n]),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .expect("the server answered without waiting for the body");
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn over_limit_and_oversized_requests_are_refused_unread(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 1_000, 1_000, 3)).await;
    let mib_head = |client: &str| {
        format!(
            "POST /auth/login-a HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: {client}\r\n\
             Content-Type: application/json\r\nContent-Length: 1048576\r\n\r\n"
        )
    };
    // Within the rate limit, a declared 1 MiB body is too large for an authentication
    // endpoint: 413 before a byte of it is sent.
    let status = raw_status(&server, &mib_head("192.0.2.1"), b"").await;
    assert!(status.contains(" 413 "), "{status}");
    // A chunked body is cut off at the limit (64 KiB) too.
    let mut chunked = Vec::new();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("{:x}\r\n", 32 * 1024).as_bytes());
        chunked.extend_from_slice(&[b' '; 32 * 1024]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let status = raw_status(
        &server,
        "POST /auth/login-a HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: 192.0.2.1\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        &chunked,
    )
    .await;
    assert!(status.contains(" 413 "), "{status}");
    // The third request uses up 192.0.2.1's budget; the fourth, with a 1 MiB body never sent,
    // is refused for the rate.
    assert_eq!(
        login_a(&server, &client_from("192.0.2.1"), "f@x.org").await,
        StatusCode::OK
    );
    let status = raw_status(&server, &mib_head("192.0.2.1"), b"").await;
    assert!(status.contains(" 429 "), "{status}");
    // The same on the vault's endpoints (a session is not even looked at).
    let status = raw_status(
        &server,
        "POST /v1/user/vault-verify-a HTTP/1.1\r\nHost: localhost\r\n\
         X-Forwarded-For: 192.0.2.1\r\nContent-Type: application/json\r\n\
         Content-Length: 1048576\r\n\r\n",
        b"",
    )
    .await;
    assert!(status.contains(" 429 "), "{status}");
    server.stop().await;
}

async fn invitation_look_ups_are_limited_per_caller(db: &common::TestDb) {
    let mut settings = config(db, 1_000, 1_000, 1_000);
    settings.invite_lookup_rate = 3;
    let server = TestServer::start_with(settings).await;
    let http = Client::new();
    let alice = User::new("alice@example.com", "alice's passphrase");
    let bob = User::new("bob@example.com", "bob's passphrase");
    let (_, alice_session) = sign_up_and_log_in(&server, &http, &alice).await;
    let (_, bob_session) = sign_up_and_log_in(&server, &http, &bob).await;
    let (status, team) = call(
        &http,
        Method::POST,
        server.url("/v1/organizations"),
        &alice_session,
        Some(json!({"name": "Acme"})),
    )
    .await;
    assert!(status.is_success(), "{status} {team}");
    let team = team["id"].as_str().unwrap().to_owned();
    let look_up = |session: &str, org: &str, email: &str| {
        let url = server.url(&format!("/v1/organizations/{org}/invites/instructions"));
        let (http, session, email) = (&http, session.to_owned(), email.to_owned());
        async move {
            call(
                http,
                Method::POST,
                url,
                &session,
                Some(json!({"inviteeEmail": email})),
            )
            .await
        }
    };
    let mut statuses = Vec::new();
    for email in [
        "bob@example.com",
        "nobody@example.com",
        "x@example.com",
        "y@x.org",
    ] {
        statuses.push(look_up(&alice_session, &team, email).await.0);
    }
    assert_eq!(
        statuses,
        [
            StatusCode::OK,
            StatusCode::NOT_FOUND,
            StatusCode::NOT_FOUND,
            StatusCode::TOO_MANY_REQUESTS
        ]
    );
    // Another caller has its own budget (bob is no member: 404, but not 429).
    let (status, _) = look_up(&bob_session, &team, "alice@example.com").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.stop().await;
}

/// A reset request with a wrong token (the fields are what a reset sends).
fn reset_body(user: &User, email: &str) -> Value {
    let mut body = user.keys_body();
    body["email"] = json!(email);
    body["token"] = json!("ab".repeat(32));
    body
}

async fn an_unknown_reset_does_the_work_of_a_known_one(db: &common::TestDb) {
    let server = TestServer::start_with(config(db, 1_000, 1_000, 1_000)).await;
    let http = Client::new();
    let known = User::new("known@example.com", "a passphrase");
    sign_up_and_log_in(&server, &http, &known).await;
    for email in ["known@example.com", "unknown@example.com"] {
        let (status, body) =
            post(&http, server.url("/auth/reset"), reset_body(&known, email)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "UNAUTHORIZED");
    }
    // Both wrote the same security event (the old code wrote none for the unknown e-mail).
    let failed = db
        .scalar("SELECT COUNT(*) FROM security_events WHERE kind = 'reset_failed'")
        .await;
    assert_eq!(failed, 2);
    server.stop().await;
}

async fn store_counts_chains_and_purges_ended_windows(db: &common::TestDb) {
    let store = db.connect().await;
    let narrow = Counter {
        key: [1; 32],
        limit: 2,
    };
    let wide = Counter {
        key: [2; 32],
        limit: 3,
    };
    let (start, window) = (600_000, 60_000);
    let count = |now: i64, chain: Vec<Counter>| {
        let store = store.clone();
        async move { store.count_hit(now, window, &chain).await.unwrap() }
    };
    let over = |counter: usize, window_start: i64| {
        Some(OverLimit {
            counter,
            window_start,
        })
    };
    assert_eq!(count(start, vec![narrow, wide]).await, None);
    assert_eq!(count(start + 10, vec![narrow, wide]).await, None);
    // Over the narrow limit: the wide counter is not counted.
    for _ in 0..3 {
        assert_eq!(count(start + 20, vec![narrow, wide]).await, over(0, start));
    }
    let other = Counter {
        key: [3; 32],
        limit: 5,
    };
    assert_eq!(count(start + 30, vec![other, wide]).await, None);
    assert_eq!(count(start + 40, vec![other, wide]).await, over(1, start));
    // A window lasts from its key's first hit; the next hit after it begins a new one.
    assert_eq!(
        count(start + window - 1, vec![narrow]).await,
        over(0, start)
    );
    assert_eq!(count(start + window, vec![narrow]).await, None);
    assert_eq!(count(start + window + 1, vec![narrow]).await, None);
    assert_eq!(
        count(start + window + 2, vec![narrow]).await,
        over(0, start + window)
    );
    // Ended windows are purged; the live one stays.
    assert_eq!(store.purge_rate_limits(start + 30).await.unwrap(), 2);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limit_hits").await, 1);
    assert!(
        store
            .count_hit(start, window, &[narrow, wide, other, other])
            .await
            .is_err()
    );
    assert_eq!(count(start, Vec::new()).await, None);
}

async fn store_checks_counters_without_counting(db: &common::TestDb) {
    let store = db.connect().await;
    let narrow = Counter {
        key: [1; 32],
        limit: 2,
    };
    let wide = Counter {
        key: [2; 32],
        limit: 3,
    };
    let (start, window) = (600_000, 60_000);
    let check = |now: i64, chain: Vec<Counter>| {
        let store = store.clone();
        async move { store.over_limit(now, window, &chain).await.unwrap() }
    };
    // No counter yet: within; and checking writes nothing.
    assert_eq!(check(start, vec![narrow, wide]).await, None);
    assert_eq!(db.scalar("SELECT COUNT(*) FROM rate_limit_hits").await, 0);
    // One hit: both below their limits.
    store
        .count_hit(start, window, &[narrow, wide])
        .await
        .unwrap();
    assert_eq!(check(start + 1, vec![narrow, wide]).await, None);
    // Two hits reach the narrow limit: refused from now on, with its window's start, and the
    // check counted nothing (the third hit is over the limit, not the fifth).
    store
        .count_hit(start + 2, window, &[narrow, wide])
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            check(start + 3, vec![narrow, wide]).await,
            Some(OverLimit {
                counter: 0,
                window_start: start
            })
        );
    }
    assert_eq!(
        store.count_hit(start + 4, window, &[narrow]).await.unwrap(),
        Some(OverLimit {
            counter: 0,
            window_start: start
        })
    );
    // The wide counter alone is below its limit (2 of 3); the order of the chain is the order
    // of the answer.
    assert_eq!(check(start + 5, vec![wide]).await, None);
    let fresh = Counter {
        key: [3; 32],
        limit: 1,
    };
    assert_eq!(
        check(start + 5, vec![fresh, wide, narrow]).await,
        Some(OverLimit {
            counter: 2,
            window_start: start
        })
    );
    // An ended window does not refuse.
    assert_eq!(check(start + window, vec![narrow, wide]).await, None);
    assert!(
        store
            .over_limit(start, window, &[narrow, wide, fresh, fresh])
            .await
            .is_err()
    );
    assert_eq!(check(start, Vec::new()).await, None);
}

/// Times `POST /auth/reset` for a known and an unknown e-mail (wrong token each) and prints the
/// medians. A measurement run by hand, not an assertion:
/// `cargo test --release -p hypnos-server --test rate_limits reset_timing -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, run by hand"]
async fn reset_timing() {
    for backend in [common::Backend::Sqlite, common::Backend::Postgres] {
        let db = common::TestDb::new(backend).await;
        let state_config = config(&db, 1_000_000, 1_000_000, 1_000_000);
        let server = TestServer::start_with(state_config).await;
        let http = Client::new();
        let known = User::new("known@example.com", "a passphrase");
        sign_up_and_log_in(&server, &http, &known).await;
        let bodies = [
            reset_body(&known, "known@example.com"),
            reset_body(&known, "unknown@example.com"),
        ];
        let mut times: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for round in 0..1_000 {
            for which in [round % 2, 1 - round % 2] {
                let started = std::time::Instant::now();
                let (status, _) =
                    post(&http, server.url("/auth/reset"), bodies[which].clone()).await;
                let elapsed = started.elapsed().as_secs_f64() * 1000.0;
                assert_eq!(status, StatusCode::UNAUTHORIZED);
                if round >= 100 {
                    times[which].push(elapsed);
                }
            }
        }
        let median = |values: &mut Vec<f64>| {
            values.sort_by(f64::total_cmp);
            values[values.len() / 2]
        };
        let (known_ms, unknown_ms) = (median(&mut times[0]), median(&mut times[1]));
        println!(
            "{backend:?}: reset median known {known_ms:.3} ms, unknown {unknown_ms:.3} ms, \
             difference {:.3} ms",
            known_ms - unknown_ms
        );
        server.stop().await;
    }
}
