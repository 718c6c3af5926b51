//! The organizations' part of the store: the [`TenantStore`] interface and its types (its SQL:
//! `sql/tenants.rs` and `sql/invitations.rs`).

use async_trait::async_trait;

use super::StoreError;
use super::ids::{AccountId, OrgId};
use super::model::{
    AuditEvent, Invitation, InvitationKey, InvitationView, KeyGap, Member, Membership, NewTeam,
    Organization, ProjectKey, Role, TeamProject,
};
use super::spaces::{SpaceEntry, SpaceQuery};

/// The organizations' part of the storage: memberships, teams, members, team projects,
/// invitations, project keys and the audit log. Every method's transaction begins in the
/// [`super::Scope`] of the organization (or account) it names, so on PostgreSQL row-level security
/// confines it. Both backends run the same SQL: `sql/tenants.rs` and `sql/invitations.rs`
/// implement this trait for each.
#[async_trait]
pub trait TenantStore: Send + Sync {
    /// Every organization the account belongs to, with its role: the personal organization
    /// first, then the teams, oldest first.
    async fn memberships_of(&self, account_id: &AccountId) -> Result<Vec<Membership>, StoreError>;

    /// The account's membership of one organization; `None` if it is not a member (or the
    /// organization does not exist: the two are not told apart).
    async fn membership(
        &self,
        organization_id: &OrgId,
        account_id: &AccountId,
    ) -> Result<Option<Membership>, StoreError>;

    /// Creates a team organization with its owner's membership and the audit event, in one
    /// transaction.
    async fn create_team(
        &self,
        new: NewTeam,
        event: AuditEvent,
    ) -> Result<Organization, StoreError>;

    /// Deletes a team organization and everything it holds (members, invitations, projects,
    /// keys, sync data, audit log) in one transaction. A personal organization gives
    /// `Conflict(PersonalOrganization)` and stays; an unknown one `NotFound`.
    async fn delete_team(&self, organization_id: &OrgId) -> Result<(), StoreError>;

    /// Sets the organization's storage rule and records the audit event, in one transaction.
    async fn set_storage_rule(
        &self,
        organization_id: &OrgId,
        rule: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The organization's audit log, newest first: at most `limit` events from before
    /// `before_ms` (exclusive).
    async fn audit_events(
        &self,
        organization_id: &OrgId,
        before_ms: i64,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError>;

    /// One page of an organization's members, ordered by e-mail, and how many match in all.
    /// `email_contains` keeps those whose e-mail contains it (case-insensitive).
    async fn members(
        &self,
        organization_id: &OrgId,
        email_contains: Option<&str>,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Member>, u64), StoreError>;

    /// Changes a member's role, with the audit event, in one transaction. `NotFound` if the
    /// account is not a member; `Conflict(OwnerStays)` if it is the owner or `role` is
    /// [`Role::Owner`] (an organization has one owner).
    /// The pending invitations the member made that `role` may no longer make ([`may_invite`])
    /// go in the same transaction.
    async fn set_member_role(
        &self,
        organization_id: &OrgId,
        account_id: &AccountId,
        role: Role,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Removes a member with its project keys, any invitation to it in this organization and
    /// the pending invitations it made there, and records the audit event, in one transaction.
    /// `NotFound` if it is not a member; `Conflict(OwnerStays)` for the owner.
    async fn remove_member(
        &self,
        organization_id: &OrgId,
        account_id: &AccountId,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The organization's team projects, oldest first.
    async fn team_projects(&self, organization_id: &OrgId) -> Result<Vec<TeamProject>, StoreError>;

    /// Creates a team project and records the audit event, in one transaction.
    async fn create_team_project(
        &self,
        project: TeamProject,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Renames a team project of the organization and records the audit event. `NotFound` if
    /// the organization has no such team project.
    async fn rename_team_project(
        &self,
        organization_id: &OrgId,
        team_project_id: &str,
        name: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Deletes a team project of the organization with the synced projects in it (their keys,
    /// branches, snapshots and blobs), and records the audit event, in one transaction.
    /// `NotFound` if the organization has no such team project.
    async fn delete_team_project(
        &self,
        organization_id: &OrgId,
        team_project_id: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Invites an account, with the project keys the inviter encrypted to it, and records the
    /// audit event, in one transaction. `Conflict(AlreadyMember)` if the invitee belongs to the
    /// organization, `Conflict(AlreadyInvited)` if a live invitation to it exists (an expired
    /// one is replaced), `Conflict(KeyNotShareable)` if a key names a project that is not the
    /// organization's or that the inviter holds no key for. Nothing is written on a conflict.
    async fn create_invitation(
        &self,
        invitation: Invitation,
        keys: Vec<InvitationKey>,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The organization's invitations that have not expired, oldest first.
    async fn invitations_of(
        &self,
        organization_id: &OrgId,
        now_ms: i64,
    ) -> Result<Vec<InvitationView>, StoreError>;

    /// The invitations addressed to the account that have not expired, oldest first.
    async fn invitations_for(
        &self,
        account_id: &AccountId,
        now_ms: i64,
    ) -> Result<Vec<InvitationView>, StoreError>;

    /// Changes the role a live invitation of the organization offers, with the audit event.
    /// `NotFound` if there is none with this id.
    async fn set_invitation_role(
        &self,
        organization_id: &OrgId,
        invitation_id: &str,
        role: Role,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// Withdraws an invitation of the organization (and the keys it holds), with the audit
    /// event. `NotFound` if there is none with this id.
    async fn delete_invitation(
        &self,
        organization_id: &OrgId,
        invitation_id: &str,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The invitee accepts: it becomes a member with the invited role, the invitation's keys
    /// become its project keys (for the projects that still exist), and the invitation goes, in
    /// one transaction with the audit event (its organization filled in here).
    /// Returns the organization joined. `NotFound` unless the invitation is addressed to the
    /// account and live.
    /// If its inviter is no longer a member allowed to invite at its role ([`may_invite`]),
    /// the invitation is deleted instead and the answer is `Conflict(InviterLostRights)`.
    async fn accept_invitation(
        &self,
        account_id: &AccountId,
        invitation_id: &str,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<OrgId, StoreError>;

    /// The invitee declines: the invitation and its keys go, with the audit event (its
    /// organization filled in here). `NotFound` unless it is addressed to the account and live.
    async fn decline_invitation(
        &self,
        account_id: &AccountId,
        invitation_id: &str,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// The account's project keys in the organization, and for each of those projects the
    /// members that lack a key for it, with their public keys.
    async fn my_project_keys(
        &self,
        organization_id: &OrgId,
        account_id: &AccountId,
    ) -> Result<(Vec<ProjectKey>, Vec<KeyGap>), StoreError>;

    /// Stores project keys one member encrypted for others, in one transaction with the audit
    /// event: every key must name a project of the organization that `sharer_account_id` holds a
    /// key for, and a member of the organization (else `Conflict(KeyNotShareable)` and nothing
    /// is written). A key that exists already is left as it is. Returns how many were new.
    async fn reconcile_keys(
        &self,
        organization_id: &OrgId,
        sharer_account_id: &AccountId,
        keys: Vec<ProjectKey>,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<u64, StoreError>;

    /// [`TenantStore::reconcile_keys`], but a key the member holds already is replaced (the
    /// repair of a wrong key a member planted; the caller checks the sharer is an owner or
    /// admin). Returns how many keys were stored.
    async fn replace_project_keys(
        &self,
        organization_id: &OrgId,
        sharer_account_id: &AccountId,
        keys: Vec<ProjectKey>,
        now_ms: i64,
        event: AuditEvent,
    ) -> Result<u64, StoreError>;

    /// One page of the organization's collaborators, and how many match in all: its members
    /// (by e-mail), then, if `with_invitations`, its invitations (by e-mail), expired ones
    /// included (they stay until replaced, withdrawn or renewed). `filter` keeps the members
    /// whose e-mail or first and last name contain it and the invitations whose invitee's
    /// e-mail does (case-insensitive).
    async fn collaborators(
        &self,
        organization_id: &OrgId,
        filter: Option<&str>,
        with_invitations: bool,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<Collaborator>, u64), StoreError>;

    /// [`TenantStore::create_invitation`] for several invitees of one organization, each with
    /// its keys and audit event, all in one transaction: the first conflict (any of
    /// `create_invitation`'s) leaves nothing written.
    async fn create_invitations(
        &self,
        organization_id: &OrgId,
        invitations: Vec<(Invitation, Vec<InvitationKey>, AuditEvent)>,
    ) -> Result<(), StoreError>;

    /// Sets when an invitation of the organization expires (a renewed, even an expired, one
    /// can be accepted again until then), with the audit event. `NotFound` if there is none
    /// with this id.
    async fn renew_invitation(
        &self,
        organization_id: &OrgId,
        invitation_id: &str,
        expires_at: i64,
        event: AuditEvent,
    ) -> Result<(), StoreError>;

    /// One page of the organizations the account belongs to, as the newest app's spaces, with
    /// each one's owner and counts, in one query (acting for the account): at most
    /// `query.limit` of them, in the direction of travel, i.e. those after `query.from` in
    /// `query.order`, or with `query.backwards` those before it, nearest first.
    async fn spaces_of(&self, query: SpaceQuery<'_>) -> Result<Vec<SpaceEntry>, StoreError>;
}

/// Whether a member with role `inviter` may invite at role `offered`: its role must allow
/// inviting at all ([`crate::permissions::Permission::CreateInvitation`]), nobody is invited as
/// owner, and nobody offers a role above its own. Checked when inviting and again when the
/// invitation is accepted; removing, demoting or the leaving of the inviter deletes the
/// invitations this no longer allows.
pub fn may_invite(inviter: Role, offered: Role) -> bool {
    let rank = |role: Role| match role {
        Role::Owner => 2,
        Role::Admin => 1,
        Role::Member => 0,
    };
    crate::permissions::allows(inviter, crate::permissions::Permission::CreateInvitation)
        && offered != Role::Owner
        && rank(offered) <= rank(inviter)
}

/// Whether a [`Collaborator`] is a member or an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CollaboratorKind {
    /// A member of the organization.
    Member,
    /// An invitation to it.
    Invitation,
}

/// A member or an invitation of an organization, as the newest app's collaborator list shows
/// them side by side.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collaborator {
    /// Which of the two.
    pub kind: CollaboratorKind,
    /// The member's account id, or the invitation's id.
    pub id: String,
    /// The member's or the invitee's e-mail.
    pub email: String,
    /// The member's first name (empty for an invitation).
    pub first_name: String,
    /// The member's last name (empty for an invitation).
    pub last_name: String,
    /// The member's role, or the role the invitation offers.
    pub role: Role,
    /// When the member joined or the invitation was made.
    pub created_at: i64,
    /// When the invitation expires (`None` for a member).
    pub expires_at: Option<i64>,
}
