//! The browser pages the app opens to log in (insomnia-wire.md §3): `GET /app/auth-app/` (the
//! log-in that hands the app a sealed box) and its sign-up page, built from `web/` into
//! `web/dist` and embedded in the binary, so `hypnos server` needs no files beside it.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and requests from this
//! origin only, no inline code, no framing, no form posts (the pages send JSON with `fetch`).
//!
//! The HTML names the server (`--server-name`): the name is written into the pages here, HTML-
//! escaped, where the built pages hold [`SERVER_NAME_SLOT`]. Written in on the server rather than
//! fetched by the script, it is in the `<title>` and the heading from the first paint, costs no
//! extra request, and is escaped in one place whatever the page's script does with the text.

use axum::{
    Router,
    extract::{RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use crate::{config::ServerConfig, state::AppState};

/// The pages' security headers (the strict policy the issue asks for).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'; object-src 'none'";

/// Where the built HTML holds the server's name (`web/pages/*.html`).
pub const SERVER_NAME_SLOT: &str = "{{server_name}}";

/// The name shown when neither `--server-name` nor `--public-url` gives one.
pub const DEFAULT_SERVER_NAME: &str = "Hypnos";

// The rule for `--server-name` lives with the setting (the configuration knows nothing of the
// API); the pages show what it let through.
pub use crate::config::{MAX_SERVER_NAME_CHARS, parse_server_name};

/// One embedded file: its name under `/app/auth-app/`, its type and its bytes.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

const HTML: &str = "text/html; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// An entry of [`ASSETS`]: a file of `web/dist` served as `name`.
macro_rules! asset {
    ($name:literal, $file:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            body: include_bytes!(concat!("../../../../web/dist/", $file)),
        }
    };
}

/// The bare `/app/auth-app/` is the log-in page the app opens. `strength.js` (zxcvbn and its
/// dictionaries, most of the pages' weight) is loaded by the sign-up page after it is shown.
const ASSETS: &[Asset] = &[
    asset!("", "login.html", HTML),
    asset!("login.html", "login.html", HTML),
    asset!("signup.html", "signup.html", HTML),
    asset!("login.js", "login.js", JAVASCRIPT),
    asset!("signup.js", "signup.js", JAVASCRIPT),
    asset!("strength.js", "strength.js", JAVASCRIPT),
    asset!("style.css", "style.css", CSS),
];

/// `GET /app/auth-app/…` and the redirect to it.
pub fn routes() -> Router<AppState> {
    Router::new()
        // The app opens `/app/auth-app/?loginKey=…`; without the slash the pages' relative
        // links would miss, so the bare path redirects, keeping the query.
        .route(
            "/app/auth-app",
            get(|RawQuery(query): RawQuery| async move {
                Redirect::permanent(&match query {
                    Some(query) => format!("/app/auth-app/?{query}"),
                    None => "/app/auth-app/".to_owned(),
                })
            }),
        )
        .route(
            "/app/auth-app/",
            get(|State(state): State<AppState>| async move { asset(&state.config, "") }),
        )
        .route(
            "/app/auth-app/{name}",
            get(
                |State(state): State<AppState>,
                 axum::extract::Path(name): axum::extract::Path<String>| async move {
                    asset(&state.config, &name)
                },
            ),
        )
}

/// The name the pages show: `--server-name`, else the host of `--public-url` (what users typed
/// to reach the server), else [`DEFAULT_SERVER_NAME`].
pub fn display_name(config: &ServerConfig) -> String {
    if let Some(name) = &config.server_name {
        return name.clone();
    }
    config
        .public_url
        .as_deref()
        .and_then(host_of)
        .and_then(|host| parse_server_name(host).ok())
        .unwrap_or_else(|| DEFAULT_SERVER_NAME.to_owned())
}

/// The host of a URL, without scheme, credentials, port or path (`https://u@sync.example.com:8443/x`
/// → `sync.example.com`; `http://[::1]:8080` → `::1`).
fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = match host_port.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next()?,
        None => host_port.split(':').next()?,
    };
    (!host.is_empty()).then_some(host)
}

/// Text made safe for HTML, in element content and in quoted attribute values alike.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            other => escaped.push(other),
        }
    }
    escaped
}

fn asset(config: &ServerConfig, name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return crate::error::ApiError::NotFound("no such page").into_response();
    };
    let mut response = if asset.content_type == HTML {
        // The build writes UTF-8 (a test compares these pages with web/dist).
        let page = String::from_utf8_lossy(asset.body);
        let named = page.replace(SERVER_NAME_SLOT, &escape_html(&display_name(config)));
        (StatusCode::OK, named).into_response()
    } else {
        (StatusCode::OK, asset.body).into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The pages change with the server's version; always ask whether they did.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
