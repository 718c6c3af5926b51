//! The browser pages `hypnos server` serves for the app's log-in (`/app/auth-app/`): the files
//! of `web/dist`, byte for byte, with a strict Content-Security-Policy.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;
#[path = "http/mod.rs"]
mod http;

use http::TestServer;
use reqwest::{StatusCode, redirect::Policy};

fn dist(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../web/dist/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_in_and_sign_up_pages_are_served_with_a_strict_policy() {
    let db = common::TestDb::sqlite();
    let server = TestServer::start(&db.url, 10).await;
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();

    // The app opens the page with its public key, double-encoded, in the query.
    for (path, file, kind) in [
        (
            "/app/auth-app/?loginKey=abc%252Fdef%253D",
            "login.html",
            "text/html",
        ),
        ("/app/auth-app/signup.html", "signup.html", "text/html"),
        ("/app/auth-app/login.js", "login.js", "text/javascript"),
        ("/app/auth-app/signup.js", "signup.js", "text/javascript"),
        ("/app/auth-app/style.css", "style.css", "text/css"),
    ] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let policy = headers["content-security-policy"].to_str().unwrap();
        assert!(policy.contains("default-src 'self'"), "{policy}");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(!policy.contains("unsafe"), "{policy}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(
            response.bytes().await.unwrap().as_ref(),
            dist(file),
            "{path}"
        );
    }

    // Without the slash, a redirect that keeps the query (the pages' links are relative).
    let response = client
        .get(server.url("/app/auth-app?loginKey=k%252B"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(
        response.headers()["location"],
        "/app/auth-app/?loginKey=k%252B"
    );

    // Anything else there is the API's 404.
    for path in ["/app/auth-app/../Cargo.toml", "/app/auth-app/secret.js"] {
        let response = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let response = client
        .get(server.url("/app/auth-app/nothing"))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "NOT_FOUND");
}
