//! `hypnos admin backup` and `restore` (the operator's copies of a SQLite database), and
//! `hypnos admin accounts` and `orgs` (what the server holds, for whom).

use hypnos_server::{ServerConfig, backup::Contents};

use crate::{BackupArgs, DatabaseArgs};

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
