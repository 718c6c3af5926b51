//! [`TestApp`]: the real server on a fresh database, with actors (signed-up, logged-in users that
//! send the app's requests) and teams and members built through the store's own methods; and
//! [`oneshot`], one request through the router without a socket, for refusals that do not
//! depend on the connection layer.

use std::sync::Arc;

use axum::body::Body;
use hypnos_crypto::{aes::AesKey, random::prefixed_id};
use hypnos_server::{
    AppState, ServerConfig,
    state::now_ms,
    storage::{AuditEvent, Invitation, InvitationKey, NewTeam, Role, Store},
};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::TestDb;
use super::http::{
    TestServer, call, keys,
    users::{User, login, sign_up_and_log_in},
};

/// The server of one test and an HTTP client for it, stopped when dropped.
pub struct TestApp {
    /// The server on its ephemeral port.
    pub server: TestServer,
    /// A client for requests no actor sends (anonymous ones).
    pub http: Client,
}

/// A signed-up, logged-in user, with its own requests.
pub struct Actor {
    /// What the user knows (e-mail, passphrase) and its keys.
    pub user: User,
    /// Its account id.
    pub id: String,
    /// Its personal organization.
    pub personal: String,
    /// Its session id.
    pub session: String,
    http: Client,
    base: String,
}

impl TestApp {
    /// The server on `db`, with the login limits out of the way (1,000 per account).
    pub async fn start(db: &TestDb) -> Self {
        Self::from(TestServer::start(&db.url, 1_000).await)
    }

    /// The server with the given settings.
    pub async fn start_with(config: ServerConfig) -> Self {
        Self::from(TestServer::start_with(config).await)
    }

    /// The server's store, for setup through its own methods.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.server.state.store
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        self.server.url(path)
    }

    /// `name@example.com` with the passphrase `name's passphrase`, signed up and logged in; its
    /// key pair is the name's in every test of the process ([`keys::key_named`]).
    pub async fn actor(&self, name: &str) -> Actor {
        self.actor_of(User::with_key(
            &format!("{name}@example.com"),
            &format!("{name}'s passphrase"),
            keys::key_named(name),
        ))
        .await
    }

    /// `user`, signed up and logged in.
    pub async fn actor_of(&self, user: User) -> Actor {
        let (ids, session) = sign_up_and_log_in(&self.server, &self.http, &user).await;
        Actor {
            user,
            id: ids.account_id,
            personal: ids.personal_organization_id,
            session,
            http: self.http.clone(),
            base: self.server.base.clone(),
        }
    }

    /// A team named `name` owned by `owner`, made through the store as `POST
    /// /v1/organizations` makes it; its id.
    pub async fn team(&self, owner: &Actor, name: &str) -> String {
        let id = prefixed_id("org").unwrap();
        let event = audit_event(
            owner,
            &id,
            "organization.created",
            &id,
            json!({"name": name}),
        );
        self.store()
            .create_team(
                NewTeam {
                    id: id.into(),
                    name: name.into(),
                    owner_account_id: owner.id.as_str().into(),
                    now_ms: event.at,
                },
                event,
            )
            .await
            .unwrap()
            .id
            .into()
    }

    /// `inviter` invites `invitee` to `org` as `role` through the store, as `POST
    /// /v1/organizations/{org}/invites` does (with no project keys); the invitation's id.
    pub async fn invite(&self, inviter: &Actor, org: &str, invitee: &Actor, role: Role) -> String {
        let now = now_ms();
        let invitation = Invitation {
            id: prefixed_id("inv").unwrap(),
            organization_id: org.into(),
            invitee_account_id: invitee.id.as_str().into(),
            inviter_account_id: inviter.id.as_str().into(),
            role,
            created_at: now,
            expires_at: now + self.server.config.invitation_ttl.as_millis() as i64,
        };
        let id = invitation.id.clone();
        let details = json!({"invitee": invitee.id, "role": role.as_str(), "projects": []});
        let event = audit_event(inviter, org, "invitation.created", &id, details);
        self.store()
            .create_invitation(invitation, Vec::<InvitationKey>::new(), event)
            .await
            .unwrap();
        id
    }

    /// `inviter` brings `invitee` into `org` as `role`: an invitation the invitee accepts, both
    /// through the store.
    pub async fn join(&self, inviter: &Actor, org: &str, invitee: &Actor, role: Role) {
        let invitation = self.invite(inviter, org, invitee, role).await;
        let event = audit_event(invitee, "", "invitation.accepted", &invitation, json!({}));
        self.store()
            .accept_invitation(&invitee.id.as_str().into(), &invitation, now_ms(), event)
            .await
            .unwrap();
    }
}

impl From<TestServer> for TestApp {
    fn from(server: TestServer) -> Self {
        Self {
            server,
            http: Client::new(),
        }
    }
}

impl Actor {
    /// Any request with the session in `X-Session-Id` and a JSON body when given; the status
    /// and the body (JSON, `Null` when empty, a string otherwise).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        call(&self.http, method, url, &self.session, body).await
    }

    /// A request of `method` to `path` with the session in `X-Session-Id`, for the caller to
    /// send and read as it needs (a stream read as it comes, say).
    pub fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header("X-Session-Id", &self.session)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, None).await
    }

    /// POST `body` to `path`.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, Some(body)).await
    }

    /// PUT `body` to `path`.
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PUT, path, Some(body)).await
    }

    /// PATCH `path` with `body`.
    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::PATCH, path, Some(body)).await
    }

    /// DELETE `path`.
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(Method::DELETE, path, None).await
    }

    /// One GraphQL operation as the app sends it (`POST /graphql?op`): the status and the whole
    /// answer (`data` and `errors`).
    pub async fn gql(&self, query: &str, variables: Value) -> (StatusCode, Value) {
        self.post(
            "/graphql?op",
            json!({"query": query, "variables": variables}),
        )
        .await
    }
}

/// A GraphQL answer's `data`, or its first error's message; the status must be 200.
pub fn data_or_error((status, answer): (StatusCode, Value)) -> Result<Value, String> {
    assert_eq!(status, StatusCode::OK, "{answer}");
    match answer["errors"].as_array() {
        Some(errors) if !errors.is_empty() => {
            Err(errors[0]["message"].as_str().unwrap().to_owned())
        }
        _ => Ok(answer["data"].clone()),
    }
}

/// An audit event done now by `actor`, as the handlers make it.
fn audit_event(actor: &Actor, org: &str, action: &str, target: &str, details: Value) -> AuditEvent {
    AuditEvent {
        id: prefixed_id("evt").unwrap(),
        organization_id: org.into(),
        at: now_ms(),
        actor_account_id: Some(actor.id.as_str().into()),
        action: action.into(),
        target: target.into(),
        details: details.to_string(),
    }
}

/// A synced project `project` in `org` whose key (a fresh AES JWK) is encrypted to each of
/// `holders`; returns the key's JWK JSON. Plain SQL: the store makes a project only with a key
/// for every member, and the stories give keys to some members only.
pub async fn synced_project(
    db: &TestDb,
    org: &str,
    project: &str,
    holders: &[(&str, &User)],
) -> String {
    let jwk = AesKey::generate().unwrap().to_jwk().to_json().to_string();
    let mut sql = format!(
        "INSERT INTO projects (organization_id, id, team_project_id, name, root_document_id, \
         created_at) VALUES ('{org}', '{project}', NULL, 'Project', 'wrk_1', 0);"
    );
    for (account, user) in holders {
        let wrapped = user
            .private
            .public_key()
            .unwrap()
            .encrypt_string(&jwk)
            .unwrap();
        sql.push_str(&format!(
            "INSERT INTO project_keys (organization_id, project_id, account_id, \
             enc_symmetric_key, created_at) VALUES ('{org}', '{project}', '{account}', \
             '{wrapped}', 0);"
        ));
    }
    db.execute(&sql).await;
    jwk
}

/// The server's state on `db` with default settings (and `tune` applied), for [`oneshot`].
pub async fn state(db: &TestDb, tune: impl FnOnce(&mut ServerConfig)) -> AppState {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(db.url.clone());
    tune(&mut config);
    hypnos_server::open(config).await.unwrap()
}

/// Sends one request through the router (`hypnos_server::app`) without a socket, as from
/// 127.0.0.1: `session` in
/// `X-Session-Id` when given, `body` as it is with a JSON content type when given. The status
/// and the body (JSON, `Null` when empty, a string otherwise).
pub async fn oneshot(
    state: &AppState,
    method: Method,
    path: &str,
    session: Option<&str>,
    body: Option<String>,
) -> (StatusCode, Value) {
    // The connection layer gives every request its peer's address; the rate limits read it.
    let peer = std::net::SocketAddr::from(([127, 0, 0, 1], 50_000));
    let mut request = axum::http::Request::builder()
        .method(method.as_str())
        .uri(path)
        .extension(axum::extract::ConnectInfo(peer));
    if let Some(session) = session {
        request = request.header("X-Session-Id", session);
    }
    let request = match body {
        Some(body) => request
            .header("Content-Type", "application/json")
            .body(Body::from(body)),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = hypnos_server::app(state.clone())
        .oneshot(request)
        .await
        .unwrap();
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

impl TestApp {
    /// Any request with `session` as it is in `X-Session-Id` (empty, malformed or ended: a
    /// session no actor holds) and a JSON body when given; the status and the body as
    /// [`Actor::send`] gives them.
    pub async fn send_as(
        &self,
        session: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        call(&self.http, method, self.url(path), session, body).await
    }

    /// The server on `db` as [`TestApp::start`] makes it, with `tune` applied to its settings.
    pub async fn start_tuned(db: &TestDb, tune: impl FnOnce(&mut ServerConfig)) -> Self {
        let mut config = ServerConfig::parse_defaults();
        config.database_url = Some(db.url.clone());
        config.login_rate_per_account = 1_000;
        config.login_rate_per_ip = 10_000;
        tune(&mut config);
        Self::start_with(config).await
    }
}

/// Setup and requests several test files share.
impl TestApp {
    /// One actor per name, as [`TestApp::actor`] makes them, in order.
    pub async fn actors<const N: usize>(&self, names: [&str; N]) -> [Actor; N] {
        let mut actors = Vec::with_capacity(N);
        for name in names {
            actors.push(self.actor(name).await);
        }
        actors.try_into().map_err(|_| "one actor per name").unwrap()
    }

    /// `user`, who now holds `account`'s account (after a passphrase reset, say), logged in.
    pub async fn log_in_again(&self, account: &Actor, user: User) -> Actor {
        let session = login(&self.server, &self.http, &user.email, &user.passphrase)
            .await
            .unwrap();
        Actor {
            user,
            id: account.id.clone(),
            personal: account.personal.clone(),
            session,
            http: self.http.clone(),
            base: self.server.base.clone(),
        }
    }

    /// An anonymous POST of `body` to `path` (sign-up and the log-in steps): the status and the
    /// body, as [`Actor::send`] gives them.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        super::http::post(&self.http, self.url(path), body).await
    }
}
