//! The log-in limits: per address, per account, behind proxies, over IPv6, shared by servers, and what a failure counts against.

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(120);
    an_attacker_address_does_not_lock_the_owner_out,
    the_per_account_ceiling_stops_many_addresses,
    forwarded_for_counts_only_from_trusted_proxies,
    ipv6_clients_are_counted_per_slash_64,
    two_servers_on_one_database_share_the_budget,
    successful_log_ins_are_never_refused,
    after_the_failures_allowed_the_right_passphrase_is_refused_too,
    a_failure_counts_against_the_address_that_sent_the_proof,
    log_ins_started_before_the_limit_get_no_guess_after_it,
);

async fn an_attacker_address_does_not_lock_the_owner_out(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 3, 100, 1_000)).await;
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

async fn the_per_account_ceiling_stops_many_addresses(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 3, 10, 1_000)).await;
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

async fn forwarded_for_counts_only_from_trusted_proxies(db: common::TestDb) {
    // No trusted proxy: a direct client cannot make itself many clients with the header.
    let mut direct = config(&db, 1_000, 1_000, 4);
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
    let server = TestServer::start_with(config(&db, 1_000, 1_000, 4)).await;
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

async fn ipv6_clients_are_counted_per_slash_64(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 1_000, 1_000, 4)).await;
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

async fn two_servers_on_one_database_share_the_budget(db: common::TestDb) {
    let first = TestServer::start_with(config(&db, 4, 1_000, 1_000)).await;
    let second = TestServer::start_with(config(&db, 4, 1_000, 1_000)).await;
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

async fn successful_log_ins_are_never_refused(db: common::TestDb) {
    // Three failures per account and address, five per account: ten log-ins with the right
    // passphrase from one address, more than either, all succeed (the old limiter counted
    // every login-a and refused the fourth).
    let server = TestServer::start_with(config(&db, 3, 5, 1_000)).await;
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

async fn after_the_failures_allowed_the_right_passphrase_is_refused_too(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 3, 100, 1_000)).await;
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

async fn a_failure_counts_against_the_address_that_sent_the_proof(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 2, 100, 1_000)).await;
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

async fn log_ins_started_before_the_limit_get_no_guess_after_it(db: common::TestDb) {
    let server = TestServer::start_with(config(&db, 2, 100, 1_000)).await;
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
