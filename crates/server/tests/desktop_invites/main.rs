//! The newest app's team and invite flow (insomnia-wire-newer.md §4) over real HTTP, on SQLite
//! and on PostgreSQL, with real keys, beside the 10.x flow on the same data.
//!
//! The owner invites as the app's invite form does: check-seats, start-adding (the invitee's
//! public key), my-project-keys (it decrypts its own project key), reconcile-keys (a member who
//! lacks the key gets it), finish-adding (the key re-encrypted to the invitee). The invitee
//! accepts and decrypts the project key from its own key, and with it a blob the owner pushed.
//! Then the collaborator list (paging, filter, who sees invitations), the search (the
//! organization's people only), unlink (a member, an invitation), reinvite (an expired
//! invitation lives again), and refusals that write nothing. Each test builds its own team
//! ([`Acme`]); members no test is about are made through the store.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod collaborators;
#[path = "../common/mod.rs"]
mod common;
mod finish_adding;
mod project_keys;
mod reinvite_and_unlink;
mod start_adding;

use common::TestDb;
use common::app::{Actor, TestApp};
use hypnos_crypto::rsa::RsaPublicKey;
use hypnos_server::storage::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// The team "Acme" of its owner alice, with the synced project `prj_1` whose key only she holds.
struct Acme {
    app: TestApp,
    alice: Actor,
    team: String,
    /// The key of `prj_1`, a JWK's JSON.
    project_key: String,
}

impl Acme {
    async fn new(db: &TestDb) -> Self {
        let app = TestApp::start(db).await;
        let alice = app.actor("alice").await;
        let team = app.team(&alice, "Acme").await;
        let project_key =
            common::app::synced_project(db, &team, "prj_1", &[(&alice.id, &alice.user)]).await;
        Self {
            app,
            alice,
            team,
            project_key,
        }
    }

    /// The 10.x path `rest` of the team.
    fn org(&self, rest: &str) -> String {
        format!("/v1/organizations/{}{rest}", self.team)
    }

    /// The newest app's collaborators path `rest` of the team.
    fn desk(&self, rest: &str) -> String {
        format!(
            "/v1/desktop/organizations/{}/collaborators{rest}",
            self.team
        )
    }

    /// `member` joins the team as `role`, through the store.
    async fn join(&self, member: &Actor, role: Role) {
        self.app.join(&self.alice, &self.team, member, role).await;
    }

    /// `inviter` invites `invitees` as `role` the newest app's way, start-adding then
    /// finish-adding with the project key encrypted to each; the keys it sent.
    async fn add_newest(&self, inviter: &Actor, invitees: &[&Actor], role: &str) -> Value {
        let emails: Vec<&str> = invitees.iter().map(|a| a.user.email.as_str()).collect();
        let (status, entries) = inviter
            .post(
                &self.desk("/start-adding"),
                json!({"teamIds": [], "emails": emails}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{entries}");
        let mut keys = json!({});
        let mut accounts = Vec::new();
        for (account, entry) in entries.as_object().unwrap() {
            let public = RsaPublicKey::from_jwk_json(entry["publicKey"].as_str().unwrap()).unwrap();
            let sealed = public.encrypt_string(&self.project_key).unwrap();
            keys[account.as_str()] = key(account, "prj_1", &sealed)[account.as_str()].clone();
            accounts.push(account.clone());
        }
        assert_eq!(accounts.len(), invitees.len());
        let (status, done) = inviter
            .post(
                &self.desk("/finish-adding"),
                finish(keys.clone(), json!(accounts), json!(role)),
            )
            .await;
        assert_eq!(status, StatusCode::NO_CONTENT, "{done}");
        keys
    }

    /// The id of the invitation shown for the collaborators matching `filter`.
    async fn invitation_of(&self, filter: &str) -> String {
        let (_, listed) = self
            .alice
            .get(&self.desk(&format!("?filter={filter}")))
            .await;
        listed["collaborators"][0]["metadata"]["invitationId"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// The team in the state the collaborator list, search, reinvite and unlink tests read: members
/// alice (owner), bob, carol, dave (admin); erin and frank invited as admins with the project
/// key (the newest app's way), gina invited as a member; zed outside.
struct Crowd {
    acme: Acme,
    bob: Actor,
    carol: Actor,
    dave: Actor,
    frank: Actor,
    gina: Actor,
    zed: Actor,
}

impl Crowd {
    async fn new(db: &TestDb) -> Self {
        let acme = Acme::new(db).await;
        let [bob, carol, dave, erin, frank, gina, zed] = acme
            .app
            .actors(["bob", "carol", "dave", "erin", "frank", "gina", "zed"])
            .await;
        acme.join(&bob, Role::Member).await;
        acme.join(&carol, Role::Member).await;
        acme.join(&dave, Role::Admin).await;
        acme.add_newest(&acme.alice, &[&erin, &frank], "admin")
            .await;
        acme.app
            .invite(&dave, &acme.team, &gina, Role::Member)
            .await;
        Self {
            acme,
            bob,
            carol,
            dave,
            frank,
            gina,
            zed,
        }
    }
}

/// One invitee's entry of finish-adding's `keys`: `enc`, the key of `project` for `account`.
fn key(account: &str, project: &str, enc: &str) -> Value {
    json!({ account: { project: {"accountId": account, "projectId": project, "encKey": enc} } })
}

/// A finish-adding body.
fn finish(keys: Value, accounts: Value, role: Value) -> Value {
    json!({"teamIds": [], "keys": keys, "accountIds": accounts, "roleId": role})
}

/// POSTs no body to `path`, as the app accepts an invitation and resends one.
async fn post_empty(who: &Actor, path: &str) -> (StatusCode, Value) {
    who.send(Method::POST, path, None).await
}

/// `who` accepts invitation `id`.
async fn accept(who: &Actor, id: &str) -> (StatusCode, Value) {
    post_empty(who, &format!("/v1/user/invites/{id}/accept")).await
}

/// The project key `who` holds in the team, decrypted with its own private key.
async fn opened_key(acme: &Acme, who: &Actor) -> String {
    let (_, keys) = who.get(&acme.org("/my-project-keys")).await;
    assert_eq!(keys["projectKeys"][0]["projectId"], "prj_1", "{keys}");
    let opened = who
        .user
        .private
        .decrypt_string(keys["projectKeys"][0]["encKey"].as_str().unwrap())
        .unwrap();
    (*opened).clone()
}

/// What the invitation tables hold, to show that a refusal wrote nothing.
async fn invitation_rows(db: &TestDb) -> (i64, i64) {
    (
        db.scalar("SELECT COUNT(*) FROM invitations").await,
        db.scalar("SELECT COUNT(*) FROM invitation_keys").await,
    )
}
