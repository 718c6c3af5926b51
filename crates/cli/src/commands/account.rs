//! `hypnos signup | login | logout | whoami`: the account commands, on `hypnos-client`.

use std::io::BufRead;

use anyhow::{Context as _, bail};
use clap::Args;
use hypnos_client::{Api, ClientError, NewAccount};
use serde_json::json;
use zeroize::Zeroizing;

use crate::state::{self, Saved};

/// Where the passphrase comes from.
#[derive(Args)]
pub struct PassphraseSource {
    /// Read the passphrase from the first line of standard input (for scripts). Otherwise
    /// HYPNOS_PASSPHRASE is used if set, else it is asked for without echo.
    #[arg(long)]
    pub passphrase_stdin: bool,
}

impl PassphraseSource {
    fn read(&self, confirm: bool) -> anyhow::Result<Zeroizing<String>> {
        if self.passphrase_stdin {
            let mut line = Zeroizing::new(String::new());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context(CANNOT_READ)?;
            return Ok(Zeroizing::new(
                line.trim_end_matches(['\r', '\n']).to_owned(),
            ));
        }
        if let Ok(passphrase) = std::env::var("HYPNOS_PASSPHRASE") {
            return Ok(Zeroizing::new(passphrase));
        }
        let first = prompt("Passphrase: ")?;
        if confirm {
            let again = prompt("Passphrase again: ")?;
            if *again != *first {
                bail!("the two passphrases differ: nothing was done");
            }
        }
        Ok(first)
    }
}

/// `hypnos signup`.
#[derive(Args)]
pub struct SignupArgs {
    /// The account's e-mail.
    #[arg(long)]
    email: String,
    /// Given name.
    #[arg(long, default_value = "")]
    first_name: String,
    /// Family name.
    #[arg(long, default_value = "")]
    last_name: String,
    /// The token of a sign-up link from the server's operator (what follows `invite=` in the
    /// link), for a server that takes sign-ups only with one.
    #[arg(long = "invite", env = "HYPNOS_SIGNUP_INVITE")]
    invite: Option<String>,
    #[command(flatten)]
    passphrase: PassphraseSource,
}

/// `hypnos login`.
#[derive(Args)]
pub struct LoginArgs {
    /// The account's e-mail.
    #[arg(long)]
    email: String,
    #[command(flatten)]
    passphrase: PassphraseSource,
}

const CANNOT_READ: &str = "cannot read the passphrase";

/// A passphrase asked for on the terminal, without echo.
fn prompt(question: &str) -> anyhow::Result<Zeroizing<String>> {
    Ok(Zeroizing::new(
        rpassword::prompt_password(question).context(CANNOT_READ)?,
    ))
}

/// Prints `value` as JSON, or `text` for people.
pub(crate) fn print(json_output: bool, value: serde_json::Value, text: String) {
    if json_output {
        println!("{value}");
    } else {
        println!("{text}");
    }
}

/// Signs up and logs in.
pub async fn signup(server: &str, json_output: bool, args: SignupArgs) -> anyhow::Result<()> {
    let passphrase = args.passphrase.read(true)?;
    let api = Api::new(server)?;
    let created = hypnos_client::sign_up_with_invite(
        &api,
        &NewAccount {
            email: &args.email,
            first_name: &args.first_name,
            last_name: &args.last_name,
            passphrase: &passphrase,
        },
        args.invite.as_deref(),
    )
    .await?;
    let session = hypnos_client::log_in(&api, &args.email, &passphrase).await?;
    remember(server, &session)?;
    print(
        json_output,
        json!({
            "id": created.account_id,
            "accountId": created.account_id,
            "personalOrganizationId": created.personal_organization_id,
            "email": session.account.email,
        }),
        format!(
            "Signed up and logged in as {} ({}).",
            session.account.email, created.account_id
        ),
    );
    Ok(())
}

/// Logs in and keeps the session.
pub async fn login(server: &str, json_output: bool, args: LoginArgs) -> anyhow::Result<()> {
    let passphrase = args.passphrase.read(false)?;
    let api = Api::new(server)?;
    let session = hypnos_client::log_in(&api, &args.email, &passphrase).await?;
    remember(server, &session)?;
    print(
        json_output,
        json!({"accountId": session.account.account_id, "email": session.account.email}),
        format!("Logged in as {}.", session.account.email),
    );
    Ok(())
}

fn remember(server: &str, session: &hypnos_client::Session) -> anyhow::Result<()> {
    state::save(&Saved {
        server: server.to_owned(),
        session_id: session.id.to_string(),
        account_id: session.account.account_id.clone(),
        email: session.account.email.clone(),
        account_key: session.account_key.to_json().to_string(),
    })
}

pub(crate) fn saved() -> anyhow::Result<Saved> {
    state::load()?.context("not logged in: run hypnos login --email …")
}

/// Shows the logged-in account, as the server sees it.
pub async fn whoami(json_output: bool) -> anyhow::Result<()> {
    let saved = saved()?;
    let api = Api::new(&saved.server)?;
    let me = hypnos_client::whoami(&api, &saved.session_id).await?;
    print(
        json_output,
        json!({
            "accountId": me.account_id,
            "email": me.email,
            "firstName": me.first_name,
            "lastName": me.last_name,
        }),
        format!(
            "{} {} <{}> ({}) on {}",
            me.first_name, me.last_name, me.email, me.account_id, saved.server
        ),
    );
    Ok(())
}

/// Ends the session on the server and forgets it here.
pub async fn logout(json_output: bool) -> anyhow::Result<()> {
    let saved = match state::load() {
        Ok(saved) => saved,
        Err(unreadable) => {
            // A session that cannot be read cannot be ended on the server either; forgetting
            // it here is all logging out can still do.
            state::forget()?;
            bail!("{}; forgot it here", crate::failure::describe(&unreadable));
        }
    };
    let Some(saved) = saved else {
        print(
            json_output,
            json!({"loggedOut": false}),
            "Not logged in.".into(),
        );
        return Ok(());
    };
    let api = Api::new(&saved.server)?;
    // A session the server already ended is still forgotten here.
    match hypnos_client::log_out(&api, &saved.session_id).await {
        Ok(()) | Err(ClientError::Unauthorized(_)) => {}
        Err(other) => return Err(other.into()),
    }
    state::forget()?;
    print(
        json_output,
        json!({"loggedOut": true}),
        "Logged out.".into(),
    );
    Ok(())
}

/// `hypnos account reset`.
#[derive(Args)]
pub struct ResetArgs {
    /// The account's e-mail.
    #[arg(long)]
    email: String,
    /// The one-time token the server's operator gave you (`hypnos admin reset-token`).
    #[arg(long)]
    token: String,
    #[command(flatten)]
    passphrase: PassphraseSource,
}

/// Resets a lost passphrase (new keys; old data unreadable until teammates share again) and
/// logs in with the new one.
pub async fn reset(server: &str, json_output: bool, args: ResetArgs) -> anyhow::Result<()> {
    let passphrase = args.passphrase.read(true)?;
    let api = Api::new(server)?;
    hypnos_client::reset(&api, &args.email, &args.token, &passphrase).await?;
    let session = hypnos_client::log_in(&api, &args.email, &passphrase).await?;
    remember(server, &session)?;
    print(
        json_output,
        json!({"id": session.account.account_id, "email": session.account.email}),
        format!(
            "Reset {}: new keys, logged in. Ask a teammate in each organization to run \
             hypnos share ORG so you get the project keys again.",
            session.account.email
        ),
    );
    Ok(())
}

/// `hypnos passphrase change`: asks for the current passphrase, then the new one (twice), or reads
/// them from HYPNOS_PASSPHRASE and HYPNOS_NEW_PASSPHRASE.
pub async fn change_passphrase(json_output: bool) -> anyhow::Result<()> {
    let saved = saved()?;
    let api = Api::new(&saved.server)?;
    let current = match std::env::var("HYPNOS_PASSPHRASE") {
        Ok(passphrase) => Zeroizing::new(passphrase),
        Err(_) => prompt("Current passphrase: ")?,
    };
    let new = match std::env::var("HYPNOS_NEW_PASSPHRASE") {
        Ok(passphrase) => Zeroizing::new(passphrase),
        Err(_) => {
            let first = prompt("New passphrase: ")?;
            let again = prompt("New passphrase again: ")?;
            if *first != *again {
                bail!("the two new passphrases differ: nothing was changed");
            }
            first
        }
    };
    let session = crate::commands::orgs::full_session(&api, &saved).await?;
    hypnos_client::change_passphrase(&api, &session, &current, &new).await?;
    print(
        json_output,
        json!({"changed": true}),
        "Passphrase changed; your other sessions have ended.".into(),
    );
    Ok(())
}

/// `hypnos account delete`: the passphrase proves it is meant.
pub async fn delete_account(json_output: bool, source: &PassphraseSource) -> anyhow::Result<()> {
    let saved = saved()?;
    let api = Api::new(&saved.server)?;
    let passphrase = source.read(false)?;
    let session = crate::commands::orgs::full_session(&api, &saved).await?;
    hypnos_client::delete_account(&api, &session, &passphrase).await?;
    state::forget()?;
    print(
        json_output,
        json!({"deleted": session.account.account_id}),
        format!("Deleted {} and everything it owned.", session.account.email),
    );
    Ok(())
}
