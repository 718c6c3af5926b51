//! `hypnos org …`, `hypnos invites …`, `hypnos team-project …`: organizations, members,
//! invitations (with key sharing) and team projects, on `hypnos-client`.

use anyhow::{Context as _, anyhow, bail};
use clap::{Subcommand, ValueEnum};
use hypnos_client::crypto::{jwk::SymmetricJwk, rsa::RsaPublicKey};
use hypnos_client::{Api, Session, orgs};

use super::names;
use super::trust::{NewKeys, Vetter, normalize_fingerprint};
use crate::state::Pin;
use serde_json::json;

use super::account::{print, saved};

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
        /// The organization: its id or its name (`hypnos org list`).
        org: String,
    },
    /// Invite an existing account, sharing every project key you hold in the organization.
    Invite {
        /// The organization: its id or its name.
        org: String,
        /// The invitee's e-mail (they sign up first).
        email: String,
        /// The role the invitee gets.
        #[arg(long, value_enum, default_value_t = InviteRole::Member)]
        role: InviteRole,
        /// Share to the invitee's public key although it is not pinned here (new, or changed
        /// since it was pinned): only after comparing fingerprints with them (`hypnos keys
        /// fingerprint EMAIL`; `hypnos keys trust EMAIL FINGERPRINT` pins it instead).
        #[arg(long)]
        accept_new_key: bool,
    },
    /// Leave an organization (its owner cannot).
    Leave {
        /// The organization: its id or its name.
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
        /// The organization: its id or its name.
        org: String,
    },
    /// Create a team project.
    Create {
        /// The organization: its id or its name.
        org: String,
        /// Its name.
        name: String,
    },
}

/// The saved session and a client for its server.
fn connect() -> anyhow::Result<(Api, crate::state::Saved)> {
    let saved = saved()?;
    let api = Api::new(&saved.server)?;
    Ok((api, saved))
}

/// The whole session (with the account's encrypted keys), for commands that share keys.
pub(crate) async fn full_session(
    api: &Api,
    saved: &crate::state::Saved,
) -> anyhow::Result<Session> {
    let account = hypnos_client::whoami(api, &saved.session_id).await?;
    Ok(Session {
        id: saved.session_id.clone().into(),
        account,
        account_key: SymmetricJwk::from_json(&saved.account_key)
            .map_err(|err| anyhow!("the saved account key is damaged ({err}): run hypnos login"))?,
    })
}

/// Runs `hypnos org …`.
pub async fn org(json_output: bool, command: OrgCommand) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let session = saved.session_id.as_str();
    match command {
        OrgCommand::List => {
            let list = orgs::list(&api, session).await?;
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
            let org = orgs::create_team(&api, session, &name).await?;
            print(
                json_output,
                json!({"id": org.id, "name": org.name}),
                format!("Created {} ({}).", org.name, org.id),
            );
        }
        OrgCommand::Members { org } => {
            let org = names::org_id(&api, session, &org).await?;
            let members = orgs::members(&api, session, &org).await?;
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
            let org = names::org_id(&api, session, &org).await?;
            let full = full_session(&api, &saved).await?;
            let role = match role {
                InviteRole::Member => "member",
                InviteRole::Admin => "admin",
            };
            let how = orgs::instructions(&api, session, &org, &email).await?;
            orgs::check_instructions(&email, &how)?;
            let mut vetter = vetter(&full, accept_new_key)?;
            vetter.vet(
                &how.invitee_id,
                Some(&how.invitee_email),
                &public_key(&how.invitee_email, &how.invitee_public_key)?,
            )?;
            let invited = orgs::invite(&api, &full, &org, how, role).await?;
            crate::state::save_pins(&vetter.pins)?;
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
            let org = names::org_id(&api, session, &org).await?;
            let full = full_session(&api, &saved).await?;
            orgs::leave(&api, &full, &org).await?;
            print(json_output, json!({"left": org}), format!("Left {org}."));
        }
    }
    Ok(())
}

/// Runs `hypnos invites [accept ID | decline ID]`.
pub async fn invites(json_output: bool, command: Option<InvitesCommand>) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let session = saved.session_id.as_str();
    match command {
        None => {
            let mine = orgs::my_invitations(&api, session).await?;
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
            let org = orgs::accept(&api, session, &id).await?;
            print(
                json_output,
                json!({"id": id, "organizationId": org}),
                format!("Joined {org}."),
            );
        }
        Some(InvitesCommand::Decline { id }) => {
            orgs::decline(&api, session, &id).await?;
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
pub async fn team_project(json_output: bool, command: TeamProjectCommand) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let session = saved.session_id.as_str();
    match command {
        TeamProjectCommand::List { org } => {
            let org = names::org_id(&api, session, &org).await?;
            let list = orgs::team_projects(&api, session, &org).await?;
            let text = list
                .data
                .iter()
                .map(|p| format!("{}  {}", p.id, p.name))
                .collect::<Vec<_>>()
                .join("\n");
            print(json_output, json!(list.data), text);
        }
        TeamProjectCommand::Create { org, name } => {
            let org = names::org_id(&api, session, &org).await?;
            let made = orgs::create_team_project(&api, session, &org, &name).await?;
            print(
                json_output,
                json!({"id": made.id, "name": made.name, "organizationId": made.organization_id}),
                format!("Created team project {} ({}).", made.name, made.id),
            );
        }
    }
    Ok(())
}

/// A teammate's public key, parsed.
fn public_key(who: &str, jwk: &str) -> anyhow::Result<RsaPublicKey> {
    RsaPublicKey::from_jwk_json(jwk).with_context(|| format!("{who}'s public key is unusable"))
}

/// The vetter of the keys a command encrypts to: this machine's pins, and the caller's own key
/// as its private key says.
pub(crate) fn vetter(session: &Session, accept_new_key: bool) -> anyhow::Result<Vetter> {
    let own = orgs::private_key(session).and_then(|private| Ok(private.public_key()?))?;
    Ok(Vetter::new(
        crate::state::load_pins()?,
        NewKeys::from_flag(accept_new_key),
        (&session.account.account_id, &own),
    ))
}

/// The organization's members' e-mails by account id (for the messages about their keys).
pub(crate) async fn emails_of(
    api: &Api,
    session: &str,
    org: &str,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    Ok(orgs::members(api, session, org)
        .await?
        .members
        .into_iter()
        .map(|member| (member.user_id, member.email))
        .collect())
}

/// Runs `hypnos share ORG [--repair EMAIL]`: gives the members that lack project keys the
/// ones you hold; with `repair`, gives that member every key you hold, replacing theirs.
pub async fn share(
    json_output: bool,
    org: &str,
    accept_new_key: bool,
    repair: Option<String>,
) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let org = &names::org_id(&api, &saved.session_id, org).await?;
    let full = full_session(&api, &saved).await?;
    let mut vetter = vetter(&full, accept_new_key)?;
    if let Some(email) = repair {
        let (account, jwk) = orgs::member_key_in(&api, &saved.session_id, org, &email)
            .await?
            .with_context(|| format!("{email} is not a member of {org}"))?;
        let public = public_key(&email, &jwk)?;
        vetter.vet(&account, Some(&email), &public)?;
        let done = orgs::repair(&api, &full, org, &account, &public).await?;
        crate::state::save_pins(&vetter.pins)?;
        let mut text = format!(
            "Gave {email} {} project key(s), replacing the ones they held.",
            done.stored
        );
        if !done.unchecked.is_empty() {
            text.push_str(&format!(
                "\n  These projects hold no documents yet, so your keys for them could not be \
                 checked: {}",
                done.unchecked.join(", ")
            ));
        }
        print(
            json_output,
            json!({"repaired": email, "accountId": account, "stored": done.stored, "unchecked": done.unchecked}),
            text,
        );
        return Ok(());
    }
    let gaps = orgs::key_gaps(&api, &saved.session_id, org).await?;
    let emails = if gaps.members.is_empty() {
        Default::default()
    } else {
        emails_of(&api, &saved.session_id, org).await?
    };
    for member in &gaps.members {
        let email = emails.get(&member.account_id).map(String::as_str);
        let who = email.unwrap_or(&member.account_id);
        vetter.vet(
            &member.account_id,
            email,
            &public_key(who, &member.public_key)?,
        )?;
    }
    let done = orgs::share(&api, &full, org, &gaps).await?;
    crate::state::save_pins(&vetter.pins)?;
    print(
        json_output,
        json!({"created": done.created, "skipped": done.skipped}),
        format!(
            "Shared {} project key(s){}.",
            done.created,
            if done.skipped > 0 {
                format!(
                    "; {} were there already (a member whose key is wrong gets the right one \
                     with hypnos share {org} --repair EMAIL, by the owner or an admin)",
                    done.skipped
                )
            } else {
                String::new()
            }
        ),
    );
    Ok(())
}

/// A teammate's account id, e-mail and public key: a member of one of your organizations, or
/// else (before they join) the account an invitation to `org` (or to any of your teams) would
/// go to.
async fn look_up(
    api: &Api,
    session: &str,
    email: &str,
    org: Option<&str>,
) -> anyhow::Result<(String, String, RsaPublicKey)> {
    let email = email.trim().to_lowercase();
    let org = match org {
        Some(org) => Some(names::org_id(api, session, org).await?),
        None => None,
    };
    let org = org.as_deref();
    let member = match org {
        Some(org) => orgs::member_key_in(api, session, org, &email).await,
        None => orgs::member_public_key(api, session, &email).await,
    }?;
    if let Some((account, jwk)) = member {
        let public = public_key(&email, &jwk)?;
        return Ok((account, email, public));
    }
    // Not a member yet: ask what an invitation would use.
    let teams: Vec<String> = match org {
        Some(org) => vec![org.to_owned()],
        None => orgs::list(api, session)
            .await?
            .into_iter()
            .filter(|org| org.metadata.organization_type == "team")
            .map(|org| org.id)
            .collect(),
    };
    let mut last_error = None;
    for team in teams {
        match orgs::instructions(api, session, &team, &email).await {
            Ok(how) => {
                orgs::check_instructions(&email, &how)?;
                let public = public_key(&email, &how.invitee_public_key)?;
                return Ok((how.invitee_id, email, public));
            }
            Err(err) => last_error = Some(err),
        }
    }
    Err(match last_error {
        Some(err) => anyhow::Error::new(err).context(format!("cannot find {email}'s public key")),
        None => anyhow!(
            "{email} is not a member of any of your organizations (name the team you will \
             invite them to with --org ORG)"
        ),
    })
}

/// Runs `hypnos keys fingerprint [EMAIL] [--org ORG]`.
pub async fn fingerprint(
    json_output: bool,
    email: Option<String>,
    org: Option<String>,
) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let Some(email) = email else {
        // Our own key, from our private key: what the server says could be another.
        let full = full_session(&api, &saved).await?;
        let own = orgs::private_key(&full)
            .and_then(|private| Ok(private.public_key()?))?
            .fingerprint();
        let who = full.account.email.clone();
        print(
            json_output,
            json!({"email": who, "accountId": full.account.account_id, "fingerprint": own}),
            format!("{who}: {own}"),
        );
        return Ok(());
    };
    let (account, who, public) = look_up(&api, &saved.session_id, &email, org.as_deref()).await?;
    let print_value = public.fingerprint();
    let pins = crate::state::load_pins()?;
    let pinned = pins
        .get(&account)
        .is_some_and(|pin| pin.fingerprint == print_value);
    let text = if pinned {
        format!("{who}: {print_value} (pinned here)")
    } else {
        format!(
            "{who}: {print_value}\n  Not pinned here. Compare it with them (they run: hypnos keys \
             fingerprint); if it matches: hypnos keys trust {who} '{print_value}'"
        )
    };
    print(
        json_output,
        json!({"email": who, "accountId": account, "fingerprint": print_value, "pinned": pinned}),
        text,
    );
    Ok(())
}

/// Runs `hypnos keys trust EMAIL FINGERPRINT [--org ORG]`: pins the teammate's key if its
/// fingerprint is the one they read to you.
pub async fn trust(
    json_output: bool,
    email: &str,
    expected: &str,
    org: Option<String>,
) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let (account, who, public) = look_up(&api, &saved.session_id, email, org.as_deref()).await?;
    let print_value = public.fingerprint();
    if normalize_fingerprint(expected) != print_value {
        bail!(
            "the server's key for {who} has fingerprint {print_value}, not the {} you were \
             given: nothing was pinned. Do not share to it; ask them to check again (they run: \
             hypnos keys fingerprint).",
            normalize_fingerprint(expected)
        );
    }
    let mut pins = crate::state::load_pins()?;
    if let Some((other, _)) = pins
        .iter()
        .find(|(id, pin)| **id != account && pin.email.as_deref() == Some(who.as_str()))
    {
        // The e-mail now names another account (a new one, after they deleted theirs): the
        // user has just checked this key, so the old pin goes.
        let other = other.clone();
        pins.remove(&other);
    }
    pins.insert(
        account.clone(),
        Pin {
            fingerprint: print_value.clone(),
            email: Some(who.clone()),
        },
    );
    crate::state::save_pins(&pins)?;
    print(
        json_output,
        json!({"email": who, "accountId": account, "fingerprint": print_value, "pinned": true}),
        format!("Pinned {who}'s key (account {account}): {print_value}"),
    );
    Ok(())
}

/// Runs `hypnos branches PRJ`.
pub async fn branches(json_output: bool, project: &str) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let names = hypnos_client::history::branches(&api, &saved.session_id, project).await?;
    let text = names.join("\n");
    print(json_output, json!(names), text);
    Ok(())
}

/// Runs `hypnos log PRJ [--branch B]`.
pub async fn log(json_output: bool, project: &str, branch: &str) -> anyhow::Result<()> {
    let (api, saved) = connect()?;
    let entries = hypnos_client::history::log(&api, &saved.session_id, project, branch).await?;
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
