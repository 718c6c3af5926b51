//! `hypnos server`: the settings (flags, environment, configuration file) and `--check-config`.

use std::path::PathBuf;

use clap::{ArgMatches, Args, Command};
use hypnos_server::{ServerConfig, config_file::ConfigFile};

/// `hypnos server`'s arguments: the server's settings, and what to do with them.
#[derive(Args)]
pub struct ServerArgs {
    /// A TOML file of settings, keyed by these flags' names without dashes (`listen =
    /// "0.0.0.0:8080"`); flags and environment variables win over it.
    #[arg(long, env = "HYPNOS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Check the settings and print the effective ones (where each came from; secrets
    /// masked), then exit: 0 if the server would start with them, 1 if not.
    #[arg(long)]
    pub check_config: bool,
    /// Print the sync API's GraphQL schema (SDL, as `GET /graphql/schema` serves it) and exit.
    #[arg(long)]
    pub print_schema: bool,
    /// Print the REST API's OpenAPI 3.1 document (JSON, as `GET /openapi.json` serves it) and
    /// exit.
    #[arg(long)]
    pub print_openapi: bool,
    /// The server's settings.
    #[command(flatten)]
    pub settings: ServerConfig,
}

/// `--check-config`: the effective settings on stdout, then whether they are valid.
pub fn check_config(
    command: &Command,
    matches: &ArgMatches,
    file: Option<&ConfigFile>,
    settings: &ServerConfig,
) -> anyhow::Result<()> {
    print!(
        "{}",
        hypnos_server::config_file::describe(command, matches, file)
    );
    settings
        .validate()
        .map_err(|problem| anyhow::anyhow!("hypnos server: invalid configuration: {problem}"))?;
    eprintln!("the configuration is valid");
    Ok(())
}
