//! Invitations and key sharing (insomnia-wire.md §4.5; extensions.md "Invitations, seen from the
//! invitee"). The inviter's steps: check-seats, instructions (the invitee's id and public key),
//! my-project-keys (its own keys and who lacks one), the invitation with the keys it encrypted to
//! the invitee, and reconcile-keys (keys for members lacking them). The invitee lists, accepts
//! or declines; on accepting, the keys held with the invitation become its project keys.
//! `reinvite` (issue 13, the newest app's "Resend") gives an invitation, even an expired one,
//! another `--invitation-ttl`; the newest app's own steps are in `collaborators.rs`.
//!
//! An invitation needs an existing account; it expires after `--invitation-ttl`.

use std::collections::HashSet;

use axum::{
    extract::{Path, State},
    http::StatusCode,
};
use hypnos_crypto::{
    random,
    wire::invites::{
        AcceptedInvitation, CheckSeatsRequest, CheckSeatsResponse, EmailOnly, InstructionsRequest,
        InstructionsResponse, InvitationRolesRequest, InviteRequest, InviteResponse, Inviter,
        KeylessMember, MyInvitation, MyInvitations, MyProjectKey, MyProjectKeys, NamedPerson,
        OrganizationInvitation, OrganizationInvitations, ReconcileKeysRequest,
        ReconcileKeysResponse,
    },
};
use serde_json::json;

use super::{audit_event, rfc3339, validate};
use crate::{
    error::{ApiError, ApiResult},
    extract::Json,
    mail, membership,
    permissions::Permission,
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{
        AccountId, Conflict, Invitation, InvitationKey, Membership, ProjectKey, Role, StoreError,
        may_invite,
    },
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The most keys one request may carry.
pub(super) const MAX_KEYS: usize = 10_000;

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(check_seats))
        .routes(routes!(instructions))
        .routes(routes!(my_project_keys))
        .routes(routes!(list, invite))
        .routes(routes!(set_role, withdraw))
        .routes(routes!(reconcile_keys))
        .routes(routes!(reinvite))
        .routes(routes!(mine))
        .routes(routes!(accept))
        .routes(routes!(decline))
}

const NO_SUCH_INVITATION: ApiError = ApiError::NotFound("no live invitation with this id");
const INVITATION_VOID: ApiError = ApiError::Conflict {
    code: "INVITATION_VOID",
    message: "whoever invited you may no longer invite at this role, so the invitation is void \
              (and is gone): ask an admin of the organization for a new one",
};

/// Refuses to offer a role above the caller's own (an invitation must not carry more rights
/// than its inviter has; the same rule is checked again when it is accepted).
pub(super) fn require_may_offer(membership: &Membership, role: Role) -> ApiResult<()> {
    if may_invite(membership.role, role) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "your role in this organization may not invite at this role",
        ))
    }
}
const NOT_SHAREABLE: ApiError = ApiError::Conflict {
    code: "KEY_NOT_SHAREABLE",
    message: "a key names a project of another organization or one you hold no key for, or \
              an account that is not a member",
};

/// The one role a `roles` list names: `admin` or `member`.
pub(super) fn offered_role(roles: &[String]) -> ApiResult<Role> {
    match roles {
        [one] => Role::parse(one)
            .filter(|role| *role != Role::Owner)
            .ok_or(ApiError::BadRequest(
                "roles must name one role: admin or member".into(),
            )),
        _ => Err(ApiError::BadRequest(
            "roles must name exactly one role: admin or member".into(),
        )),
    }
}

/// Whether these invitees fit (always: no seat limit).
#[utoipa::path(
    post, operation_id = "invitations_check_seats", path = "/v1/organizations/{org}/check-seats", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = CheckSeatsRequest,
    responses((status = 200, body = CheckSeatsResponse))
)]
async fn check_seats(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<CheckSeatsRequest>,
) -> ApiResult<axum::Json<CheckSeatsResponse>> {
    for email in &body.emails {
        validate::email("emails", email)?;
    }
    membership::require(&state, &caller, &org, Permission::CreateInvitation).await?;
    // No seat limit on a self-hosted server.
    Ok(axum::Json(CheckSeatsResponse { is_allowed: true }))
}

/// What inviting an e-mail takes: its account's public key, if it has one.
#[utoipa::path(
    post, operation_id = "invitations_instructions", path = "/v1/organizations/{org}/invites/instructions", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = InstructionsRequest,
    responses((status = 200, body = InstructionsResponse))
)]
async fn instructions(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<InstructionsRequest>,
) -> ApiResult<axum::Json<InstructionsResponse>> {
    validate::email("inviteeEmail", &body.invitee_email)?;
    // The answer tells whether an e-mail has an account: a team admin may look up a few, not
    // probe the whole user list (`--invite-lookup-rate` per caller per minute).
    state.limiter.lookup(&caller.account.id).await?;
    let membership =
        membership::require(&state, &caller, &org, Permission::CreateInvitation).await?;
    let invitee = state
        .store
        .account_by_email(&body.invitee_email)
        .await?
        .ok_or(ApiError::NotFound(
            "no account with this e-mail: they sign up first, then you invite them",
        ))?;
    if state
        .store
        .membership(&membership.organization.id, &invitee.id)
        .await?
        .is_some()
    {
        return Err(ApiError::Conflict {
            code: "ALREADY_MEMBER",
            message: "this account is a member already",
        });
    }
    Ok(axum::Json(InstructionsResponse {
        invite_keys: Vec::new(),
        invitee_id: invitee.id.into(),
        invitee_email: invitee.email,
        invitee_public_key: invitee.public_key,
        invitee_auto_linked: false,
    }))
}

/// The caller's keys of the organization's projects.
#[utoipa::path(
    get, operation_id = "invitations_my_project_keys", path = "/v1/organizations/{org}/my-project-keys", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = MyProjectKeys))
)]
async fn my_project_keys(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<MyProjectKeys>> {
    let membership =
        membership::require(&state, &caller, &org, Permission::ReadTeamProject).await?;
    let (keys, gaps) = state
        .store
        .my_project_keys(&membership.organization.id, &caller.account.id)
        .await?;
    Ok(axum::Json(MyProjectKeys {
        project_keys: keys
            .into_iter()
            .map(|key| MyProjectKey {
                project_id: key.project_id.into(),
                enc_key: key.enc_symmetric_key,
            })
            .collect(),
        members: gaps
            .into_iter()
            .map(|gap| KeylessMember {
                account_id: gap.account_id.into(),
                project_id: gap.project_id.into(),
                public_key: gap.public_key,
            })
            .collect(),
    }))
}

/// Invites an account, with the project keys encrypted to it.
#[utoipa::path(
    post, operation_id = "invitations_invite", path = "/v1/organizations/{org}/invites", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = InviteRequest,
    responses((status = 201, description = "Invited.", body = InviteResponse))
)]
async fn invite(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<InviteRequest>,
) -> ApiResult<(StatusCode, axum::Json<InviteResponse>)> {
    validate::id("inviteeId", &body.invitee_id)?;
    let role = match &body.roles {
        Some(roles) => offered_role(roles)?,
        None => Role::Member,
    };
    if body.invite_keys.len() > MAX_KEYS {
        return Err(ApiError::BadRequest(format!(
            "inviteKeys holds at most {MAX_KEYS} keys"
        )));
    }
    let mut projects = HashSet::new();
    for key in &body.invite_keys {
        validate::id("inviteKeys.projectId", &key.project_id)?;
        validate::wrapped_key("inviteKeys.encSymmetricKey", &key.enc_symmetric_key)?;
        if !projects.insert(key.project_id.as_str()) {
            return Err(ApiError::BadRequest(
                "inviteKeys names a project twice".into(),
            ));
        }
    }
    let membership =
        membership::require(&state, &caller, &org, Permission::CreateInvitation).await?;
    require_may_offer(&membership, role)?;
    let invitee = state
        .store
        .account_by_id(&AccountId::from(body.invitee_id.as_str()))
        .await?
        .ok_or(ApiError::NotFound("no account with this inviteeId"))?;
    if body
        .invitee_email
        .as_deref()
        .is_some_and(|email| email != invitee.email)
    {
        return Err(ApiError::BadRequest(
            "inviteeEmail is not the e-mail of inviteeId".into(),
        ));
    }
    let org_id = membership.organization.id;
    let now = now_ms();
    let invitation = Invitation {
        id: random::prefixed_id("inv")?,
        organization_id: org_id.clone(),
        invitee_account_id: invitee.id.clone(),
        inviter_account_id: caller.account.id.clone(),
        role,
        created_at: now,
        expires_at: now + state.config.invitation_ttl.as_millis() as i64,
    };
    let event = audit_event(
        &caller,
        &org_id,
        "invitation.created",
        &invitation.id,
        json!({
            "invitee": invitee.id,
            "role": role.as_str(),
            "projects": body.invite_keys.iter().map(|k| &k.project_id).collect::<Vec<_>>(),
        }),
    )?;
    let keys = body
        .invite_keys
        .into_iter()
        .map(|key| InvitationKey {
            project_id: key.project_id.into(),
            enc_symmetric_key: key.enc_symmetric_key,
            auto_linked: key.auto_linked,
        })
        .collect();
    state
        .store
        .create_invitation(invitation.clone(), keys, event)
        .await
        .map_err(invitation_refused)?;
    mail_invitation(
        &state,
        &caller,
        &membership.organization.display_name,
        &invitation,
        &invitee.email,
    );
    Ok((
        StatusCode::CREATED,
        axum::Json(InviteResponse {
            id: invitation.id,
            expires_at: rfc3339(invitation.expires_at),
        }),
    ))
}

/// Mails the invitee of a committed invitation, when mail is configured: who invited it, to
/// which organization, and how to accept. Queued, never awaited.
pub(super) fn mail_invitation(
    state: &AppState,
    inviter: &Authenticated,
    organization: &str,
    invitation: &Invitation,
    invitee_email: &str,
) {
    let Some(mailer) = &state.mail else {
        return;
    };
    let account = &inviter.account;
    mailer.send_later(mail::messages::invitation(
        mailer.server(),
        &mail::messages::InvitationFacts {
            id: &invitation.id,
            organization,
            role: invitation.role.as_str(),
            inviter: (&account.first_name, &account.last_name, &account.email),
            invitee_email,
            expires_at: invitation.expires_at,
        },
    ));
}

/// What a refused [`crate::storage::TenantStore::create_invitation`] (or its batch) tells the
/// inviter.
pub(super) fn invitation_refused(error: StoreError) -> ApiError {
    match error {
        StoreError::Conflict(Conflict::AlreadyMember) => ApiError::Conflict {
            code: "ALREADY_MEMBER",
            message: "this account is a member already",
        },
        StoreError::Conflict(Conflict::AlreadyInvited) => ApiError::Conflict {
            code: "ALREADY_INVITED",
            message: "this account has a live invitation: change or withdraw it",
        },
        StoreError::Conflict(Conflict::KeyNotShareable) => NOT_SHAREABLE,
        other => other.into(),
    }
}

/// Gives members the project keys they lack.
#[utoipa::path(
    post, operation_id = "invitations_reconcile_keys", path = "/v1/organizations/{org}/reconcile-keys", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    request_body = ReconcileKeysRequest,
    responses((status = 200, body = ReconcileKeysResponse))
)]
async fn reconcile_keys(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
    Json(body): Json<ReconcileKeysRequest>,
) -> ApiResult<axum::Json<ReconcileKeysResponse>> {
    if body.keys.len() > MAX_KEYS {
        return Err(ApiError::BadRequest(format!(
            "keys holds at most {MAX_KEYS} keys"
        )));
    }
    let mut seen = HashSet::new();
    for key in &body.keys {
        validate::id("keys.projectId", &key.project_id)?;
        validate::id("keys.accountId", &key.account_id)?;
        validate::wrapped_key("keys.encSymmetricKey", &key.enc_symmetric_key)?;
        if !seen.insert((key.project_id.as_str(), key.account_id.as_str())) {
            return Err(ApiError::BadRequest(
                "keys names a project and account twice".into(),
            ));
        }
    }
    // Any member may re-share what it holds; the store checks that it holds each key.
    let membership =
        membership::require(&state, &caller, &org, Permission::ReadTeamProject).await?;
    // Replacing a key a member holds repairs a wrong one a member planted (the first key
    // wins otherwise); only those who manage the members may, and it is audited as such.
    if body.replace && !matches!(membership.role, Role::Owner | Role::Admin) {
        return Err(ApiError::Forbidden(
            "only the owner or an admin may replace a member's project key",
        ));
    }
    let org_id = membership.organization.id;
    let total = body.keys.len() as u64;
    let event = audit_event(
        &caller,
        &org_id,
        if body.replace {
            "project_keys.replaced"
        } else {
            "project_keys.shared"
        },
        &caller.account.id,
        json!({
            "keys": body.keys.iter()
                .map(|k| json!({"project": k.project_id, "account": k.account_id}))
                .collect::<Vec<_>>(),
        }),
    )?;
    let keys = body
        .keys
        .into_iter()
        .map(|key| ProjectKey {
            project_id: key.project_id.into(),
            account_id: key.account_id.into(),
            enc_symmetric_key: key.enc_symmetric_key,
        })
        .collect();
    let stored = if body.replace {
        state
            .store
            .replace_project_keys(&org_id, &caller.account.id, keys, now_ms(), event)
            .await
    } else {
        state
            .store
            .reconcile_keys(&org_id, &caller.account.id, keys, now_ms(), event)
            .await
    };
    match stored {
        Ok(created) => Ok(axum::Json(ReconcileKeysResponse {
            created,
            skipped: total - created,
        })),
        Err(StoreError::Conflict(Conflict::KeyNotShareable)) => Err(NOT_SHAREABLE),
        Err(other) => Err(other.into()),
    }
}

/// The organization's open invitations.
#[utoipa::path(
    get, operation_id = "invitations_list", path = "/v1/organizations/{org}/invites", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)")),
    responses((status = 200, body = OrganizationInvitations))
)]
async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(org): Path<String>,
) -> ApiResult<axum::Json<OrganizationInvitations>> {
    let membership = membership::require(&state, &caller, &org, Permission::ReadInvitation).await?;
    let invitations = state
        .store
        .invitations_of(&membership.organization.id, now_ms())
        .await?
        .into_iter()
        .map(|view| OrganizationInvitation {
            id: view.invitation.id,
            inviter: NamedPerson {
                name: view.inviter_name,
            },
            invitee: EmailOnly {
                email: view.invitee_email,
            },
            created_at: rfc3339(view.invitation.created_at),
            expires_at: rfc3339(view.invitation.expires_at),
            roles: vec![view.invitation.role.as_str().into()],
        })
        .collect();
    Ok(axum::Json(OrganizationInvitations { invitations }))
}

/// Changes the role an invitation offers.
#[utoipa::path(
    patch, operation_id = "invitations_set_role", path = "/v1/organizations/{org}/invites/{id}", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("id" = String, Path, description = "The invitation's id (`inv_…`)")),
    request_body = InvitationRolesRequest,
    responses((status = 204, description = "Done."))
)]
async fn set_role(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, id)): Path<(String, String)>,
    Json(body): Json<InvitationRolesRequest>,
) -> ApiResult<StatusCode> {
    validate::id("id", &id)?;
    let role = offered_role(&body.roles)?;
    let membership =
        membership::require(&state, &caller, &org, Permission::UpdateInvitation).await?;
    require_may_offer(&membership, role)?;
    let org_id = membership.organization.id;
    let event = audit_event(
        &caller,
        &org_id,
        "invitation.role_changed",
        &id,
        json!({ "role": role.as_str() }),
    )?;
    match state
        .store
        .set_invitation_role(&org_id, &id, role, now_ms(), event)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(NO_SUCH_INVITATION),
        Err(other) => Err(other.into()),
    }
}

/// Withdraws an invitation.
#[utoipa::path(
    delete, operation_id = "invitations_withdraw", path = "/v1/organizations/{org}/invites/{id}", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("id" = String, Path, description = "The invitation's id (`inv_…`)")),
    responses((status = 204, description = "Done."))
)]
pub(super) async fn withdraw(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    validate::id("id", &id)?;
    let membership =
        membership::require(&state, &caller, &org, Permission::DeleteInvitation).await?;
    let org_id = membership.organization.id;
    let event = audit_event(&caller, &org_id, "invitation.withdrawn", &id, json!({}))?;
    match state.store.delete_invitation(&org_id, &id, event).await {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(NO_SUCH_INVITATION),
        Err(other) => Err(other.into()),
    }
}

/// The newest app's "Resend": the invitation (even an expired one) can be accepted for another
/// `--invitation-ttl` from now. Hypnos sends no e-mail; the invitee sees it in its list again.
/// The same right as withdrawing it.
#[utoipa::path(
    post, operation_id = "invitations_reinvite", path = "/v1/organizations/{org}/invites/{id}/reinvite", tag = "invitations", security(("session" = [])),
    params(("org" = String, Path, description = "The organization's id (`org_…`)"), ("id" = String, Path, description = "The invitation's id (`inv_…`)")),
    responses((status = 204, description = "Done."))
)]
async fn reinvite(
    State(state): State<AppState>,
    caller: Authenticated,
    Path((org, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    validate::id("id", &id)?;
    let membership =
        membership::require(&state, &caller, &org, Permission::DeleteInvitation).await?;
    let org_id = membership.organization.id;
    let expires_at = now_ms() + state.config.invitation_ttl.as_millis() as i64;
    let event = audit_event(
        &caller,
        &org_id,
        "invitation.renewed",
        &id,
        json!({ "expiresAt": rfc3339(expires_at) }),
    )?;
    match state
        .store
        .renew_invitation(&org_id, &id, expires_at, event)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(NO_SUCH_INVITATION_TO_RENEW),
        Err(other) => Err(other.into()),
    }
}

const NO_SUCH_INVITATION_TO_RENEW: ApiError =
    ApiError::NotFound("no invitation with this id in the organization");

/// The invitations the caller has.
#[utoipa::path(
    get, operation_id = "invitations_mine", path = "/v1/user/invites", tag = "invitations", security(("session" = [])),
    responses((status = 200, body = MyInvitations))
)]
async fn mine(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<axum::Json<MyInvitations>> {
    let invitations = state
        .store
        .invitations_for(&caller.account.id, now_ms())
        .await?
        .into_iter()
        .map(|view| MyInvitation {
            id: view.invitation.id,
            organization_id: view.invitation.organization_id.into(),
            organization_name: view.organization_name,
            inviter: Inviter {
                name: view.inviter_name,
                email: view.inviter_email,
            },
            roles: vec![view.invitation.role.as_str().into()],
            created_at: rfc3339(view.invitation.created_at),
            expires_at: rfc3339(view.invitation.expires_at),
        })
        .collect();
    Ok(axum::Json(MyInvitations { invitations }))
}

/// Accepts an invitation: the caller joins its organization.
#[utoipa::path(
    post, operation_id = "invitations_accept", path = "/v1/user/invites/{id}/accept", tag = "invitations", security(("session" = [])),
    params(("id" = String, Path, description = "The invitation's id (`inv_…`)")),
    responses((status = 200, body = AcceptedInvitation))
)]
async fn accept(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<axum::Json<AcceptedInvitation>> {
    validate::id("id", &id)?;
    // The store fills in the organization, which only the invitation knows.
    let event = audit_event(&caller, "", "invitation.accepted", &id, json!({}))?;
    match state
        .store
        .accept_invitation(&caller.account.id, &id, now_ms(), event)
        .await
    {
        Ok(organization_id) => {
            // A new member, in the 10.x flow and the newest app's alike (both accept here).
            state.events.organization_changed(&organization_id);
            Ok(axum::Json(AcceptedInvitation {
                organization_id: organization_id.into(),
            }))
        }
        Err(StoreError::NotFound) => Err(NO_SUCH_INVITATION),
        Err(StoreError::Conflict(Conflict::InviterLostRights)) => Err(INVITATION_VOID),
        Err(StoreError::Conflict(_)) => Err(ApiError::Conflict {
            code: "ALREADY_MEMBER",
            message: "you are a member of this organization already",
        }),
        Err(other) => Err(other.into()),
    }
}

/// Declines an invitation.
#[utoipa::path(
    post, operation_id = "invitations_decline", path = "/v1/user/invites/{id}/decline", tag = "invitations", security(("session" = [])),
    params(("id" = String, Path, description = "The invitation's id (`inv_…`)")),
    responses((status = 204, description = "Done."))
)]
async fn decline(
    State(state): State<AppState>,
    caller: Authenticated,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    validate::id("id", &id)?;
    let event = audit_event(&caller, "", "invitation.declined", &id, json!({}))?;
    match state
        .store
        .decline_invitation(&caller.account.id, &id, now_ms(), event)
        .await
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(StoreError::NotFound) => Err(NO_SUCH_INVITATION),
        Err(other) => Err(other.into()),
    }
}
