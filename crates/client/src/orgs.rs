//! Organizations, teams, members, team projects and invitations (insomnia-wire.md §4.5 and §5,
//! extensions.md): what `hypnos org`, `hypnos invites` and `hypnos team-project` do.
//!
//! Inviting shares keys: the inviter decrypts each of its project keys with its private key and
//! encrypts it to the invitee's public key; the server only stores and forwards them.

use hypnos_crypto::{
    aes::{AesMessage, decrypt_string},
    jwk::SymmetricJwk,
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
        sync::{TEAM_MEMBER_KEYS, TeamMemberKeysData},
    },
};

use crate::{
    account::Session,
    api::{Api, ClientError},
    sync::remote::{KeyCheck, Remote, query},
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

/// Checks that the server's instructions answer what was asked: the invitee's e-mail is the
/// one asked for (a server answering with another account's identity and key would otherwise
/// receive the project keys), and its key is a usable RSA public key. The key itself is vetted
/// by the caller (pinned fingerprints).
pub fn check_instructions(asked: &str, how: &InstructionsResponse) -> Result<(), ClientError> {
    let asked = asked.trim().to_lowercase();
    if how.invitee_email.trim().to_lowercase() != asked {
        return Err(ClientError::Protocol(format!(
            "the server answered for {} when asked about {asked}: nothing was shared",
            how.invitee_email
        )));
    }
    if how.invitee_id.is_empty() {
        return Err(ClientError::Protocol(
            "the server's answer names no account: nothing was shared".into(),
        ));
    }
    RsaPublicKey::from_jwk_json(&how.invitee_public_key)?;
    Ok(())
}

/// Invites the account `how` describes, handing it every project key the caller holds in the
/// organization (each decrypted here and encrypted to the invitee's public key). `how` must
/// have passed [`check_instructions`] and the caller's check of the key.
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
/// overwrites a key a member has. A key of the caller's that does not open its project's data
/// is not passed on (see [`own_keys`]).
pub async fn share(
    api: &Api,
    session: &Session,
    org: &str,
    gaps: &MyProjectKeys,
) -> Result<ReconcileKeysResponse, ClientError> {
    let private = private_key(session)?;
    // Only the keys about to be passed on are checked.
    let passed_on = MyProjectKeys {
        project_keys: gaps
            .project_keys
            .iter()
            .filter(|key| gaps.members.iter().any(|m| m.project_id == key.project_id))
            .cloned()
            .collect(),
        members: Vec::new(),
    };
    let checked = own_keys(api, session, &passed_on).await?;
    if let Some(bad) = checked
        .iter()
        .find(|key| key.check == KeyCheck::DoesNotOpen)
    {
        return Err(bad_own_key(org, &bad.project_id));
    }
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
        &ReconcileKeysRequest {
            keys,
            replace: false,
        },
    )
    .await
}

/// One of the caller's project keys, and whether it opens its project's data.
#[derive(Debug, Clone)]
pub struct CheckedKey {
    /// The project.
    pub project_id: String,
    /// What opening its data showed.
    pub check: KeyCheck,
}

/// Checks each of the caller's project keys in `mine` against its project's data.
pub async fn own_keys(
    api: &Api,
    session: &Session,
    mine: &MyProjectKeys,
) -> Result<Vec<CheckedKey>, ClientError> {
    let private = private_key(session)?;
    let remote = Remote::new(api, &session.id);
    let mut checked = Vec::with_capacity(mine.project_keys.len());
    for key in &mine.project_keys {
        let project_key = SymmetricJwk::from_json(&private.decrypt_string(&key.enc_key)?)?.key();
        checked.push(CheckedKey {
            project_id: key.project_id.clone(),
            check: remote
                .key_opens_project(&key.project_id, &project_key)
                .await?,
        });
    }
    Ok(checked)
}

fn bad_own_key(org: &str, project: &str) -> ClientError {
    ClientError::Protocol(format!(
        "your own key for project {project} does not open its data, so it is not passed on: \
         ask the owner or an admin of {org} to repair it (hypnos share {org} --repair YOUR_EMAIL)"
    ))
}

/// What a repair stored.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Repaired {
    /// Keys stored (replacing what the member held).
    pub stored: u64,
    /// Projects without data yet, whose keys could not be checked before sharing them.
    pub unchecked: Vec<String>,
}

/// Gives `member` (its account id and public key, vetted by the caller) every project key the
/// caller holds in the organization, replacing the keys it holds: the repair of a wrong key a
/// member planted (the server allows it to an owner or admin only). Each of the caller's keys
/// is first checked to open its project's data; if one does not, nothing is shared.
pub async fn repair(
    api: &Api,
    session: &Session,
    org: &str,
    member: &str,
    public: &RsaPublicKey,
) -> Result<Repaired, ClientError> {
    let mine = key_gaps(api, &session.id, org).await?;
    let checked = own_keys(api, session, &mine).await?;
    if let Some(bad) = checked
        .iter()
        .find(|key| key.check == KeyCheck::DoesNotOpen)
    {
        return Err(bad_own_key(org, &bad.project_id));
    }
    let private = private_key(session)?;
    let mut keys = Vec::with_capacity(mine.project_keys.len());
    for key in &mine.project_keys {
        let project_key = private.decrypt_string(&key.enc_key)?;
        keys.push(ReconcileKey {
            project_id: key.project_id.clone(),
            account_id: member.to_owned(),
            enc_symmetric_key: public.encrypt_string(&project_key)?,
        });
    }
    let done: ReconcileKeysResponse = api
        .post(
            &format!("/v1/organizations/{org}/reconcile-keys"),
            Some(&session.id),
            &ReconcileKeysRequest {
                keys,
                replace: true,
            },
        )
        .await?;
    Ok(Repaired {
        stored: done.created,
        unchecked: checked
            .into_iter()
            .filter(|key| key.check == KeyCheck::NoData)
            .map(|key| key.project_id)
            .collect(),
    })
}

/// The account id and public key (JWK JSON) of the member with this e-mail in the
/// organization `org`.
pub async fn member_key_in(
    api: &Api,
    session: &str,
    org: &str,
    email: &str,
) -> Result<Option<(String, String)>, ClientError> {
    let email = email.trim().to_lowercase();
    let found = members(api, session, org).await?;
    let Some(member) = found.members.iter().find(|m| m.email == email) else {
        return Ok(None);
    };
    Ok(key_of_member(api, session, org, &member.user_id)
        .await?
        .map(|key| (member.user_id.clone(), key)))
}

/// The public key (JWK JSON) that the organization `org` lists for `account`.
async fn key_of_member(
    api: &Api,
    session: &str,
    org: &str,
    account: &str,
) -> Result<Option<String>, ClientError> {
    let data: TeamMemberKeysData = query(
        api,
        session,
        TEAM_MEMBER_KEYS,
        serde_json::json!({"teamId": org}),
    )
    .await?;
    Ok(data
        .team_member_keys
        .member_keys
        .into_iter()
        .find(|key| key.account_id == account)
        .map(|key| key.public_key))
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
        if let Some(key) = key_of_member(api, session, &organization.id, &member.user_id).await? {
            return Ok(Some((member.user_id.clone(), key)));
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests may panic")]

    use super::*;

    fn answer(email: &str, id: &str) -> InstructionsResponse {
        let key = RsaPrivateKey::generate().unwrap().public_key().unwrap();
        InstructionsResponse {
            invite_keys: Vec::new(),
            invitee_id: id.into(),
            invitee_email: email.into(),
            invitee_public_key: key.jwk().to_json(),
            invitee_auto_linked: false,
        }
    }

    /// A server that answers an invitation's look-up with another account is caught before
    /// any key is encrypted to it.
    #[test]
    fn instructions_must_answer_what_was_asked() {
        let bob = answer("bob@example.com", "acct_1");
        check_instructions(" Bob@Example.com ", &bob).unwrap();
        let mallory = answer("mallory@example.com", "acct_2");
        let refused = check_instructions("bob@example.com", &mallory)
            .unwrap_err()
            .to_string();
        assert!(refused.contains("mallory@example.com"), "{refused}");
        assert!(check_instructions("bob@example.com", &answer("bob@example.com", "")).is_err());
        let mut broken = answer("bob@example.com", "acct_1");
        broken.invitee_public_key = "{}".into();
        assert!(check_instructions("bob@example.com", &broken).is_err());
    }
}
