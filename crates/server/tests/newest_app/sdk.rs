//! The v3 endpoints driven by the app's own generated SDK, and migration 0009's member counts.

use super::*;

common::on_both_backends!(
    timeout = STORY_TIMEOUT;
    the_sdk_drives_the_v3_endpoints,
    the_upgrade_counts_the_members_there_are,
);

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
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    app.many_teams(&alice).await;
    let v1 = v1_ids(&alice).await;
    let (_, whoami) = alice.get("/auth/whoami").await;

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
        teams_01_as_listed(out["spaces"].as_array().unwrap()),
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
    let app = TestApp::start(&db).await;
    let alice = app.actor("alice").await;
    let bob = app.actor("bob").await;
    let carol = app.actor("carol").await;
    let team = app.team(&alice, "Before").await;
    app.join(&alice, &team, &bob, Role::Admin).await;
    app.join(&bob, &team, &carol, Role::Member).await;
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
    let app = TestApp::start(&db).await;
    let counted = app.space(&alice, &team).await;
    assert_eq!(
        (&counted["total_members"], &counted["total_admins"]),
        (&json!(3), &json!(2)),
        "{counted}"
    );
    assert_eq!(app.space(&carol, &team).await["total_members"], 3);
    assert_eq!(app.space(&alice, &alice.personal).await["total_members"], 1);
    // And the triggers are back: a new member counts.
    let dave = app.actor("dave").await;
    app.join(&alice, &team, &dave, Role::Member).await;
    assert_eq!(app.space(&bob, &team).await["total_members"], 4);
}
