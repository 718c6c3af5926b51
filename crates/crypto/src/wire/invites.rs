//! Invitations and key sharing (insomnia-wire.md §4.5, extensions.md "Invitations, seen from the
//! invitee"): the inviter's five steps, the organization's list, and the invitee's side.
//!
//! Project keys travel as `encSymmetricKey`/`encKey`: hex of the project's AES key (JWK JSON)
//! encrypted with RSA-OAEP-256 to the member's public key. The server only stores and forwards
//! them.

use serde::{Deserialize, Serialize};

/// `POST /v1/organizations/{org}/check-seats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckSeatsRequest {
    /// The e-mails about to be invited.
    pub emails: Vec<String>,
}

/// What `check-seats` answers: a self-hosted server has no seat limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CheckSeatsResponse {
    /// Whether the invitations fit the plan.
    pub is_allowed: bool,
}

/// `POST /v1/organizations/{org}/invites/instructions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstructionsRequest {
    /// Whom to invite (an existing account's e-mail).
    pub invitee_email: String,
}

/// What the inviter needs to encrypt project keys to the invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InstructionsResponse {
    /// Keys already prepared for the invitee (none: the inviter makes them).
    pub invite_keys: Vec<InviteKey>,
    /// The invitee's account id.
    pub invitee_id: String,
    /// The invitee's e-mail.
    pub invitee_email: String,
    /// The invitee's RSA-OAEP-256 public key (JWK JSON).
    pub invitee_public_key: String,
    /// The app's auto-link flag (false).
    pub invitee_auto_linked: bool,
}

/// One project key for an invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InviteKey {
    /// The synced project (`prj_…`).
    pub project_id: String,
    /// The project key encrypted to the invitee (hex).
    pub enc_symmetric_key: String,
    /// The app's auto-link flag, kept as given.
    #[serde(default)]
    pub auto_linked: bool,
}

/// `GET /v1/organizations/{org}/my-project-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyProjectKeys {
    /// The caller's own project keys in the organization.
    pub project_keys: Vec<MyProjectKey>,
    /// For each of those projects, the members without a key for it.
    pub members: Vec<KeylessMember>,
}

/// One of the caller's project keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MyProjectKey {
    /// The synced project.
    pub project_id: String,
    /// The project key encrypted to the caller (hex).
    pub enc_key: String,
}

/// A member lacking a key for a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct KeylessMember {
    /// The member.
    pub account_id: String,
    /// The project.
    pub project_id: String,
    /// The member's public key (JWK JSON).
    pub public_key: String,
}

/// `POST /v1/organizations/{org}/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InviteRequest {
    /// The invitee's account id (from the instructions).
    pub invitee_id: String,
    /// Project keys encrypted to the invitee.
    #[serde(default)]
    pub invite_keys: Vec<InviteKey>,
    /// The invitee's e-mail, as a cross-check of the id.
    #[serde(default)]
    pub invitee_email: Option<String>,
    /// The role offered (`admin` or `member`); default `member`.
    #[serde(default)]
    pub roles: Option<Vec<String>>,
}

/// What `POST …/invites` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct InviteResponse {
    /// The invitation's id (`inv_…`).
    pub id: String,
    /// When it expires, RFC 3339.
    pub expires_at: String,
}

/// `POST /v1/organizations/{org}/reconcile-keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconcileKeysRequest {
    /// The keys the caller encrypted for members lacking them.
    pub keys: Vec<ReconcileKey>,
    /// Replace the keys the members hold already instead of skipping them: the repair of a
    /// wrong key a member planted, for an owner or admin only (a Hypnos extension; absent means
    /// false, as the app sends it).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace: bool,
}

/// One key for one member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ReconcileKey {
    /// The synced project.
    pub project_id: String,
    /// The member it is for.
    pub account_id: String,
    /// The project key encrypted to that member (hex).
    pub enc_symmetric_key: String,
}

/// What `reconcile-keys` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReconcileKeysResponse {
    /// Keys stored.
    pub created: u64,
    /// Keys left out because the member had one already (overwritten only with `replace`).
    pub skipped: u64,
}

/// `GET /v1/organizations/{org}/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationInvitations {
    /// The live invitations, oldest first.
    pub invitations: Vec<OrganizationInvitation>,
}

/// One invitation, as the organization's admins see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationInvitation {
    /// `inv_…`.
    pub id: String,
    /// Who invited.
    pub inviter: NamedPerson,
    /// Who is invited.
    pub invitee: EmailOnly,
    /// When, RFC 3339.
    pub created_at: String,
    /// Until when, RFC 3339.
    pub expires_at: String,
    /// The role offered.
    pub roles: Vec<String>,
}

/// A person by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedPerson {
    /// First and last name.
    pub name: String,
}

/// A person by e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmailOnly {
    /// The e-mail.
    pub email: String,
}

/// `PATCH /v1/organizations/{org}/invites/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvitationRolesRequest {
    /// Exactly one role: `admin` or `member`.
    pub roles: Vec<String>,
}

/// `GET /v1/user/invites`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyInvitations {
    /// The live invitations addressed to the caller, oldest first.
    pub invitations: Vec<MyInvitation>,
}

/// One invitation, as its invitee sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MyInvitation {
    /// `inv_…`.
    pub id: String,
    /// The organization.
    #[serde(rename = "organizationId")]
    pub organization_id: String,
    /// Its name.
    #[serde(rename = "organizationName")]
    pub organization_name: String,
    /// Who invited.
    pub inviter: Inviter,
    /// The role offered.
    pub roles: Vec<String>,
    /// When, RFC 3339.
    pub created_at: String,
    /// Until when, RFC 3339.
    pub expires_at: String,
}

/// The inviter, for the invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inviter {
    /// First and last name.
    pub name: String,
    /// E-mail.
    pub email: String,
}

/// What `POST /v1/user/invites/{id}/accept` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AcceptedInvitation {
    /// The organization joined.
    pub organization_id: String,
}
