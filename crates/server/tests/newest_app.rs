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

mod common;
#[path = "http/mod.rs"]
mod http;

use std::{path::Path, process::Command, time::Duration};

use http::{
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

macro_rules! on_both_backends {
    ($($story:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = super::common::TestDb::new(super::common::Backend::Sqlite).await;
                    tokio::time::timeout(super::STORY_TIMEOUT, super::$story(db))
                        .await
                        .expect("the story finishes in time");
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $story() {
                    let db = super::common::TestDb::new(super::common::Backend::Postgres).await;
                    tokio::time::timeout(super::STORY_TIMEOUT, super::$story(db))
                        .await
                        .expect("the story finishes in time");
                }
            )*
        }
    };
}

on_both_backends!(
    the_newest_login_bootstraps_and_unlocks_the_keys,
    v3_errors_are_problems_both_clients_read,
    spaces_page_through_201_organizations,
    spaces_count_members_admins_and_invitations,
    spaces_refuse_bad_parameters,
    storage_rule_features_and_plan_carry_both_apps_fields,
    member_roles_change_by_patch_and_put,
    start_up_defaults_answer_their_types,
    the_sdk_drives_the_v3_endpoints,
    the_upgrade_counts_the_members_there_are,
);

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

async fn the_newest_login_bootstraps_and_unlocks_the_keys(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let (_, whoami) = app.get(&alice.session, "/auth/whoami").await;

    // absorbKey's two calls, in parallel, as the app makes them; the SDK's header spelling and
    // insomniaFetch's reach the same handler.
    let (me, keys) = tokio::join!(
        app.v3(Method::GET, Some(&alice.session), "/v3/users/me", None),
        app.v3(
            Method::GET,
            Some(&alice.session),
            "/v3/users/me/encryption-keys",
            None
        ),
    );
    let (status, _, me) = me;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(
        me,
        json!({
            "id": alice.id,
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "alice@example.com",
            "emails": [{"email": "alice@example.com", "is_primary": true}],
            "is_externally_provisioned": false,
            "encryption_enabled": true,
            "created_at": whoami["created"],
        })
    );
    assert!(humantime::parse_rfc3339(me["created_at"].as_str().unwrap()).is_ok());
    let (status, same) = app.get(&alice.session, "/v3/users/me").await;
    assert_eq!((status, &same), (StatusCode::OK, &me));

    let (status, _, keys) = keys;
    assert_eq!(status, StatusCode::OK, "{keys}");
    assert_eq!(
        keys,
        json!({
            "public_key": whoami["publicKey"],
            "enc_private_key": whoami["encPrivateKey"],
            "enc_symmetric_key": whoami["encSymmetricKey"],
            "salt_enc": whoami["saltEnc"],
            "enc_driver_key": "",
        })
    );
    assert_eq!(keys["salt_enc"], alice.user.salt_enc.as_str());

    // Unlocked as absorbKey does: the account key under the key the passphrase derives (with
    // the salt the server keeps), then the private key under the account key.
    let text = |name: &str| keys[name].as_str().unwrap().to_owned();
    let wrap = AesKey::from_hex(&derive_key(
        &alice.user.passphrase,
        &alice.user.email,
        &text("salt_enc"),
    ))
    .unwrap();
    let account_key = decrypt_string(
        &wrap,
        &AesMessage::from_json(&text("enc_symmetric_key")).unwrap(),
    )
    .unwrap();
    let account_key = SymmetricJwk::from_json(&account_key).unwrap();
    assert_eq!(
        account_key.key().as_bytes(),
        alice.user.symmetric.key().as_bytes()
    );
    let private = decrypt_string(
        &account_key.key(),
        &AesMessage::from_json(&text("enc_private_key")).unwrap(),
    )
    .unwrap();
    let private = RsaPrivateKey::from_jwk_json(&private).unwrap();
    let public = RsaPublicJwk::from_json(&text("public_key")).unwrap();
    assert_eq!(
        private.public_jwk(),
        &public,
        "the private key is the public key's"
    );
    assert_eq!(&public, alice.user.private.public_jwk());
    // And it works: what the public key seals, the unlocked private key opens.
    let sealed = private
        .public_key()
        .unwrap()
        .encrypt_string("a project key")
        .unwrap();
    assert_eq!(
        alice.user.private.decrypt_string(&sealed).unwrap().as_str(),
        "a project key"
    );

    // After log-out the session opens nothing.
    let (status, _) = app
        .send(Method::POST, &alice.session, "/auth/logout", None)
        .await;
    assert!(status.is_success());
    let answer = app
        .v3(Method::GET, Some(&alice.session), "/v3/users/me", None)
        .await;
    assert_problem(
        answer,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "/v3/users/me",
    );
    let relogged = login(
        &app.server,
        &app.http,
        &alice.user.email,
        &alice.user.passphrase,
    )
    .await
    .unwrap();
    let (status, _, again) = app
        .v3(
            Method::GET,
            Some(&relogged),
            "/v3/users/me/encryption-keys",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
}

async fn v3_errors_are_problems_both_clients_read(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let session = Some(alice.session.as_str());

    // No session, a malformed one, an unknown path, a wrong method: problems with our code.
    for path in [
        "/v3/users/me",
        "/v3/users/me/encryption-keys",
        "/v3/users/me/onboarding",
        "/v3/users/me/spaces",
    ] {
        let answer = app.v3(Method::GET, None, path, None).await;
        assert_problem(answer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", path);
        let answer = app.v3(Method::GET, Some("not-hex"), path, None).await;
        assert_problem(answer, StatusCode::UNAUTHORIZED, "UNAUTHORIZED", path);
    }
    let answer = app.v3(Method::GET, session, "/v3/nothing/here", None).await;
    assert_problem(
        answer,
        StatusCode::NOT_FOUND,
        "NOT_FOUND",
        "/v3/nothing/here",
    );
    let answer = app.v3(Method::DELETE, session, "/v3/users/me", None).await;
    assert_problem(
        answer,
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "/v3/users/me",
    );
    // The 10.x endpoints keep their own shape.
    let (status, body) = app.get("", "/v1/organizations").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["error", "message"]
    );

    // Onboarding: no experiment runs here; both forms of the latch are accepted.
    let no_experiment = json!({"first_request_treatment": "unknown", "is_new_signup": false});
    let (status, _, onboarding) = app
        .v3(Method::GET, session, "/v3/users/me/onboarding", None)
        .await;
    assert_eq!((status, &onboarding), (StatusCode::OK, &no_experiment));
    let (status, _, empty) = app
        .v3(
            Method::POST,
            session,
            "/v3/users/me/onboarding/request-threshold",
            None,
        )
        .await;
    assert_eq!((status, &empty), (StatusCode::NO_CONTENT, &Value::Null));
    let (status, _, latched) = app
        .v3(
            Method::PUT,
            session,
            "/v3/users/me/onboarding/request-threshold-reached",
            None,
        )
        .await;
    assert_eq!((status, &latched), (StatusCode::OK, &no_experiment));

    // Actions: every kind the SDK names is accepted (and dropped); anything else is refused.
    for kind in [
        "request_created",
        "request_executed",
        "document_created",
        "mcp_created",
        "mcp_connected",
        "mock_created",
        "mock_route_created",
        "environment_saved",
    ] {
        let (status, _, body) = app
            .v3(
                Method::POST,
                session,
                "/v3/users/me/actions",
                Some(json!({"action_type": kind, "event_id": format!("evt-{kind}")})),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{kind}: {body}");
    }
    let (status, _, _) = app
        .v3(
            Method::POST,
            session,
            "/v3/users/me/actions",
            Some(json!({"action_type": "request_created"})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "event_id is optional");
    for bad in [
        json!({"action_type": "shopping"}),
        json!({"event_id": "evt"}),
        json!({"action_type": 7}),
        json!([]),
    ] {
        let answer = app
            .v3(Method::POST, session, "/v3/users/me/actions", Some(bad))
            .await;
        assert_problem(
            answer,
            StatusCode::BAD_REQUEST,
            "BAD_REQUEST",
            "/v3/users/me/actions",
        );
    }
    let answer = app
        .v3(
            Method::POST,
            session,
            "/v3/users/me/actions",
            Some(json!({"action_type": "request_created", "event_id": "e".repeat(201)})),
        )
        .await;
    let body = assert_problem(
        answer,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "/v3/users/me/actions",
    );
    assert_eq!(body["invalid_parameters"][0]["field"], "event_id");
    assert_eq!(body["invalid_parameters"][0]["source"], "body");
    let answer = app
        .v3(Method::POST, None, "/v3/users/me/actions", None)
        .await;
    assert_problem(
        answer,
        StatusCode::UNAUTHORIZED,
        "UNAUTHORIZED",
        "/v3/users/me/actions",
    );
}

async fn spaces_page_through_201_organizations(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    app.many_teams(&alice).await;
    let v1 = app.v1_ids(&alice).await;
    assert_eq!(v1.len(), TEAMS + 1);

    // The app's loop: pages of 200, `next` until null.
    let first = app.spaces(&alice, "").await;
    assert_eq!(first["data"].as_array().unwrap().len(), 200);
    assert_eq!(first["meta"]["page"]["size"], 200);
    assert_eq!(
        first["meta"]["page"]["first"],
        "/v3/users/me/spaces?page[size]=200"
    );
    assert!(first["meta"]["page"]["previous"].is_null());
    let next = first["meta"]["page"]["next"].as_str().unwrap();
    assert!(next.starts_with("/v3/users/me/spaces?page[size]=200&page[after]="));
    let second = app
        .spaces(&alice, next.strip_prefix("/v3/users/me/spaces").unwrap())
        .await;
    assert_eq!(second["data"].as_array().unwrap().len(), 1);
    assert!(second["meta"]["page"]["next"].is_null(), "{second}");
    assert!(second["meta"]["page"]["previous"].is_string());
    let mut both = ids(&first["data"]);
    both.extend(ids(&second["data"]));
    assert_eq!(
        both, v1,
        "the same ids, in the same order as /v1/organizations"
    );
    let (status, explicit) = app
        .get(&alice.session, "/v3/users/me/spaces?page[size]=200")
        .await;
    assert_eq!((status, &explicit), (StatusCode::OK, &first));

    // The personal organization: owned, one member, not to be left; a team likewise owned.
    let personal = &first["data"][0];
    assert_eq!(
        personal,
        &json!({
            "id": alice.personal,
            "name": "Personal workspace",
            "picture": null,
            "owner_first_name": "Ada",
            "owner_last_name": "Lovelace",
            "owner_email": "alice@example.com",
            "total_members": 1,
            "total_invites": 0,
            "total_admins": 1,
            "is_owner": true,
            "can_leave": false,
        })
    );
    assert_eq!(first["data"][1]["name"], "Team 000");
    assert_eq!(first["data"][1]["is_owner"], true);
    assert_eq!(first["data"][1]["total_members"], 1);

    // Small pages, forwards and then back from the last page by `previous`.
    let mut forward: Vec<Vec<String>> = Vec::new();
    let mut page = app.spaces(&alice, "?page[size]=7").await;
    loop {
        forward.push(ids(&page["data"]));
        match page["meta"]["page"]["next"].as_str() {
            Some(next) => {
                page = app
                    .spaces(&alice, next.strip_prefix("/v3/users/me/spaces").unwrap())
                    .await;
            }
            None => break,
        }
    }
    assert_eq!(forward.len(), 201_usize.div_ceil(7));
    assert_eq!(forward.concat(), v1);
    let mut backward = vec![ids(&page["data"])];
    while let Some(previous) = page["meta"]["page"]["previous"].as_str() {
        assert!(previous.contains("page[before]="), "{previous}");
        page = app
            .spaces(
                &alice,
                previous.strip_prefix("/v3/users/me/spaces").unwrap(),
            )
            .await;
        backward.push(ids(&page["data"]));
        assert!(page["meta"]["page"]["next"].is_string());
    }
    backward.reverse();
    assert_eq!(backward, forward, "the same pages, read backwards");

    // Percent-encoded brackets, as the SDK sends them, mean the same.
    let encoded = app.spaces(&alice, "?page%5Bsize%5D=7").await;
    assert_eq!(ids(&encoded["data"]), forward[0]);

    // Filters: the shown name, case-insensitive, its wildcards literal, kept across pages.
    let (filtered, pages) = app
        .all_spaces(&alice, "?page[size]=3&filter[name][contains]=TEAM%2001")
        .await;
    assert_eq!(pages, 4);
    assert_eq!(
        names(&filtered),
        (10..20)
            .map(|number| format!("Team {number:03}"))
            .collect::<Vec<_>>()
    );
    let (personal_only, _) = app
        .all_spaces(&alice, "?filter%5Bname%5D%5Bcontains%5D=personal")
        .await;
    assert_eq!(ids(&Value::Array(personal_only)), [alice.personal.as_str()]);
    for literal in ["Team%25", "Team_0", "%5C"] {
        let (none, _) = app
            .all_spaces(&alice, &format!("?filter[name][contains]={literal}"))
            .await;
        assert!(none.is_empty(), "{literal} matched {none:?}");
    }
    let (everything, _) = app.all_spaces(&alice, "?filter[name][contains]=").await;
    assert_eq!(everything.len(), TEAMS + 1);

    // Sorts, each paged by its own cursors.
    let (by_name, _) = app.all_spaces(&alice, "?page[size]=50&sort=name").await;
    let mut sorted = names(&by_name);
    sorted.sort();
    assert_eq!(names(&by_name), sorted);
    let (by_name_desc, _) = app.all_spaces(&alice, "?page[size]=50&sort=-name").await;
    let mut reversed = names(&by_name_desc);
    reversed.reverse();
    assert_eq!(reversed, sorted);
    let (oldest, _) = app
        .all_spaces(&alice, "?page[size]=50&sort=created_at")
        .await;
    assert_eq!(ids(&Value::Array(oldest.clone())), v1);
    let (newest, _) = app
        .all_spaces(&alice, "?page[size]=50&sort=-created_at")
        .await;
    let mut newest = ids(&Value::Array(newest));
    newest.reverse();
    assert_eq!(newest, v1);

    // Another account sees only its own.
    let bob = app.account("bob@example.com").await;
    let (bobs, _) = app.all_spaces(&bob, "").await;
    assert_eq!(ids(&Value::Array(bobs)), [bob.personal.as_str()]);
}

async fn spaces_count_members_admins_and_invitations(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let bob = app.account("bob@example.com").await;
    let carol = app.account("carol@example.com").await;
    let dave = app.account("dave@example.com").await;
    let erin = app.account("erin@example.com").await;
    let team = app.team(&alice, "Counted").await;
    app.join(&alice, &team, &bob, "admin").await;
    app.join(&alice, &team, &carol, "member").await;
    app.invite(&alice, &team, &dave, "member").await;
    let expired = app.invite(&bob, &team, &erin, "member").await;
    db.execute(&format!(
        "UPDATE invitations SET expires_at = 0 WHERE id = '{expired}'"
    ))
    .await;

    let owners_view = app.space(&alice, &team).await;
    assert_eq!(
        owners_view,
        json!({
            "id": team,
            "name": "Counted",
            "picture": null,
            "owner_first_name": "Ada",
            "owner_last_name": "Lovelace",
            "owner_email": "alice@example.com",
            "total_members": 3,
            "total_invites": 1,
            "total_admins": 2,
            "is_owner": true,
            "can_leave": false,
        }),
        "the expired invitation is not pending"
    );
    let admins_view = app.space(&bob, &team).await;
    assert_eq!(admins_view["total_invites"], 1);
    assert_eq!(admins_view["is_owner"], false);
    assert_eq!(admins_view["can_leave"], true);
    assert_eq!(admins_view["owner_email"], "alice@example.com");
    // A member may not read invitations, so it is not told how many there are.
    let members_view = app.space(&carol, &team).await;
    assert_eq!(members_view["total_members"], 3);
    assert_eq!(members_view["total_admins"], 2);
    assert_eq!(members_view["total_invites"], 0);
    assert_eq!(members_view["can_leave"], true);
    for account in [&alice, &bob, &carol, &dave] {
        let (spaces, _) = app.all_spaces(account, "").await;
        assert_eq!(ids(&Value::Array(spaces)), app.v1_ids(account).await);
    }
    let (daves, _) = app.all_spaces(&dave, "").await;
    assert_eq!(daves.len(), 1, "an invitation is not a membership");

    // The counts follow every change of membership.
    let org = |rest: &str| format!("/v1/organizations/{team}{rest}");
    let (status, _) = app
        .send(
            Method::PATCH,
            &alice.session,
            &org(&format!("/members/{}/roles", carol.id)),
            Some(json!({"roles": ["admin"]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.space(&alice, &team).await["total_admins"], 3);
    let (status, _) = app
        .send(
            Method::DELETE,
            &alice.session,
            &org(&format!("/members/{}", bob.id)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let counted = app.space(&alice, &team).await;
    assert_eq!(
        (&counted["total_members"], &counted["total_admins"]),
        (&json!(2), &json!(2))
    );
    let (status, _) = app
        .send(
            Method::DELETE,
            &carol.session,
            &org(&format!("/members/{}", carol.id)),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let counted = app.space(&alice, &team).await;
    assert_eq!(
        (&counted["total_members"], &counted["total_admins"]),
        (&json!(1), &json!(1))
    );
    let (carols, _) = app.all_spaces(&carol, "").await;
    assert_eq!(carols.len(), 1, "carol left");
    // The stored counts are the rows' counts.
    assert_eq!(
        db.scalar(&format!(
            "SELECT member_count FROM organizations WHERE id = '{team}'"
        ))
        .await,
        db.scalar(&format!(
            "SELECT COUNT(*) FROM memberships WHERE organization_id = '{team}'"
        ))
        .await
    );

    // A deleted team leaves the list.
    let (status, _) = app
        .send(Method::DELETE, &alice.session, &org(""), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (alices, _) = app.all_spaces(&alice, "").await;
    assert_eq!(ids(&Value::Array(alices)), [alice.personal.as_str()]);
}

async fn spaces_refuse_bad_parameters(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let bob = app.account("bob@example.com").await;
    for number in 0..3 {
        app.team(&alice, &format!("Team {number}")).await;
    }
    for query in [
        "?page[size]=201",
        "?page[size]=0",
        "?page[size]=-1",
        "?page[size]=ten",
    ] {
        assert_invalid(&app, &alice, query, "page[size]").await;
    }
    let by_name = app.spaces(&alice, "?page[size]=1&sort=name").await;
    let name_next = by_name["meta"]["page"]["next"].as_str().unwrap().to_owned();
    let name_cursor = name_next
        .split("page[after]=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let plain = app.spaces(&alice, "?page[size]=1").await;
    let plain_next = plain["meta"]["page"]["next"].as_str().unwrap();
    let cursor = plain_next.split("page[after]=").nth(1).unwrap().to_owned();
    for (query, field) in [
        ("?page[after]=zz".to_owned(), "page[after]"),
        ("?page[after]=".to_owned(), "page[after]"),
        ("?page[after]=5b5d".to_owned(), "page[after]"),
        (format!("?page[after]={}", "0".repeat(4_000)), "page[after]"),
        ("?page[before]=7b7d".to_owned(), "page[before]"),
        // A cursor made for another sort.
        (format!("?page[after]={name_cursor}"), "page[after]"),
        (format!("?page[after]={cursor}&sort=name"), "page[after]"),
        (
            format!("?page[after]={cursor}&page[before]={cursor}"),
            "page[before]",
        ),
        ("?sort=owner".to_owned(), "sort"),
        ("?sort=name&sort=name".to_owned(), "sort"),
        ("?page[number]=2".to_owned(), "page[number]"),
        (
            "?filter[owner][contains]=a".to_owned(),
            "filter[owner][contains]",
        ),
        (
            format!("?filter[name][contains]={}", "a".repeat(101)),
            "filter[name][contains]",
        ),
        (
            "?filter[name][contains]=%01".to_owned(),
            "filter[name][contains]",
        ),
    ] {
        assert_invalid(&app, &alice, &query, field).await;
    }
    let answer = app
        .v3(
            Method::GET,
            Some(&alice.session),
            "/v3/users/me/spaces?page[size]=%FF",
            None,
        )
        .await;
    assert_problem(
        answer,
        StatusCode::BAD_REQUEST,
        "BAD_REQUEST",
        "/v3/users/me/spaces",
    );

    // A cursor only positions the page: bob's cursor into alice's order shows bob nothing of
    // hers.
    let (bobs, _) = app
        .all_spaces(&bob, &format!("?page[after]={cursor}"))
        .await;
    assert!(
        bobs.iter()
            .all(|space| space["id"] == bob.personal.as_str()),
        "{bobs:?}"
    );
}

async fn storage_rule_features_and_plan_carry_both_apps_fields(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let team = app.team(&alice, "Rules").await;
    let rule_path = format!("/v1/organizations/{team}/storage-rule");

    let (status, rule) = app
        .get(
            &alice.session,
            &format!("/v1/organizations/{}/storage-rule", alice.personal),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        rule,
        json!({
            "storage": "cloud_plus_local",
            "isOverridden": false,
            "enableCloudSync": true,
            "enableLocalVault": true,
            "enableGitSync": true,
        })
    );
    for (storage, cloud, local) in [
        ("local_only", false, true),
        ("cloud_only", true, false),
        ("cloud_plus_local", true, true),
    ] {
        let expected = json!({
            "storage": storage,
            "isOverridden": storage != "cloud_plus_local",
            "enableCloudSync": cloud,
            "enableLocalVault": local,
            "enableGitSync": true,
        });
        let (status, set) = app
            .send(
                Method::PUT,
                &alice.session,
                &rule_path,
                Some(json!({"storage": storage})),
            )
            .await;
        assert_eq!((status, &set), (StatusCode::OK, &expected));
        let (status, read) = app.get(&alice.session, &rule_path).await;
        assert_eq!((status, &read), (StatusCode::OK, &expected));
    }

    let (status, features) = app
        .get(
            &alice.session,
            &format!("/v1/organizations/{team}/features"),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let on = json!({"enabled": true});
    for key in [
        "cloudSync",
        "localVault",
        "gitSync",
        "orgBasicRbac",
        "bulkImport",
    ] {
        assert_eq!(features["features"][key], on, "{key}: {features}");
    }
    for key in [
        "aiMockServers",
        "aiCommitMessages",
        "aiMcpClient",
        "konnectSync",
    ] {
        assert_eq!(
            features["features"][key],
            json!({"enabled": false, "reason": "not available on a self-hosted Hypnos server"}),
            "{key}"
        );
    }
    assert_eq!(features["features"].as_object().unwrap().len(), 9);
    assert_eq!(
        features["billing"],
        json!({
            "isActive": true,
            "expirationWarningMessage": "",
            "expirationErrorMessage": "",
            "accessDenied": false,
        })
    );

    let (status, plan) = app.get(&alice.session, "/v1/billing/current-plan").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        plan,
        json!({
            "isActive": true,
            "period": "year",
            "planId": "self-hosted",
            "price": 0,
            "quantity": 1_000_000,
            "type": "team",
            "planName": "Self-hosted",
            "status": "active",
        })
    );
}

async fn member_roles_change_by_patch_and_put(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let bob = app.account("bob@example.com").await;
    let carol = app.account("carol@example.com").await;
    let team = app.team(&alice, "Roles").await;
    app.join(&alice, &team, &bob, "member").await;
    let roles = |account: &str| format!("/v1/organizations/{team}/members/{account}/roles");
    let role_of = |body: &Value| body["roleId"].as_str().unwrap().to_owned();

    // The newest app's PATCH and 10.x's PUT do the same.
    for (method, role) in [
        (Method::PATCH, "admin"),
        (Method::PUT, "member"),
        (Method::PATCH, "admin"),
    ] {
        let (status, set) = app
            .send(
                method.clone(),
                &alice.session,
                &roles(&bob.id),
                Some(json!({"roles": [role]})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{method} {role}: {set}");
        assert_eq!(role_of(&set), role);
        let (_, read) = app.get(&alice.session, &roles(&bob.id)).await;
        assert_eq!(role_of(&read), role);
    }
    let (_, audit) = app
        .get(
            &alice.session,
            &format!("/v1/organizations/{team}/audit-log"),
        )
        .await;
    let changes = audit["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|event| event["action"] == "membership.role_changed")
        .count();
    assert_eq!(changes, 3);

    // Refusals change nothing.
    for (session, target, body, expected) in [
        (
            &alice.session,
            &alice.id,
            json!({"roles": ["member"]}),
            StatusCode::CONFLICT,
        ),
        (
            &alice.session,
            &bob.id,
            json!({"roles": ["owner"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &alice.session,
            &bob.id,
            json!({"roles": ["admin", "member"]}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &alice.session,
            &bob.id,
            json!({"role": "member"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            &carol.session,
            &bob.id,
            json!({"roles": ["member"]}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, body) = app
            .send(Method::PATCH, session, &roles(target), Some(body))
            .await;
        assert_eq!(status, expected, "{body}");
        assert!(body["error"].is_string() && body["message"].is_string());
    }
    app.join(&alice, &team, &carol, "member").await;
    let (status, _) = app
        .send(
            Method::PATCH,
            &carol.session,
            &roles(&bob.id),
            Some(json!({"roles": ["member"]})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "a member changes no roles");
    let (_, read) = app.get(&alice.session, &roles(&bob.id)).await;
    assert_eq!(role_of(&read), "admin");
}

async fn start_up_defaults_answer_their_types(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let bob = app.account("bob@example.com").await;
    let unlimited = 1_000_000;
    let with_session = [
        (
            Method::GET,
            "/v1/trials/eligibility",
            json!({"isEligible": false}),
        ),
        (Method::POST, "/v1/trials/start", json!({"success": false})),
        (
            Method::GET,
            "/v1/user/resource-usage",
            json!({"mocks": {"quota": 0, "calls": 0,
                             "autoPurchase": {"enabled": false, "unit": 0}}}),
        ),
        (Method::GET, "/v1/user/enterprises", json!([])),
        (
            Method::GET,
            "/v1/accounts/seats",
            json!({"memberCount": 0, "inviteCount": 0, "used": 0, "total": unlimited}),
        ),
        (
            Method::GET,
            "/v1/enterprise/ent_123/license-usage",
            json!({"used": 0, "total": unlimited, "memberCount": 0, "inviteCount": 0,
                   "free": unlimited}),
        ),
    ];
    for (method, path, expected) in with_session {
        let (status, body) = app.send(method.clone(), &alice.session, path, None).await;
        assert_eq!(
            (status, &body),
            (StatusCode::OK, &expected),
            "{method} {path}"
        );
        let (status, body) = app.send(method.clone(), "", path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{method} {path}: {body}");
    }
    let (status, body) = app
        .get(
            &alice.session,
            &format!("/v1/enterprise/{}/license-usage", "e".repeat(101)),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Sent without our session by the app: nothing to reveal.
    let (status, planes) = app.get("", "/v2/control-planes").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        planes,
        json!({"data": [], "meta": {"page": {"number": 1, "size": 100, "total": 0}}})
    );
    let response = app
        .http
        .get(
            app.server
                .url("/integrations/stainless/sdk?endpoint=GET%20%2Fusers"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "null");

    // The newest app's Git project count: any member reports it; it is checked, not kept.
    let team = app.team(&alice, "Gitty").await;
    let path = format!("/v1/organizations/{team}/git-projects");
    let (status, body) = app
        .send(
            Method::PATCH,
            &alice.session,
            &path,
            Some(json!({"count": 3})),
        )
        .await;
    assert_eq!((status, &body), (StatusCode::NO_CONTENT, &Value::Null));
    let (status, _) = app
        .send(
            Method::PATCH,
            &alice.session,
            &format!("/v1/organizations/{}/git-projects", alice.personal),
            Some(json!({"count": 0})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app
        .send(
            Method::PATCH,
            &bob.session,
            &path,
            Some(json!({"count": 3})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a non-member learns nothing");
    for bad in [
        json!({"count": -1}),
        json!({"count": 1_000_001}),
        json!({"count": "3"}),
        json!({}),
    ] {
        let (status, body) = app
            .send(Method::PATCH, &alice.session, &path, Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
    let (status, _) = app
        .send(Method::PATCH, "", &path, Some(json!({"count": 3})))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let audited = db
        .scalar(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE organization_id = '{team}'"
        ))
        .await;
    assert_eq!(audited, 1, "only the team's creation");
}

/// `interop/v3-client.js`, after checking that its packages are installed.
fn v3_client() -> std::path::PathBuf {
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../interop");
    assert!(
        interop
            .join("node_modules/@getinsomnia/insomnia-v3-fetch")
            .is_dir(),
        "{} lacks the SDK: run `npm ci --prefix interop` at the workspace root",
        interop.join("node_modules").display()
    );
    interop.join("v3-client.js")
}

/// Runs the SDK client with `args` (off the runtime's threads); its one JSON value on stdout.
async fn sdk(args: Vec<String>) -> Value {
    let script = v3_client();
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .args(&args)
            .output()
            .unwrap_or_else(|err| panic!("cannot run `node` (Node 20 or later): {err}"))
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "v3-client.js failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn the_sdk_drives_the_v3_endpoints(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    app.many_teams(&alice).await;
    let v1 = app.v1_ids(&alice).await;
    let (_, whoami) = app.get(&alice.session, "/auth/whoami").await;

    let args = |page_size: u32| {
        [
            "--server",
            &app.server.base,
            "--session",
            &alice.session,
            "--email",
            &alice.user.email,
            "--passphrase",
            &alice.user.passphrase,
            "--page-size",
            &page_size.to_string(),
            "--filter",
            "TEAM 01",
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let out = sdk(args(200)).await;
    assert_eq!(out["user"]["id"], alice.id.as_str());
    assert_eq!(out["user"]["email"], "alice@example.com");
    assert_eq!(out["user"]["emails"][0]["is_primary"], true);
    assert_eq!(out["user"]["encryption_enabled"], true);
    // The SDK turned created_at into a Date; printed back, it is the same instant.
    assert_eq!(
        humantime::parse_rfc3339(out["user"]["created_at"].as_str().unwrap()).unwrap(),
        humantime::parse_rfc3339(whoami["created"].as_str().unwrap()).unwrap()
    );
    assert_eq!(out["keys"]["public_key"], whoami["publicKey"]);
    assert_eq!(out["keys"]["enc_symmetric_key"], whoami["encSymmetricKey"]);
    assert_eq!(out["unlocked"], true, "the app's libraries unlock the keys");
    assert_eq!(
        out["onboarding"],
        json!({"first_request_treatment": "unknown", "is_new_signup": false})
    );
    assert_eq!(out["pages"], 2);
    assert_eq!(
        ids(&out["spaces"]),
        v1,
        "201 spaces, the ids of /v1/organizations"
    );
    assert_eq!(out["spaces"][0]["total_members"], 1);
    assert_eq!(out["spaces"][0]["is_owner"], true);
    assert_eq!(
        names(out["filtered"].as_array().unwrap()),
        (10..20)
            .map(|number| format!("Team {number:03}"))
            .collect::<Vec<_>>(),
        "the SDK's nested filter parameter"
    );
    assert_eq!(
        (&out["action"], &out["threshold"]),
        (&json!("ok"), &json!("ok"))
    );
    let bad = &out["badAction"];
    assert_eq!(bad["status"], 400);
    assert_eq!(bad["title"], "Bad request");
    assert_eq!(bad["error"], "BAD_REQUEST");
    assert!(
        bad["detail"].as_str().unwrap().contains("shopping"),
        "{bad}"
    );
    assert!(
        bad["contentType"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    let unauthorized = &out["unauthorized"];
    assert_eq!(unauthorized["status"], 401);
    assert_eq!(unauthorized["title"], "Unauthorized");
    assert_eq!(unauthorized["instance"], "/v3/users/me");

    // Small pages through the SDK: the same spaces, in ⌈201 / 7⌉ requests.
    let small = sdk(args(7)).await;
    assert_eq!(small["pages"], 29);
    assert_eq!(ids(&small["spaces"]), v1);
}

/// Migration 0009 on a database that has organizations already: the counts it keeps start
/// right. On PostgreSQL it runs as the server's ordinary role, bound by row-level security.
async fn the_upgrade_counts_the_members_there_are(db: common::TestDb) {
    let app = App::start(&db).await;
    let alice = app.account("alice@example.com").await;
    let bob = app.account("bob@example.com").await;
    let carol = app.account("carol@example.com").await;
    let team = app.team(&alice, "Before").await;
    app.join(&alice, &team, &bob, "admin").await;
    app.join(&bob, &team, &carol, "member").await;
    app.server.stop().await;
    // The database as it was before migration 0009.
    let downgrade = match db.backend {
        common::Backend::Sqlite => {
            "DROP TRIGGER memberships_count_insert; DROP TRIGGER memberships_count_delete; \
             DROP TRIGGER memberships_count_update; \
             ALTER TABLE organizations DROP COLUMN member_count; \
             ALTER TABLE organizations DROP COLUMN admin_count;"
        }
        common::Backend::Postgres => {
            "DROP TRIGGER memberships_count ON memberships; DROP FUNCTION hypnos_count_members(); \
             DROP POLICY managers_read ON invitations; \
             ALTER TABLE organizations DROP COLUMN member_count, DROP COLUMN admin_count;"
        }
    };
    db.execute(&format!(
        "{downgrade} DELETE FROM _sqlx_migrations WHERE version = 9;"
    ))
    .await;
    let app = App {
        server: TestServer::start(&db.url, 1_000).await,
        http: Client::new(),
    };
    let counted = app.space(&alice, &team).await;
    assert_eq!(
        (&counted["total_members"], &counted["total_admins"]),
        (&json!(3), &json!(2)),
        "{counted}"
    );
    assert_eq!(app.space(&carol, &team).await["total_members"], 3);
    assert_eq!(app.space(&alice, &alice.personal).await["total_members"], 1);
    // And the triggers are back: a new member counts.
    let dave = app.account("dave@example.com").await;
    app.join(&alice, &team, &dave, "member").await;
    assert_eq!(app.space(&bob, &team).await["total_members"], 4);
}
