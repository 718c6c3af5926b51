//! Issue 12, "Tenants and roles": an invitation must not outlive its inviter's right to make it.
//! Over real HTTP, on SQLite and on PostgreSQL: an admin invites a second account of its own as
//! admin, then is removed, demoted, or leaves; the invitation goes with its right, and the
//! accept is refused. An invitation left behind anyway (made before this rule) is refused when
//! accepted and deleted. The project keys a removed member shared to others stay.
#![allow(clippy::unwrap_used, reason = "tests may panic")]

mod common;

use std::time::Duration;

use common::app::{Actor, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// No test may hang: each story gets this long.
const STORY_TIMEOUT: Duration = Duration::from_secs(120);

common::on_both_backends!(
    timeout = STORY_TIMEOUT;
    removed_admins_invitation_cannot_be_accepted,
    demoted_admins_invitation_cannot_be_accepted,
    departed_admins_invitation_cannot_be_accepted,
    an_invitation_left_behind_is_refused_at_accept,
    the_keys_a_removed_member_shared_stay,
    the_upgrade_deletes_invitations_left_behind,
);

/// How the admin loses its right to invite.
#[derive(Clone, Copy, Debug)]
enum LosesRight {
    RemovedByOwner,
    DemotedToMember,
    Leaves,
}

/// A server with an owner's team, an admin in it, and an outsider: the admin's second account.
struct Team {
    app: TestApp,
    team: String,
    owner: Actor,
    admin: Actor,
    outsider: Actor,
}

impl Team {
    fn org(&self, rest: &str) -> String {
        format!("/v1/organizations/{}{rest}", self.team)
    }

    /// `inviter` invites `invitee` with `role`; returns the invitation's id.
    async fn invite(&self, inviter: &Actor, invitee: &Actor, role: &str) -> String {
        let (status, made) = inviter
            .post(
                &self.org("/invites"),
                json!({"inviteeId": invitee.id, "inviteKeys": [], "roles": [role]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        made["id"].as_str().unwrap().to_owned()
    }

    async fn accept(&self, who: &Actor, invitation: &str) -> (StatusCode, Value) {
        who.send(
            Method::POST,
            &format!("/v1/user/invites/{invitation}/accept"),
            None,
        )
        .await
    }

    /// The role of `account` in the team, as the owner sees it; `None` for a non-member.
    async fn role_of(&self, account: &Actor) -> Option<String> {
        let (status, role) = self
            .owner
            .get(&self.org(&format!("/members/{}/roles", account.id)))
            .await;
        match status {
            StatusCode::OK => Some(role["name"].as_str().unwrap().to_owned()),
            StatusCode::NOT_FOUND => None,
            other => panic!("reading a role answered {other}: {role}"),
        }
    }

    /// The ids of the team's pending invitations, as the owner sees them.
    async fn pending(&self) -> Vec<String> {
        let (status, listed) = self.owner.get(&self.org("/invites")).await;
        assert_eq!(status, StatusCode::OK, "{listed}");
        listed["invitations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|invitation| invitation["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// The owner's team "Acme" (made through the store), with the admin invited and accepted over
/// HTTP.
async fn team_with_admin(db: &common::TestDb) -> Team {
    let app = TestApp::start(db).await;
    let [owner, admin, outsider] = app.actors(["owner", "admin", "outsider"]).await;
    let team = Team {
        team: app.team(&owner, "Acme").await,
        app,
        owner,
        admin,
        outsider,
    };
    let invitation = team.invite(&team.owner, &team.admin, "admin").await;
    let (status, body) = team.accept(&team.admin, &invitation).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(team.role_of(&team.admin).await.as_deref(), Some("admin"));
    team
}

/// The attack: admin A invites account X (its own other account) as admin; A then loses its
/// right to invite; X's accept must be refused and X must not be a member.
async fn invitation_dies_with_the_right(db: common::TestDb, how: LosesRight) {
    let team = team_with_admin(&db).await;
    let invitation = team.invite(&team.admin, &team.outsider, "admin").await;
    // A second, innocent invitation by the owner stays through all of it.
    let bystander = team.app.actor("bystander").await;
    let owners_invitation = team.invite(&team.owner, &bystander, "member").await;
    assert_eq!(team.pending().await.len(), 2);

    let (status, body) = match how {
        LosesRight::RemovedByOwner => {
            team.owner
                .delete(&team.org(&format!("/members/{}", team.admin.id)))
                .await
        }
        LosesRight::DemotedToMember => {
            team.owner
                .put(
                    &team.org(&format!("/members/{}/roles", team.admin.id)),
                    json!({"roles": ["member"]}),
                )
                .await
        }
        LosesRight::Leaves => {
            team.admin
                .delete(&team.org(&format!("/members/{}", team.admin.id)))
                .await
        }
    };
    assert!(status.is_success(), "{how:?}: {status} {body}");

    // The admin's invitation went in the same transaction; the owner's stays.
    assert_eq!(
        team.pending().await,
        vec![owners_invitation.clone()],
        "{how:?}"
    );
    let (_, mine) = team.outsider.get("/v1/user/invites").await;
    assert_eq!(mine["invitations"], json!([]), "{how:?}");
    let (status, body) = team.accept(&team.outsider, &invitation).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{how:?}: {body}");
    assert_eq!(body["error"], "NOT_FOUND");
    assert_eq!(team.role_of(&team.outsider).await, None, "{how:?}");
    let (status, _) = team.outsider.get(&team.org("/members")).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "{how:?}: the outsider sees nothing"
    );
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM invitation_keys WHERE invitation_id = '{invitation}'"
        ))
        .await,
        0
    );

    // The innocent invitation still works.
    let (status, body) = team.accept(&bystander, &owners_invitation).await;
    assert_eq!(status, StatusCode::OK, "{how:?}: {body}");
    assert_eq!(team.role_of(&bystander).await.as_deref(), Some("member"));
}

async fn removed_admins_invitation_cannot_be_accepted(db: common::TestDb) {
    invitation_dies_with_the_right(db, LosesRight::RemovedByOwner).await;
}

async fn demoted_admins_invitation_cannot_be_accepted(db: common::TestDb) {
    invitation_dies_with_the_right(db, LosesRight::DemotedToMember).await;
}

async fn departed_admins_invitation_cannot_be_accepted(db: common::TestDb) {
    invitation_dies_with_the_right(db, LosesRight::Leaves).await;
}

/// Belt and braces: an invitation whose inviter lost its right but which is still there (made
/// by an earlier version, which deleted nothing) is refused at accept, and deleted.
async fn an_invitation_left_behind_is_refused_at_accept(db: common::TestDb) {
    let team = team_with_admin(&db).await;
    let as_admin = team.invite(&team.admin, &team.outsider, "admin").await;
    // What an earlier version left: the inviter demoted with a plain UPDATE.
    db.execute(&format!(
        "UPDATE memberships SET role = 'member' WHERE organization_id = '{}' AND account_id = '{}'",
        team.team, team.admin.id
    ))
    .await;
    let (status, body) = team.accept(&team.outsider, &as_admin).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "INVITATION_VOID");
    assert_eq!(team.role_of(&team.outsider).await, None);
    assert!(
        team.pending().await.is_empty(),
        "the void invitation is gone"
    );
    let (status, _) = team.accept(&team.outsider, &as_admin).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // And an inviter that is no longer a member at all (removed by a plain DELETE).
    db.execute(&format!(
        "UPDATE memberships SET role = 'admin' WHERE organization_id = '{}' AND account_id = '{}'",
        team.team, team.admin.id
    ))
    .await;
    let again = team.invite(&team.admin, &team.outsider, "member").await;
    db.execute(&format!(
        "DELETE FROM memberships WHERE organization_id = '{}' AND account_id = '{}'",
        team.team, team.admin.id
    ))
    .await;
    let (status, body) = team.accept(&team.outsider, &again).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"], "INVITATION_VOID");
    assert_eq!(team.role_of(&team.outsider).await, None);
}

/// The project keys a member shared to others are the organization's keys, held by members who
/// still belong: removing the sharer leaves them (it knew the project key anyway; deleting the
/// copies would lock the others out of their data and protect nothing).
async fn the_keys_a_removed_member_shared_stay(db: common::TestDb) {
    let team = team_with_admin(&db).await;
    let owner_id = &team.owner.id;
    db.execute(&format!(
        "INSERT INTO projects (organization_id, id, team_project_id, name, root_document_id, \
         created_at) VALUES ('{org}', 'prj_shared', NULL, 'Project', 'wrk_1', 0); \
         INSERT INTO project_keys (organization_id, project_id, account_id, enc_symmetric_key, \
         created_at) VALUES ('{org}', 'prj_shared', '{admin}', 'k1', 0), \
         ('{org}', 'prj_shared', '{owner}', 'k2', 0);",
        org = team.team,
        admin = team.admin.id,
        owner = owner_id,
    ))
    .await;
    let (status, body) = team
        .owner
        .delete(&team.org(&format!("/members/{}", team.admin.id)))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let keys = |account: &str| {
        format!(
            "SELECT COUNT(*) FROM project_keys WHERE organization_id = '{}' AND account_id = '{account}'",
            team.team
        )
    };
    assert_eq!(
        db.scalar(&keys(&team.admin.id)).await,
        0,
        "the removed member's own key goes"
    );
    assert_eq!(db.scalar(&keys(owner_id)).await, 1, "the others' keys stay");
    assert_eq!(
        db.scalar(&format!(
            "SELECT COUNT(*) FROM projects WHERE organization_id = '{}'",
            team.team
        ))
        .await,
        1,
        "the organization's projects stay"
    );
}

/// Migration 0007 deletes what earlier versions left behind: invitations whose inviter is no
/// longer a member, or no longer may invite at their role; the others stay. On PostgreSQL it
/// runs as the server's ordinary role, bound by row-level security.
async fn the_upgrade_deletes_invitations_left_behind(db: common::TestDb) {
    let team = team_with_admin(&db).await;
    let bystander = team.app.actor("bystander").await;
    let stale = team.invite(&team.admin, &team.outsider, "admin").await;
    let good = team.invite(&team.owner, &bystander, "member").await;
    // As an earlier version would have left it: the inviter demoted without a clean-up; and
    // the database as it was before migration 0007.
    db.execute(&format!(
        "UPDATE memberships SET role = 'member' WHERE organization_id = '{}' AND account_id = '{}'; \
         DELETE FROM _sqlx_migrations WHERE version = 7; DROP TABLE signup_tokens;",
        team.team, team.admin.id
    ))
    .await;
    let count = |id: &str| format!("SELECT COUNT(*) FROM invitations WHERE id = '{id}'");
    assert_eq!(db.scalar(&count(&stale)).await, 1);
    drop(db.connect().await);
    assert_eq!(
        db.scalar(&count(&stale)).await,
        0,
        "the stale invitation went"
    );
    assert_eq!(
        db.scalar(&count(&good)).await,
        1,
        "the owner's invitation stayed"
    );
    assert_eq!(db.scalar("SELECT COUNT(*) FROM signup_tokens").await, 0);
}
