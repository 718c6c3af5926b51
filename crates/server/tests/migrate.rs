//! `hypnos admin migrate` (`storage::transfer`): a SQLite database filled through the real
//! server over HTTP moves to a fresh PostgreSQL database, a server started on that logs every
//! account in with its passphrase and gives each exactly the branches, snapshots and blobs it
//! gave before; a target holding rows is refused and left as it was; a row changed in the
//! target after a copy is found by the verification, and a copy that does not match is rolled
//! back whole; tables larger than a batch arrive intact.

#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use common::app::{Actor, TestApp};
use common::http::users::login;
use common::vcs::{self, Vcs};
use common::{STORY_TIMEOUT, TestDb, bounded};
use hypnos_crypto::sync::EMPTY_HASH;
use hypnos_server::storage::Role;
use hypnos_server::storage::transfer::{self, Progress, Report, TransferError};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Runs the migration, collecting the tables whose copy progress was reported.
async fn migrate(source: &TestDb, target: &TestDb) -> (Result<Report, TransferError>, Vec<String>) {
    let mut reported = Vec::new();
    let outcome = transfer::migrate(&source.url, &target.url, &mut |progress| {
        if let Progress::Copying {
            table,
            copied,
            total,
        } = progress
            && copied == total
        {
            reported.push(table.to_owned());
        }
    })
    .await;
    (outcome, reported)
}

/// The data of a GraphQL operation sent with `session`.
async fn gql(app: &TestApp, session: &str, query: &str, variables: Value) -> Value {
    let (status, answer) = app
        .send_as(
            session,
            Method::POST,
            "/graphql",
            Some(json!({ "query": query, "variables": variables })),
        )
        .await;
    vcs::data_or_error((status, answer)).unwrap()
}

/// Everything `session`'s account pulls of `projects`: per project its key as stored for the
/// account, its branches, each branch's snapshots in order with their states, and the content
/// of every blob they name, as the server hands them out.
async fn pulled(app: &TestApp, session: &str, projects: &[&str]) -> Value {
    let mut seen = serde_json::Map::new();
    for project in projects {
        let key = gql(
            app,
            session,
            vcs::PROJECT_KEY,
            json!({ "projectId": project }),
        )
        .await;
        let branches = gql(app, session, vcs::BRANCHES, json!({ "projectId": project })).await;
        let mut names: Vec<String> = branches["branches"]
            .as_array()
            .unwrap()
            .iter()
            .map(|branch| branch["name"].as_str().unwrap().to_owned())
            .collect();
        names.sort();
        let mut per_branch = serde_json::Map::new();
        for name in names {
            let branch = gql(
                app,
                session,
                vcs::BRANCH,
                json!({ "projectId": project, "branch": name }),
            )
            .await;
            let ids = branch["branch"]["snapshots"].clone();
            let snapshots = gql(
                app,
                session,
                vcs::SNAPSHOTS,
                json!({ "projectId": project, "ids": ids }),
            )
            .await;
            let mut blob_ids: Vec<String> = snapshots["snapshots"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|snapshot| snapshot["state"].as_array().unwrap().clone())
                .map(|entry| entry["blob"].as_str().unwrap().to_owned())
                .collect();
            blob_ids.sort();
            blob_ids.dedup();
            let mut blobs = Vec::new();
            for chunk in blob_ids.chunks(hypnos_crypto::wire::sync::BLOBS_PER_QUERY) {
                let found = gql(
                    app,
                    session,
                    vcs::BLOBS,
                    json!({ "projectId": project, "ids": chunk }),
                )
                .await;
                blobs.extend(found["blobs"].as_array().unwrap().iter().cloned());
            }
            assert_eq!(blobs.len(), blob_ids.len(), "every blob named is pulled");
            per_branch.insert(
                name,
                json!({ "branch": branch, "snapshots": snapshots, "blobs": blobs }),
            );
        }
        seen.insert(
            (*project).to_owned(),
            json!({ "key": key, "branches": per_branch }),
        );
    }
    Value::Object(seen)
}

/// A document whose blob is `bytes` long of text that does not compress away.
fn big_request(id: &str, bytes: usize) -> Value {
    let mut body = String::with_capacity(bytes);
    while body.len() < bytes {
        body.push_str(&hypnos_crypto::random::prefixed_id("x").unwrap());
    }
    let mut doc = vcs::request(id, "big");
    doc["body"] = json!({ "text": body });
    doc
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_populated_sqlite_database_moves_to_postgresql_and_every_account_pulls_the_same() {
    bounded(STORY_TIMEOUT, async {
        let source = TestDb::sqlite();
        let target = TestDb::postgres().await;
        let app = TestApp::start(&source).await;
        let [alice, bob, carol, dave] = app.actors(["alice", "bob", "carol", "dave"]).await;

        // A team with members of each role, a pending invitation, a team project with a
        // synced project (a key per member), history on two branches by two authors, and a
        // personal project with a blob of a few hundred kilobytes.
        let team = app.team(&alice, "Acme").await;
        app.join(&alice, &team, &bob, Role::Member).await;
        app.join(&alice, &team, &carol, Role::Admin).await;
        app.invite(&carol, &team, &dave, Role::Member).await;
        let team_project = alice.team_project(&team, "APIs").await;
        let key = alice
            .create_project(&team, Some(&team_project), "prj_shop", "wrk_shop", "Shop")
            .await;
        let first = alice
            .push(
                "prj_shop",
                &key,
                "master",
                EMPTY_HASH,
                &[vcs::request("req_1", "list"), vcs::request("req_2", "get")],
            )
            .await;
        let bob_key = bob.project_key("prj_shop").await;
        let second = bob
            .push(
                "prj_shop",
                &bob_key,
                "master",
                &first,
                &[
                    vcs::request("req_1", "list all"),
                    vcs::request("req_2", "get"),
                ],
            )
            .await;
        alice
            .push(
                "prj_shop",
                &key,
                "master",
                &second,
                &[
                    vcs::request("req_1", "list all"),
                    vcs::request("req_3", "put"),
                ],
            )
            .await;
        alice
            .push(
                "prj_shop",
                &key,
                "feature/login",
                EMPTY_HASH,
                &[vcs::request("req_3", "log in")],
            )
            .await;
        let own_key = dave
            .create_project(&dave.personal, None, "prj_mine", "wrk_mine", "Mine")
            .await;
        dave.push(
            "prj_mine",
            &own_key,
            "master",
            EMPTY_HASH,
            &[
                big_request("req_big", 600_000),
                vcs::request("req_4", "small"),
            ],
        )
        .await;
        // A failed log-in: a row in security_events, whose id is an identity on PostgreSQL.
        let (status, _) = login(&app.server, &app.http, "bob@example.com", "a wrong guess")
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED);

        let accounts: [(&Actor, &[&str]); 4] = [
            (&alice, &["prj_shop"]),
            (&bob, &["prj_shop"]),
            (&carol, &["prj_shop"]),
            (&dave, &["prj_mine"]),
        ];
        let mut before = Vec::new();
        for (actor, projects) in accounts {
            before.push(pulled(&app, &actor.session, projects).await);
        }
        let TestApp { server, .. } = app;
        server.stop().await;

        let (outcome, reported) = migrate(&source, &target).await;
        let report = outcome.unwrap();
        assert!(report.ok && report.committed, "{report:#?}");
        for table in [
            "accounts",
            "organizations",
            "memberships",
            "invitations",
            "blobs",
        ] {
            assert!(reported.iter().any(|t| t == table), "progress of {table}");
        }
        let row = |name: &str| report.tables.iter().find(|t| t.table == name).unwrap();
        assert_eq!(row("accounts").target_rows, Some(4));
        assert_eq!(row("invitations").target_rows, Some(1));
        assert_eq!(row("branches").target_rows, Some(3));
        assert_eq!(row("snapshots").target_rows, Some(5));
        assert_eq!(row("login_attempts").action, "skipped");
        assert_eq!(row("login_attempts").target_rows, None);
        assert!(row("sessions").target_rows >= Some(4));
        // The member counts the target's triggers computed are the source's.
        assert!(row("organizations").matches);
        assert_eq!(
            target
                .scalar("SELECT member_count FROM organizations WHERE name = 'Acme'")
                .await,
            3
        );

        let moved = TestApp::start(&target).await;
        // Sessions moved with the rest: a session of before still works.
        let (status, me) = moved
            .send_as(&bob.session, Method::GET, "/auth/whoami", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{me}");
        let mut sessions = Vec::new();
        for ((actor, projects), before) in accounts.into_iter().zip(before) {
            // Logging in runs SRP against the copied verifier and salts.
            let session = login(
                &moved.server,
                &moved.http,
                &actor.user.email,
                &actor.user.passphrase,
            )
            .await
            .unwrap();
            let after = pulled(&moved, &session, projects).await;
            assert_eq!(after, before, "{} pulls what it pulled", actor.user.email);
            sessions.push(session);
        }
        // Dave's invitation is still his to accept.
        let (status, invites) = moved
            .send_as(&sessions[3], Method::GET, "/v1/user/invites", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{invites}");
        assert_eq!(
            invites["invitations"][0]["organizationName"], "Acme",
            "{invites}"
        );
        assert_eq!(invites["invitations"].as_array().map(Vec::len), Some(1));
        // The server adds rows after the copied ones: a failed log-in's security event gets
        // an id past the copied events' (the identity was moved past them), not an error.
        let (status, _) = login(&moved.server, &moved.http, "bob@example.com", "wrong again")
            .await
            .unwrap_err();
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(
            target.scalar("SELECT COUNT(*) FROM security_events").await,
            2
        );
    })
    .await;
}

/// A small SQLite database: two accounts in a team with an audit trail; the server stopped.
async fn small_source() -> TestDb {
    let source = TestDb::sqlite();
    let app = TestApp::start(&source).await;
    let [alice, bob] = app.actors(["alice", "bob"]).await;
    let team = app.team(&alice, "Acme").await;
    app.join(&alice, &team, &bob, Role::Member).await;
    let TestApp { server, .. } = app;
    server.stop().await;
    source
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_holds_rows_is_refused_and_left_as_it_was() {
    bounded(STORY_TIMEOUT, async {
        let source = small_source().await;
        let target = TestDb::postgres().await;
        let app = TestApp::start(&target).await;
        let eve = app.actor("eve").await;
        let TestApp { server, .. } = app;
        server.stop().await;
        let tables = ["accounts", "organizations", "sessions", "security_events"];
        let mut before = Vec::new();
        for table in tables {
            before.push(vcs::count(&target, table).await);
        }

        let (outcome, reported) = migrate(&source, &target).await;
        let Err(TransferError::TargetNotEmpty(occupied)) = outcome else {
            panic!("a target with rows is refused: {outcome:?}");
        };
        assert!(occupied.iter().any(|t| t == "accounts"), "{occupied:?}");
        assert!(reported.is_empty(), "nothing was copied: {reported:?}");
        for (table, rows) in tables.into_iter().zip(before) {
            assert_eq!(vcs::count(&target, table).await, rows, "{table} unchanged");
        }
        let emails =
            target.scalar("SELECT COUNT(*) FROM accounts WHERE email <> 'eve@example.com'");
        assert_eq!(emails.await, 0, "no account of the source arrived");
        let moved = TestApp::start(&target).await;
        let (status, _) = moved
            .send_as(&eve.session, Method::GET, "/auth/whoami", None)
            .await;
        assert_eq!(status, StatusCode::OK, "the target's own data still works");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_changed_in_the_target_after_the_copy_fails_the_verification() {
    bounded(STORY_TIMEOUT, async {
        let source = small_source().await;
        let target = TestDb::postgres().await;
        let (outcome, _) = migrate(&source, &target).await;
        assert!(outcome.unwrap().committed);
        let verified = transfer::verify(&source.url, &target.url, &mut |_| {})
            .await
            .unwrap();
        assert!(verified.ok, "{verified:#?}");
        assert!(verified.tables.iter().all(|t| t.action != "copied"));

        // One account's name and one tenant row (seen only through row-level security by the
        // server's role) change; the counts stay.
        target
            .execute(
                "UPDATE accounts SET first_name = 'Mallory' WHERE email = 'bob@example.com';
                 UPDATE memberships SET role = 'admin' WHERE role = 'member';",
            )
            .await;
        let tampered = transfer::verify(&source.url, &target.url, &mut |_| {})
            .await
            .unwrap();
        assert!(!tampered.ok);
        let differing: Vec<&str> = tampered
            .tables
            .iter()
            .filter(|t| !t.matches)
            .map(|t| t.table.as_str())
            .collect();
        // organizations too: the trigger recounted its admins.
        assert_eq!(differing, ["accounts", "organizations", "memberships"]);
        let accounts = &tampered.tables[0];
        assert_eq!(accounts.source_rows, 2);
        assert_eq!(accounts.target_rows, Some(2));
        assert_ne!(accounts.source_checksum, accounts.target_checksum);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn urls_of_other_kinds_and_missing_files_are_usage_errors() {
    let target = TestDb::postgres().await;
    let missing = "sqlite:///nonexistent/hypnos.db?mode=rwc";
    for (from, to) in [
        (target.url.as_str(), target.url.as_str()),
        (missing, target.url.as_str()),
        ("sqlite::memory:", target.url.as_str()),
    ] {
        let outcome = transfer::migrate(from, to, &mut |_| {}).await;
        assert!(
            matches!(&outcome, Err(error) if error.is_usage()),
            "{outcome:?}"
        );
    }
    assert!(!std::path::Path::new("/nonexistent/hypnos.db").exists());
    let source = TestDb::sqlite();
    let outcome = transfer::migrate(&source.url, &source.url, &mut |_| {}).await;
    assert!(matches!(&outcome, Err(error) if error.is_usage()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_larger_than_a_batch_cross_batches_and_organizations_intact() {
    bounded(STORY_TIMEOUT, async {
        let source = small_source().await;
        // Rows the store would write one by one over months, written here at once: 1,300 audit
        // events spread over the three organizations (several batches of 500, each
        // organization's rows in a scope of their own), and three blobs of 3 MB (more than a
        // batch's 4 MiB of values together).
        source
            .execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1300),
                      o(id, k) AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1
                                   FROM organizations)
                 INSERT INTO audit_events
                     (organization_id, id, at, actor_account_id, action, target, details)
                 SELECT o.id, printf('evt_bulk_%05d', i), i, NULL, 'test.bulk', '', '{}'
                 FROM n JOIN o ON o.k = n.i % 3;
                 INSERT INTO projects
                     (organization_id, id, team_project_id, name, root_document_id, created_at)
                 SELECT id, 'prj_big', NULL, 'Big', 'wrk_big', 0
                 FROM organizations WHERE name = 'Acme';
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3)
                 INSERT INTO blobs (organization_id, project_id, id, content, size)
                 SELECT p.organization_id, p.id, 'blob_' || i, hex(randomblob(1500000)), 3000000
                 FROM n, projects p WHERE p.id = 'prj_big';",
            )
            .await;
        let events = source.scalar("SELECT COUNT(*) FROM audit_events").await;
        let target = TestDb::postgres().await;

        let (outcome, _) = migrate(&source, &target).await;
        let report = outcome.unwrap();
        assert!(report.ok && report.committed, "{report:#?}");
        let row = |name: &str| report.tables.iter().find(|t| t.table == name).unwrap();
        assert_eq!(row("audit_events").target_rows, Some(events as u64));
        assert_eq!(row("blobs").target_rows, Some(3));
        // Counted outside the report, as the test's admin role (unbound by row-level security).
        assert_eq!(vcs::count(&target, "audit_events").await, events);
        assert_eq!(
            target
                .scalar("SELECT SUM(LENGTH(content))::bigint FROM blobs")
                .await,
            9_000_000
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_that_does_not_match_is_rolled_back_whole() {
    bounded(STORY_TIMEOUT, async {
        let source = small_source().await;
        let target = TestDb::postgres().await;
        // A target that changes what it is given: every account arrives renamed.
        target
            .execute(
                "CREATE FUNCTION rename_accounts() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN NEW.first_name := 'Mallory'; RETURN NEW; END $$;
                 CREATE TRIGGER rename_accounts BEFORE INSERT ON accounts
                     FOR EACH ROW EXECUTE FUNCTION rename_accounts();",
            )
            .await;

        let (outcome, reported) = migrate(&source, &target).await;
        let report = outcome.unwrap();
        assert!(!report.ok && !report.committed, "{report:#?}");
        assert!(reported.iter().any(|t| t == "audit_events"), "the copy ran");
        let differing: Vec<&str> = report
            .tables
            .iter()
            .filter(|t| !t.matches)
            .map(|t| t.table.as_str())
            .collect();
        assert_eq!(differing, ["accounts"]);
        for table in ["accounts", "organizations", "memberships", "sessions"] {
            assert_eq!(vcs::count(&target, table).await, 0, "{table} stays empty");
        }
    })
    .await;
}
