//! One server, two generations of the app at the same time: a teammate on Insomnia 10.x and one
//! on Insomnia 13 share an organization and sync through it concurrently, each making the calls
//! its app makes (`interop/sync-client.js --app 10|13`, built only on the npm packages the app
//! uses). The 13 client unlocks its keys from `/v3/users/me` and `/v3/users/me/encryption-keys`,
//! finds projects with `projects(allProjects: true)` and `teamProjectId`, pushes to a branch with
//! a `/` and refuses any GraphQL answer without `data`; the 10.x client keeps `/auth/whoami`,
//! `projects(teamId, teamProjectId)` and `master`. Each then pulls what the other pushed, every
//! snapshot and blob id re-checked, on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use serde_json::{Value, json};
use support::{Server, run_json, sign_up, sync_client, trust_teammate};

fn admin_url() -> String {
    std::env::var("HYPNOS_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh PostgreSQL database for one test, dropped when the test ends.
struct ScratchDatabase {
    name: String,
    url: String,
}

impl ScratchDatabase {
    fn new() -> Self {
        let name = hypnos_crypto::random::prefixed_id("hypnos_two_apps")
            .unwrap()
            .to_lowercase();
        psql(&format!("CREATE DATABASE {name}"));
        let admin = admin_url();
        let (base, _) = admin.rsplit_once('/').unwrap();
        Self {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

fn psql(statement: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let admin = sqlx::PgPool::connect(&admin_url()).await.unwrap();
            sqlx::raw_sql(sqlx::AssertSqlSafe(statement.to_owned()))
                .execute(&admin)
                .await
                .unwrap();
        });
}

/// A workspace with one request, as the app's database holds them.
fn documents(workspace: &str, request: &str, url: &str) -> Value {
    json!([
        {
            "_id": workspace, "type": "Workspace", "parentId": "proj_local",
            "modified": 1_764_000_000_000_u64, "created": 1_764_000_000_000_u64,
            "name": format!("{workspace} workspace"), "description": "", "scope": "collection"
        },
        {
            "_id": request, "type": "Request", "parentId": workspace,
            "modified": 1_764_000_000_000_u64, "created": 1_764_000_000_000_u64,
            "name": "Get", "method": "GET", "url": url, "body": {}, "parameters": [],
            "headers": [], "authentication": {}, "metaSortKey": -1, "isPrivate": false,
            "settingStoreCookies": true, "settingSendCookies": true
        }
    ])
}

/// The documents as a pull returns them: no `modified`, a workspace without its parent.
fn as_stored(documents: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = documents
        .as_array()
        .unwrap()
        .iter()
        .map(|document| {
            let mut document = document.as_object().unwrap().clone();
            document.remove("modified");
            if document["type"] == "Workspace" {
                document.insert("parentId".into(), Value::Null);
            }
            Value::Object(document)
        })
        .collect();
    out.sort_by(|a, b| a["_id"].as_str().cmp(&b["_id"].as_str()));
    out
}

struct Teammate {
    email: &'static str,
    app: &'static str,
    branch: &'static str,
    home: tempfile::TempDir,
    documents: Value,
}

impl Teammate {
    fn passphrase(&self) -> String {
        format!("{} passphrase", self.email)
    }

    fn push(&self, server: &str, org: &str, team_project: &str) -> Value {
        let file = self.home.path().join("documents.json");
        std::fs::write(&file, self.documents.to_string()).unwrap();
        sync_client(&[
            "push",
            "--app",
            self.app,
            "--server",
            server,
            "--email",
            self.email,
            "--passphrase",
            &self.passphrase(),
            "--org",
            org,
            "--team-project",
            team_project,
            "--documents",
            file.to_str().unwrap(),
            "--branch",
            self.branch,
            "--message",
            &format!("from Insomnia {}", self.app),
        ])
    }

    fn pull(&self, server: &str, project: &str, branch: &str) -> Value {
        sync_client(&[
            "pull",
            "--app",
            self.app,
            "--server",
            server,
            "--email",
            self.email,
            "--passphrase",
            &self.passphrase(),
            "--project",
            project,
            "--branch",
            branch,
        ])
    }
}

fn both_apps_sync_through_one_server(server: &Server) {
    let old = Teammate {
        email: "ten@two-apps.test",
        app: "10",
        branch: "master",
        home: tempfile::tempdir().unwrap(),
        documents: documents(
            "wrk_10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "req_10aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "https://ten.example/",
        ),
    };
    let new = Teammate {
        email: "thirteen@two-apps.test",
        app: "13",
        branch: "feature/login",
        home: tempfile::tempdir().unwrap(),
        documents: documents(
            "wrk_13bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "req_13bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
            "https://thirteen.example/",
        ),
    };
    sign_up(&old.home, server, old.email);
    sign_up(&new.home, server, new.email);
    let org = run_json(&old.home, &["org", "create", "Both apps"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let team_project = run_json(&old.home, &["team-project", "create", &org, "Shared"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    trust_teammate(&old.home, &new.home, new.email);
    let invitation = run_json(&old.home, &["org", "invite", &org, new.email])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    run_json(&new.home, &["invites", "accept", &invitation]);

    // Both push at once, each its own project: each new project's key is encrypted to both.
    let (pushed_old, pushed_new) = std::thread::scope(|scope| {
        let old_push = scope.spawn(|| old.push(&server.url, &org, &team_project));
        let new_push = scope.spawn(|| new.push(&server.url, &org, &team_project));
        (old_push.join().unwrap(), new_push.join().unwrap())
    });
    let project_old = pushed_old["projectId"].as_str().unwrap().to_owned();
    let project_new = pushed_new["projectId"].as_str().unwrap().to_owned();
    assert_ne!(project_old, project_new);

    // Each pulls the other's (and its own) at once.
    let pulls = std::thread::scope(|scope| {
        let jobs = [
            scope.spawn(|| old.pull(&server.url, &project_new, new.branch)),
            scope.spawn(|| new.pull(&server.url, &project_old, old.branch)),
            scope.spawn(|| new.pull(&server.url, &project_new, new.branch)),
            scope.spawn(|| old.pull(&server.url, &project_old, old.branch)),
        ];
        jobs.map(|job| job.join().unwrap())
    });
    let expectations = [
        (&pushed_new, &new.documents),
        (&pushed_old, &old.documents),
        (&pushed_new, &new.documents),
        (&pushed_old, &old.documents),
    ];
    for (pulled, (pushed, documents)) in pulls.iter().zip(expectations) {
        assert_eq!(pulled["projectId"], pushed["projectId"], "{pulled}");
        assert_eq!(pulled["snapshot"], pushed["snapshot"], "{pulled}");
        assert_eq!(
            pulled["documents"].as_array().unwrap(),
            &as_stored(documents),
            "{pulled}"
        );
    }

    // The command line sees both branches, the `/` one included.
    let branches = run_json(&old.home, &["branches", &project_new]);
    assert!(branches.to_string().contains("feature/login"), "{branches}");
}

#[test]
fn insomnia_10_and_13_sync_through_one_server_sqlite() {
    both_apps_sync_through_one_server(&Server::start());
}

#[test]
fn insomnia_10_and_13_sync_through_one_server_postgres() {
    let database = ScratchDatabase::new();
    let server = Server::start_on(database.url.clone(), tempfile::tempdir().unwrap());
    both_apps_sync_through_one_server(&server);
    drop(server);
}
