//! The browser pages the app opens to log in (insomnia-wire.md §3): `GET /app/auth-app/` (the
//! log-in that hands the app a sealed box) and its sign-up page, built from `web/` into
//! `web/dist` and embedded in the binary, so `hypnos server` needs no files beside it.
//!
//! Every answer carries a strict Content-Security-Policy: scripts, styles and requests from this
//! origin only, no inline code, no framing, no form posts (the pages send JSON with `fetch`).

use axum::{
    Router,
    extract::RawQuery,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};

use crate::state::AppState;

/// The pages' security headers (the strict policy the issue asks for).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'; object-src 'none'";

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

/// The bare `/app/auth-app/` is the log-in page the app opens.
const ASSETS: &[Asset] = &[
    asset!("", "login.html", HTML),
    asset!("login.html", "login.html", HTML),
    asset!("signup.html", "signup.html", HTML),
    asset!("login.js", "login.js", JAVASCRIPT),
    asset!("signup.js", "signup.js", JAVASCRIPT),
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
        .route("/app/auth-app/", get(|| async { asset("") }))
        .route(
            "/app/auth-app/{name}",
            get(|axum::extract::Path(name): axum::extract::Path<String>| async move {
                asset(&name)
            }),
        )
}

fn asset(name: &str) -> Response {
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return crate::error::ApiError::NotFound("no such page").into_response();
    };
    let mut response = (StatusCode::OK, asset.body).into_response();
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
