//! The browser pages `hypnos server` serves for the app's log-in (`/app/auth-app/`): the files
//! of `web/dist`, byte for byte but for the server's name written into the HTML (escaped), with
//! a strict Content-Security-Policy.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use common::http::TestServer;
use hypnos_server::{
    ServerConfig,
    api::pages::{SERVER_NAME_SLOT, display_name, escape_html, parse_server_name},
};
use reqwest::{StatusCode, redirect::Policy};

fn dist(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../web/dist/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A built page as the server sends it when its name is `name` (already escaped).
fn dist_named(file: &str, escaped_name: &str) -> Vec<u8> {
    let page = String::from_utf8(dist(file)).unwrap();
    assert!(page.contains(SERVER_NAME_SLOT), "{file} names the server");
    page.replace(SERVER_NAME_SLOT, escaped_name).into_bytes()
}

async fn get_text(server: &TestServer, path: &str) -> String {
    let response = reqwest::get(server.url(path)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.text().await.unwrap()
}

common::on_both_backends!(
    the_log_in_and_sign_up_pages_are_served_with_a_strict_policy,
    the_server_name_is_written_into_the_pages_as_escaped_text,
    without_a_name_the_pages_use_the_public_urls_host,
);

async fn the_log_in_and_sign_up_pages_are_served_with_a_strict_policy(db: common::TestDb) {
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
        (
            "/app/auth-app/strength.js",
            "strength.js",
            "text/javascript",
        ),
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
        // Without --server-name or --public-url the pages call the server "Hypnos".
        let expected = if kind == "text/html" {
            dist_named(file, "Hypnos")
        } else {
            dist(file)
        };
        assert_eq!(response.bytes().await.unwrap().as_ref(), expected, "{path}");
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

async fn the_server_name_is_written_into_the_pages_as_escaped_text(db: common::TestDb) {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    let name = r#"Acme <script>alert("x")</script> & 'Co' {{server_name}}"#;
    config.server_name = Some(parse_server_name(name).unwrap());
    let server = TestServer::start_with(config).await;
    let escaped = "Acme &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39; \
                   {{server_name}}";

    for (path, file, title) in [
        ("/app/auth-app/", "login.html", "Log in to"),
        ("/app/auth-app/login.html", "login.html", "Log in to"),
        ("/app/auth-app/signup.html", "signup.html", "Sign up to"),
    ] {
        let page = get_text(&server, path).await;
        assert_eq!(page.as_bytes(), dist_named(file, escaped), "{path}");
        // In the title and the heading, and nowhere as markup.
        assert!(
            page.contains(&format!("<title>{title} {escaped} · Hypnos</title>")),
            "{path}"
        );
        assert!(
            page.contains(&format!(r#"<span id="server-name">{escaped}</span>"#)),
            "{path}"
        );
        assert!(!page.contains("<script>alert"), "{path}");
        assert_eq!(
            page.matches("<script").count(),
            1,
            "{path}: the page's own script only"
        );
        // The name is substituted once: a slot inside the name stays text.
        assert_eq!(
            page.matches(SERVER_NAME_SLOT).count(),
            page.matches(escaped).count()
        );
    }
    // Scripts and styles are served as built.
    let script = reqwest::get(server.url("/app/auth-app/login.js"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(script.as_ref(), dist("login.js"));
    server.stop().await;
}

async fn without_a_name_the_pages_use_the_public_urls_host(db: common::TestDb) {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    config.server_name = None;
    config.public_url = Some("https://ops@sync.example.com:8443/base/".into());
    let server = TestServer::start_with(config).await;
    let page = get_text(&server, "/app/auth-app/").await;
    assert!(page.contains("<title>Log in to sync.example.com · Hypnos</title>"));
    assert_eq!(
        page.as_bytes(),
        dist_named("login.html", "sync.example.com")
    );
    server.stop().await;
}

#[test]
fn the_display_name_falls_back_from_the_flag_to_the_public_url_to_hypnos() {
    let mut config = ServerConfig::parse_defaults();
    config.server_name = None;
    config.public_url = None;
    assert_eq!(display_name(&config), "Hypnos");
    for (url, host) in [
        ("https://sync.example.com", "sync.example.com"),
        ("https://sync.example.com:8443/x?y#z", "sync.example.com"),
        ("http://user:pw@10.0.0.5:8080", "10.0.0.5"),
        ("http://[::1]:8080/", "::1"),
        ("sync.example.org", "sync.example.org"),
        ("https://", "Hypnos"),
        ("http://[", "Hypnos"),
    ] {
        config.public_url = Some(url.into());
        assert_eq!(display_name(&config), host, "{url}");
    }
    config.server_name = Some("Team sync".into());
    assert_eq!(display_name(&config), "Team sync");
}

#[test]
fn server_names_are_bounded_and_free_of_control_characters() {
    assert_eq!(parse_server_name("  Acme sync \t").unwrap(), "Acme sync");
    assert_eq!(parse_server_name(&"é".repeat(64)).unwrap(), "é".repeat(64));
    assert_eq!(parse_server_name("<b>&</b>").unwrap(), "<b>&</b>");
    for bad in [
        String::new(),
        "   ".into(),
        "x".repeat(65),
        "é".repeat(65),
        "line\nbreak".into(),
        "bell\u{7}".into(),
        "esc\u{1b}[31m".into(),
        "del\u{7f}".into(),
    ] {
        assert!(parse_server_name(&bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        escape_html(r#"<a href="x">'&'</a>"#),
        "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
    );
}
