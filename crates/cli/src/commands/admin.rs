//! `hypnos admin backup` and `hypnos admin restore`: the operator's copies of a SQLite database.

use hypnos_server::{ServerConfig, backup::Contents};

use crate::BackupArgs;

/// The database URL an admin command works on: `--database`, else the server's default.
fn database_url(args: &BackupArgs) -> String {
    let mut config = ServerConfig::parse_defaults();
    config.database_url = args.database_url.clone();
    config.database_url()
}

/// `hypnos admin backup FILE`.
pub async fn backup(json: bool, args: BackupArgs) -> anyhow::Result<()> {
    let contents = hypnos_server::backup::backup(&database_url(&args), &args.file)
        .await
        .map_err(|err| anyhow::anyhow!("hypnos admin backup: {err}"))?;
    report(json, "Backed up to", &contents)
}

/// `hypnos admin restore FILE`.
pub async fn restore(json: bool, args: BackupArgs) -> anyhow::Result<()> {
    let url = database_url(&args);
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
