//! `hypnos admin backup` and `restore` (the operator's copies of a SQLite database), and
//! `hypnos admin accounts` and `orgs` (what the server holds, for whom), `disable`, `enable` and
//! `delete-account`.

use hypnos_server::{ServerConfig, backup::Contents};

use crate::{AccountArgs, BackupArgs, DatabaseArgs, DeleteAccountArgs};

/// The database URL an admin command works on: `--database`, else the server's default.
fn database_url(given: Option<&String>) -> String {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = given.cloned();
    config.database_url()
}

/// The store on the command's database (migrated, as the server would).
async fn store(
    args: &DatabaseArgs,
) -> anyhow::Result<std::sync::Arc<dyn hypnos_server::storage::Store>> {
    hypnos_server::storage::connect(&database_url(args.database_url.as_ref()))
        .await
        .map_err(|err| anyhow::anyhow!("the database: {err}"))
}

/// `hypnos admin accounts`.
pub async fn accounts(json: bool, args: DatabaseArgs) -> anyhow::Result<()> {
    let accounts = store(&args).await?.accounts_overview().await?;
    if json {
        println!("{}", serde_json::to_string(&accounts)?);
        return Ok(());
    }
    println!(
        "{:<38} {:<32} {:<10} {:>8} {:>5}  name",
        "id", "e-mail", "since", "sessions", "teams"
    );
    for account in &accounts {
        println!(
            "{:<38} {:<32} {:<10} {:>8} {:>5}  {}",
            account.id,
            account.email,
            day(account.created_at),
            account.sessions,
            account.teams_owned,
            account.name
        );
    }
    println!("{} accounts", accounts.len());
    Ok(())
}

/// `hypnos admin orgs`.
pub async fn orgs(json: bool, args: DatabaseArgs) -> anyhow::Result<()> {
    let orgs = store(&args).await?.organizations_overview().await?;
    if json {
        println!("{}", serde_json::to_string(&orgs)?);
        return Ok(());
    }
    println!(
        "{:<36} {:<8} {:>7} {:>8} {:>9} {:>8} {:>12}  name (owner)",
        "id", "kind", "members", "projects", "snapshots", "blobs", "bytes"
    );
    for org in &orgs {
        println!(
            "{:<36} {:<8} {:>7} {:>8} {:>9} {:>8} {:>12}  {} ({})",
            org.id,
            org.kind,
            org.members,
            org.projects,
            org.snapshots,
            org.blobs,
            org.blob_bytes,
            org.name,
            org.owner
        );
    }
    let bytes: i64 = orgs.iter().map(|org| org.blob_bytes).sum();
    println!("{} organizations, {bytes} bytes of documents", orgs.len());
    Ok(())
}

/// A day (UTC) of milliseconds since the epoch, as YYYY-MM-DD.
fn day(ms: i64) -> String {
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0).unsigned_abs()),
    )
    .to_string()
    .chars()
    .take(10)
    .collect()
}

/// `hypnos admin backup FILE`.
pub async fn backup(json: bool, args: BackupArgs) -> anyhow::Result<()> {
    let contents =
        hypnos_server::backup::backup(&database_url(args.database_url.as_ref()), &args.file)
            .await
            .map_err(|err| anyhow::anyhow!("hypnos admin backup: {err}"))?;
    report(json, "Backed up to", &contents)
}

/// `hypnos admin restore FILE`.
pub async fn restore(json: bool, args: BackupArgs) -> anyhow::Result<()> {
    let url = database_url(args.database_url.as_ref());
    let contents = hypnos_server::backup::restore(&args.file, &url)
        .await
        .map_err(|err| anyhow::anyhow!("hypnos admin restore: {err}"))?;
    report(json, "Restored into", &contents)
}

fn report(json: bool, done: &str, contents: &Contents) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(contents)?);
        return Ok(());
    }
    println!(
        "{done} {} ({} bytes, schema {}): {} accounts, {} organizations, {} projects, {} \
         snapshots, {} blobs",
        contents.path.display(),
        contents.bytes,
        contents.schema_version,
        contents.rows("accounts"),
        contents.rows("organizations"),
        contents.rows("projects"),
        contents.rows("snapshots"),
        contents.rows("blobs"),
    );
    Ok(())
}

/// The server's settings with the command's database.
fn config_for(database_url: Option<&String>) -> ServerConfig {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = database_url.cloned();
    config
}

/// `hypnos admin disable EMAIL` and `hypnos admin enable EMAIL`.
pub async fn set_disabled(json: bool, args: AccountArgs, disabled: bool) -> anyhow::Result<()> {
    let verb = if disabled { "disable" } else { "enable" };
    let config = config_for(args.database_url.as_ref());
    let id = hypnos_server::admin::set_disabled(&config, &args.email, disabled)
        .await
        .map_err(|err| anyhow::anyhow!("hypnos admin {verb}: {err}"))?;
    if json {
        println!("{}", serde_json::json!({"id": id, "disabled": disabled}));
    } else if disabled {
        println!(
            "Disabled {} ({id}): it cannot log in, and its sessions ended.",
            args.email
        );
    } else {
        println!("Enabled {} ({id}): it can log in again.", args.email);
    }
    Ok(())
}

/// `hypnos admin delete-account EMAIL`.
pub async fn delete_account(json: bool, args: DeleteAccountArgs) -> anyhow::Result<()> {
    let email = &args.account.email;
    if !args.yes {
        let question = format!(
            "Delete {email}, its personal organization and the teams it alone is in? Nothing \
             but a backup can bring them back. Type the e-mail to confirm: "
        );
        let answer = ask(&question)?;
        if answer.trim() != email.trim() {
            anyhow::bail!("hypnos admin delete-account: not confirmed; nothing was deleted");
        }
    }
    let config = config_for(args.account.database_url.as_ref());
    let id = hypnos_server::admin::delete_account(&config, email)
        .await
        .map_err(|err| anyhow::anyhow!("hypnos admin delete-account: {err}"))?;
    if json {
        println!("{}", serde_json::json!({"id": id, "deleted": true}));
    } else {
        println!("Deleted {email} ({id}).");
    }
    Ok(())
}

/// Asks on the terminal; without one there is nobody to ask, and the command needs `--yes`.
fn ask(question: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if !std::io::stdin().is_terminal() {
        anyhow::bail!("hypnos admin delete-account: no terminal to confirm on: pass --yes");
    }
    let mut err = std::io::stderr();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer)
}
