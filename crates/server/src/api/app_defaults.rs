//! Typed defaults for the start-up calls of the newest app that mean nothing on a self-hosted
//! server (insomnia-wire-newer.md §9): trials, Kong's hosted mock quota, enterprises and seats,
//! Konnect control planes and SDK snippets. The app no longer tolerates a 404 from `insomniaFetch`
//! (it throws on every non-2xx), so each answers what "nothing to see" looks like in the app's
//! own type (packages/insomnia-api/src/{trial,enterprise,stainless}.ts). Nothing is stored.
//!
//! Where the app sends a session (trials, the user's usage, enterprises, seats) the session is
//! required, as on every other account endpoint; Konnect's list and the SDK look-up are sent
//! without one (the app passes `sessionId: null`, or a Konnect token), and reveal nothing.

use axum::extract::Path;
use hypnos_crypto::wire::v3::{
    AccountUsedSeats, AutoPurchase, ControlPlaneList, EnterpriseOwner, LicenseUsage, MockUsage,
    NumberedMeta, NumberedPage, ResourceUsage, StartTrialResult, TrialEligibility,
};

use crate::{
    error::{ApiError, ApiResult},
    session::Authenticated,
    state::AppState,
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The seats and licences a self-hosted server "has": no limit, written as the large number
/// whoami's `maxTeamMembers` and the plan's `quantity` already use.
const UNLIMITED: u64 = 1_000_000;

/// The longest enterprise id accepted in a path.
const MAX_ID: usize = 100;

/// Konnect's default page size, echoed in its empty list.
const KONNECT_PAGE: u64 = 100;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(trial_eligibility))
        .routes(routes!(start_trial))
        .routes(routes!(resource_usage))
        .routes(routes!(enterprises))
        .routes(routes!(seats))
        .routes(routes!(license_usage))
        .routes(routes!(control_planes))
        .routes(routes!(stainless_sdk))
}

/// Every feature is on already: there is nothing to try.
#[utoipa::path(
    get, operation_id = "app_defaults_trial_eligibility", path = "/v1/trials/eligibility", tag = "app", security(("session" = [])),
    responses((status = 200, body = TrialEligibility))
)]
async fn trial_eligibility(_caller: Authenticated) -> axum::Json<TrialEligibility> {
    axum::Json(TrialEligibility { is_eligible: false })
}

/// No trial starts (the app offers none, being told it is not eligible).
#[utoipa::path(
    post, operation_id = "app_defaults_start_trial", path = "/v1/trials/start", tag = "app", security(("session" = [])),
    responses((status = 200, body = StartTrialResult))
)]
async fn start_trial(_caller: Authenticated) -> axum::Json<StartTrialResult> {
    axum::Json(StartTrialResult { success: false })
}

/// Kong's hosted mock servers are not hosted here: no quota, no calls.
#[utoipa::path(
    get, operation_id = "app_defaults_resource_usage", path = "/v1/user/resource-usage", tag = "app", security(("session" = [])),
    responses((status = 200, body = ResourceUsage))
)]
async fn resource_usage(_caller: Authenticated) -> axum::Json<ResourceUsage> {
    axum::Json(ResourceUsage {
        mocks: MockUsage {
            quota: 0,
            calls: 0,
            auto_purchase: AutoPurchase {
                enabled: false,
                unit: 0,
            },
        },
    })
}

/// No enterprises.
#[utoipa::path(
    get, operation_id = "app_defaults_enterprises", path = "/v1/user/enterprises", tag = "app", security(("session" = [])),
    responses((status = 200, body = Vec<EnterpriseOwner>))
)]
async fn enterprises(_caller: Authenticated) -> axum::Json<Vec<EnterpriseOwner>> {
    axum::Json(Vec::new())
}

/// Seats are not sold here: none used, no limit.
#[utoipa::path(
    get, operation_id = "app_defaults_seats", path = "/v1/accounts/seats", tag = "app", security(("session" = [])),
    responses((status = 200, body = AccountUsedSeats))
)]
async fn seats(_caller: Authenticated) -> axum::Json<AccountUsedSeats> {
    axum::Json(AccountUsedSeats {
        member_count: 0,
        invite_count: 0,
        used: 0,
        total: UNLIMITED,
    })
}

/// Licences are not sold here either; the id is only checked for size (no enterprise exists).
#[utoipa::path(
    get, operation_id = "app_defaults_license_usage", path = "/v1/enterprise/{enterprise}/license-usage", tag = "app", security(("session" = [])),
    params(("enterprise" = String, Path, description = "An enterprise id")),
    responses((status = 200, body = LicenseUsage))
)]
async fn license_usage(
    _caller: Authenticated,
    Path(enterprise): Path<String>,
) -> ApiResult<axum::Json<LicenseUsage>> {
    if enterprise.is_empty() || enterprise.chars().count() > MAX_ID {
        return Err(ApiError::BadRequest(format!(
            "the enterprise id must be 1 to {MAX_ID} characters"
        )));
    }
    Ok(axum::Json(LicenseUsage {
        used: 0,
        total: UNLIMITED,
        member_count: 0,
        invite_count: 0,
        free: UNLIMITED,
    }))
}

/// Konnect's control planes: none (the app's Konnect space is local to the machine).
#[utoipa::path(
    get, operation_id = "app_defaults_control_planes", path = "/v2/control-planes", tag = "app",
    responses((status = 200, body = ControlPlaneList))
)]
async fn control_planes() -> axum::Json<ControlPlaneList> {
    axum::Json(ControlPlaneList {
        data: Vec::new(),
        meta: NumberedMeta {
            page: NumberedPage {
                number: 1,
                size: KONNECT_PAGE,
                total: 0,
            },
        },
    })
}

/// No generated SDK for any endpoint: the app's type is `Sdk | null`, and with `null` it never
/// asks for a snippet.
#[utoipa::path(
    get, operation_id = "app_defaults_stainless_sdk", path = "/integrations/stainless/sdk", tag = "app",
    responses((status = 200, description = "Always `null`.", body = Option<()>))
)]
async fn stainless_sdk() -> axum::Json<Option<()>> {
    axum::Json(None)
}
