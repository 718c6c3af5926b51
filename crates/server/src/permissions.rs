//! Who may do what in an organization: one table, consulted in one place ([`allows`]).
//!
//! Every organization-scoped handler names the [`Permission`] its action needs; the membership
//! check ([`crate::membership`]) refuses the caller when its role lacks it. `GET
//! /v1/organizations/{org}/user-permissions` is computed from the same table, and the README
//! prints it ([`markdown_table`]; a test keeps the two equal).

use std::collections::BTreeMap;

use crate::storage::Role;

/// An action on an organization, named as the app's `user-permissions` map names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// Everything an owner alone may do: the storage rule, deleting a team.
    OwnOrganization,
    /// See the organization, its members and their roles.
    ReadMembership,
    /// Change a member's role.
    UpdateMembership,
    /// Remove a member.
    DeleteMembership,
    /// Leave the organization (its one owner cannot).
    LeaveOrganization,
    /// See pending invitations.
    ReadInvitation,
    /// Invite an account (and hand it project keys).
    CreateInvitation,
    /// Change an invitation's role.
    UpdateInvitation,
    /// Withdraw an invitation.
    DeleteInvitation,
    /// List team projects.
    ReadTeamProject,
    /// Create a team project.
    CreateTeamProject,
    /// Rename a team project.
    UpdateTeamProject,
    /// Delete a team project.
    DeleteTeamProject,
    /// Read the audit log.
    ReadAuditLog,
}

use Permission::*;
use Role::{Admin, Member, Owner};

/// The table: each permission and the roles that have it.
const TABLE: &[(Permission, &[Role])] = &[
    (OwnOrganization, &[Owner]),
    (ReadMembership, &[Owner, Admin, Member]),
    (UpdateMembership, &[Owner, Admin]),
    (DeleteMembership, &[Owner, Admin]),
    (LeaveOrganization, &[Admin, Member]),
    (ReadInvitation, &[Owner, Admin]),
    (CreateInvitation, &[Owner, Admin]),
    (UpdateInvitation, &[Owner, Admin]),
    (DeleteInvitation, &[Owner, Admin]),
    (ReadTeamProject, &[Owner, Admin, Member]),
    (CreateTeamProject, &[Owner, Admin]),
    (UpdateTeamProject, &[Owner, Admin]),
    (DeleteTeamProject, &[Owner, Admin]),
    (ReadAuditLog, &[Owner, Admin]),
];

/// Permissions the app asks about that a self-hosted server never grants (single sign-on).
const NEVER_GRANTED: &[&str] = &[
    "create:enterprise_connection",
    "read:enterprise_connection",
    "update:enterprise_connection",
    "delete:enterprise_connection",
];

impl Permission {
    /// The name in the app's `user-permissions` map.
    pub fn name(self) -> &'static str {
        match self {
            OwnOrganization => "own:organization",
            ReadMembership => "read:membership",
            UpdateMembership => "update:membership",
            DeleteMembership => "delete:membership",
            LeaveOrganization => "leave:organization",
            ReadInvitation => "read:invitation",
            CreateInvitation => "create:invitation",
            UpdateInvitation => "update:invitation",
            DeleteInvitation => "delete:invitation",
            ReadTeamProject => "read:team_project",
            CreateTeamProject => "create:team_project",
            UpdateTeamProject => "update:team_project",
            DeleteTeamProject => "delete:team_project",
            ReadAuditLog => "read:audit_log",
        }
    }
}

/// What a role may do, in a sentence (for `GET /v1/organizations/roles` and a member's role).
pub fn describe(role: Role) -> &'static str {
    match role {
        Owner => "Owns the organization: everything an admin may do, the storage rule, deleting it",
        Admin => "Manages members, invitations and team projects",
        Member => "Uses the team projects shared with it",
    }
}

/// Whether `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    TABLE
        .iter()
        .any(|(entry, roles)| *entry == permission && roles.contains(&role))
}

/// The app's `user-permissions` map for a member with `role`.
pub fn user_permissions(role: Role) -> BTreeMap<&'static str, bool> {
    TABLE
        .iter()
        .map(|(permission, _)| (permission.name(), allows(role, *permission)))
        .chain(NEVER_GRANTED.iter().map(|name| (*name, false)))
        .collect()
}

/// The table as Markdown, as the README prints it.
pub fn markdown_table() -> String {
    let mut table = String::from("| permission | owner | admin | member |\n|---|---|---|---|\n");
    for (permission, _) in TABLE {
        let mark = |role| {
            if allows(role, *permission) {
                "yes"
            } else {
                "—"
            }
        };
        table.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            permission.name(),
            mark(Owner),
            mark(Admin),
            mark(Member)
        ));
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_in_the_table_once() {
        let mut names: Vec<&str> = TABLE.iter().map(|(p, _)| p.name()).collect();
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count);
    }

    #[test]
    fn only_the_owner_owns_and_the_owner_cannot_leave() {
        assert!(allows(Owner, OwnOrganization));
        assert!(!allows(Admin, OwnOrganization));
        assert!(!allows(Owner, LeaveOrganization));
        assert!(allows(Member, LeaveOrganization));
        assert!(!allows(Member, CreateInvitation));
        assert!(allows(Member, ReadTeamProject));
    }

    #[test]
    fn user_permissions_cover_the_table_and_sso() {
        let member = user_permissions(Member);
        assert!(member["read:membership"]);
        assert!(!member["delete:membership"]);
        assert!(!member["read:enterprise_connection"]);
        assert_eq!(member.len(), TABLE.len() + NEVER_GRANTED.len());
    }

    #[test]
    fn the_readme_prints_this_table() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&markdown_table()),
            "README.md must contain the permission table exactly as markdown_table() renders \
             it:\n{}",
            markdown_table()
        );
    }
}
