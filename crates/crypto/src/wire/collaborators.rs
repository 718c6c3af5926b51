//! The newest app's team and invite flow (insomnia-wire-newer.md §4): the organization's
//! collaborators (members and invitations in one paged list), their search, and the two-step
//! invitation `start-adding` → `finish-adding` that replaces `invites/instructions` + `POST
//! invites` of the 10.x app. Both flows write the same invitations and keys.
//!
//! Field names are those of the app's `packages/insomnia-api/src/collaborators.ts`. Project keys
//! travel as `encKey`: hex of the project's AES key (JWK JSON) encrypted with RSA-OAEP-256 to the
//! invitee's public key; the server only stores and forwards them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// What a collaborator is. Hypnos has no groups (teams of people): it never sends `group`, and
/// the type is here so that a client reads any answer the app's server could give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CollaboratorType {
    /// A member of the organization.
    Member,
    /// An invitation not yet accepted.
    Invite,
    /// A group of people (not in Hypnos).
    Group,
}

/// The details of a collaborator; which fields are present depends on its type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CollaboratorMetadata {
    /// A group's id (never sent by Hypnos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// An invitation's id (`inv_…`), for `type: "invite"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation_id: Option<String>,
    /// The role (`owner`, `admin`, `member`: the ids of `GET /v1/organizations/roles`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// The member's or invitee's e-mail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The member's account id, for `type: "member"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// When an invitation expires, RFC 3339 (in the past for an expired one, which the app
    /// shows as "Expired" with a "Resend" button).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A group's size (never sent by Hypnos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_total: Option<u64>,
}

/// One member or invitation of an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Collaborator {
    /// The collaborator id, which `…/collaborators/{id}/unlink` takes: the member's account id
    /// or the invitation's id.
    pub id: String,
    /// An avatar's address; empty for none.
    pub picture: String,
    /// Member or invitation.
    #[serde(rename = "type")]
    pub kind: CollaboratorType,
    /// A member's first and last name (its e-mail if it gave none); an invitation's e-mail.
    pub name: String,
    /// When the member joined or the invitation was made, RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// The details.
    pub metadata: CollaboratorMetadata,
}

/// `GET /v1/desktop/organizations/{org}/collaborators?per_page=&page=&filter=`: one page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollaboratorList {
    /// The position of the page's first collaborator in the whole list (from 0).
    pub start: u64,
    /// The page size asked for.
    pub limit: u64,
    /// How many collaborators this page holds.
    pub length: u64,
    /// How many match in all.
    pub total: u64,
    /// The path and query of the next page, empty on the last one. (The app pages by `total`
    /// and its own page numbers and does not read it.)
    pub next: String,
    /// The page: members first, then invitations, each by e-mail.
    pub collaborators: Vec<Collaborator>,
}

/// One answer of `GET /v1/desktop/organizations/{org}/collaborators/search/{keyword}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CollaboratorSearchItem {
    /// The collaborator id.
    pub id: String,
    /// An avatar's address; empty for none.
    pub picture: String,
    /// Member or invitation.
    #[serde(rename = "type")]
    pub kind: CollaboratorType,
    /// The e-mail: the app's invite form adds the chosen result's `name` as an address to
    /// invite.
    pub name: String,
}

/// `POST /v1/desktop/organizations/{org}/collaborators/start-adding`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StartAddingRequest {
    /// Groups to invite (Hypnos has none: must be empty).
    #[serde(default)]
    pub team_ids: Vec<String>,
    /// The e-mails to invite, each of an existing account.
    pub emails: Vec<String>,
}

/// What the inviter needs to encrypt project keys to one invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CollaboratorInstruction {
    /// The invitee's account id.
    pub account_id: String,
    /// The invitee's RSA-OAEP-256 public key (JWK JSON).
    pub public_key: String,
    /// The app's auto-link flag (false: the inviter encrypts the keys).
    pub auto_linked: bool,
}

/// What `start-adding` answers: one instruction per invitee, by account id.
pub type StartAddingResponse = BTreeMap<String, CollaboratorInstruction>;

/// One project key encrypted to one invitee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CollaboratorInviteKey {
    /// The invitee (the same as the key of the outer map).
    pub account_id: String,
    /// The synced project (the same as the key of the inner map).
    pub project_id: String,
    /// The project key encrypted to the invitee (hex).
    pub enc_key: String,
}

/// `POST /v1/desktop/organizations/{org}/collaborators/finish-adding`: the invitations, all made
/// or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FinishAddingRequest {
    /// Groups to invite (Hypnos has none: must be empty).
    #[serde(default)]
    pub team_ids: Vec<String>,
    /// Per invitee account id, per project id, the project key encrypted to it.
    #[serde(default)]
    pub keys: BTreeMap<String, BTreeMap<String, CollaboratorInviteKey>>,
    /// The invitees (the keys of `start-adding`'s answer).
    pub account_ids: Vec<String>,
    /// The role offered (`admin` or `member`); default `member`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
}
