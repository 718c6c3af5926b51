//! Fixtures of the storage stories: accounts, sessions, attempts, teams, projects, invitations,
//! snapshots, blobs and vaults, and the moment [`T0`] they happen at.

use std::sync::Arc;

use hypnos_server::storage::{
    Account, AuditEvent, Invitation, LoginAttempt, NewAccount, NewProjectKey, NewSession, NewTeam,
    Project, Role, SecretHash, Snapshot, Store, Vault, VaultVerification,
};

use crate::common::TestDb;

// The typed ids every story passes to the store.
pub use hypnos_server::storage::{AccountId, OrgId, ProjectId};

/// A moment in 2023, in unix milliseconds.
pub const T0: i64 = 1_700_000_000_000;

/// A distinct fake SHA-256 value.
pub fn hash(n: u8) -> SecretHash {
    [n; 32]
}

/// A sign-up for `acct_<name>` with e-mail `<name>@example.com` and personal org `org_<name>`.
pub fn new_account(name: &str) -> NewAccount {
    NewAccount {
        account: Account {
            id: format!("acct_{name}").into(),
            email: format!("{name}@example.com"),
            first_name: format!("First {name}"),
            last_name: format!("Last {name}"),
            salt_key: format!("salt-key-{name}"),
            salt_auth: format!("salt-auth-{name}"),
            salt_enc: format!("salt-enc-{name}"),
            verifier: format!("verifier-{name}"),
            public_key: format!("public-key-{name}"),
            enc_private_key: format!("enc-private-key-{name}"),
            enc_symmetric_key: format!("enc-symmetric-key-{name}"),
            created_at: T0,
            updated_at: T0,
        },
        personal_org_id: format!("org_{name}").into(),
    }
}

pub async fn sign_up(store: &Arc<dyn Store>, name: &str) -> AccountId {
    store.create_account(new_account(name)).await.unwrap().id
}

pub async fn start_session(
    store: &Arc<dyn Store>,
    account_id: &str,
    id_hash: SecretHash,
    now_ms: i64,
) {
    store
        .create_session(NewSession {
            id_hash,
            account_id: AccountId::from(account_id.to_owned()),
            now_ms,
            idle_ttl_ms: 60_000,
            absolute_ttl_ms: 3_600_000,
        })
        .await
        .unwrap();
}

pub fn attempt(id: &str, account_id: Option<&str>, expires_at: i64) -> LoginAttempt {
    LoginAttempt {
        id: id.to_owned(),
        account_id: account_id.map(AccountId::from),
        email: "someone@example.com".to_owned(),
        m1: vec![1; 32],
        m2: vec![2; 32],
        key_hash: vec![3; 32],
        created_at: T0,
        expires_at,
    }
}

/// A team `org_id` (named `Team <org_id>`) owned by `owner`, made by the store as the API makes
/// one (with its `organization.created` event).
pub async fn create_team(store: &Arc<dyn Store>, org_id: &str, owner: &str) {
    let made = NewTeam {
        id: org_id.into(),
        name: format!("Team {org_id}"),
        owner_account_id: owner.into(),
        now_ms: T0,
    };
    let created = event(
        &format!("evt_team_{org_id}"),
        org_id,
        T0,
        "organization.created",
    );
    store.create_team(made, created).await.unwrap();
}

/// `member` joins `org_id` as a member through the store: `inviter`'s invitation, accepted.
pub async fn join(store: &Arc<dyn Store>, org_id: &str, inviter: &str, member: &str) {
    let id = format!("inv_{org_id}_{member}");
    let invitation = Invitation {
        id: id.clone(),
        organization_id: org_id.into(),
        invitee_account_id: member.into(),
        inviter_account_id: inviter.into(),
        role: Role::Member,
        created_at: T0,
        expires_at: T0 + 1_000_000,
    };
    let invited = event(
        &format!("evt_invite_{id}"),
        org_id,
        T0,
        "invitation.created",
    );
    store
        .create_invitation(invitation, Vec::new(), invited)
        .await
        .unwrap();
    let accepted = event(&format!("evt_accept_{id}"), "", T0, "invitation.accepted");
    store
        .accept_invitation(&AccountId::from(member), &id, T0, accepted)
        .await
        .unwrap();
}

/// A team organization `org_id` owned by `owner` (who is its owner member), in plain SQL: for
/// the stories that count every row their fixtures wrote (the store would add audit events).
pub async fn make_team(db: &TestDb, org_id: &str, owner: &str) {
    db.execute(&format!(
        "INSERT INTO organizations (id, name, display_name, kind, owner_account_id, created_at) \
         VALUES ('{org_id}', '{org_id}', 'Team {org_id}', 'team', '{owner}', {T0}); \
         INSERT INTO memberships (organization_id, account_id, role, created_at) \
         VALUES ('{org_id}', '{owner}', 'owner', {T0});"
    ))
    .await;
}

/// `account_id` a member of `org_id`, in plain SQL (no invitation, no audit event), for the same
/// stories.
pub async fn add_member(db: &TestDb, org_id: &str, account_id: &str) {
    db.execute(&format!(
        "INSERT INTO memberships (organization_id, account_id, role, created_at) \
         VALUES ('{org_id}', '{account_id}', 'member', {T0});"
    ))
    .await;
}

/// A project in `org_id` with a branch, a snapshot on it, a blob, an audit event and a project
/// key for each of `key_holders` (who must be members), in plain SQL: the stories that use it
/// count these rows exactly.
pub async fn make_project(db: &TestDb, org_id: &str, project_id: &str, key_holders: &[&str]) {
    let mut sql = format!(
        "INSERT INTO projects (organization_id, id, team_project_id, name, root_document_id, \
                               created_at) \
         VALUES ('{org_id}', '{project_id}', NULL, 'Project', 'wrk_1', {T0}); \
         INSERT INTO branches (organization_id, project_id, name, created_at, modified_at) \
         VALUES ('{org_id}', '{project_id}', 'master', {T0}, {T0}); \
         INSERT INTO snapshots (organization_id, project_id, id, parent, created, author, name, \
                                description, state) \
         VALUES ('{org_id}', '{project_id}', 'snap_1', '', '2023-11-14T22:13:20Z', 'acct_x', \
                 'first', '', '[]'); \
         INSERT INTO branch_snapshots (organization_id, project_id, branch, position, snapshot_id) \
         VALUES ('{org_id}', '{project_id}', 'master', 0, 'snap_1'); \
         INSERT INTO blobs (organization_id, project_id, id, content, size) \
         VALUES ('{org_id}', '{project_id}', 'blob_1', 'ciphertext', 10); \
         INSERT INTO audit_events (organization_id, id, at, actor_account_id, action, target, \
                                   details) \
         VALUES ('{org_id}', 'evt_{project_id}', {T0}, NULL, 'project.create', '{project_id}', '{{}}');"
    );
    for holder in key_holders {
        sql.push_str(&format!(
            "INSERT INTO project_keys (organization_id, project_id, account_id, \
                                       enc_symmetric_key, created_at) \
             VALUES ('{org_id}', '{project_id}', '{holder}', 'wrapped-key', {T0});"
        ));
    }
    db.execute(&sql).await;
}

/// An invitation in `org_id` from `inviter` to `invitee`, with one invitation key for a project
/// that does not exist: plain SQL, as the store refuses such a key.
pub async fn make_invitation(db: &TestDb, org_id: &str, id: &str, inviter: &str, invitee: &str) {
    db.execute(&format!(
        "INSERT INTO invitations (organization_id, id, invitee_account_id, inviter_account_id, \
                                  role, created_at, expires_at) \
         VALUES ('{org_id}', '{id}', '{invitee}', '{inviter}', 'member', {T0}, {T0} + 1000000); \
         INSERT INTO invitation_keys (organization_id, invitation_id, project_id, \
                                      enc_symmetric_key) \
         VALUES ('{org_id}', '{id}', 'prj_any', 'sealed-key');"
    ))
    .await;
}

pub fn event(id: &str, organization_id: &str, at: i64, action: &str) -> AuditEvent {
    AuditEvent {
        id: id.into(),
        organization_id: organization_id.into(),
        at,
        actor_account_id: Some("acct_alice".into()),
        action: action.into(),
        target: organization_id.into(),
        details: "{}".into(),
    }
}

pub fn project(org: &str, id: &str) -> Project {
    Project {
        id: id.into(),
        organization_id: org.into(),
        team_project_id: None,
        name: format!("Project {id}"),
        root_document_id: "wrk_1".into(),
        created_at: T0,
    }
}

pub fn key_for(account: &str) -> NewProjectKey {
    NewProjectKey {
        account_id: account.into(),
        enc_symmetric_key: format!("key-for-{account}"),
        auto_linked: false,
    }
}

/// A snapshot whose id is what the protocol's formula gives for its parent and blobs.
pub fn snapshot(project_id: &str, parent: &str, blobs: &[&str]) -> Snapshot {
    let state: Vec<serde_json::Value> = blobs
        .iter()
        .enumerate()
        .map(|(i, blob)| serde_json::json!({"key": format!("req_{i}"), "blob": blob, "name": "r"}))
        .collect();
    Snapshot {
        id: hypnos_crypto::sync::snapshot_id(project_id, parent, blobs),
        parent: parent.into(),
        created: "2026-11-28T08:00:00.000Z".into(),
        author: "acct_alice".into(),
        name: "a change".into(),
        description: String::new(),
        state: serde_json::Value::Array(state).to_string(),
    }
}

pub fn blob(id: &str) -> hypnos_server::storage::Blob {
    hypnos_server::storage::Blob {
        id: id.into(),
        content: format!("{{\"ciphertext\":\"{id}\"}}"),
    }
}

pub fn vault(account_id: &str, salt: &str, now_ms: i64) -> Vault {
    Vault {
        account_id: account_id.into(),
        salt: salt.to_owned(),
        verifier: format!("verifier-{salt}"),
        created_at: now_ms,
        updated_at: now_ms,
    }
}

pub fn verification(id: &str, account_id: &str, expires_at: i64) -> VaultVerification {
    VaultVerification {
        id: id.to_owned(),
        account_id: account_id.into(),
        m1: vec![1; 32],
        m2: vec![2; 32],
        created_at: T0,
        expires_at,
    }
}
