//! Organizations over real HTTP, on SQLite and on PostgreSQL: the list the app loads after
//! log-in, creating, reading and deleting a team, the storage rule, features, permissions and
//! the audit log; every organization-scoped endpoint tried by a non-member (who learns nothing)
//! and by each role (the permission table decides).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../common/mod.rs"]
mod common;
mod members;
mod organizations;

use common::app::TestApp;
use common::http::call;
use hypnos_server::permissions::{Permission, allows};
use hypnos_server::storage::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every endpoint that names an organization, with the permission it needs and a body: on
/// organization `org`, its team project `project` and its member `member` (whose role is set
/// to what it is). The destructive ones (DELETE) are tried apart.
fn scoped_endpoints(
    org: &str,
    project: &str,
    member: &str,
) -> Vec<(Method, String, Option<Value>, Permission)> {
    let path = |rest: &str| format!("/v1/organizations/{org}{rest}");
    vec![
        (Method::GET, path(""), None, Permission::ReadMembership),
        (
            Method::GET,
            path("/storage-rule"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::PUT,
            path("/storage-rule"),
            Some(json!({"storage": "cloud_plus_local"})),
            Permission::OwnOrganization,
        ),
        (
            Method::GET,
            path("/features"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path("/user-permissions"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path("/audit-log"),
            None,
            Permission::ReadAuditLog,
        ),
        (
            Method::GET,
            path("/members"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path(&format!("/members/{member}/roles")),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::PUT,
            path(&format!("/members/{member}/roles")),
            Some(json!({"roles": ["member"]})),
            Permission::UpdateMembership,
        ),
        // Insomnia 11-13 set a role with PATCH.
        (
            Method::PATCH,
            path(&format!("/members/{member}/roles")),
            Some(json!({"roles": ["member"]})),
            Permission::UpdateMembership,
        ),
        (
            Method::PATCH,
            path("/git-projects"),
            Some(json!({"count": 0})),
            Permission::ReadMembership,
        ),
        (
            Method::POST,
            path("/collaborators"),
            Some(json!({"project": project, "file": "wrk_matrix"})),
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            format!("/v1/desktop/organizations/{org}/collaborators?per_page=5"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            format!("/v1/desktop/organizations/{org}/collaborators/search/example"),
            None,
            Permission::ReadMembership,
        ),
        (
            Method::GET,
            path("/team-projects"),
            None,
            Permission::ReadTeamProject,
        ),
        (
            Method::POST,
            path("/team-projects"),
            Some(json!({"name": "Made in the matrix"})),
            Permission::CreateTeamProject,
        ),
        (
            Method::PATCH,
            path(&format!("/team-projects/{project}")),
            Some(json!({"name": "Renamed in the matrix"})),
            Permission::UpdateTeamProject,
        ),
        (
            Method::POST,
            path("/check-seats"),
            Some(json!({"emails": ["someone@example.com"]})),
            Permission::CreateInvitation,
        ),
        (
            Method::GET,
            path("/invites"),
            None,
            Permission::ReadInvitation,
        ),
        (
            Method::GET,
            path("/my-project-keys"),
            None,
            Permission::ReadTeamProject,
        ),
        (
            Method::POST,
            path("/reconcile-keys"),
            Some(json!({"keys": []})),
            Permission::ReadTeamProject,
        ),
    ]
}

/// The destructive endpoints (and those that would create something for the caller), with
/// valid bodies, tried by non-members only: they must change nothing.
fn destructive_endpoints(
    org: &str,
    project: &str,
    member: &str,
) -> Vec<(Method, String, Option<Value>)> {
    let path = |rest: &str| format!("/v1/organizations/{org}{rest}");
    vec![
        (Method::DELETE, path(""), None),
        (Method::DELETE, path(&format!("/members/{member}")), None),
        (
            Method::DELETE,
            path(&format!("/team-projects/{project}")),
            None,
        ),
        (Method::DELETE, path("/invites/inv_any"), None),
        (
            Method::PATCH,
            path("/invites/inv_any"),
            Some(json!({"roles": ["member"]})),
        ),
        (
            Method::POST,
            path("/invites/instructions"),
            Some(json!({"inviteeEmail": "someone@example.com"})),
        ),
        (
            Method::POST,
            path("/invites"),
            Some(json!({"inviteeId": "acct_any", "inviteKeys": []})),
        ),
        (Method::POST, path("/invites/inv_any/reinvite"), None),
        (
            Method::POST,
            format!("/v1/desktop/organizations/{org}/collaborators/start-adding"),
            Some(json!({"teamIds": [], "emails": ["someone@example.com"]})),
        ),
        (
            Method::POST,
            format!("/v1/desktop/organizations/{org}/collaborators/finish-adding"),
            Some(
                json!({"teamIds": [], "keys": {}, "accountIds": ["acct_any"], "roleId": "member"}),
            ),
        ),
        (
            Method::DELETE,
            format!("/v1/desktop/organizations/{org}/collaborators/{member}/unlink"),
            None,
        ),
        (
            Method::DELETE,
            format!("/v1/desktop/organizations/{org}/collaborators/inv_any/unlink"),
            None,
        ),
    ]
}
