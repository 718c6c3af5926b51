//! The library's account round trip against the real server (in this process, SQLite): sign-up
//! with keys made here, log-in unlocking the account key, whoami, log-out, and a wrong
//! passphrase refused.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use hypnos_client::{Api, ClientError, NewAccount, Refusal, log_in, log_out, sign_up, whoami};
use support::Server;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_up_log_in_unlock_and_log_out() {
    let server = Server::start().await;
    let api = Api::new(&server.base).unwrap();
    let created = sign_up(
        &api,
        &NewAccount {
            email: "Grace@Example.com",
            first_name: "Grace",
            last_name: "Hopper",
            passphrase: "a long and careful passphrase",
        },
    )
    .await
    .unwrap();
    assert!(created.account_id.starts_with("acct_"));

    let session = log_in(&api, " grace@example.com", "a long and careful passphrase")
        .await
        .unwrap();
    assert_eq!(session.account.account_id, created.account_id);
    assert_eq!(session.account.email, "grace@example.com");
    // The unlocked account key opens the private key the server only holds encrypted.
    let private = hypnos_client::crypto::aes::decrypt_string(
        &session.account_key.key(),
        &hypnos_client::crypto::aes::AesMessage::from_json(&session.account.enc_private_key)
            .unwrap(),
    )
    .unwrap();
    let private = hypnos_client::crypto::rsa::RsaPrivateKey::from_jwk_json(&private).unwrap();
    assert_eq!(private.public_jwk().to_json(), session.account.public_key);

    assert_eq!(whoami(&api, &session.id).await.unwrap().first_name, "Grace");
    log_out(&api, &session.id).await.unwrap();
    let ended = whoami(&api, &session.id).await.unwrap_err();
    assert!(
        matches!(
            ended,
            ClientError::Unauthorized(Refusal { status: 401, .. })
        ),
        "{ended}"
    );
    let wrong = log_in(&api, "grace@example.com", "not it")
        .await
        .unwrap_err();
    assert!(
        matches!(
            wrong,
            ClientError::Unauthorized(Refusal { status: 401, .. })
        ),
        "{wrong}"
    );

    server.stop().await;
}
