//! Organizations (insomnia-wire.md §5, extensions.md "Organizations"): the list the app loads
//! after log-in, one organization, the caller's profile, plan, storage rule, features, roles and
//! permissions, and creating a team.
//!
//! The app mixes naming styles within one body (`display_name` and `logo_url` beside
//! `organizationType`); each field is named exactly as the app reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `GET /v1/organizations`: the caller's personal organization first, then its teams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationList {
    /// The organizations.
    pub organizations: Vec<Organization>,
    /// Index of the first one (always 0: the list is not paged).
    pub start: u64,
    /// How many one page holds (the whole list).
    pub limit: u64,
    /// How many this answer holds.
    pub length: u64,
    /// How many there are.
    pub total: u64,
}

/// One organization, in the list and from `GET /v1/organizations/{org}`; and the answer to
/// `POST /v1/organizations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organization {
    /// `org_…`.
    pub id: String,
    /// The short name.
    pub name: String,
    /// The name shown.
    pub display_name: String,
    /// Logo (none on a self-hosted server).
    pub branding: Branding,
    /// Kind and owner.
    pub metadata: OrganizationMetadata,
}

/// An organization's branding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Branding {
    /// A logo's address; empty for none.
    pub logo_url: String,
}

/// What kind of organization it is and who owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OrganizationMetadata {
    /// `personal` or `team`.
    pub organization_type: String,
    /// The owner's account id.
    pub owner_account_id: String,
    /// A description, in the answer for one organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `POST /v1/organizations`: a new team organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOrganizationRequest {
    /// Its name (also the display name).
    pub name: String,
}

/// `GET /v1/user/profile`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserProfile {
    /// The account id.
    pub id: String,
    /// The e-mail.
    pub email: String,
    /// First and last name.
    pub name: String,
    /// An avatar's address; empty for none.
    pub picture: String,
    /// Empty on a self-hosted server.
    pub bio: String,
    /// Empty on a self-hosted server.
    pub github: String,
    /// Empty on a self-hosted server.
    pub linkedin: String,
    /// Empty on a self-hosted server.
    pub twitter: String,
    /// External identities (none).
    pub identities: Vec<String>,
    /// First name.
    pub given_name: String,
    /// Last name.
    pub family_name: String,
}

/// `GET /v1/billing/current-plan`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CurrentPlan {
    /// Whether the plan is active.
    pub is_active: bool,
    /// `month` or `year`.
    pub period: String,
    /// The plan's id.
    pub plan_id: String,
    /// Its price.
    pub price: u64,
    /// Seats paid for.
    pub quantity: u64,
    /// `free`, `individual`, `team`, `enterprise` or `enterprise-member`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The plan's name as the newest app shows it (issue 13).
    #[serde(default)]
    pub plan_name: String,
    /// `active` or `trialing` (issue 13; the newest app reads it).
    #[serde(default)]
    pub status: String,
}

/// `GET /v1/organizations/{org}/storage-rule`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct StorageRule {
    /// `cloud_plus_local`, `cloud_only` or `local_only`.
    pub storage: String,
    /// Whether it differs from the default.
    pub is_overridden: bool,
    /// The newest app's form of `storage` (issue 13): whether cloud sync is allowed.
    #[serde(default)]
    pub enable_cloud_sync: bool,
    /// Whether local-only projects are allowed.
    #[serde(default)]
    pub enable_local_vault: bool,
    /// Whether Git-backed projects are allowed (no 10.x equivalent).
    #[serde(default)]
    pub enable_git_sync: bool,
}

/// `PUT /v1/organizations/{org}/storage-rule` (owner only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetStorageRuleRequest {
    /// `cloud_plus_local`, `cloud_only` or `local_only`.
    pub storage: String,
}

/// `GET /v1/organizations/{org}/features`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Features {
    /// The features.
    pub features: FeatureFlags,
    /// The billing state the app checks.
    pub billing: BillingState,
}

/// Which features the organization has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FeatureFlags {
    /// Git sync (the app talks to the git host itself).
    pub git_sync: Feature,
    /// Roles beyond owner.
    pub org_basic_rbac: Feature,
    /// Cloud sync: this server.
    pub cloud_sync: Feature,
    /// Local-only projects.
    pub local_vault: Feature,
    /// Importing many files at once (the newest app's key; issue 13 adds the rest too).
    #[serde(default = "Feature::off")]
    pub bulk_import: Feature,
    /// AI-generated mock servers.
    #[serde(default = "Feature::off")]
    pub ai_mock_servers: Feature,
    /// AI-written commit messages.
    #[serde(default = "Feature::off")]
    pub ai_commit_messages: Feature,
    /// The AI MCP client.
    #[serde(default = "Feature::off")]
    pub ai_mcp_client: Feature,
    /// Pulling Kong Konnect control planes.
    #[serde(default = "Feature::off")]
    pub konnect_sync: Feature,
}

/// One feature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feature {
    /// Whether it is on.
    pub enabled: bool,
    /// Why not, when it is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Feature {
    /// Off, for no stated reason: what a server that does not name the feature means.
    pub fn off() -> Self {
        Self {
            enabled: false,
            reason: None,
        }
    }
}

/// The billing part of `features`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct BillingState {
    /// Whether the plan is active.
    pub is_active: bool,
    /// A warning to show; empty for none.
    pub expiration_warning_message: String,
    /// An error to show; empty for none.
    pub expiration_error_message: String,
    /// Whether access is denied for billing reasons.
    pub access_denied: bool,
}

/// One entry of `GET /v1/organizations/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleInfo {
    /// The role's id (its name, on this server).
    pub id: String,
    /// `owner`, `admin` or `member`.
    pub name: String,
    /// What the role may do.
    pub description: String,
}

/// `GET /v1/organizations/{org}/user-permissions`: permission name → whether the caller has it.
pub type UserPermissions = BTreeMap<String, bool>;

/// `GET /v1/organizations/{org}/audit-log?limit&before` (owner and admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditLog {
    /// The events, newest first.
    pub events: Vec<AuditLogEvent>,
}

/// One event of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AuditLogEvent {
    /// The event's id.
    pub id: String,
    /// When, RFC 3339.
    pub at: String,
    /// Who, when an account did it.
    pub actor_account_id: Option<String>,
    /// What, e.g. `organization.created`.
    pub action: String,
    /// The id it was done to.
    pub target: String,
    /// The particulars (never key material).
    pub details: serde_json::Value,
}

/// `GET /v1/organizations/{org}/members?per_page&page&email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberList {
    /// This page of members, by e-mail.
    pub members: Vec<MemberInfo>,
    /// Index of the first member on this page.
    pub start: u64,
    /// The page size asked for.
    pub limit: u64,
    /// How many this page holds.
    pub length: u64,
    /// How many match in all.
    pub total: u64,
}

/// One member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberInfo {
    /// The account id.
    pub user_id: String,
    /// An avatar's address; empty for none.
    pub picture: String,
    /// First and last name.
    pub name: String,
    /// The e-mail.
    pub email: String,
    /// `owner`, `admin` or `member`.
    pub role_name: String,
    /// When the account joined, RFC 3339.
    pub created: String,
}

/// `GET /v1/organizations/{org}/members/{account}/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MemberRole {
    /// The role's id (its name, on this server).
    pub role_id: String,
    /// `owner`, `admin` or `member`.
    pub name: String,
    /// What the role may do.
    pub description: String,
}

/// `PUT /v1/organizations/{org}/members/{account}/roles`: exactly one role id, `admin` or
/// `member`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetMemberRoleRequest {
    /// The new role.
    pub roles: Vec<String>,
}

/// `GET /v1/organizations/{org}/team-projects`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamProjectList {
    /// The team projects, oldest first.
    pub data: Vec<TeamProjectInfo>,
}

/// One team project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamProjectInfo {
    /// `proj_…`.
    pub id: String,
    /// Its name.
    pub name: String,
}

/// `POST /v1/organizations/{org}/team-projects` and `PATCH …/team-projects/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamProjectName {
    /// The (new) name.
    pub name: String,
}

/// What `POST /v1/organizations/{org}/team-projects` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedTeamProject {
    /// `proj_…`.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The organization it belongs to.
    pub organization_id: String,
}
