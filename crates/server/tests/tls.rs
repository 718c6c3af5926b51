//! `--tls-cert` / `--tls-key`: the server speaks HTTPS with the given certificate (and only
//! HTTPS on that port).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use common::http::TestServer;
use hypnos_server::ServerConfig;
use reqwest::{Client, StatusCode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_https_with_the_given_certificate() {
    let db = common::TestDb::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, certified.cert.pem()).unwrap();
    std::fs::write(&key_path, certified.signing_key.serialize_pem()).unwrap();

    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    config.tls_cert = Some(cert_path);
    config.tls_key = Some(key_path);
    let server = TestServer::start_with(config).await;
    assert!(server.base.starts_with("https://"));

    // The certificate is self-signed, so the client is told to accept it; the point is that the
    // server completes a TLS handshake and answers over it.
    let https = Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let response = https.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let plain = server.base.replacen("https://", "http://", 1);
    let refused = Client::new().get(format!("{plain}/readyz")).send().await;
    assert!(
        refused.is_err() || refused.unwrap().status() != StatusCode::OK,
        "plain HTTP must not be served on the TLS port"
    );
    server.stop().await;
}
