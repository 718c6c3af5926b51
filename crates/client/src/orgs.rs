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
            InviteRequest, InviteResponse, MyInvitations, MyProjectKeys, ReconcileKey,
            ReconcileKeysRequest, ReconcileKeysResponse,
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

/// What inviting `email` takes: its account id and public key (check that key before sharing
/// to it: see [`hypnos_crypto::rsa::RsaPublicKey::fingerprint`]).
pub async fn instructions(
    api: &Api,
    session: &str,
    org: &str,
    email: &str,
) -> Result<InstructionsResponse, ClientError> {
    api.post(
        &format!("/v1/organizations/{org}/invites/instructions"),
        Some(session),
        &InstructionsRequest {
            invitee_email: email.trim().to_lowercase(),
        },
    )
    .await
}

/// Invites the account `how` describes, handing it every project key the caller holds in the
/// organization (each decrypted here and encrypted to the invitee's public key).
pub async fn invite(
    api: &Api,
    session: &Session,
    org: &str,
    how: InstructionsResponse,
    role: &str,
) -> Result<InviteResponse, ClientError> {
    let invitee = RsaPublicKey::from_jwk_json(&how.invitee_public_key)?;
    let mine = key_gaps(api, &session.id, org).await?;
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

/// The caller's project keys in the organization, and the members that lack each.
pub async fn key_gaps(api: &Api, session: &str, org: &str) -> Result<MyProjectKeys, ClientError> {
    api.get(
        &format!("/v1/organizations/{org}/my-project-keys"),
        Some(session),
    )
    .await
}

/// Gives each member in `gaps.members` the project key it lacks: decrypted with the caller's
/// private key, encrypted to the member's public key (vet those keys first). The server never
/// overwrites a key a member has.
pub async fn share(
    api: &Api,
    session: &Session,
    org: &str,
    gaps: &MyProjectKeys,
) -> Result<ReconcileKeysResponse, ClientError> {
    let private = private_key(session)?;
    let mut keys = Vec::with_capacity(gaps.members.len());
    for member in &gaps.members {
        let Some(mine) = gaps
            .project_keys
            .iter()
            .find(|key| key.project_id == member.project_id)
        else {
            continue;
        };
        let project_key = private.decrypt_string(&mine.enc_key)?;
        let public = RsaPublicKey::from_jwk_json(&member.public_key)?;
        keys.push(ReconcileKey {
            project_id: member.project_id.clone(),
            account_id: member.account_id.clone(),
            enc_symmetric_key: public.encrypt_string(&project_key)?,
        });
    }
    api.post(
        &format!("/v1/organizations/{org}/reconcile-keys"),
        Some(&session.id),
        &ReconcileKeysRequest { keys },
    )
    .await
}

/// The public key (JWK JSON) and account id of the member with this e-mail in any of the
/// caller's organizations.
pub async fn member_public_key(
    api: &Api,
    session: &str,
    email: &str,
) -> Result<Option<(String, String)>, ClientError> {
    let email = email.trim().to_lowercase();
    for organization in list(api, session).await? {
        let found = members(api, session, &organization.id).await?;
        let Some(member) = found.members.iter().find(|m| m.email == email) else {
            continue;
        };
        let answer: serde_json::Value = api
            .post(
                "/graphql",
                Some(session),
                &serde_json::json!({
                    "query": "query ($teamId: ID!) { teamMemberKeys(teamId: $teamId) { memberKeys { accountId publicKey } } }",
                    "variables": {"teamId": organization.id},
                }),
            )
            .await?;
        let keys = answer["data"]["teamMemberKeys"]["memberKeys"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if let Some(key) = keys
            .iter()
            .find(|k| k["accountId"] == member.user_id.as_str())
        {
            return Ok(Some((
                member.user_id.clone(),
                key["publicKey"].as_str().unwrap_or_default().to_owned(),
            )));
        }
    }
    Ok(None)
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
