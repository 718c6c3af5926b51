//! Requests refused before they are read, invitation look-ups per caller, and resets that do the same work known or not.

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(120);
    over_limit_and_oversized_requests_are_refused_unread,
    invitation_look_ups_are_limited_per_caller,
    an_unknown_reset_does_the_work_of_a_known_one,
);

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

async fn over_limit_and_oversized_requests_are_refused_unread(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 1_000, 1_000, 3)).await;
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

async fn invitation_look_ups_are_limited_per_caller(db: common::TestDb) {
    let mut settings = config(&db, 1_000, 1_000, 1_000);
    settings.invite_lookup_rate = 3;
    let app = TestApp::start_with(settings).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let team = app.team(&alice, "Acme").await;
    let path = format!("/v1/organizations/{team}/invites/instructions");
    let mut statuses = Vec::new();
    for email in [
        "bob@example.com",
        "nobody@example.com",
        "x@example.com",
        "y@x.org",
    ] {
        statuses.push(alice.post(&path, json!({"inviteeEmail": email})).await.0);
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
    let (status, _) = bob
        .post(&path, json!({"inviteeEmail": "alice@example.com"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.server.stop().await;
}

async fn an_unknown_reset_does_the_work_of_a_known_one(db: common::TestDb) {
    let app = TestApp::start_with(config(&db, 1_000, 1_000, 1_000)).await;
    let known = app
        .actor_of(User::new("known@example.com", "a passphrase"))
        .await;
    for email in ["known@example.com", "unknown@example.com"] {
        let (status, body) = post(
            &app.http,
            app.url("/auth/reset"),
            reset_body(&known.user, email),
        )
        .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
        assert_eq!(body["error"], "UNAUTHORIZED");
    }
    // Both wrote the same security event (the old code wrote none for the unknown e-mail).
    let failed = db
        .scalar("SELECT COUNT(*) FROM security_events WHERE kind = 'reset_failed'")
        .await;
    assert_eq!(failed, 2);
    app.server.stop().await;
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
