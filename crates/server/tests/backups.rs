//! Backups under load: a SQLite database copied by `hypnos_server::backup` while pushes go on,
//! and a PostgreSQL database through the README's `pg_dump` recipe the same way; each restored
//! into a fresh server, where every project pulls to snapshots the original had, in the same
//! order, with every blob.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::{
    process::Command,
    sync::atomic::{AtomicBool, AtomicUsize, Ordering},
    time::Duration,
};

use common::{
    TestDb,
    app::{Actor, TestApp},
    http::{keys, users::User},
    vcs::{BLOBS, SNAPSHOTS, Vcs, request},
};
use hypnos_crypto::{aes::AesKey, sync::EMPTY_HASH};
use hypnos_server::ServerConfig;
use serde_json::json;

const PROJECTS: usize = 3;
/// Documents per push: each push adds this many new blobs.
const DOCUMENTS: usize = 20;

/// Alice's projects, their keys, and the snapshots each push was acknowledged with, in order.
struct Workload {
    projects: Vec<String>,
    keys: Vec<AesKey>,
}

impl Workload {
    async fn set_up(alice: &Actor) -> Self {
        let mut projects = Vec::new();
        let mut keys = Vec::new();
        for index in 0..PROJECTS {
            let project = format!("prj_backup{index}");
            keys.push(
                alice
                    .create_project(
                        &alice.personal,
                        None,
                        &project,
                        &format!("wrk_backup{index}"),
                        "Backed up",
                    )
                    .await,
            );
            projects.push(project);
        }
        Self { projects, keys }
    }

    /// Pushes round after round to every project until `stop` is set (and at least `least`
    /// rounds have run); the acknowledged snapshots per project. `rounds` counts finished rounds.
    async fn push_until(
        &self,
        alice: &Actor,
        stop: &AtomicBool,
        rounds: &AtomicUsize,
    ) -> Vec<Vec<String>> {
        let mut acknowledged = vec![Vec::<String>::new(); PROJECTS];
        let mut round = 0;
        while !stop.load(Ordering::SeqCst) {
            for (index, project) in self.projects.iter().enumerate() {
                let docs: Vec<_> = (0..DOCUMENTS)
                    .map(|doc| request(&format!("req_{doc}"), &format!("round {round} doc {doc}")))
                    .collect();
                let parent = acknowledged[index]
                    .last()
                    .map_or(EMPTY_HASH.to_owned(), Clone::clone);
                let id = alice
                    .push(project, &self.keys[index], "master", &parent, &docs)
                    .await;
                acknowledged[index].push(id);
            }
            round += 1;
            rounds.store(round, Ordering::SeqCst);
        }
        acknowledged
    }
}

/// Runs the push load, and `copy` once a few rounds are in; stops the load a few rounds after
/// the copy. The snapshots acknowledged per project, and how many rounds had finished when the
/// copy began.
async fn copy_under_load(
    alice: &Actor,
    workload: &Workload,
    copy: impl AsyncFnOnce(),
) -> (Vec<Vec<String>>, usize) {
    let stop = AtomicBool::new(false);
    let rounds = AtomicUsize::new(0);
    let load = workload.push_until(alice, &stop, &rounds);
    let copier = async {
        while rounds.load(Ordering::SeqCst) < 3 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let before = rounds.load(Ordering::SeqCst);
        copy().await;
        let after = rounds.load(Ordering::SeqCst);
        while rounds.load(Ordering::SeqCst) < after + 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        stop.store(true, Ordering::SeqCst);
        before
    };
    tokio::join!(load, copier)
}

/// On the restored server: each project's branch is the start of what the original
/// acknowledged (at least the rounds done before the copy began), and its newest snapshot's
/// every blob is there.
async fn check_restored(
    restored: &TestApp,
    alice: &Actor,
    workload: &Workload,
    acknowledged: &[Vec<String>],
    rounds_before_copy: usize,
) {
    let user = User::with_key(
        "alice@example.com",
        "alice's passphrase",
        keys::key_named("alice"),
    );
    let alice = restored.log_in_again(alice, user).await;
    for (index, project) in workload.projects.iter().enumerate() {
        let history = alice.branch(project, "master").await.unwrap();
        assert!(
            history.len() >= rounds_before_copy,
            "{project}: {} snapshots restored, {rounds_before_copy} were pushed before the copy",
            history.len()
        );
        assert_eq!(
            history,
            acknowledged[index][..history.len()],
            "{project}: the restored history is not the start of the original's"
        );
        let head = history.last().unwrap();
        let snapshots = alice
            .data(SNAPSHOTS, json!({ "ids": [head], "projectId": project }))
            .await
            .unwrap();
        let blobs: Vec<_> = snapshots["snapshots"][0]["state"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["blob"].clone())
            .collect();
        assert_eq!(blobs.len(), DOCUMENTS);
        let pulled = alice
            .data(BLOBS, json!({ "ids": blobs, "projectId": project }))
            .await
            .unwrap();
        let pulled = pulled["blobs"].as_array().unwrap();
        assert_eq!(pulled.len(), DOCUMENTS, "{project}: blobs missing");
        assert!(
            pulled
                .iter()
                .all(|blob| blob["content"].as_str().is_some_and(|c| !c.is_empty()))
        );
    }
}

fn config_on(url: &str) -> ServerConfig {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = Some(url.to_owned());
    config.login_rate_per_account = 1_000;
    config.login_rate_per_ip = 10_000;
    config
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_under_pushes_restores_whole() {
    let db = TestDb::sqlite();
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let workload = Workload::set_up(&alice).await;
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("hypnos-backup.db");
    let (acknowledged, rounds_before_copy) = copy_under_load(&alice, &workload, async || {
        let contents = hypnos_server::backup::backup(&db.url, &file).await.unwrap();
        assert!(contents.rows("snapshots") >= 3 * PROJECTS as i64);
    })
    .await;

    let restored_url = hypnos_server::storage::default_sqlite_url(&scratch.path().join("restored"));
    let contents = hypnos_server::backup::restore(&file, &restored_url)
        .await
        .unwrap();
    assert_eq!(contents.rows("accounts"), 1);
    let restored = TestApp::start_with(config_on(&restored_url)).await;
    check_restored(
        &restored,
        &alice,
        &workload,
        &acknowledged,
        rounds_before_copy,
    )
    .await;
}

#[tokio::test]
async fn a_backup_or_restore_never_overwrites() {
    let db = TestDb::sqlite();
    let _app = TestApp::start(&db).await;
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("backup.db");
    hypnos_server::backup::backup(&db.url, &file).await.unwrap();
    let first = std::fs::read(&file).unwrap();
    let again = hypnos_server::backup::backup(&db.url, &file)
        .await
        .unwrap_err();
    assert!(again.to_string().contains("never overwrites"), "{again}");
    assert_eq!(std::fs::read(&file).unwrap(), first);
    // The server's own database is in use: a restore onto it is refused.
    let onto = hypnos_server::backup::restore(&file, &db.url)
        .await
        .unwrap_err();
    assert!(onto.to_string().contains("move the database"), "{onto}");
    // A file that is not a database is refused before anything is written.
    let junk = scratch.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let target = scratch.path().join("fresh").join("hypnos.db");
    let url = format!("sqlite://{}?mode=rwc", target.display());
    let refused = hypnos_server::backup::restore(&junk, &url)
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("not a SQLite database"),
        "{refused}"
    );
    assert!(!target.exists());
}

/// The README's recipe: `pg_dump --format=custom` of the live database (as a superuser: the
/// tenant tables force row-level security, which only a superuser's dump reads whole), then
/// `pg_restore --no-owner --role=<the server's role>` into a new, empty database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_taken_under_pushes_restores_whole() {
    let db = TestDb::postgres().await;
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let workload = Workload::set_up(&alice).await;
    let scratch = tempfile::tempdir().unwrap();
    let dump = scratch.path().join("hypnos.dump");
    let (acknowledged, rounds_before_copy) = copy_under_load(&alice, &workload, async || {
        let admin_url = db.admin_url().to_owned();
        let dump = dump.clone();
        let output = tokio::task::spawn_blocking(move || {
            Command::new("pg_dump")
                .args(["--format=custom", "--file"])
                .arg(&dump)
                .arg(&admin_url)
                .output()
                .unwrap()
        })
        .await
        .unwrap();
        assert!(
            output.status.success(),
            "pg_dump: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    })
    .await;

    let target = TestDb::postgres_empty().await;
    let output = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--single-transaction"])
        .arg(format!("--role={}", common::db::APP_ROLE))
        .args(["--dbname", target.admin_url()])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "pg_restore: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let restored = TestApp::start_with(config_on(&target.url)).await;
    check_restored(
        &restored,
        &alice,
        &workload,
        &acknowledged,
        rounds_before_copy,
    )
    .await;
}
