//! The client survives a hostile server (issue 12): the real server binary, on SQLite and on
//! PostgreSQL, whose database the tests tamper with as a hostile operator (or a member with a
//! key to plant) would. Each test would have passed the attack through on the old client:
//!
//! * a public key the server swapped is refused (never pinned: new; pinned: changed);
//! * a project key a member planted for a teammate is refused, with the way to get a good one,
//!   and the owner repairs it (`hypnos share ORG --repair EMAIL`);
//! * a branch the server rolled back is refused ("the server's history went back") unless
//!   `--accept-rollback`;
//! * a push of a file older than another file pulled on the same machine keeps the teammates'
//!   changes (the merge base is the file's own, not the machine's).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use std::{path::Path, time::Duration};

use assert_cmd::assert::Assert;
use hypnos_client::{Api, ClientError, Refusal};
use hypnos_crypto::{aes::AesKey, rsa::RsaPublicKey};
use serde_json::{Value, json};
use support::{Server, gql, hypnos, json_of, session_of, sign_up, trust_teammate};

/// No command may hang a test.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Clone, Copy)]
enum Kind {
    Sqlite,
    Postgres,
}

/// The database behind the server, opened beside it for tampering.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres {
        pool: sqlx::PgPool,
        admin: sqlx::PgPool,
        name: String,
    },
}

struct Backend {
    server: Option<Server>,
    db: Db,
}

fn admin_url() -> String {
    std::env::var("HYPNOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl Backend {
    async fn start(kind: Kind) -> Self {
        let data = tempfile::tempdir().unwrap();
        match kind {
            Kind::Sqlite => {
                let url = format!("sqlite://{}/hypnos.db?mode=rwc", data.path().display());
                let server = Server::start_on(url.clone(), data);
                let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
                Self {
                    server: Some(server),
                    db: Db::Sqlite(pool),
                }
            }
            Kind::Postgres => {
                let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap();
                let name = hypnos_crypto::random::prefixed_id("hypnos_hostile").unwrap();
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(&admin)
                    .await
                    .unwrap();
                let admin_url = admin_url();
                let (base, _) = admin_url.rsplit_once('/').unwrap();
                let url = format!("{base}/{name}");
                let server = Server::start_on(url.clone(), data);
                let pool = sqlx::PgPool::connect(&url).await.unwrap();
                Self {
                    server: Some(server),
                    db: Db::Postgres { pool, admin, name },
                }
            }
        }
    }

    fn server(&self) -> &Server {
        self.server.as_ref().unwrap()
    }

    /// Runs one statement with text parameters; returns the rows it changed.
    async fn exec(&self, sql: &'static str, args: &[&str]) -> u64 {
        match &self.db {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = query.bind((*arg).to_owned());
                }
                query.execute(pool).await.unwrap().rows_affected()
            }
            Db::Postgres { pool, .. } => {
                let mut query = sqlx::query(sql);
                for arg in args {
                    query = query.bind((*arg).to_owned());
                }
                query.execute(pool).await.unwrap().rows_affected()
            }
        }
    }

    /// One text value.
    async fn text(&self, sql: &'static str, args: &[&str]) -> String {
        match &self.db {
            Db::Sqlite(pool) => {
                let mut query = sqlx::query_scalar::<_, String>(sql);
                for arg in args {
                    query = query.bind((*arg).to_owned());
                }
                query.fetch_one(pool).await.unwrap()
            }
            Db::Postgres { pool, .. } => {
                let mut query = sqlx::query_scalar::<_, String>(sql);
                for arg in args {
                    query = query.bind((*arg).to_owned());
                }
                query.fetch_one(pool).await.unwrap()
            }
        }
    }

    /// Stops the server and drops a PostgreSQL database.
    async fn finish(mut self) {
        drop(self.server.take());
        if let Db::Postgres { pool, admin, name } = self.db {
            pool.close().await;
            let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&admin)
            .await;
        }
    }
}

/// Each test on both databases.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::Kind::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::Kind::Postgres).await;
            }
        }
    )*};
}

on_both_backends!(
    a_public_key_the_server_swapped_is_refused,
    a_planted_project_key_is_refused_and_repaired,
    a_branch_the_server_rolled_back_is_refused,
    a_push_keeps_teammates_changes_pulled_into_another_file,
);

/// `hypnos ARGS` as the user of `home`, bounded in time.
fn run(home: &tempfile::TempDir, args: &[&str]) -> Assert {
    hypnos(home).timeout(COMMAND_TIMEOUT).args(args).assert()
}

fn ok_json(home: &tempfile::TempDir, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    json_of(&run(home, &all).success().get_output().stdout)
}

fn failed(home: &tempfile::TempDir, args: &[&str]) -> String {
    let assert = run(home, args).code(1);
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

/// An app export of the workspace `wrk_team` holding these requests (id, url).
fn export(requests: &[(&str, &str)]) -> String {
    let mut resources = vec![
        json!({"_id": "wrk_team", "_type": "workspace", "parentId": null,
        "name": "Team API", "description": "", "scope": "collection"}),
    ];
    for (id, url) in requests {
        resources.push(
            json!({"_id": id, "_type": "request", "parentId": "wrk_team",
            "name": format!("Request {id}"), "method": "GET", "url": url, "body": {},
            "headers": []}),
        );
    }
    serde_json::to_string_pretty(&json!({"_type": "export", "__export_format": 4,
        "__export_date": "2026-11-28T10:00:00.000Z", "__export_source": "test",
        "resources": resources}))
    .unwrap()
}

/// The file's requests: id → url, sorted.
fn urls(path: &Path) -> Vec<(String, String)> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut found: Vec<(String, String)> = value["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["_type"] == "request")
        .map(|r| {
            (
                r["_id"].as_str().unwrap().to_owned(),
                r["url"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    found.sort();
    found
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

/// A team owned by `home`'s account, with a team project: (org, team project).
fn team(home: &tempfile::TempDir) -> (String, String) {
    let org = ok_json(home, &["org", "create", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_project = ok_json(home, &["team-project", "create", &org, "Backend"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (org, team_project)
}

/// `inviter` invites `email` (whose state is `invitee`) after pinning their key, and they
/// accept.
fn join(inviter: &tempfile::TempDir, invitee: &tempfile::TempDir, org: &str, email: &str) {
    trust_teammate(inviter, invitee, email);
    let invited = ok_json(inviter, &["org", "invite", org, email]);
    ok_json(
        invitee,
        &["invites", "accept", invited["id"].as_str().unwrap()],
    );
}

fn push_args<'a>(file: &'a Path, org: &'a str, team_project: &'a str) -> Vec<&'a str> {
    vec![
        "push",
        file.to_str().unwrap(),
        "--org",
        org,
        "--team-project",
        team_project,
    ]
}

/// The server answers `hypnos org invite` with the invitee's id and e-mail but another
/// account's public key (Mallory's): never pinned, it is new and refused (showing Mallory's
/// fingerprint, not Bob's); `keys trust` with Bob's real fingerprint refuses it too; once
/// pinned, a swapped key is refused as changed. Nothing is ever shared to Mallory's key.
async fn a_public_key_the_server_swapped_is_refused(kind: Kind) {
    let backend = Backend::start(kind).await;
    let (ada, bob, mallory) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    sign_up(&ada, backend.server(), "ada@example.com");
    let bob_id = sign_up(&bob, backend.server(), "bob@example.com");
    sign_up(&mallory, backend.server(), "mallory@example.com");
    let (org, _) = team(&ada);
    let bobs_fingerprint = ok_json(&bob, &["keys", "fingerprint"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let mallorys_fingerprint = ok_json(&mallory, &["keys", "fingerprint"])["fingerprint"]
        .as_str()
        .unwrap()
        .to_owned();
    let bobs_key = backend
        .text("SELECT public_key FROM accounts WHERE id = $1", &[&bob_id])
        .await;
    let swap_in_mallorys_key = || async {
        backend
            .exec(
                "UPDATE accounts SET public_key = \
                 (SELECT public_key FROM accounts WHERE email = 'mallory@example.com') \
                 WHERE id = $1",
                &[&bob_id],
            )
            .await
    };
    assert_eq!(swap_in_mallorys_key().await, 1);

    // Never pinned: new, refused without a terminal to ask on; the fingerprint shown is the
    // key the server gave (Mallory's), which Bob's reading would not match.
    let refused = failed(&ada, &["org", "invite", &org, "bob@example.com"]);
    assert!(refused.contains("new to this machine"), "{refused}");
    assert!(refused.contains(&mallorys_fingerprint), "{refused}");
    assert!(
        refused.contains("hypnos keys trust bob@example.com"),
        "{refused}"
    );
    assert_eq!(
        ok_json(&bob, &["invites"]),
        json!([]),
        "no invitation was made"
    );
    // Ada checks with Bob: the fingerprint he reads is not the server's.
    let refused = failed(
        &ada,
        &["keys", "trust", "bob@example.com", &bobs_fingerprint],
    );
    assert!(refused.contains("not the"), "{refused}");
    assert!(
        !std::fs::read_to_string(ada.path().join("pins.json"))
            .unwrap_or_default()
            .contains(&mallorys_fingerprint),
        "nothing pinned"
    );

    // The honest key: trusted, invited.
    backend
        .exec(
            "UPDATE accounts SET public_key = $1 WHERE id = $2",
            &[&bobs_key, &bob_id],
        )
        .await;
    join(&ada, &bob, &org, "bob@example.com");

    // Pinned now: the same swap is refused as a changed key (a share to Bob after a reset
    // would meet it), and the key is not re-pinned.
    backend
        .exec(
            "DELETE FROM memberships WHERE account_id = $1 AND organization_id = $2",
            &[&bob_id, &org],
        )
        .await;
    swap_in_mallorys_key().await;
    let refused = failed(&ada, &["org", "invite", &org, "bob@example.com"]);
    assert!(refused.contains("changed since you pinned it"), "{refused}");
    assert!(refused.contains(&mallorys_fingerprint), "{refused}");
    let pins = std::fs::read_to_string(ada.path().join("pins.json")).unwrap();
    assert!(
        pins.contains(&bobs_fingerprint) && !pins.contains(&mallorys_fingerprint),
        "{pins}"
    );
    backend.finish().await;
}

/// Mallory, a member holding the project key, plants a key of her own making for Bob, who
/// lacks one (after a reset, say). The first key wins: Ada's honest share skips Bob. Bob's
/// pull and push refuse the planted key, saying how to get a good one; Mallory may not
/// replace keys; Ada (the owner) repairs Bob's key and Bob pulls fine.
async fn a_planted_project_key_is_refused_and_repaired(kind: Kind) {
    let backend = Backend::start(kind).await;
    let (ada, bob, mallory) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    sign_up(&ada, backend.server(), "ada@example.com");
    let bob_id = sign_up(&bob, backend.server(), "bob@example.com");
    sign_up(&mallory, backend.server(), "mallory@example.com");
    let (org, team_project) = team(&ada);
    let ada_file = ada.path().join("team.json");
    std::fs::write(&ada_file, export(&[("req_a", "https://a/1")])).unwrap();
    let pushed = ok_json(&ada, &push_args(&ada_file, &org, &team_project));
    let project = pushed["projects"][0]["id"].as_str().unwrap().to_owned();
    join(&ada, &bob, &org, "bob@example.com");
    join(&ada, &mallory, &org, "mallory@example.com");
    let bob_file = bob.path().join("team.json");
    let pull = ["pull", "--org", &org, "--project", &project, "-o"];
    let mut bob_pull = pull.to_vec();
    bob_pull.push(bob_file.to_str().unwrap());
    ok_json(&bob, &bob_pull);

    // Bob's key is gone (as after a reset); Mallory plants one of her own making.
    assert_eq!(
        backend
            .exec("DELETE FROM project_keys WHERE account_id = $1", &[&bob_id])
            .await,
        1
    );
    let mallory_session = session_of(&mallory);
    let members = gql(
        backend.server(),
        &mallory_session,
        "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey } } }",
        json!({"teamId": org}),
    )
    .await
    .unwrap();
    let bobs_public = members["teamMemberKeys"]["memberKeys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["accountId"] == bob_id.as_str())
        .map(|m| RsaPublicKey::from_jwk_json(m["publicKey"].as_str().unwrap()).unwrap())
        .unwrap();
    let planted = AesKey::generate().unwrap().to_jwk().to_json();
    let api = Api::new(&backend.server().url).unwrap();
    let path = format!("/v1/organizations/{org}/reconcile-keys");
    let reconcile = async |replace: bool| {
        let keys = json!({"keys": [{"projectId": project, "accountId": bob_id,
            "encSymmetricKey": bobs_public.encrypt_string(&planted).unwrap()}],
            "replace": replace});
        api.post::<_, Value>(&path, Some(&mallory_session), &keys)
            .await
    };
    let answer = reconcile(false).await.unwrap();
    assert_eq!(answer["created"], 1, "{answer}");
    // Bob no longer lacks a key, so the honest share passes him by: the first key wins.
    assert_eq!(ok_json(&ada, &["share", &org])["created"], 0);

    // Bob's pull into a new file and his push both refuse the planted key, and say why and
    // what to do; nothing is written or pushed.
    let fresh = bob.path().join("fresh.json");
    let mut fresh_pull = pull.to_vec();
    fresh_pull.push(fresh.to_str().unwrap());
    let refused = failed(&bob, &fresh_pull);
    assert!(refused.contains("does not open"), "{refused}");
    assert!(
        refused.contains(&format!("hypnos share {org} --repair bob@example.com")),
        "{refused}"
    );
    assert!(!fresh.exists());
    std::fs::write(
        &bob_file,
        export(&[("req_a", "https://a/1"), ("req_b", "https://b/bob")]),
    )
    .unwrap();
    let refused = failed(&bob, &push_args(&bob_file, &org, &team_project));
    assert!(refused.contains("does not open"), "{refused}");
    assert_eq!(
        ok_json(&ada, &["log", &project]).as_array().unwrap().len(),
        1,
        "nothing pushed"
    );

    // Only the owner or an admin may replace a key: Mallory's repair is refused.
    let refused = reconcile(true).await;
    assert!(
        matches!(
            refused,
            Err(ClientError::NoAccess(Refusal { status: 403, .. }))
        ),
        "{refused:?}"
    );
    let refused = failed(
        &mallory,
        &[
            "share",
            &org,
            "--repair",
            "bob@example.com",
            "--accept-new-key",
        ],
    );
    assert!(refused.contains("owner or an admin"), "{refused}");

    // Ada repairs; Bob pulls and pushes.
    let repaired = ok_json(&ada, &["share", &org, "--repair", "bob@example.com"]);
    assert_eq!(repaired["stored"], 1, "{repaired}");
    let pulled = ok_json(&bob, &fresh_pull);
    assert_eq!(pulled["documents"], 2, "{pulled}");
    ok_json(&bob, &push_args(&bob_file, &org, &team_project));
    assert_eq!(
        ok_json(&ada, &["log", &project]).as_array().unwrap().len(),
        2
    );
    backend.finish().await;
}

/// Two pushes, then the server sets the branch back to the first snapshot: pull, push and
/// status refuse ("the server's history went back"); with `--accept-rollback` the push goes
/// through (the file's changes pushed again), and later syncs need no flag.
async fn a_branch_the_server_rolled_back_is_refused(kind: Kind) {
    let backend = Backend::start(kind).await;
    let ada = tempfile::tempdir().unwrap();
    sign_up(&ada, backend.server(), "ada@example.com");
    let (org, team_project) = team(&ada);
    let file = ada.path().join("team.json");
    std::fs::write(&file, export(&[("req_a", "https://a/1")])).unwrap();
    let first = ok_json(&ada, &push_args(&file, &org, &team_project));
    let project = first["projects"][0]["id"].as_str().unwrap().to_owned();
    std::fs::write(&file, export(&[("req_a", "https://a/2")])).unwrap();
    ok_json(&ada, &push_args(&file, &org, &team_project));

    // The tip goes: the branch holds the first snapshot alone.
    assert_eq!(
        backend
            .exec(
                "DELETE FROM branch_snapshots WHERE project_id = $1 AND position = \
                 (SELECT MAX(position) FROM branch_snapshots WHERE project_id = $1)",
                &[&project],
            )
            .await,
        1
    );
    assert_eq!(
        ok_json(&ada, &["log", &project]).as_array().unwrap().len(),
        1
    );

    let before = std::fs::read(&file).unwrap();
    let out = ada.path().join("out.json");
    let pull = [
        "pull",
        "--org",
        &org,
        "--project",
        &project,
        "-o",
        out.to_str().unwrap(),
    ];
    for refused in [
        failed(&ada, &pull),
        failed(&ada, &push_args(&file, &org, &team_project)),
        failed(&ada, &["status", file.to_str().unwrap()]),
    ] {
        assert!(
            refused.contains("the server's history went back"),
            "{refused}"
        );
        assert!(refused.contains("--accept-rollback"), "{refused}");
    }
    assert!(!out.exists());
    assert_eq!(std::fs::read(&file).unwrap(), before);
    assert_eq!(
        ok_json(&ada, &["log", &project]).as_array().unwrap().len(),
        1
    );

    // Knowingly accepted: the file's version goes back up.
    let mut accepted = push_args(&file, &org, &team_project);
    accepted.extend(["--accept-rollback", "--prefer", "ours"]);
    ok_json(&ada, &accepted);
    assert_eq!(
        ok_json(&ada, &["log", &project]).as_array().unwrap().len(),
        2
    );
    let pulled = ok_json(&ada, &pull);
    assert_eq!(pulled["documents"], 2, "{pulled}");
    assert_eq!(urls(&out), pairs(&[("req_a", "https://a/2")]));
    backend.finish().await;
}

/// Ada pushes FILE; Bob changes req_b and pushes; Ada pulls the branch into ANOTHER file, then
/// pushes FILE (with an edit of her own to req_a). The old client took the machine's last sync
/// as FILE's base and reverted Bob's req_b; FILE's own base keeps it.
async fn a_push_keeps_teammates_changes_pulled_into_another_file(kind: Kind) {
    let backend = Backend::start(kind).await;
    let (ada, bob) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&ada, backend.server(), "ada@example.com");
    sign_up(&bob, backend.server(), "bob@example.com");
    let (org, team_project) = team(&ada);
    let file = ada.path().join("team.json");
    std::fs::write(
        &file,
        export(&[("req_a", "https://a/1"), ("req_b", "https://b/1")]),
    )
    .unwrap();
    let pushed = ok_json(&ada, &push_args(&file, &org, &team_project));
    let project = pushed["projects"][0]["id"].as_str().unwrap().to_owned();
    join(&ada, &bob, &org, "bob@example.com");

    let bob_file = bob.path().join("team.json");
    ok_json(
        &bob,
        &[
            "pull",
            "--org",
            &org,
            "--project",
            &project,
            "-o",
            bob_file.to_str().unwrap(),
        ],
    );
    std::fs::write(
        &bob_file,
        export(&[("req_a", "https://a/1"), ("req_b", "https://b/bob")]),
    )
    .unwrap();
    ok_json(&bob, &push_args(&bob_file, &org, &team_project));

    let other = ada.path().join("other.json");
    ok_json(
        &ada,
        &[
            "pull",
            "--org",
            &org,
            "--project",
            &project,
            "-o",
            other.to_str().unwrap(),
        ],
    );
    std::fs::write(
        &file,
        export(&[("req_a", "https://a/ada"), ("req_b", "https://b/1")]),
    )
    .unwrap();
    let status = ok_json(&ada, &["status", file.to_str().unwrap()]);
    assert_eq!(
        status["workspaces"][0]["incoming"]["modified"]["req_b"], "Request req_b",
        "{status}"
    );
    let pushed = ok_json(&ada, &push_args(&file, &org, &team_project));
    let outgoing = &pushed["projects"][0]["outgoing"];
    assert!(outgoing["modified"].get("req_b").is_none(), "{pushed}");
    assert_eq!(outgoing["modified"]["req_a"], "Request req_a", "{pushed}");
    let merged = pairs(&[("req_a", "https://a/ada"), ("req_b", "https://b/bob")]);
    assert_eq!(urls(&file), merged);
    ok_json(
        &bob,
        &[
            "pull",
            "--org",
            &org,
            "--project",
            &project,
            "-o",
            bob_file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        urls(&bob_file),
        merged,
        "Bob's change survived on the server"
    );
    backend.finish().await;
}
