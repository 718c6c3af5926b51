//! `hypnos org …`, `hypnos invites …`, `hypnos team-project …`: organizations, members,
//! invitations (with key sharing) and team projects, on `hypnos-client`.

use clap::{Subcommand, ValueEnum};
use hypnos_client::crypto::jwk::SymmetricJwk;
use hypnos_client::{Api, Session, orgs};
use serde_json::json;

use super::account::{explain, print, saved};

/// `hypnos org …`.
#[derive(Subcommand)]
pub enum OrgCommand {
    /// The organizations you belong to: your personal one, then your teams.
    List,
    /// Create a team organization that you own.
    Create {
        /// Its name.
        name: String,
    },
    /// The members of an organization.
    Members {
        /// The organization's id (`hypnos org list`).
        org: String,
    },
    /// Invite an existing account, sharing every project key you hold in the organization.
    Invite {
        /// The organization's id.
        org: String,
        /// The invitee's e-mail (they sign up first).
        email: String,
        /// The role the invitee gets.
        #[arg(long, value_enum, default_value_t = InviteRole::Member)]
        role: InviteRole,
        /// Share even though the invitee's public key differs from the one pinned here (only
        /// after comparing fingerprints with them: `hypnos keys fingerprint EMAIL`).
        #[arg(long)]
        accept_new_key: bool,
    },
    /// Leave an organization (its owner cannot).
    Leave {
        /// The organization's id.
        org: String,
    },
}

/// The roles an invitation can offer.
#[derive(Clone, Copy, ValueEnum)]
pub enum InviteRole {
    /// Uses the team projects shared with it.
    Member,
    /// Also manages members, invitations and team projects.
    Admin,
}

/// `hypnos invites [accept ID | decline ID]`.
#[derive(Subcommand)]
pub enum InvitesCommand {
    /// Join the organization: you get the role and the project keys offered.
    Accept {
        /// The invitation's id (`hypnos invites`).
        id: String,
    },
    /// Decline the invitation.
    Decline {
        /// The invitation's id.
        id: String,
    },
}

/// `hypnos team-project …`.
#[derive(Subcommand)]
pub enum TeamProjectCommand {
    /// An organization's team projects.
    List {
        /// The organization's id.
        org: String,
    },
    /// Create a team project.
    Create {
        /// The organization's id.
        org: String,
        /// Its name.
        name: String,
    },
}

/// The saved session and a client for its server.
fn connect() -> Result<(Api, crate::state::Saved), String> {
    let saved = saved()?;
    let api = Api::new(&saved.server).map_err(explain)?;
    Ok((api, saved))
}

/// The whole session (with the account's encrypted keys), for commands that share keys.
pub(crate) async fn full_session(
    api: &Api,
    saved: &crate::state::Saved,
) -> Result<Session, String> {
    let account = hypnos_client::whoami(api, &saved.session_id)
        .await
        .map_err(explain)?;
    Ok(Session {
        id: saved.session_id.clone().into(),
        account,
        account_key: SymmetricJwk::from_json(&saved.account_key)
            .map_err(|err| format!("the saved account key is damaged ({err}): run hypnos login"))?,
    })
}

/// Runs `hypnos org …`.
pub async fn org(json_output: bool, command: OrgCommand) -> Result<(), String> {
    let (api, saved) = connect()?;
    let session = saved.session_id.as_str();
    match command {
        OrgCommand::List => {
            let list = orgs::list(&api, session).await.map_err(explain)?;
            let text = list
                .iter()
                .map(|org| {
                    format!(
                        "{}  {}  ({})",
                        org.id, org.display_name, org.metadata.organization_type
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            print(json_output, json!(list), text);
        }
        OrgCommand::Create { name } => {
            let org = orgs::create_team(&api, session, &name)
                .await
                .map_err(explain)?;
            print(
                json_output,
                json!({"id": org.id, "name": org.name}),
                format!("Created {} ({}).", org.name, org.id),
            );
        }
        OrgCommand::Members { org } => {
            let members = orgs::members(&api, session, &org).await.map_err(explain)?;
            let text = members
                .members
                .iter()
                .map(|m| format!("{}  {}  {}", m.user_id, m.email, m.role_name))
                .collect::<Vec<_>>()
                .join("\n");
            print(json_output, json!(members.members), text);
        }
        OrgCommand::Invite {
            org,
            email,
            role,
            accept_new_key,
        } => {
            let full = full_session(&api, &saved).await?;
            let role = match role {
                InviteRole::Member => "member",
                InviteRole::Admin => "admin",
            };
            let how = orgs::instructions(&api, session, &org, &email)
                .await
                .map_err(explain)?;
            let mut pins = crate::state::load_pins()?;
            vet_key(
                &mut pins,
                &how.invitee_id,
                &how.invitee_email,
                &how.invitee_public_key,
                accept_new_key,
            )?;
            let invited = orgs::invite(&api, &full, &org, how, role)
                .await
                .map_err(explain)?;
            crate::state::save_pins(&pins)?;
            print(
                json_output,
                json!({"id": invited.id, "expiresAt": invited.expires_at}),
                format!(
                    "Invited {email} as {role} ({}); they run: hypnos invites accept {}",
                    invited.id, invited.id
                ),
            );
        }
        OrgCommand::Leave { org } => {
            let full = full_session(&api, &saved).await?;
            orgs::leave(&api, &full, &org).await.map_err(explain)?;
            print(json_output, json!({"left": org}), format!("Left {org}."));
        }
    }
    Ok(())
}

/// Runs `hypnos invites [accept ID | decline ID]`.
pub async fn invites(json_output: bool, command: Option<InvitesCommand>) -> Result<(), String> {
    let (api, saved) = connect()?;
    let session = saved.session_id.as_str();
    match command {
        None => {
            let mine = orgs::my_invitations(&api, session).await.map_err(explain)?;
            let text = if mine.invitations.is_empty() {
                "No invitations.".to_owned()
            } else {
                mine.invitations
                    .iter()
                    .map(|i| {
                        format!(
                            "{}  {} invites you to {} as {}",
                            i.id,
                            i.inviter.email,
                            i.organization_name,
                            i.roles.join(", ")
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            print(json_output, json!(mine.invitations), text);
        }
        Some(InvitesCommand::Accept { id }) => {
            let org = orgs::accept(&api, session, &id).await.map_err(explain)?;
            print(
                json_output,
                json!({"id": id, "organizationId": org}),
                format!("Joined {org}."),
            );
        }
        Some(InvitesCommand::Decline { id }) => {
            orgs::decline(&api, session, &id).await.map_err(explain)?;
            print(
                json_output,
                json!({"id": id, "declined": true}),
                "Declined.".into(),
            );
        }
    }
    Ok(())
}

/// Runs `hypnos team-project …`.
pub async fn team_project(json_output: bool, command: TeamProjectCommand) -> Result<(), String> {
    let (api, saved) = connect()?;
    let session = saved.session_id.as_str();
    match command {
        TeamProjectCommand::List { org } => {
            let list = orgs::team_projects(&api, session, &org)
                .await
                .map_err(explain)?;
            let text = list
                .data
                .iter()
                .map(|p| format!("{}  {}", p.id, p.name))
                .collect::<Vec<_>>()
                .join("\n");
            print(json_output, json!(list.data), text);
        }
        TeamProjectCommand::Create { org, name } => {
            let made = orgs::create_team_project(&api, session, &org, &name)
                .await
                .map_err(explain)?;
            print(
                json_output,
                json!({"id": made.id, "name": made.name, "organizationId": made.organization_id}),
                format!("Created team project {} ({}).", made.name, made.id),
            );
        }
    }
    Ok(())
}

/// Checks a teammate's public key against the fingerprint pinned here, pinning it the first
/// time: the defence against a server that swaps public keys, which the app lacks.
pub fn vet_key(
    pins: &mut std::collections::BTreeMap<String, String>,
    account_id: &str,
    who: &str,
    public_key: &str,
    accept_new_key: bool,
) -> Result<(), String> {
    let print = hypnos_client::crypto::rsa::RsaPublicKey::from_jwk_json(public_key)
        .map_err(|err| format!("{who}'s public key is unusable: {err}"))?
        .fingerprint();
    match pins.get(account_id) {
        Some(pinned) if *pinned != print && !accept_new_key => Err(format!(
            "{who}'s public key changed since you last shared to it (pinned {pinned}, now \
             {print}). Nothing was shared. If they reset their account, compare fingerprints \
             with them (they run: hypnos keys fingerprint) and run again with --accept-new-key."
        )),
        _ => {
            pins.insert(account_id.to_owned(), print);
            Ok(())
        }
    }
}

/// Runs `hypnos share ORG`: gives the members that lack project keys the ones you hold.
pub async fn share(json_output: bool, org: &str, accept_new_key: bool) -> Result<(), String> {
    let (api, saved) = connect()?;
    let full = full_session(&api, &saved).await?;
    let gaps = orgs::key_gaps(&api, &saved.session_id, org)
        .await
        .map_err(explain)?;
    let mut pins = crate::state::load_pins()?;
    for member in &gaps.members {
        vet_key(
            &mut pins,
            &member.account_id,
            &member.account_id,
            &member.public_key,
            accept_new_key,
        )?;
    }
    let done = orgs::share(&api, &full, org, &gaps)
        .await
        .map_err(explain)?;
    crate::state::save_pins(&pins)?;
    print(
        json_output,
        json!({"created": done.created, "skipped": done.skipped}),
        format!(
            "Shared {} project key(s){}.",
            done.created,
            if done.skipped > 0 {
                format!("; {} were there already", done.skipped)
            } else {
                String::new()
            }
        ),
    );
    Ok(())
}

/// Runs `hypnos keys fingerprint [EMAIL]`.
pub async fn fingerprint(json_output: bool, email: Option<String>) -> Result<(), String> {
    let (api, saved) = connect()?;
    let (who, public_key) = match &email {
        None => {
            let me = hypnos_client::whoami(&api, &saved.session_id)
                .await
                .map_err(explain)?;
            (me.email, me.public_key)
        }
        Some(email) => {
            let (_, key) = orgs::member_public_key(&api, &saved.session_id, email)
                .await
                .map_err(explain)?
                .ok_or_else(|| format!("{email} is not a member of any of your organizations"))?;
            (email.clone(), key)
        }
    };
    let print_value = hypnos_client::crypto::rsa::RsaPublicKey::from_jwk_json(&public_key)
        .map_err(|err| format!("{who}'s public key is unusable: {err}"))?
        .fingerprint();
    print(
        json_output,
        json!({"email": who, "fingerprint": print_value}),
        format!("{who}: {print_value}"),
    );
    Ok(())
}

/// Runs `hypnos branches PRJ`.
pub async fn branches(json_output: bool, project: &str) -> Result<(), String> {
    let (api, saved) = connect()?;
    let names = hypnos_client::history::branches(&api, &saved.session_id, project)
        .await
        .map_err(explain)?;
    let text = names.join("\n");
    print(json_output, json!(names), text);
    Ok(())
}

/// Runs `hypnos log PRJ [--branch B]`.
pub async fn log(json_output: bool, project: &str, branch: &str) -> Result<(), String> {
    let (api, saved) = connect()?;
    let entries = hypnos_client::history::log(&api, &saved.session_id, project, branch)
        .await
        .map_err(explain)?;
    let text = entries
        .iter()
        .map(|e| {
            format!(
                "{}  {}  {}  {} ({} documents)",
                &e.id[..e.id.len().min(8)],
                e.created,
                e.author,
                e.message,
                e.documents
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    print(json_output, json!(entries), text);
    Ok(())
}
