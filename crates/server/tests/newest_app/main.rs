//! The newest Insomnia app (11–13, insomnia-wire-newer.md §2.2, §3, §5, §9) beside 10.x, over
//! real HTTP on SQLite and on PostgreSQL: the log-in bootstrap through `/v3/users/me` and its
//! encryption keys (unlocked as the app does), the paged spaces with the ids of
//! `/v1/organizations` and their counts, problem JSON on `/v3`, the storage rule, features and
//! plan in both apps' shapes, `PATCH` of a member's role, the start-up defaults; and the v3
//! endpoints driven by the app's own generated SDK (`interop/v3-client.js` on
//! `@getinsomnia/insomnia-v3-fetch`).
//!
//! The SDK test needs the npm packages: `npm ci --prefix interop` at the workspace root, and
//! `node` (20 or later) on the PATH. Without them it fails; it is never skipped.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../common/mod.rs"]
mod common;
mod login;
mod organizations;
mod sdk;
mod spaces;

use std::{path::Path, process::Command, time::Duration};

use common::app::{Actor, TestApp};
use common::http::users::login;
use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string},
    jwk::{RsaPublicJwk, SymmetricJwk},
    kdf::derive_key,
    rsa::RsaPrivateKey,
};
use hypnos_server::storage::Role;
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};

/// No test may hang: each story gets this long.
const STORY_TIMEOUT: Duration = Duration::from_secs(300);

/// How many teams the paging stories make: with the personal organization, 201 spaces, one more
/// than the app's page of 200.
const TEAMS: usize = 200;

/// What the newest app asks beside the shared actors' requests: the v3 SDK's own session header
/// and content type, and the paged spaces.
trait NewestApp {
    /// A request with the session as the v3 SDK sends it (`X-Session-ID`); the status, the
    /// content type and the body (JSON, `Null` when empty, a string otherwise).
    async fn v3(
        &self,
        method: Method,
        session: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, Value);

    /// `owner` makes [`TEAMS`] teams, `Team 000` to `Team 199`, through the store: they are
    /// the paging stories' fixtures, not what they test.
    async fn many_teams(&self, owner: &Actor);

    /// One page of spaces at `query`; the answer.
    async fn spaces(&self, account: &Actor, query: &str) -> Value;

    /// Every space, following `next` from the page at `query`; the spaces and the page count.
    async fn all_spaces(&self, account: &Actor, query: &str) -> (Vec<Value>, usize);

    /// The space `org` in `account`'s list.
    async fn space(&self, account: &Actor, org: &str) -> Value;
}

impl NewestApp for TestApp {
    async fn v3(
        &self,
        method: Method,
        session: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let mut request = self.http.request(method, self.url(path));
        if let Some(session) = session {
            request = request.header("X-Session-ID", session);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|value| value.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let text = response.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        (status, content_type, value)
    }

    async fn many_teams(&self, owner: &Actor) {
        for number in 0..TEAMS {
            self.team(owner, &format!("Team {number:03}")).await;
        }
    }

    async fn spaces(&self, account: &Actor, query: &str) -> Value {
        let (status, content_type, page) = self
            .v3(
                Method::GET,
                Some(&account.session),
                &format!("/v3/users/me/spaces{query}"),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{query}: {page}");
        assert!(content_type.starts_with("application/json"));
        page
    }

    async fn all_spaces(&self, account: &Actor, query: &str) -> (Vec<Value>, usize) {
        let mut page = self.spaces(account, query).await;
        let mut spaces = Vec::new();
        let mut pages = 1;
        loop {
            spaces.extend(page["data"].as_array().unwrap().iter().cloned());
            let Some(next) = page["meta"]["page"]["next"].as_str() else {
                assert!(page["meta"]["page"]["next"].is_null(), "{page}");
                return (spaces, pages);
            };
            let path = next.strip_prefix("/v3/users/me/spaces").unwrap().to_owned();
            page = self.spaces(account, &path).await;
            pages += 1;
            assert!(pages <= 1_000, "the pages never end");
        }
    }

    async fn space(&self, account: &Actor, org: &str) -> Value {
        let (spaces, _) = self.all_spaces(account, "").await;
        spaces
            .into_iter()
            .find(|space| space["id"] == org)
            .unwrap_or_else(|| panic!("{org} is not among the spaces"))
    }
}

/// The ids `/v1/organizations` lists for `account`, in its order.
async fn v1_ids(account: &Actor) -> Vec<String> {
    let (status, listed) = account.get("/v1/organizations").await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    ids(&listed["organizations"])
}

/// The `id`s of a JSON array.
fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The `name`s of a JSON array.
fn names(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

/// What a filter for "TEAM 01" must answer: "Team 010" to "Team 019", in the order of `listed`,
/// the unfiltered list. Teams made in the same millisecond are ordered by their random ids, so
/// that order is the server's, not the numbers'.
fn teams_01_as_listed(listed: &[Value]) -> Vec<String> {
    let expected: Vec<String> = names(listed)
        .into_iter()
        .filter(|name| name.starts_with("Team 01"))
        .collect();
    let mut numbered = expected.clone();
    numbered.sort();
    assert_eq!(
        numbered,
        (10..20)
            .map(|number| format!("Team {number:03}"))
            .collect::<Vec<_>>()
    );
    expected
}

/// Checks a `/v3` error: problem JSON with this server's code beside it; returns the body.
fn assert_problem(
    (status, content_type, body): (StatusCode, String, Value),
    expected: StatusCode,
    code: &str,
    instance: &str,
) -> Value {
    assert_eq!(status, expected, "{body}");
    assert!(
        content_type.starts_with("application/json"),
        "insomniaFetch parses only application/json: {content_type}"
    );
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    let reason = expected.canonical_reason().unwrap();
    let title = format!("{}{}", &reason[..1], reason[1..].to_lowercase());
    assert_eq!(body["title"], title.as_str(), "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert_eq!(body["instance"], instance, "{body}");
    assert!(!body["detail"].as_str().unwrap().is_empty(), "{body}");
    assert_eq!(body["detail"], body["message"], "{body}");
    body
}

/// A 400 problem that names `field` among its invalid parameters.
async fn assert_invalid(app: &TestApp, account: &Actor, query: &str, field: &str) {
    let answer = app
        .v3(
            Method::GET,
            Some(&account.session),
            &format!("/v3/users/me/spaces{query}"),
            None,
        )
        .await;
    let body = assert_problem(
        answer,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "/v3/users/me/spaces",
    );
    assert_eq!(
        body["invalid_parameters"][0]["field"], field,
        "{query}: {body}"
    );
    assert_eq!(body["invalid_parameters"][0]["source"], "query", "{body}");
}
