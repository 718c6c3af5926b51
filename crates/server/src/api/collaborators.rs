//! The newest app's team and invite endpoints (insomnia-wire-newer.md §4), beside the 10.x flow
//! of `invitations.rs` and over the same invitations and keys.
//!
//! The list shows members and invitations together and pages them; the search finds them by
//! e-mail or name. Inviting takes two steps around the app's own key work: `start-adding` turns
//! e-mails into account ids and public keys (the app then reads `my-project-keys`, decrypts its
//! project keys, re-shares to members lacking them with `reconcile-keys`, and encrypts each key
//! to each invitee), and `finish-adding` stores one invitation per invitee with those keys, all
//! in one transaction. Accepting (`POST /v1/user/invites/{id}/accept`) is the 10.x endpoint.
//!
//! Hypnos has no groups: `teamIds` must be empty and no collaborator is of type `group`.

use std::collections::HashSet;

use axum::{
    extract::{Path, Query, State, rejection::QueryRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use hypnos_crypto::{
    encoding::{decode_uri_component, encode_uri_component},
    kdf::sanitize_email,
    random,
    wire::{
        ErrorBody,
        collaborators::{
            Collaborator as WireCollaborator, CollaboratorInstruction, CollaboratorList,
            CollaboratorMetadata, CollaboratorSearchItem, CollaboratorType, FinishAddingRequest,
            StartAddingRequest, StartAddingResponse,
        },
    },
};
use serde::Deserialize;
use serde_json::json;

use super::{
    audit_event,
    invitations::{
        self, MAX_KEYS, invitation_refused, mail_invitation, offered_role, require_may_offer,
    },
    members, rfc3339, validate,
};
use crate::{
    admin::{self, SignupPolicy},
    config::ServerConfig,
    error::{ApiError, ApiResult},
    extract::Json,
    membership,
    permissions::{Permission, allows},
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{
        AccountId, Collaborator, CollaboratorKind, Invitation, InvitationKey, OrgId, Role,
        StoreError,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The list's page size when the app names none (its own default), and the most it may name.
const PAGE: u32 = 25;
const PAGE_MAX: u32 = 100;
/// The longest filter or search keyword, in characters (an e-mail's longest).
const MAX_FILTER: usize = 254;
/// The most answers a search gives.
const SEARCH_RESULTS: u32 = 20;
/// The most people one `start-adding` or `finish-adding` invites.
const MAX_INVITEES: usize = 50;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(search))
        .routes(routes!(unlink))
        .routes(routes!(start_adding))
        .routes(routes!(finish_adding))
}

/// `?per_page=N&page=P&filter=TEXT`: page P (from 0, as the app counts) of N collaborators.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    per_page: Option<u32>,
    page: Option<u64>,
    filter: Option<String>,
}

/// A filter or keyword as the store takes it: trimmed, `None` when empty, bounded.
///
/// The newest app percent-encodes the filter before its own `URLSearchParams` encodes it again
/// (`invite-modal.tsx`: `filter: encodeURIComponent(filter)`), so `bob@example.com` arrives as
/// `bob%40example.com`: text that decodes cleanly is decoded once more. Older versions send it
/// as typed, which has no `%` escape and stays as it is.
fn search_text(field: &str, text: Option<&str>) -> ApiResult<Option<String>> {
    let decoded =
        text.map(|text| decode_uri_component(text.as_bytes()).unwrap_or_else(|_| text.to_owned()));
    let Some(text) = decoded
        .as_deref()
        .map(str::trim)
        .filter(|text| !text.is_empty())
    else {
        return Ok(None);
    };
    if text.chars().count() > MAX_FILTER || text.chars().any(char::is_control) {
        return Err(ApiError::BadRequest(format!(
            "{field} must be at most {MAX_FILTER} characters without control characters"
        )));
    }
    Ok(Some(text.to_owned()))
}

/// Members see the members; invitations only those who may read them (the permission table).
async fn require_reader(
    state: &AppState,
    caller: &Authenticated,
    org: &str,
) -> ApiResult<(OrgId, bool)> {
    let membership = membership::require(state, caller, org, Permission::ReadMembership).await?;
    let with_invitations = allows(membership.role, Permission::ReadInvitation);
    Ok((membership.organization.id, with_invitations))
}

/// A page of the organization's members and invitations.
#[utoipa::path(
    get, operation_id = "collaborators_list", path = "/v1/desktop/organizations/{org}/collaborators", tag = "collaborators", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ListQuery),
    responses((status = 200, body = CollaboratorList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> ApiResult<axum::Json<CollaboratorList>> {
    let Query(query) = query
        .map_err(|_| ApiError::BadRequest("per_page and page must be whole numbers".into()))?;
    let per_page = validate::per_page(query.per_page, PAGE, PAGE_MAX)?;
    let page = query.page.unwrap_or(0);
    let filter = search_text("filter", query.filter.as_deref())?;
    let start = page.saturating_mul(u64::from(per_page));
    let (org_id, with_invitations) = require_reader(&state, &caller, &org).await?;
    let (found, total) = state
        .store
        .collaborators(
            &org_id,
            filter.as_deref(),
            with_invitations,
            start,
            per_page,
        )
        .await?;
    let length = found.len() as u64;
    let next = if start.saturating_add(length) < total {
        let filter = filter
            .map(|text| format!("&filter={}", encode_uri_component(&text)))
            .unwrap_or_default();
        format!(
            "/v1/desktop/organizations/{org_id}/collaborators?per_page={per_page}&page={}{filter}",
            page + 1
        )
    } else {
        String::new()
    };
    Ok(axum::Json(CollaboratorList {
        start,
        limit: u64::from(per_page),
        length,
        total,
        next,
        collaborators: found.into_iter().map(shown).collect(),
    }))
}

/// A collaborator as the app's list shows it.
fn shown(collaborator: Collaborator) -> WireCollaborator {
    let role_id = Some(collaborator.role.as_str().to_owned());
    match collaborator.kind {
        CollaboratorKind::Member => {
            let name = format!("{} {}", collaborator.first_name, collaborator.last_name)
                .trim()
                .to_owned();
            WireCollaborator {
                picture: String::new(),
                kind: CollaboratorType::Member,
                name: if name.is_empty() {
                    collaborator.email.clone()
                } else {
                    name
                },
                created_at: Some(rfc3339(collaborator.created_at)),
                metadata: CollaboratorMetadata {
                    role_id,
                    email: Some(collaborator.email),
                    user_id: Some(collaborator.id.clone()),
                    ..CollaboratorMetadata::default()
                },
                id: collaborator.id,
            }
        }
        CollaboratorKind::Invitation => WireCollaborator {
            picture: String::new(),
            kind: CollaboratorType::Invite,
            name: collaborator.email.clone(),
            created_at: Some(rfc3339(collaborator.created_at)),
            metadata: CollaboratorMetadata {
                invitation_id: Some(collaborator.id.clone()),
                role_id,
                email: Some(collaborator.email),
                expires_at: collaborator.expires_at.map(rfc3339),
                ..CollaboratorMetadata::default()
            },
            id: collaborator.id,
        },
    }
}

/// Finds the organization's own members and invitations only, never other accounts of the
/// server: a search by prefix would let any member list the server's users, and an exact
/// e-mail adds nothing for the app (a typed address is invited as it is, and `start-adding`
/// says, under the look-up rate limit, whether it has an account).
#[utoipa::path(
    get, operation_id = "collaborators_search", path = "/v1/desktop/organizations/{org}/collaborators/search/{keyword}", tag = "collaborators", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("keyword" = String, Path, description = "What to look for")),
    responses((status = 200, body = Vec<CollaboratorSearchItem>))
)]
async fn search(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, keyword)): Path<(String, String)>,
) -> ApiResult<axum::Json<Vec<CollaboratorSearchItem>>> {
    let keyword = search_text("keyword", Some(&keyword))?
        .ok_or(ApiError::BadRequest("keyword must not be blank".into()))?;
    let (org_id, with_invitations) = require_reader(&state, &caller, &org).await?;
    let (found, _) = state
        .store
        .collaborators(&org_id, Some(&keyword), with_invitations, 0, SEARCH_RESULTS)
        .await?;
    Ok(axum::Json(
        found
            .into_iter()
            .map(|collaborator| CollaboratorSearchItem {
                kind: match collaborator.kind {
                    CollaboratorKind::Member => CollaboratorType::Member,
                    CollaboratorKind::Invitation => CollaboratorType::Invite,
                },
                id: collaborator.id,
                picture: String::new(),
                // The app's invite form adds the chosen result's name as an address.
                name: collaborator.email,
            })
            .collect(),
    ))
}

/// Removes a member or withdraws an invitation by the id the list hands out: the 10.x endpoints
/// themselves, with their permissions, rules and audit events.
#[utoipa::path(
    delete, operation_id = "collaborators_unlink", path = "/v1/desktop/organizations/{org}/collaborators/{id}/unlink", tag = "collaborators", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("id" = String, Path, description = "An account id or an invitation id")),
    responses((status = 204, description = "Done."))
)]
async fn unlink(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    validate::id("collaboratorId", &id)?;
    // Invitation ids are made with this prefix (`invitations.rs`), account ids never are.
    if id.starts_with("inv_") {
        invitations::withdraw(State(state), caller, Path((org, id))).await
    } else {
        members::remove(State(state), caller, Path((org, id.into()))).await
    }
}

/// `teamIds` names groups, which Hypnos does not have.
fn no_groups(team_ids: &[String]) -> ApiResult<()> {
    if team_ids.is_empty() {
        Ok(())
    } else {
        Err(ApiError::BadRequest(
            "teamIds must be empty: this server has no teams of people, invite them by e-mail"
                .into(),
        ))
    }
}

/// A refusal of `start-adding` that names the addresses it is about, which [`ApiError`]'s fixed
/// sentences cannot.
enum AddingError {
    Api(ApiError),
    About {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

impl From<ApiError> for AddingError {
    fn from(error: ApiError) -> Self {
        Self::Api(error)
    }
}

impl From<StoreError> for AddingError {
    fn from(error: StoreError) -> Self {
        Self::Api(error.into())
    }
}

impl IntoResponse for AddingError {
    fn into_response(self) -> Response {
        match self {
            Self::Api(error) => error.into_response(),
            Self::About {
                status,
                code,
                message,
            } => (
                status,
                axum::Json(ErrorBody {
                    error: code.into(),
                    message,
                }),
            )
                .into_response(),
        }
    }
}

/// What to tell an inviter whose invitees have no account yet: where they sign up under this
/// server's sign-up policy.
fn signup_hint(config: &ServerConfig, emails: &[String]) -> String {
    let listed = emails.join(", ");
    let may_sign_up = config.signup == SignupPolicy::Open
        && emails
            .iter()
            .all(|email| admin::domain_allowed(config, email));
    let how = if may_sign_up {
        let page = match &config.public_url {
            Some(_) => format!("{}/app/auth-app/signup.html", admin::public_url(config)),
            None => "this server's sign-up page (/app/auth-app/signup.html)".into(),
        };
        format!("ask them to sign up first, at {page} or with `hypnos signup`")
    } else {
        "ask the server's operator for a sign-up link for each of them (`hypnos admin \
         signup-link --email ADDRESS`) and, once they have signed up with it"
            .into()
    };
    format!(
        "no account on this server for {listed}: an invitation goes to an existing account \
         (its keys are made on the invitee's machine); {how}, then invite them again"
    )
}

/// What adding these e-mails takes: each one's public key, if it has an account.
#[utoipa::path(
    post, operation_id = "collaborators_start_adding", path = "/v1/desktop/organizations/{org}/collaborators/start-adding", tag = "collaborators", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = StartAddingRequest,
    responses((status = 200, body = StartAddingResponse))
)]
async fn start_adding(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<StartAddingRequest>,
) -> Result<axum::Json<StartAddingResponse>, AddingError> {
    no_groups(&body.team_ids)?;
    // Each address is a look-up of whether it has an account, counted against
    // `--invite-lookup-rate`: one request may not ask more than the limit allows at once.
    let most = MAX_INVITEES.min(state.config.invite_lookup_rate as usize);
    if body.emails.is_empty() || body.emails.len() > most {
        return Err(ApiError::BadRequest(format!(
            "emails must hold 1 to {most} addresses at once on this server"
        ))
        .into());
    }
    // The app sends the addresses as typed (trimmed, not lower-cased); accounts are found by
    // the sanitized form, as at log-in.
    let mut emails = Vec::with_capacity(body.emails.len());
    for email in &body.emails {
        let email = sanitize_email(email);
        validate::email("emails", &email)?;
        if !emails.contains(&email) {
            emails.push(email);
        }
    }
    let membership =
        membership::require(&state, &caller, &org, Permission::CreateInvitation).await?;
    let org_id = membership.organization.id;
    let mut accounts = Vec::with_capacity(emails.len());
    let mut unknown = Vec::new();
    for email in emails {
        state.limiter.lookup(&caller.account.id).await?;
        match state.store.account_by_email(&email).await? {
            Some(account) => accounts.push(account),
            None => unknown.push(email),
        }
    }
    if !unknown.is_empty() {
        return Err(AddingError::About {
            status: StatusCode::NOT_FOUND,
            code: "NO_ACCOUNT",
            message: signup_hint(&state.config, &unknown),
        });
    }
    let mut members = Vec::new();
    for account in &accounts {
        if state
            .store
            .membership(&org_id, &account.id)
            .await?
            .is_some()
        {
            members.push(account.email.clone());
        }
    }
    if !members.is_empty() {
        return Err(AddingError::About {
            status: StatusCode::CONFLICT,
            code: "ALREADY_MEMBER",
            message: format!(
                "already a member of this organization: {}",
                members.join(", ")
            ),
        });
    }
    let invited: HashSet<AccountId> = state
        .store
        .invitations_of(&org_id, now_ms())
        .await?
        .into_iter()
        .map(|view| view.invitation.invitee_account_id)
        .collect();
    let pending: Vec<&str> = accounts
        .iter()
        .filter(|account| invited.contains(&account.id))
        .map(|account| account.email.as_str())
        .collect();
    if !pending.is_empty() {
        return Err(AddingError::About {
            status: StatusCode::CONFLICT,
            code: "ALREADY_INVITED",
            message: format!(
                "invited already (resend, change or withdraw that invitation instead): {}",
                pending.join(", ")
            ),
        });
    }
    Ok(axum::Json(
        accounts
            .into_iter()
            .map(|account| {
                (
                    account.id.to_string(),
                    CollaboratorInstruction {
                        account_id: account.id.into(),
                        public_key: account.public_key,
                        auto_linked: false,
                    },
                )
            })
            .collect(),
    ))
}

/// Invites the accounts, with the project keys encrypted to each.
#[utoipa::path(
    post, operation_id = "collaborators_finish_adding", path = "/v1/desktop/organizations/{org}/collaborators/finish-adding", tag = "collaborators", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = FinishAddingRequest,
    responses((status = 204, description = "Done."))
)]
async fn finish_adding(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<FinishAddingRequest>,
) -> ApiResult<StatusCode> {
    no_groups(&body.team_ids)?;
    if body.account_ids.is_empty() || body.account_ids.len() > MAX_INVITEES {
        return Err(ApiError::BadRequest(format!(
            "accountIds must hold 1 to {MAX_INVITEES} accounts"
        )));
    }
    let mut invitees = HashSet::new();
    for account_id in &body.account_ids {
        validate::id("accountIds", account_id)?;
        if !invitees.insert(account_id.as_str()) {
            return Err(ApiError::BadRequest(
                "accountIds names an account twice".into(),
            ));
        }
    }
    let role = match &body.role_id {
        Some(role_id) => offered_role(std::slice::from_ref(role_id))?,
        None => Role::Member,
    };
    // The keys are checked as `POST …/invites` checks its `inviteKeys`; the store checks that
    // each names a project of the organization the caller holds a key for.
    let count: usize = body.keys.values().map(|keys| keys.len()).sum();
    if count > MAX_KEYS {
        return Err(ApiError::BadRequest(format!(
            "keys holds at most {MAX_KEYS} keys"
        )));
    }
    for (account_id, keys) in &body.keys {
        if !invitees.contains(account_id.as_str()) {
            return Err(ApiError::BadRequest(
                "keys names an account that is not in accountIds".into(),
            ));
        }
        for (project_id, key) in keys {
            validate::id("keys.projectId", project_id)?;
            if key.project_id != *project_id || key.account_id != *account_id {
                return Err(ApiError::BadRequest(
                    "each key's accountId and projectId must be the keys it is filed under".into(),
                ));
            }
            validate::wrapped_key("keys.encKey", &key.enc_key)?;
        }
    }
    let membership =
        membership::require(&state, &caller, &org, Permission::CreateInvitation).await?;
    require_may_offer(&membership, role)?;
    let org_id = membership.organization.id;
    let now = now_ms();
    let expires_at = now + state.config.invitation_ttl.as_millis() as i64;
    let mut keys_of = body.keys;
    let mut invitations = Vec::with_capacity(body.account_ids.len());
    let mut mailings = Vec::with_capacity(body.account_ids.len());
    for account_id in body.account_ids {
        let account_id = AccountId::from(account_id);
        let Some(invitee) = state.store.account_by_id(&account_id).await? else {
            return Err(ApiError::NotFound("no account with an id of accountIds"));
        };
        let keys: Vec<InvitationKey> = keys_of
            .remove(account_id.as_str())
            .unwrap_or_default()
            .into_values()
            .map(|key| InvitationKey {
                project_id: key.project_id.into(),
                enc_symmetric_key: key.enc_key,
                auto_linked: false,
            })
            .collect();
        let invitation = Invitation {
            id: random::prefixed_id("inv")?,
            organization_id: org_id.clone(),
            invitee_account_id: account_id,
            inviter_account_id: caller.account.id.clone(),
            role,
            created_at: now,
            expires_at,
        };
        // The same event as the 10.x flow's, so the audit log reads the same either way.
        let event = audit_event(
            &caller,
            &org_id,
            "invitation.created",
            &invitation.id,
            json!({
                "invitee": invitation.invitee_account_id,
                "role": role.as_str(),
                "projects": keys.iter().map(|k| &k.project_id).collect::<Vec<_>>(),
            }),
        )?;
        mailings.push((invitation.clone(), invitee.email));
        invitations.push((invitation, keys, event));
    }
    state
        .store
        .create_invitations(&org_id, invitations)
        .await
        .map_err(invitation_refused)?;
    for (invitation, email) in &mailings {
        mail_invitation(
            &state,
            &caller,
            &membership.organization.display_name,
            invitation,
            email,
        );
    }
    Ok(StatusCode::NO_CONTENT)
}
