//! The rows both backends read, and how they become domain types: one definition, since sqlx's
//! `FromRow` derive is generic over the database.
//!
//! Column lists are macros (not constants) so that queries can `concat!` them into literals.

use sqlx::FromRow;

use super::StoreError;
use super::model::{
    Account, AuditEvent, Blob, Invitation, InvitationView, KeyGap, LoginAttempt, Member,
    Membership, Organization, OrganizationKind, Project, ProjectKey, Role, Session, Snapshot,
    TeamProject, Vault, VaultVerification,
};
use super::presence::{PresenceEntry, PresentMember};

/// The columns of `accounts`, in [`AccountRow`] order.
macro_rules! account_columns {
    () => {
        "id, email, first_name, last_name, salt_key, salt_auth, salt_enc, verifier, public_key, \
         enc_private_key, enc_symmetric_key, created_at, updated_at"
    };
}
pub(super) use account_columns;

/// The columns of `sessions`, in [`SessionRow`] order.
macro_rules! session_columns {
    () => {
        "id_hash, account_id, created_at, last_seen_at, idle_ttl_ms, idle_expires_at, \
         absolute_expires_at"
    };
}
pub(super) use session_columns;

/// The columns of a `sessions s JOIN accounts a`, in [`SessionAccountRow`] order: the account's
/// under their own names, the session's renamed where they would clash.
macro_rules! session_account_columns {
    () => {
        "a.id, a.email, a.first_name, a.last_name, a.salt_key, a.salt_auth, a.salt_enc, \
         a.verifier, a.public_key, a.enc_private_key, a.enc_symmetric_key, a.created_at, \
         a.updated_at, s.id_hash, s.created_at AS session_created_at, s.last_seen_at, \
         s.idle_ttl_ms, s.idle_expires_at, s.absolute_expires_at"
    };
}
pub(super) use session_account_columns;

#[derive(FromRow)]
pub(super) struct AccountRow {
    pub(super) id: String,
    pub(super) email: String,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) salt_key: String,
    pub(super) salt_auth: String,
    pub(super) salt_enc: String,
    pub(super) verifier: String,
    pub(super) public_key: String,
    pub(super) enc_private_key: String,
    pub(super) enc_symmetric_key: String,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
}

impl From<AccountRow> for Account {
    fn from(row: AccountRow) -> Self {
        Self {
            id: row.id.into(),
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            salt_key: row.salt_key,
            salt_auth: row.salt_auth,
            salt_enc: row.salt_enc,
            verifier: row.verifier,
            public_key: row.public_key,
            enc_private_key: row.enc_private_key,
            enc_symmetric_key: row.enc_symmetric_key,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[derive(FromRow)]
pub(super) struct SessionRow {
    pub(super) id_hash: Vec<u8>,
    pub(super) account_id: String,
    pub(super) created_at: i64,
    pub(super) last_seen_at: i64,
    pub(super) idle_ttl_ms: i64,
    pub(super) idle_expires_at: i64,
    pub(super) absolute_expires_at: i64,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            id_hash: row.id_hash.try_into().map_err(|_| {
                StoreError::Other("stored session hash has the wrong length".into())
            })?,
            account_id: row.account_id.into(),
            created_at: row.created_at,
            last_seen_at: row.last_seen_at,
            idle_ttl_ms: row.idle_ttl_ms,
            idle_expires_at: row.idle_expires_at,
            absolute_expires_at: row.absolute_expires_at,
        })
    }
}

#[derive(FromRow)]
pub(super) struct LoginAttemptRow {
    pub(super) id: String,
    pub(super) account_id: Option<String>,
    pub(super) email: String,
    pub(super) m1: Vec<u8>,
    pub(super) m2: Vec<u8>,
    pub(super) key_hash: Vec<u8>,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
}

impl From<LoginAttemptRow> for LoginAttempt {
    fn from(row: LoginAttemptRow) -> Self {
        Self {
            id: row.id,
            account_id: row.account_id.map(Into::into),
            email: row.email,
            m1: row.m1,
            m2: row.m2,
            key_hash: row.key_hash,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// A row of `vaults`.
#[derive(FromRow)]
pub(super) struct VaultRow {
    pub(super) account_id: String,
    pub(super) salt: String,
    pub(super) verifier: String,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
}

impl From<VaultRow> for Vault {
    fn from(row: VaultRow) -> Self {
        Self {
            account_id: row.account_id.into(),
            salt: row.salt,
            verifier: row.verifier,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// A row of `vault_verifications`.
#[derive(FromRow)]
pub(super) struct VaultVerificationRow {
    pub(super) id: String,
    pub(super) account_id: String,
    pub(super) m1: Vec<u8>,
    pub(super) m2: Vec<u8>,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
}

impl From<VaultVerificationRow> for VaultVerification {
    fn from(row: VaultVerificationRow) -> Self {
        Self {
            id: row.id,
            account_id: row.account_id.into(),
            m1: row.m1,
            m2: row.m2,
            created_at: row.created_at,
            expires_at: row.expires_at,
        }
    }
}

/// The columns of an `organizations o JOIN memberships m`, in [`MembershipRow`] order.
macro_rules! membership_columns {
    () => {
        "o.id, o.name, o.display_name, o.kind, o.owner_account_id, o.storage_rule, o.created_at, \
         m.role"
    };
}
pub(super) use membership_columns;

/// An organization and the role of one of its members.
#[derive(FromRow)]
pub(super) struct MembershipRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) display_name: String,
    pub(super) kind: String,
    pub(super) owner_account_id: String,
    pub(super) storage_rule: String,
    pub(super) created_at: i64,
    pub(super) role: String,
}

impl TryFrom<MembershipRow> for Membership {
    type Error = StoreError;

    fn try_from(row: MembershipRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, value: &str| {
            StoreError::Other(format!(
                "organization {} has the unknown {what} {value:?}",
                row.id
            ))
        };
        Ok(Self {
            role: Role::parse(&row.role).ok_or_else(|| corrupt("role", &row.role))?,
            organization: Organization {
                kind: OrganizationKind::parse(&row.kind)
                    .ok_or_else(|| corrupt("kind", &row.kind))?,
                id: row.id.into(),
                name: row.name,
                display_name: row.display_name,
                owner_account_id: row.owner_account_id.into(),
                storage_rule: row.storage_rule,
                created_at: row.created_at,
            },
        })
    }
}

/// The columns of `audit_events`, in [`AuditEventRow`] order.
macro_rules! audit_event_columns {
    () => {
        "id, organization_id, at, actor_account_id, action, target, details"
    };
}
pub(super) use audit_event_columns;

/// One audit event.
#[derive(FromRow)]
pub(super) struct AuditEventRow {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) at: i64,
    pub(super) actor_account_id: Option<String>,
    pub(super) action: String,
    pub(super) target: String,
    pub(super) details: String,
}

impl From<AuditEventRow> for AuditEvent {
    fn from(row: AuditEventRow) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id.into(),
            at: row.at,
            actor_account_id: row.actor_account_id.map(Into::into),
            action: row.action,
            target: row.target,
            details: row.details,
        }
    }
}

/// One member, from `memberships m JOIN accounts a`.
#[derive(FromRow)]
pub(super) struct MemberRow {
    pub(super) account_id: String,
    pub(super) email: String,
    pub(super) first_name: String,
    pub(super) last_name: String,
    pub(super) role: String,
    pub(super) created_at: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;

    fn try_from(row: MemberRow) -> Result<Self, StoreError> {
        Ok(Self {
            role: Role::parse(&row.role).ok_or_else(|| {
                StoreError::Other(format!(
                    "member {} has the unknown role {:?}",
                    row.account_id, row.role
                ))
            })?,
            account_id: row.account_id.into(),
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            joined_at: row.created_at,
        })
    }
}

/// One team project.
#[derive(FromRow)]
pub(super) struct TeamProjectRow {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) name: String,
    pub(super) created_at: i64,
}

impl From<TeamProjectRow> for TeamProject {
    fn from(row: TeamProjectRow) -> Self {
        Self {
            id: row.id,
            organization_id: row.organization_id.into(),
            name: row.name,
            created_at: row.created_at,
        }
    }
}

/// The columns of `invitations i JOIN organizations o JOIN accounts inviter JOIN accounts
/// invitee`, in [`InvitationViewRow`] order.
macro_rules! invitation_view_columns {
    () => {
        "i.id, i.organization_id, i.invitee_account_id, i.inviter_account_id, i.role, \
         i.created_at, i.expires_at, o.display_name AS organization_name, \
         TRIM(inviter.first_name || ' ' || inviter.last_name) AS inviter_name, \
         inviter.email AS inviter_email, invitee.email AS invitee_email \
         FROM invitations i JOIN organizations o ON o.id = i.organization_id \
         JOIN accounts inviter ON inviter.id = i.inviter_account_id \
         JOIN accounts invitee ON invitee.id = i.invitee_account_id"
    };
}
pub(super) use invitation_view_columns;

/// An invitation with the names a list shows.
#[derive(FromRow)]
pub(super) struct InvitationViewRow {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) invitee_account_id: String,
    pub(super) inviter_account_id: String,
    pub(super) role: String,
    pub(super) created_at: i64,
    pub(super) expires_at: i64,
    pub(super) organization_name: String,
    pub(super) inviter_name: String,
    pub(super) inviter_email: String,
    pub(super) invitee_email: String,
}

impl TryFrom<InvitationViewRow> for InvitationView {
    type Error = StoreError;

    fn try_from(row: InvitationViewRow) -> Result<Self, StoreError> {
        Ok(Self {
            invitation: Invitation {
                role: Role::parse(&row.role).ok_or_else(|| {
                    StoreError::Other(format!(
                        "invitation {} has the unknown role {:?}",
                        row.id, row.role
                    ))
                })?,
                id: row.id,
                organization_id: row.organization_id.into(),
                invitee_account_id: row.invitee_account_id.into(),
                inviter_account_id: row.inviter_account_id.into(),
                created_at: row.created_at,
                expires_at: row.expires_at,
            },
            organization_name: row.organization_name,
            inviter_name: row.inviter_name,
            inviter_email: row.inviter_email,
            invitee_email: row.invitee_email,
        })
    }
}

/// A project key.
#[derive(FromRow)]
pub(super) struct ProjectKeyRow {
    pub(super) project_id: String,
    pub(super) account_id: String,
    pub(super) enc_symmetric_key: String,
}

impl From<ProjectKeyRow> for ProjectKey {
    fn from(row: ProjectKeyRow) -> Self {
        Self {
            project_id: row.project_id.into(),
            account_id: row.account_id.into(),
            enc_symmetric_key: row.enc_symmetric_key,
        }
    }
}

/// A member lacking a project key.
#[derive(FromRow)]
pub(super) struct KeyGapRow {
    pub(super) account_id: String,
    pub(super) project_id: String,
    pub(super) public_key: String,
}

impl From<KeyGapRow> for KeyGap {
    fn from(row: KeyGapRow) -> Self {
        Self {
            account_id: row.account_id.into(),
            project_id: row.project_id.into(),
            public_key: row.public_key,
        }
    }
}

/// The columns of `projects`, in [`ProjectRow`] order (prefixed `p.`).
macro_rules! project_columns {
    () => {
        "p.id, p.organization_id, p.team_project_id, p.name, p.root_document_id, p.created_at"
    };
}
pub(super) use project_columns;

/// A synced project.
#[derive(FromRow)]
pub(super) struct ProjectRow {
    pub(super) id: String,
    pub(super) organization_id: String,
    pub(super) team_project_id: Option<String>,
    pub(super) name: String,
    pub(super) root_document_id: String,
    pub(super) created_at: i64,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Self {
            id: row.id.into(),
            organization_id: row.organization_id.into(),
            team_project_id: row.team_project_id,
            name: row.name,
            root_document_id: row.root_document_id,
            created_at: row.created_at,
        }
    }
}

/// A project and a member's role in its organization.
#[derive(FromRow)]
pub(super) struct ProjectRoleRow {
    #[sqlx(flatten)]
    pub(super) project: ProjectRow,
    pub(super) role: String,
}

impl TryFrom<ProjectRoleRow> for (Project, Role) {
    type Error = StoreError;

    fn try_from(row: ProjectRoleRow) -> Result<Self, StoreError> {
        let role = Role::parse(&row.role).ok_or_else(|| {
            StoreError::Other(format!("a membership has the unknown role {:?}", row.role))
        })?;
        Ok((row.project.into(), role))
    }
}

/// A project and the name its organization is shown by.
#[derive(FromRow)]
pub(super) struct ProjectOrganizationRow {
    #[sqlx(flatten)]
    pub(super) project: ProjectRow,
    pub(super) organization_display_name: String,
}

impl From<ProjectOrganizationRow> for (Project, String) {
    fn from(row: ProjectOrganizationRow) -> Self {
        (row.project.into(), row.organization_display_name)
    }
}

/// A snapshot.
#[derive(FromRow)]
pub(super) struct SnapshotRow {
    pub(super) id: String,
    pub(super) parent: String,
    pub(super) created: String,
    pub(super) author: String,
    pub(super) name: String,
    pub(super) description: String,
    pub(super) state: String,
}

impl From<SnapshotRow> for Snapshot {
    fn from(row: SnapshotRow) -> Self {
        Self {
            id: row.id,
            parent: row.parent,
            created: row.created,
            author: row.author,
            name: row.name,
            description: row.description,
            state: row.state,
        }
    }
}

/// A blob.
#[derive(FromRow)]
pub(super) struct BlobRow {
    pub(super) id: String,
    pub(super) content: String,
}

impl From<BlobRow> for Blob {
    fn from(row: BlobRow) -> Self {
        Self {
            id: row.id,
            content: row.content,
        }
    }
}

/// A live session read together with its account (one round trip per authenticated request).
#[derive(FromRow)]
pub(super) struct SessionAccountRow {
    #[sqlx(flatten)]
    pub(super) account: AccountRow,
    pub(super) id_hash: Vec<u8>,
    pub(super) session_created_at: i64,
    pub(super) last_seen_at: i64,
    pub(super) idle_ttl_ms: i64,
    pub(super) idle_expires_at: i64,
    pub(super) absolute_expires_at: i64,
}

impl TryFrom<SessionAccountRow> for (Session, Account) {
    type Error = StoreError;

    fn try_from(row: SessionAccountRow) -> Result<Self, StoreError> {
        let session = Session::try_from(SessionRow {
            id_hash: row.id_hash,
            account_id: row.account.id.clone(),
            created_at: row.session_created_at,
            last_seen_at: row.last_seen_at,
            idle_ttl_ms: row.idle_ttl_ms,
            idle_expires_at: row.idle_expires_at,
            absolute_expires_at: row.absolute_expires_at,
        })?;
        Ok((session, row.account.into()))
    }
}

/// The columns of `presence`, in [`PresenceRow`] order.
macro_rules! presence_columns {
    () => {
        "organization_id, account_id, team_project_id, workspace_id, expires_at"
    };
}
pub(super) use presence_columns;

/// A presence entry.
#[derive(FromRow)]
pub(super) struct PresenceRow {
    pub(super) organization_id: String,
    pub(super) account_id: String,
    pub(super) team_project_id: String,
    pub(super) workspace_id: Option<String>,
    pub(super) expires_at: i64,
}

impl From<PresenceRow> for PresenceEntry {
    fn from(row: PresenceRow) -> Self {
        Self {
            organization_id: row.organization_id.into(),
            account_id: row.account_id.into(),
            team_project_id: row.team_project_id,
            workspace_id: row.workspace_id,
            expires_at: row.expires_at,
        }
    }
}

/// A presence entry with its member's names.
#[derive(FromRow)]
pub(super) struct PresentMemberRow {
    #[sqlx(flatten)]
    pub(super) entry: PresenceRow,
    pub(super) first_name: String,
    pub(super) last_name: String,
}

impl From<PresentMemberRow> for PresentMember {
    fn from(row: PresentMemberRow) -> Self {
        Self {
            entry: row.entry.into(),
            first_name: row.first_name,
            last_name: row.last_name,
        }
    }
}
