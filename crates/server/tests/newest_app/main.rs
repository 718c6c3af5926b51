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

use common::http::{
    TestServer, call,
    users::{User, login, sign_up_and_log_in},
};
use hypnos_crypto::{
    aes::{AesKey, AesMessage, decrypt_string},
    jwk::{RsaPublicJwk, SymmetricJwk},
    kdf::derive_key,
    rsa::RsaPrivateKey,
};
use reqwest::{Client, Method, StatusCode, header};
use serde_json::{Value, json};

/// No test may hang: each story gets this long.
const STORY_TIMEOUT: Duration = Duration::from_secs(300);

/// How many teams the paging stories make: with the personal organization, 201 spaces, one more
/// than the app's page of 200.
const TEAMS: usize = 200;

/// A server and a client for one story.
struct App {
    server: TestServer,
    http: Client,
}

/// A signed-up, logged-in account.
struct Account {
    user: User,
    id: String,
    personal: String,
    session: String,
}

impl App {
    async fn start(db: &common::TestDb) -> Self {
        Self {
            server: TestServer::start(&db.url, 1_000).await,
            http: Client::new(),
        }
    }

    async fn account(&self, email: &str) -> Account {
        let user = User::new(email, &format!("{email} passphrase"));
        let (ids, session) = sign_up_and_log_in(&self.server, &self.http, &user).await;
        Account {
            user,
            id: ids.account_id,
            personal: ids.personal_organization_id,
            session,
        }
    }

    /// A request with the session as the v3 SDK sends it (`X-Session-ID`); the status, the
    /// content type and the body (JSON, `Null` when empty, a string otherwise).
    async fn v3(
        &self,
        method: Method,
        session: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, String, Value) {
        let mut request = self.http.request(method, self.server.url(path));
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

    /// GET with the session in `X-Session-Id`, as `insomniaFetch` sends it.
    async fn get(&self, session: &str, path: &str) -> (StatusCode, Value) {
        call(
            &self.http,
            Method::GET,
            self.server.url(path),
            session,
            None,
        )
        .await
    }

    async fn send(
        &self,
        method: Method,
        session: &str,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(&self.http, method, self.server.url(path), session, body).await
    }

    /// A team of `owner`'s named `name`; its id.
    async fn team(&self, owner: &Account, name: &str) -> String {
        let (status, made) = self
            .send(
                Method::POST,
                &owner.session,
                "/v1/organizations",
                Some(json!({"name": name})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().unwrap().to_owned()
    }

    /// `owner` makes [`TEAMS`] teams, `Team 000` to `Team 199`.
    async fn many_teams(&self, owner: &Account) {
        for number in 0..TEAMS {
            self.team(owner, &format!("Team {number:03}")).await;
        }
    }

    /// The ids `/v1/organizations` lists for `account`, in its order.
    async fn v1_ids(&self, account: &Account) -> Vec<String> {
        let (status, listed) = self.get(&account.session, "/v1/organizations").await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        ids(&listed["organizations"])
    }

    /// `inviter` invites `invitee` to `org` as `role`; the invitation's id.
    async fn invite(&self, inviter: &Account, org: &str, invitee: &Account, role: &str) -> String {
        let (status, made) = self
            .send(
                Method::POST,
                &inviter.session,
                &format!("/v1/organizations/{org}/invites"),
                Some(json!({"inviteeId": invitee.id, "inviteKeys": [], "roles": [role]})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().unwrap().to_owned()
    }

    /// `inviter` brings `invitee` into `org` as `role` (invitation and acceptance).
    async fn join(&self, inviter: &Account, org: &str, invitee: &Account, role: &str) {
        let invitation = self.invite(inviter, org, invitee, role).await;
        let (status, body) = self
            .send(
                Method::POST,
                &invitee.session,
                &format!("/v1/user/invites/{invitation}/accept"),
                None,
            )
            .await;
        assert!(status.is_success(), "{status}: {body}");
    }

    /// One page of spaces at `query`; the answer.
    async fn spaces(&self, account: &Account, query: &str) -> Value {
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

    /// Every space, following `next` from the page at `query`; the spaces and the page count.
    async fn all_spaces(&self, account: &Account, query: &str) -> (Vec<Value>, usize) {
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

    /// The space `org` in `account`'s list.
    async fn space(&self, account: &Account, org: &str) -> Value {
        let (spaces, _) = self.all_spaces(account, "").await;
        spaces
            .into_iter()
            .find(|space| space["id"] == org)
            .unwrap_or_else(|| panic!("{org} is not among the spaces"))
    }
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
async fn assert_invalid(app: &App, account: &Account, query: &str, field: &str) {
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
