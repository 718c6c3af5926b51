//! Organizations, teams, members, team projects and invitations (insomnia-wire.md §4.5 and §5,
//! extensions.md): what `hypnos org`, `hypnos invites` and `hypnos team-project` do.
//!
//! Inviting shares keys: the inviter decrypts each of its project keys with its private key and
//! encrypts it to the invitee's public key; the server only stores and forwards them.

use hypnos_crypto::{
    aes::{AesMessage, decrypt_string},
    rsa::{RsaPrivateKey, RsaPublicKey},
    wire::{
        invites::{
            AcceptedInvitation, InstructionsRequest, InstructionsResponse, InviteKey,
            InviteRequest, InviteResponse, MyInvitations, MyProjectKeys,
        },
        orgs::{
            CreateOrganizationRequest, CreatedTeamProject, MemberList, Organization,
            OrganizationList, TeamProjectList, TeamProjectName,
        },
    },
};

use crate::{
    account::Session,
    api::{Api, ClientError},
};

/// The caller's organizations: the personal one first, then its teams.
pub async fn list(api: &Api, session: &str) -> Result<Vec<Organization>, ClientError> {
    let list: OrganizationList = api.get("/v1/organizations", Some(session)).await?;
    Ok(list.organizations)
}

/// Creates a team organization owned by the caller.
pub async fn create_team(
    api: &Api,
    session: &str,
    name: &str,
) -> Result<Organization, ClientError> {
    api.post(
        "/v1/organizations",
        Some(session),
        &CreateOrganizationRequest { name: name.into() },
    )
    .await
}

/// The organization's members (the first 100).
pub async fn members(api: &Api, session: &str, org: &str) -> Result<MemberList, ClientError> {
    api.get(
        &format!("/v1/organizations/{org}/members?per_page=100"),
        Some(session),
    )
    .await
}

/// Leaves the organization.
pub async fn leave(api: &Api, session: &Session, org: &str) -> Result<(), ClientError> {
    api.delete(
        &format!(
            "/v1/organizations/{org}/members/{}",
            session.account.account_id
        ),
        Some(&session.id),
    )
    .await
}

/// The caller's private key, unlocked with its account key.
pub fn private_key(session: &Session) -> Result<RsaPrivateKey, ClientError> {
    let jwk = decrypt_string(
        &session.account_key.key(),
        &AesMessage::from_json(&session.account.enc_private_key)?,
    )?;
    Ok(RsaPrivateKey::from_jwk_json(&jwk)?)
}

/// Invites an existing account, handing it every project key the caller holds in the
/// organization (each decrypted here and encrypted to the invitee's public key).
pub async fn invite(
    api: &Api,
    session: &Session,
    org: &str,
    email: &str,
    role: &str,
) -> Result<InviteResponse, ClientError> {
    let how: InstructionsResponse = api
        .post(
            &format!("/v1/organizations/{org}/invites/instructions"),
            Some(&session.id),
            &InstructionsRequest {
                invitee_email: email.trim().to_lowercase(),
            },
        )
        .await?;
    let invitee = RsaPublicKey::from_jwk_json(&how.invitee_public_key)?;
    let mine: MyProjectKeys = api
        .get(
            &format!("/v1/organizations/{org}/my-project-keys"),
            Some(&session.id),
        )
        .await?;
    let private = private_key(session)?;
    let mut invite_keys = Vec::with_capacity(mine.project_keys.len());
    for key in mine.project_keys {
        let project_key = private.decrypt_string(&key.enc_key)?;
        invite_keys.push(InviteKey {
            project_id: key.project_id,
            enc_symmetric_key: invitee.encrypt_string(&project_key)?,
            auto_linked: false,
        });
    }
    api.post(
        &format!("/v1/organizations/{org}/invites"),
        Some(&session.id),
        &InviteRequest {
            invitee_id: how.invitee_id,
            invite_keys,
            invitee_email: Some(how.invitee_email),
            roles: Some(vec![role.into()]),
        },
    )
    .await
}

/// The invitations addressed to the caller.
pub async fn my_invitations(api: &Api, session: &str) -> Result<MyInvitations, ClientError> {
    api.get("/v1/user/invites", Some(session)).await
}

/// Accepts an invitation; returns the organization joined.
pub async fn accept(api: &Api, session: &str, id: &str) -> Result<String, ClientError> {
    let accepted: AcceptedInvitation = api
        .post(
            &format!("/v1/user/invites/{id}/accept"),
            Some(session),
            &serde_json::json!({}),
        )
        .await?;
    Ok(accepted.organization_id)
}

/// Declines an invitation.
pub async fn decline(api: &Api, session: &str, id: &str) -> Result<(), ClientError> {
    api.post_empty(
        &format!("/v1/user/invites/{id}/decline"),
        Some(session),
        &serde_json::json!({}),
    )
    .await
}

/// The organization's team projects.
pub async fn team_projects(
    api: &Api,
    session: &str,
    org: &str,
) -> Result<TeamProjectList, ClientError> {
    api.get(
        &format!("/v1/organizations/{org}/team-projects"),
        Some(session),
    )
    .await
}

/// Creates a team project.
pub async fn create_team_project(
    api: &Api,
    session: &str,
    org: &str,
    name: &str,
) -> Result<CreatedTeamProject, ClientError> {
    api.post(
        &format!("/v1/organizations/{org}/team-projects"),
        Some(session),
        &TeamProjectName { name: name.into() },
    )
    .await
}
