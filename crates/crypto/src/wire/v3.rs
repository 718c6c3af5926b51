//! The newest app's (Insomnia 11–13) session bootstrap and spaces: the `/v3/users/me…` bodies of
//! the generated SDK it uses (`@getinsomnia/insomnia-v3-fetch` 1.0.32, whose
//! `dist/types/models/*.d.ts` name every field), the SDK's problem JSON, and the typed defaults
//! this server answers to the start-up calls that mean nothing on a self-hosted server
//! (insomnia-wire-newer.md §2.2, §3.1, §9).
//!
//! The v3 bodies are snake_case like the SDK's; the v1 defaults are camelCase like the app's
//! `packages/insomnia-api/src/*.ts`.

use serde::{Deserialize, Serialize};

// ------------------------------------------------------------------------------------- users

/// `GET /v3/users/me`: the account, as the newest app's log-in and organization loader read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    /// The account id (`acct_…`).
    pub id: String,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// An avatar's address; absent for none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    /// The e-mail.
    pub email: String,
    /// Every e-mail of the account (Hypnos keeps one, the primary).
    pub emails: Vec<UserEmail>,
    /// Whether a directory (SCIM) provisioned the account: never, here.
    pub is_externally_provisioned: bool,
    /// Whether the account uses end-to-end encryption: always, here.
    pub encryption_enabled: bool,
    /// When the account was made, RFC 3339.
    pub created_at: String,
}

/// One e-mail of a [`User`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEmail {
    /// The address.
    pub email: String,
    /// Whether it is the account's primary address.
    pub is_primary: bool,
}

/// `GET /v3/users/me/encryption-keys`: the same stored strings `/auth/whoami` serves as
/// `publicKey`, `encPrivateKey`, `encSymmetricKey` and `saltEnc`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserEncryptionKeys {
    /// The RSA-OAEP-256 public JWK, as JSON text.
    pub public_key: String,
    /// The private JWK under the account key: an AES message as JSON text.
    pub enc_private_key: String,
    /// The account key under SEC_PWD_Enc: an AES message as JSON text.
    pub enc_symmetric_key: String,
    /// The salt SEC_PWD_Enc is derived with.
    pub salt_enc: String,
    /// Kong's "driver key", unknown to the app's own code: always empty here.
    pub enc_driver_key: String,
}

/// `GET /v3/users/me/onboarding` (and the answer to `PUT …/request-threshold-reached`): the
/// state of an onboarding experiment this server does not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserOnboarding {
    /// Which arm of the first-request experiment the account is in.
    pub first_request_treatment: FirstRequestTreatment,
    /// Whether the account signed up after the experiment began.
    pub is_new_signup: bool,
}

/// The arms of the first-request experiment (the SDK's `UserOnboardingFirstRequestTreatmentEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FirstRequestTreatment {
    /// Arm A.
    TreatmentA,
    /// Arm B.
    TreatmentB,
    /// No arm: the server does not steer the experiment (always, here).
    Unknown,
}

/// `POST /v3/users/me/actions`: an action the user took, for Kong's activity reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CurrentUserActionCreate {
    /// What the user did.
    pub action_type: UserActionType,
    /// The client's id for de-duplication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
}

/// The actions the SDK reports (`CurrentUserActionCreateActionTypeEnum`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UserActionType {
    /// A request was created.
    RequestCreated,
    /// A request was sent.
    RequestExecuted,
    /// A document was created.
    DocumentCreated,
    /// An MCP client was created.
    McpCreated,
    /// An MCP client connected.
    McpConnected,
    /// A mock server was created.
    MockCreated,
    /// A mock route was created.
    MockRouteCreated,
    /// An environment was saved.
    EnvironmentSaved,
}

// ------------------------------------------------------------------------------------ spaces

/// `GET /v3/users/me/spaces`: one page of the caller's organizations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SpaceList {
    /// The spaces of this page.
    pub data: Vec<Space>,
    /// Where the neighbouring pages are.
    pub meta: CursorMeta,
}

/// One organization as the newest app lists it (ids are those of `/v1/organizations`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Space {
    /// `org_…`: the id every `/v1/organizations/{org}/…` path takes.
    pub id: String,
    /// The name shown.
    pub name: String,
    /// A picture's address; `null` for none.
    pub picture: Option<String>,
    /// The owner's given name.
    pub owner_first_name: Option<String>,
    /// The owner's family name.
    pub owner_last_name: Option<String>,
    /// The owner's e-mail.
    pub owner_email: Option<String>,
    /// How many members it has.
    pub total_members: u64,
    /// How many invitations are pending (counted for owners and admins, who may read them).
    pub total_invites: u64,
    /// How many admins it has, its owner included.
    pub total_admins: u64,
    /// Whether the caller owns it.
    pub is_owner: bool,
    /// Whether the caller may leave it.
    pub can_leave: bool,
}

/// A cursor-paged list's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CursorMeta {
    /// The page's links.
    pub page: CursorMetaPage,
}

/// Links to a page's neighbours: paths with `page[after]` or `page[before]`, or `null`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CursorMetaPage {
    /// The first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first: Option<String>,
    /// The last page (not sent: it would cost a second query).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// The next page; `null` on the last one.
    pub next: Option<String>,
    /// The previous page; `null` on the first one.
    pub previous: Option<String>,
    /// The page size used.
    pub size: u32,
}

// ------------------------------------------------------------------------------------ errors

/// An error on a `/v3` path: the SDK's problem JSON (`BaseError`, `BadRequestError`) and this
/// server's own `{error, message}` in one object, so that the SDK (which reads `title` and
/// `detail`), the app's `insomniaFetch` (which reads `error` and `message`) and every other
/// client find what they look for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// The HTTP status.
    pub status: u16,
    /// A short summary of the kind of problem, in sentence case ("Not found").
    pub title: String,
    /// What went wrong this time.
    pub detail: String,
    /// The path the problem occurred on.
    pub instance: String,
    /// The request fields that failed validation (400 only; absent when none is known).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invalid_parameters: Vec<InvalidParameter>,
    /// This server's stable code, as in every other error (`BAD_REQUEST`, `UNAUTHORIZED`, …).
    pub error: String,
    /// The same sentence as `detail`.
    pub message: String,
}

/// One field of a request that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InvalidParameter {
    /// The field, e.g. `page[size]`.
    pub field: String,
    /// The rule it broke, e.g. `max`, `type`, `enum`.
    pub rule: String,
    /// Why, for people.
    pub reason: String,
    /// Where the field was: `query`, `body`, `path` or `header`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

// -------------------------------------------------------------------- start-up defaults (§9)

/// `GET /v1/trials/eligibility` (packages/insomnia-api/src/trial.ts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TrialEligibility {
    /// Whether a trial can start: never, on a server with every feature on.
    pub is_eligible: bool,
}

/// `POST /v1/trials/start`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartTrialResult {
    /// Whether a trial started: never.
    pub success: bool,
}

/// `GET /v1/user/resource-usage` (packages/insomnia-api/src/enterprise.ts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourceUsage {
    /// Kong's hosted mock servers (not hosted here).
    pub mocks: MockUsage,
}

/// The hosted mock servers' quota and use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct MockUsage {
    /// Calls included.
    pub quota: u64,
    /// Calls made.
    pub calls: u64,
    /// Buying more automatically.
    pub auto_purchase: AutoPurchase,
}

/// Automatic purchase of mock calls.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AutoPurchase {
    /// Whether it is on.
    pub enabled: bool,
    /// How many calls one purchase buys.
    pub unit: u64,
}

/// One entry of `GET /v1/user/enterprises` (always an empty list here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseOwner {
    /// The enterprise's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The caller's role in it.
    pub role: String,
}

/// `GET /v1/accounts/seats`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AccountUsedSeats {
    /// Members counted against seats.
    pub member_count: u64,
    /// Invitations counted against seats.
    pub invite_count: u64,
    /// Seats used.
    pub used: u64,
    /// Seats bought.
    pub total: u64,
}

/// `GET /v1/enterprise/{id}/license-usage`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct LicenseUsage {
    /// Licences used.
    pub used: u64,
    /// Licences bought.
    pub total: u64,
    /// Members counted.
    pub member_count: u64,
    /// Invitations counted.
    pub invite_count: u64,
    /// Licences left.
    pub free: u64,
}

/// `GET /v2/control-planes`: Kong Konnect's control planes (none on a self-hosted server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ControlPlaneList {
    /// The control planes: always empty here.
    pub data: Vec<serde_json::Value>,
    /// Konnect's page-number metadata.
    pub meta: NumberedMeta,
}

/// Page-number metadata, as Konnect's lists carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NumberedMeta {
    /// The page.
    pub page: NumberedPage,
}

/// One numbered page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NumberedPage {
    /// Its number, from 1.
    pub number: u64,
    /// Its size.
    pub size: u64,
    /// How many items there are in all.
    pub total: u64,
}

/// `PATCH /v1/organizations/{org}/git-projects`: how many Git-backed projects the app has in the
/// organization (Kong bills by it; this server only checks it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GitProjectCount {
    /// The count.
    pub count: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_are_the_sdks_strings() {
        assert_eq!(
            serde_json::to_value(FirstRequestTreatment::Unknown).expect("serializes"),
            "unknown"
        );
        let action: CurrentUserActionCreate =
            serde_json::from_str(r#"{"action_type":"mock_route_created","event_id":"e1"}"#)
                .expect("parses");
        assert_eq!(action.action_type, UserActionType::MockRouteCreated);
        assert!(
            serde_json::from_str::<CurrentUserActionCreate>(r#"{"action_type":"shopping"}"#)
                .is_err()
        );
    }

    #[test]
    fn a_space_sends_nulls_and_a_page_omits_what_it_lacks() {
        let page = CursorMetaPage {
            first: None,
            last: None,
            next: None,
            previous: None,
            size: 200,
        };
        assert_eq!(
            serde_json::to_value(&page).expect("serializes"),
            serde_json::json!({"next": null, "previous": null, "size": 200})
        );
    }
}
