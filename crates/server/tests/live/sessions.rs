//! Sessions and the account: a log-out ends that session's streams, a new passphrase the other
//! sessions', a reset or a deletion all of them; a vault reset reaches the account's other
//! sessions, whatever organization they watch, and never names a session.

use hypnos_crypto::{
    aes::{AesKey, encrypt_string},
    encoding::{from_hex, to_hex},
    kdf::derive_key,
    random::random_hex_32,
    srp::compute_verifier,
};

use super::*;

common::on_both_backends!(
    timeout = Duration::from_secs(60);
    logging_out_ends_that_sessions_streams,
    a_vault_reset_reaches_the_other_sessions,
    a_new_passphrase_ends_the_other_sessions_streams_and_a_reset_all,
    a_deleted_account_leaves_its_teams,
);

async fn logging_out_ends_that_sessions_streams(db: TestDb) {
    let team = Team::new(&db).await;
    let laptop = Team::another_session(&team.app, &team.alice, "alice").await;
    let mut desktops = EventStream::open(&team.alice, &team.org).await;
    let mut laptops = EventStream::open(&laptop, &team.org).await;

    let (status, body) = laptop.post("/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        laptops.ended(WITHIN).await,
        "the ended session's stream ends"
    );
    let marker = team.marker().await;
    assert_eq!(
        expect(&mut desktops, "TeamProjectChanged").await,
        marker,
        "the other session's stream lives on"
    );
}

/// A vault key's `{salt, verifier}` as the app makes it for `account`.
fn vault_body(account: &str) -> Value {
    let salt = random_hex_32().unwrap();
    let jwk = AesKey::generate().unwrap().to_jwk().to_json().to_string();
    let verifier = compute_verifier(
        &from_hex(&salt, "salt").unwrap(),
        account.as_bytes(),
        jwk.as_bytes(),
    );
    json!({"salt": salt, "verifier": to_hex(&verifier)})
}

async fn a_vault_reset_reaches_the_other_sessions(db: TestDb) {
    let team = Team::new(&db).await;
    let alice = &team.alice;
    let laptop = Team::another_session(&team.app, alice, "alice").await;
    // The resetting session watches the team; the other one its personal organization: the
    // event goes to the account, whatever organization is shown.
    let mut desktops = EventStream::open(alice, &team.org).await;
    let mut laptops = EventStream::open(&laptop, &alice.personal).await;
    let mut bobs = EventStream::open(&team.bob, &team.org).await;

    let (status, body) = alice.post("/v1/user/vault", vault_body(&alice.id)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = alice
        .post("/v1/user/vault/reset", vault_body(&alice.id))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // Any `sessionId` but the laptop's own clears its vault: an empty one, never a session.
    assert_eq!(
        expect(&mut laptops, "VaultKeyChanged").await,
        json!({"type": "VaultKeyChanged", "topic": alice.id, "sessionId": ""})
    );
    // Neither the resetting session nor a teammate hears it: their next event is the marker.
    let marker = team.marker().await;
    assert_eq!(expect(&mut desktops, "TeamProjectChanged").await, marker);
    assert_eq!(expect(&mut bobs, "TeamProjectChanged").await, marker);
}

async fn a_new_passphrase_ends_the_other_sessions_streams_and_a_reset_all(db: TestDb) {
    let team = Team::new(&db).await;
    let alice = &team.alice;
    let laptop = Team::another_session(&team.app, alice, "alice").await;
    let mut desktops = EventStream::open(alice, &team.org).await;
    let mut laptops = EventStream::open(&laptop, &team.org).await;

    let user = &alice.user;
    let new_passphrase = "alice's better passphrase";
    let (_, me) = alice.get("/auth/whoami").await;
    let wrap = AesKey::from_hex(&derive_key(new_passphrase, &user.email, &user.salt_enc)).unwrap();
    let change = json!({
        "verifier": user.verifier(),
        "encSymmetricKey": me["encSymmetricKey"],
        "newEmail": user.email,
        "newVerifier": common::http::users::verifier_for(
            &user.email, new_passphrase, &user.salt_key, &user.salt_auth),
        "newEncSymmetricKey": encrypt_string(&wrap, &user.symmetric.to_json()).unwrap().to_json(),
    });
    let (status, body) = alice.post("/auth/change-password", change).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(
        laptops.ended(WITHIN).await,
        "the other session's stream ends"
    );
    let marker = team.marker().await;
    assert_eq!(
        expect(&mut desktops, "TeamProjectChanged").await,
        marker,
        "the session that changed the passphrase keeps its stream"
    );

    // A reset with an operator's token ends every session, and so every stream.
    let token = hypnos_server::admin::issue_reset_token(&team.app.server.config, &user.email)
        .await
        .unwrap();
    let fresh = User::new(&user.email, "alice's fresh start");
    let mut reset = fresh.keys_body();
    reset["email"] = json!(user.email);
    reset["token"] = json!(token);
    let (status, body) = team.app.post("/auth/reset", reset).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(desktops.ended(WITHIN).await, "a reset ends every stream");
}

async fn a_deleted_account_leaves_its_teams(db: TestDb) {
    let team = Team::new(&db).await;
    let mut alices = EventStream::open(&team.alice, &team.org).await;
    let mut bobs = EventStream::open(&team.bob, &team.org).await;
    let mut bobs_own = EventStream::open(&team.bob, &team.bob.personal).await;

    let (status, body) = team
        .bob
        .send(
            reqwest::Method::DELETE,
            "/auth/delete-account",
            Some(json!({"verifier": team.bob.user.verifier()})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(bobs.ended(WITHIN).await, "the account's streams end");
    assert!(bobs_own.ended(WITHIN).await, "all of them");
    assert_eq!(
        expect(&mut alices, "OrganizationChanged").await,
        organization_event("OrganizationChanged", &team.org),
        "the team refreshes its member list"
    );
}
