//! `hypnos signup | login | whoami | logout` against the real server binary, as a user or a
//! script runs them.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod support;

use assert_cmd::Command;
use hypnos_client::ClientError;
use serde_json::Value;
use support::{Server, gql, hypnos, json_of, run_json, session_of, sign_up, trust_teammate};

#[test]
fn the_account_commands_sign_up_log_in_and_out() {
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();

    // Sign-up logs in too; --server and --json may come after the subcommand.
    let out = hypnos(&home)
        .args([
            "signup",
            "--email",
            " Ada@Example.com ",
            "--first-name",
            "Ada",
            "--last-name",
            "Lovelace",
        ])
        .args(["--server", &server.url, "--json"])
        .env("HYPNOS_PASSPHRASE", "correct horse battery staple")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let created = json_of(&out);
    let account_id = created["id"].as_str().unwrap().to_owned();
    assert!(account_id.starts_with("acct_"), "{created}");
    assert_eq!(created["email"], "ada@example.com");

    // The session file is the user's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("session.json"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let me = json_of(
        &hypnos(&home)
            .args(["--json", "whoami"])
            .assert()
            .success()
            .get_output()
            .stdout,
    );
    assert_eq!(me["accountId"], account_id.as_str());
    assert_eq!(me["firstName"], "Ada");
    let text = hypnos(&home)
        .arg("whoami")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert!(String::from_utf8(text).unwrap().contains("ada@example.com"));

    // Log-out ends the session on the server and here; then whoami says what to do.
    let out = hypnos(&home)
        .args(["logout", "--json"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["loggedOut"], true);
    let failed = hypnos(&home)
        .arg("whoami")
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(failed).unwrap().contains("hypnos login"),
        "says what to do"
    );

    // Log-in from a script (passphrase on stdin); a wrong passphrase fails clearly.
    let failed_login = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "login",
            "--email",
            "ada@example.com",
            "--passphrase-stdin",
        ])
        .write_stdin("wrong passphrase\n")
        .assert()
        .code(1);
    let said = failed_login.get_output().stderr.clone();
    assert!(
        String::from_utf8(said)
            .unwrap()
            .contains("wrong e-mail or passphrase")
    );
    let out = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "--json",
            "login",
            "--email",
            "ada@example.com",
            "--passphrase-stdin",
        ])
        .write_stdin("correct horse battery staple\n")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["accountId"], account_id.as_str());
    hypnos(&home).arg("whoami").assert().success();

    // Signing up an e-mail that is taken fails with the server's reason.
    let taken = hypnos(&home)
        .args([
            "--server",
            &server.url,
            "signup",
            "--email",
            "ada@example.com",
        ])
        .env("HYPNOS_PASSPHRASE", "another passphrase")
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(taken).unwrap().contains("EMAIL_TAKEN"));
}

#[test]
fn client_commands_explain_usage_errors() {
    let home = tempfile::tempdir().unwrap();
    hypnos(&home).arg("login").assert().code(2);
    let help = hypnos(&home)
        .args(["login", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8(help).unwrap();
    for flag in [
        "--email",
        "--passphrase-stdin",
        "--server",
        "HYPNOS_SERVER",
        "--json",
    ] {
        assert!(help.contains(flag), "{flag} missing from:\n{help}");
    }
}

#[test]
fn a_team_is_made_joined_and_left_from_the_command_line() {
    let server = Server::start();
    let (ada_home, bob_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&ada_home, &server, "ada@example.com");
    let bob = sign_up(&bob_home, &server, "bob@example.com");

    let orgs = run_json(&ada_home, &["org", "list"]);
    assert_eq!(orgs[0]["metadata"]["organizationType"], "personal");
    let team = run_json(&ada_home, &["org", "create", "Acme"]);
    let team = team["id"].as_str().unwrap().to_owned();
    let made = run_json(&ada_home, &["team-project", "create", &team, "Design"]);
    assert_eq!(made["organizationId"], team.as_str());

    // Ada has never pinned Bob's key: without a terminal to ask on, the invitation is refused,
    // showing the fingerprint to compare. Once she has checked it with him and trusted it,
    // she invites Bob; Bob sees it and accepts; both are members and see the team project.
    let refused = hypnos(&ada_home)
        .args(["org", "invite", &team, "bob@example.com"])
        .assert()
        .code(1);
    let refused = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        refused.contains("new to this machine") && refused.contains("hypnos keys trust"),
        "{refused}"
    );
    assert_eq!(run_json(&bob_home, &["invites"]), serde_json::json!([]));
    trust_teammate(&ada_home, &bob_home, "bob@example.com");
    let invited = run_json(
        &ada_home,
        &["org", "invite", &team, "bob@example.com", "--role", "admin"],
    );
    let invitation = invited["id"].as_str().unwrap().to_owned();
    let mine = run_json(&bob_home, &["invites"]);
    assert_eq!(mine[0]["id"], invitation.as_str());
    assert_eq!(mine[0]["organizationName"], "Acme");
    let joined = run_json(&bob_home, &["invites", "accept", &invitation]);
    assert_eq!(joined["organizationId"], team.as_str());
    let members = run_json(&bob_home, &["org", "members", &team]);
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap(),
                m["role_name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        roles,
        [("ada@example.com", "owner"), ("bob@example.com", "admin")]
    );
    let projects = run_json(&bob_home, &["team-project", "list", &team]);
    assert_eq!(projects[0]["name"], "Design");

    // Bob leaves; Ada, the owner, cannot.
    run_json(&bob_home, &["org", "leave", &team]);
    let after = run_json(&ada_home, &["org", "members", &team]);
    assert!(!after.to_string().contains(&bob));
    let refused = hypnos(&ada_home)
        .args(["org", "leave", &team])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(refused).unwrap().contains("OWNER_STAYS"));

    // Invited again, Bob declines: the invitation is gone and he is not a member.
    let again = run_json(&ada_home, &["org", "invite", &team, "bob@example.com"]);
    let again = again["id"].as_str().unwrap().to_owned();
    let declined = run_json(&bob_home, &["invites", "decline", &again]);
    assert_eq!(declined["declined"], true);
    assert_eq!(run_json(&bob_home, &["invites"]), serde_json::json!([]));
    let after = run_json(&ada_home, &["org", "members", &team]);
    assert!(!after.to_string().contains(&bob));

    // Inviting someone without an account says so.
    let failed = hypnos(&ada_home)
        .args(["org", "invite", &team, "nobody@example.com"])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(failed).unwrap().contains("sign up first"));
}

/// After a teammate's reset, `hypnos share` refuses the changed public key until the sharer
/// accepts it (having compared fingerprints), then gives the teammate the project key again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_pinned_and_shared_again_after_a_reset() {
    let server = Server::start();
    let (ada_home, bob_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    sign_up(&ada_home, &server, "ada@example.com");
    sign_up(&bob_home, &server, "bob@example.com");
    let team = run_json(&ada_home, &["org", "create", "Acme"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited = run_json(
        &ada_home,
        &[
            "org",
            "invite",
            &team,
            "bob@example.com",
            "--accept-new-key",
        ],
    );
    run_json(
        &bob_home,
        &["invites", "accept", invited["id"].as_str().unwrap()],
    );

    // A project with its key for both, made as the app makes it.
    let ada = session_of(&ada_home);
    let members = gql(&server, &ada, "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey } } }", serde_json::json!({"teamId": team})).await.unwrap();
    let key = hypnos_crypto::aes::AesKey::generate()
        .unwrap()
        .to_jwk()
        .to_json()
        .to_string();
    let team_keys: Vec<Value> = members["teamMemberKeys"]["memberKeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let public = hypnos_crypto::rsa::RsaPublicKey::from_jwk_json(m["publicKey"].as_str().unwrap()).unwrap();
            serde_json::json!({"accountId": m["accountId"], "encSymmetricKey": public.encrypt_string(&key).unwrap()})
        })
        .collect();
    let created = gql(&server, &ada, "mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!]) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys) { id } }", serde_json::json!({"name": "API", "id": "prj_abcdef", "rootDocumentId": "wrk_1", "teamId": team, "teamKeys": team_keys})).await;
    assert!(created.is_ok(), "{created:?}");

    // Fingerprints agree, seen from either side.
    let bobs_own = run_json(&bob_home, &["keys", "fingerprint"]);
    let seen_by_ada = run_json(&ada_home, &["keys", "fingerprint", "bob@example.com"]);
    assert_eq!(bobs_own["fingerprint"], seen_by_ada["fingerprint"]);

    // Bob resets his passphrase: new keys, and his project key is gone.
    let issued = Command::cargo_bin("hypnos")
        .unwrap()
        .args([
            "admin",
            "reset-token",
            "bob@example.com",
            "--database",
            &server.database,
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let issued = String::from_utf8(issued).unwrap();
    let token = issued.split_whitespace().last().unwrap();
    hypnos(&bob_home)
        .args([
            "--server",
            &server.url,
            "account",
            "reset",
            "--email",
            "bob@example.com",
            "--token",
            token,
        ])
        .env("HYPNOS_PASSPHRASE", "bob's new passphrase")
        .assert()
        .success();
    let bob = session_of(&bob_home);
    const KEY: &str =
        "query ($projectId: ID!) { projectKey(projectId: $projectId) { encSymmetricKey } }";
    let lost = gql(
        &server,
        &bob,
        KEY,
        serde_json::json!({"projectId": "prj_abcdef"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(lost, ClientError::NoAccess(_)) && lost.to_string().contains("invalid access"),
        "{lost}"
    );

    // Ada's share refuses the changed key, shares nothing; once she accepts it, Bob has his key.
    let refused = hypnos(&ada_home)
        .args(["share", &team])
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(refused)
            .unwrap()
            .contains("changed since you pinned it")
    );
    let lost = gql(
        &server,
        &bob,
        KEY,
        serde_json::json!({"projectId": "prj_abcdef"}),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(lost, ClientError::NoAccess(_)) && lost.to_string().contains("invalid access"),
        "still nothing shared"
    );
    let shared = run_json(&ada_home, &["share", &team, "--accept-new-key"]);
    assert_eq!(shared["created"], 1);
    let back = gql(
        &server,
        &bob,
        KEY,
        serde_json::json!({"projectId": "prj_abcdef"}),
    )
    .await;
    assert!(back.is_ok(), "{back:?}");
    // From now on the new key is the pinned one.
    assert_eq!(run_json(&ada_home, &["share", &team])["created"], 0);
}

/// `hypnos branches` and `hypnos log` read a project pushed by the app's protocol;
/// `hypnos passphrase change` and `hypnos account delete` do what they say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_passphrase_change_and_deletion() {
    use hypnos_crypto::sync::{EMPTY_HASH, blob_content, blob_id, seal_blob, snapshot_id};
    let server = Server::start();
    let home = tempfile::tempdir().unwrap();
    sign_up(&home, &server, "ada@example.com");
    let personal = run_json(&home, &["org", "list"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let session = session_of(&home);
    let me = run_json(&home, &["whoami"]);
    let key = hypnos_crypto::aes::AesKey::generate().unwrap();
    let members = gql(
        &server,
        &session,
        "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { publicKey } } }",
        serde_json::json!({"teamId": personal}),
    )
    .await
    .unwrap();
    let public = hypnos_crypto::rsa::RsaPublicKey::from_jwk_json(
        members["teamMemberKeys"]["memberKeys"][0]["publicKey"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let project = "prj_0a0b0c";
    gql(&server, &session, "mutation ($name: String!, $id: ID!, $rootDocumentId: ID!, $teamId: ID, $teamKeys: [ProjectCreateKeyInput!]) { projectCreate(name: $name, id: $id, rootDocumentId: $rootDocumentId, teamId: $teamId, teamKeys: $teamKeys) { id } }", serde_json::json!({"name": "API", "id": project, "rootDocumentId": "wrk_1", "teamId": personal, "teamKeys": [{"accountId": me["accountId"], "encSymmetricKey": public.encrypt_string(&key.to_jwk().to_json()).unwrap()}]})).await.unwrap();
    let content =
        blob_content(&serde_json::json!({"_id": "req_1", "type": "Request", "name": "Get"}));
    let blob = blob_id(&content);
    gql(&server, &session, "mutation ($project: ID!, $blobs: [BlobInput!]!) { blobsCreate(project: $project, blobs: $blobs) { count } }", serde_json::json!({"project": project, "blobs": [{"id": blob, "content": seal_blob(&key, &content).unwrap()}]})).await.unwrap();
    let pushed = gql(&server, &session, "mutation ($project: ID!, $snapshots: [SnapshotInput!]!, $branch: String!) { snapshotsCreate(project: $project, snapshots: $snapshots, branch: $branch) { id } }", serde_json::json!({"project": project, "branch": "master", "snapshots": [{"id": snapshot_id(project, EMPTY_HASH, &[blob.as_str()]), "parent": EMPTY_HASH, "created": "2026-11-28T09:00:00.000Z", "author": "", "name": "first", "description": "", "state": [{"key": "req_1", "blob": blob, "name": "Get"}]}]})).await;
    assert!(pushed.is_ok(), "{pushed:?}");

    assert_eq!(
        run_json(&home, &["branches", project]),
        serde_json::json!(["master"])
    );
    let log = run_json(&home, &["log", project]);
    assert_eq!(log[0]["message"], "first");
    assert_eq!(log[0]["author"], "ada@example.com");
    assert_eq!(log[0]["documents"], 1);

    // A new passphrase: the old one no longer logs in, the new one does.
    hypnos(&home)
        .args(["passphrase", "change"])
        .env("HYPNOS_PASSPHRASE", "ada@example.com passphrase")
        .env("HYPNOS_NEW_PASSPHRASE", "ada's new passphrase")
        .assert()
        .success();
    let login = |passphrase: &str| {
        hypnos(&home)
            .args([
                "--server",
                &server.url,
                "login",
                "--email",
                "ada@example.com",
                "--passphrase-stdin",
            ])
            .write_stdin(format!("{passphrase}\n"))
            .assert()
    };
    login("ada@example.com passphrase").code(1);
    login("ada's new passphrase").success();

    // Deletion needs the passphrase; afterwards nothing logs in.
    hypnos(&home)
        .args(["account", "delete", "--passphrase-stdin"])
        .write_stdin("not it\n")
        .assert()
        .code(1);
    hypnos(&home)
        .args(["account", "delete", "--passphrase-stdin"])
        .write_stdin("ada's new passphrase\n")
        .assert()
        .success();
    hypnos(&home).arg("whoami").assert().code(1);
    login("ada's new passphrase").code(1);
}
