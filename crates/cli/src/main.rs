//! `hypnos`: the Hypnos command line. `hypnos server` runs the sync server, `hypnos admin` holds
//! the operator's commands, and the account commands (`signup`, `login`, `logout`, `whoami`) are a
//! client of a server, on `hypnos-client`, as are the organization and sync commands.
//!
//! Exit codes: 0 done (`hypnos watch`: stopped by Ctrl-C), 1 failed, 2 usage error (clap's), 3
//! a merge conflict stopped a push, pull or watch ([`failure`] reads them off a command's error).

mod commands;
mod failure;
mod generated;
mod progress;
mod state;

use commands::{account, admin, migrate, orgs, server, sync, watch};

use std::process::ExitCode;

use clap::{ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};
use hypnos_server::ServerConfig;
use hypnos_server::config_file::ConfigFile;

/// Self-hosted, end-to-end-encrypted sync for the Insomnia app.
#[derive(Parser)]
#[command(name = "hypnos", version, about, long_about = None)]
struct Cli {
    /// The server the client commands talk to.
    #[arg(
        long,
        global = true,
        env = "HYPNOS_SERVER",
        default_value = "http://127.0.0.1:8080"
    )]
    server: String,
    /// Print one JSON value on stdout instead of text (client commands).
    #[arg(long, global = true)]
    json: bool,
    /// How log lines (on stderr) are written: `text` for people, `json` (one object per line,
    /// with the request's id and span fields) for log collectors.
    #[arg(
        long,
        global = true,
        env = "HYPNOS_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process: the server's settings need no box"
)]
enum Command {
    /// Run the sync server (HTTP API) on its database.
    Server(server::ServerArgs),
    /// Operator commands that work on the server's database.
    Admin(AdminArgs),
    /// Create an account (keys are made here; the passphrase never leaves this machine) and log
    /// in.
    Signup(account::SignupArgs),
    /// Log in and keep the session (and the unlocked account key) for the next commands.
    Login(account::LoginArgs),
    /// End the session on the server and forget it here.
    Logout,
    /// Show the logged-in account.
    Whoami,
    /// Organizations: list, create, members, invite (sharing your project keys), leave.
    #[command(subcommand)]
    Org(orgs::OrgCommand),
    /// Invitations to you: list them, or accept or decline one.
    Invites {
        #[command(subcommand)]
        command: Option<orgs::InvitesCommand>,
    },
    /// Team projects of an organization: list, create.
    #[command(subcommand)]
    TeamProject(orgs::TeamProjectCommand),
    /// Give the members of an organization that lack project keys (after a reset, say) the
    /// ones you hold, encrypted to their public keys.
    Share {
        /// The organization: its id or its name.
        org: String,
        /// Share even to a public key that is not pinned here, new or changed (after
        /// comparing fingerprints).
        #[arg(long)]
        accept_new_key: bool,
        /// Owner or admin: give this member (by e-mail) every project key you hold, replacing
        /// the ones they hold (a wrong key a member gave them).
        #[arg(long, value_name = "EMAIL")]
        repair: Option<String>,
    },
    /// Public-key fingerprints to compare aloud.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Account actions: reset a lost passphrase, delete the account.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Your passphrase.
    #[command(subcommand)]
    Passphrase(PassphraseCommand),
    /// A synced project's branches.
    Branches {
        /// The project's id (`prj_…`).
        project: String,
    },
    /// Push an export of the app: each workspace becomes, or updates, its project; teammates'
    /// changes since your last sync are merged in first (exit 3 on conflicts).
    Push(sync::PushArgs),
    /// Pull a project into an export the app imports (merged into the file if it exists).
    Pull(sync::PullArgs),
    /// What a push of an export would change, and what it would merge in.
    Status(sync::StatusArgs),
    /// Keep an export in step with the team, live: teammates' pushes are pulled into it as
    /// they happen, its changes on disk are pushed; stops on a conflict (exit 3), Ctrl-C ends
    /// it.
    Watch(watch::WatchArgs),
    /// Print a completion script for SHELL: `hypnos completions bash >
    /// /etc/bash_completion.d/hypnos`, or `source <(hypnos completions zsh)` in ~/.zshrc.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page, hypnos(1) in roff (`hypnos man | man -l -`), or with --dir write
    /// it and one page per subcommand (hypnos-server.1, …) into a directory.
    Man {
        /// The directory to write every page into, e.g. /usr/local/share/man/man1.
        #[arg(long)]
        dir: Option<std::path::PathBuf>,
    },
    /// Check that the server (--server) is up and can use its database (GET /readyz): exit 0
    /// if so, 1 if not. For container and service health checks.
    Healthcheck,
    /// A branch's snapshots, newest first.
    Log {
        /// The project's id (`prj_…`).
        project: String,
        /// The branch.
        #[arg(long, default_value = "master")]
        branch: String,
    },
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Reset a lost passphrase with a token from the server's operator: new keys, every session
    /// ends, shared projects must be shared to you again (hypnos share).
    Reset(account::ResetArgs),
    /// Delete your account, its personal organization and everything it owns.
    Delete {
        #[command(flatten)]
        passphrase: account::PassphraseSource,
    },
}

#[derive(Subcommand)]
enum PassphraseCommand {
    /// Change your passphrase (asked for without echo, or HYPNOS_PASSPHRASE and
    /// HYPNOS_NEW_PASSPHRASE); your other sessions end.
    Change,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// The fingerprint of your public key, or of a teammate's (by e-mail; before they join,
    /// the key an invitation would go to).
    Fingerprint {
        /// A teammate's e-mail; yours if left out.
        email: Option<String>,
        /// Look in this organization only (for someone not yet a member: the team you will
        /// invite them to).
        #[arg(long)]
        org: Option<String>,
    },
    /// Pin a teammate's public key after comparing its fingerprint with them: invitations,
    /// shares and new projects then encrypt to it without asking.
    Trust {
        /// The teammate's e-mail.
        email: String,
        /// The fingerprint they read to you (they run: hypnos keys fingerprint).
        fingerprint: String,
        /// Look in this organization only (as for `keys fingerprint`).
        #[arg(long)]
        org: Option<String>,
    },
}

/// `hypnos admin`: the configuration file the server runs with, and the command.
#[derive(Args)]
struct AdminArgs {
    /// The server's configuration file (as `hypnos server --config`): the settings a command
    /// shares with the server (database, public-url, server-name, smtp-…) default to its
    /// values; flags and environment variables win over it.
    #[arg(long, global = true, env = "HYPNOS_CONFIG", value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: AdminCommand,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a one-time token (valid one hour) with which the account can reset its lost
    /// passphrase (POST /auth/reset). The token is the last word of the output. With --mail,
    /// mail it to the account's e-mail instead (through the --smtp-… settings).
    ResetToken(ResetTokenArgs),
    /// Print a one-time sign-up link (and its token, for `hypnos signup --invite`) that lets
    /// one person create an account whatever the sign-up policy (--signup). This is how an
    /// operator creates accounts: the account's keys are made by the person, from a passphrase
    /// the server never sees.
    SignupLink(SignupLinkArgs),
    /// Copy a SQLite database into FILE, consistently, while the server runs (a PostgreSQL
    /// database is backed up with pg_dump: see the README); the copy is checked before it
    /// takes its name.
    Backup(BackupArgs),
    /// Write the backup FILE as the server's SQLite database, which must not exist yet (stop
    /// the server and move the old one away first); an older backup is brought up to date.
    Restore(BackupArgs),
    /// Move the server's data from SQLite to PostgreSQL: copy every account, organization, key,
    /// snapshot and blob into an empty PostgreSQL database, then compare the row count and a
    /// checksum of every table on both sides; the copy is committed only if all match. Stop the
    /// server first.
    Migrate(MigrateArgs),
    /// List every account: e-mail, name, when it signed up, its open sessions and the teams it
    /// owns.
    Accounts(DatabaseArgs),
    /// List every organization with its owner, members and the storage it uses: projects,
    /// snapshots, encrypted documents and their bytes.
    Orgs(DatabaseArgs),
    /// Disable an account: it cannot log in and its sessions end (its apps are logged out),
    /// until `hypnos admin enable`. Its data stays.
    Disable(AccountArgs),
    /// Enable a disabled account again: it can log in.
    Enable(AccountArgs),
    /// Delete an account as its owner could: its personal organization, the teams it alone is
    /// in, its memberships, keys and sessions. An account that owns a team with other members
    /// is refused: delete or hand over the team first.
    DeleteAccount(DeleteAccountArgs),
}

#[derive(Args)]
struct AccountArgs {
    /// The account's e-mail.
    email: String,
    /// The database URL, as for `hypnos server` (default: SQLite in ./hypnos-data/).
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct DeleteAccountArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Delete without asking (nothing can bring the account back but a backup).
    #[arg(long)]
    yes: bool,
}

#[derive(Args)]
struct DatabaseArgs {
    /// The database URL, as for `hypnos server` (default: SQLite in ./hypnos-data/).
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct BackupArgs {
    /// The backup file (a SQLite database; it must not exist for a backup).
    file: std::path::PathBuf,
    /// The database URL, as for `hypnos server` (default: SQLite in ./hypnos-data/).
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
pub(crate) struct MigrateArgs {
    /// The SQLite database to copy (sqlite://PATH, as for `hypnos server --database`).
    #[arg(long, value_name = "URL")]
    pub(crate) from: String,
    /// The empty PostgreSQL database to copy into (postgres://…; it is migrated to this
    /// version's schema first). From the environment, a password stays out of the process list.
    #[arg(
        long,
        value_name = "URL",
        env = "HYPNOS_MIGRATE_TO",
        hide_env_values = true
    )]
    pub(crate) to: String,
    /// Copy nothing: only compare the counts and checksums of an earlier migration.
    #[arg(long)]
    pub(crate) verify_only: bool,
}

#[derive(Args)]
struct SignupLinkArgs {
    /// Only this e-mail may sign up with the link (--signup-domains then does not apply).
    #[arg(long)]
    email: Option<String>,
    /// How long the link works (e.g. 90m, 48h, 7d; at most 365d).
    #[arg(long, default_value = "7d", value_parser = hypnos_server::admin::parse_link_ttl)]
    ttl: std::time::Duration,
    /// The URL users reach the server at, which the link starts with (default: as `hypnos
    /// server` derives it).
    #[arg(long, env = "HYPNOS_PUBLIC_URL")]
    public_url: Option<String>,
    /// The database URL, as for `hypnos server` (default: SQLite in ./hypnos-data/).
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    database_url: Option<String>,
}

#[derive(Args)]
struct ResetTokenArgs {
    /// The account's e-mail.
    email: String,
    /// The database URL, as for `hypnos server` (default: SQLite in ./hypnos-data/).
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    database_url: Option<String>,
    /// Mail the token to the account's e-mail instead of printing it (needs --smtp-host and
    /// --smtp-from, as for `hypnos server`).
    #[arg(long)]
    mail: bool,
    /// The URL users reach the server at, which the mail names (default: as `hypnos server`
    /// derives it).
    #[arg(long, env = "HYPNOS_PUBLIC_URL")]
    public_url: Option<String>,
    /// The server's name, which the mail names (as `hypnos server --server-name`).
    #[arg(long, env = "HYPNOS_SERVER_NAME", value_parser = hypnos_server::config::parse_server_name)]
    server_name: Option<String>,
    #[command(flatten)]
    smtp: hypnos_server::config::MailConfig,
}

/// The command line, parsed; for `hypnos server` with a configuration file, the file's values
/// are the flags' defaults (so flags and environment variables win), and the file and the
/// matches are kept for `--check-config`.
fn parse_command_line() -> Result<(Cli, ArgMatches, Option<ConfigFile>), ExitCode> {
    let command = Cli::command();
    // A first look for --config alone: errors wait for the real parse, since the file may
    // supply what a flag needs (--tls-key for --tls-cert).
    let path = command
        .clone()
        .ignore_errors(true)
        .try_get_matches()
        .ok()
        .and_then(|matches| {
            let (name, sub) = matches.subcommand()?;
            let sub = match name {
                "server" => sub,
                "admin" => sub.subcommand()?.1,
                _ => return None,
            };
            Some((
                name.to_owned(),
                sub.get_one::<std::path::PathBuf>("config")?.clone(),
            ))
        });
    let (name, file) = match path {
        None => (String::new(), None),
        Some((name, path)) => match ConfigFile::read(&path) {
            Ok(file) => (name, Some(file)),
            Err(problem) => {
                eprintln!("hypnos {name}: {problem}");
                return Err(ExitCode::from(2));
            }
        },
    };
    // The file's values become the defaults of the flags of the same name: every flag of
    // `hypnos server`, and those an operator command shares with it.
    let command = match &file {
        Some(file) if name == "server" => {
            command.mut_subcommand("server", |server| file.apply(server))
        }
        Some(file) => command.mut_subcommand("admin", |admin| {
            let names: Vec<String> = admin
                .get_subcommands()
                .map(|sub| sub.get_name().to_owned())
                .collect();
            names.iter().fold(admin, |admin, sub| {
                admin.mut_subcommand(sub, |sub| file.apply(sub))
            })
        }),
        None => command,
    };
    let matches = command.get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.exit());
    Ok((cli, matches, file))
}

fn main() -> ExitCode {
    let (cli, matches, file) = match parse_command_line() {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    // Made from the definitions alone: no settings, state or runtime needed.
    let generated = match &cli.command {
        Command::Completions { shell } => Some(generated::completions(*shell)),
        Command::Man { dir } => Some(generated::man(dir.as_deref())),
        _ => None,
    };
    if let Some(outcome) = generated {
        return match outcome {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("{}", failure::describe(&error));
                ExitCode::FAILURE
            }
        };
    }
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hypnos: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        if !matches!(
            cli.command,
            Command::Server(_) | Command::Admin(_) | Command::Healthcheck
        ) {
            state::check_settings()?;
        }
        match cli.command {
            // The server's errors name their causes in their own sentences (their sources
            // would repeat them), so they are said as they are, after the command's name.
            Command::Server(args) if args.print_schema => {
                print!("{}", hypnos_server::api::graphql::sdl());
                Ok(())
            }
            Command::Server(args) if args.print_openapi => {
                print!("{}", hypnos_server::api::openapi::json());
                Ok(())
            }
            Command::Server(args) if args.check_config => {
                let command = Cli::command();
                let server = command
                    .find_subcommand("server")
                    .expect("hypnos has a server command");
                let server_matches = matches
                    .subcommand_matches("server")
                    .expect("this is the server command");
                server::check_config(server, server_matches, file.as_ref(), &args.settings)
            }
            Command::Server(args) => hypnos_server::serve(args.settings)
                .await
                .map_err(|err| anyhow::anyhow!("hypnos server: {err}")),
            Command::Admin(AdminArgs {
                command: AdminCommand::ResetToken(args),
                ..
            }) => reset_token(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::SignupLink(args),
                ..
            }) => signup_link(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Backup(args),
                ..
            }) => admin::backup(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Restore(args),
                ..
            }) => admin::restore(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Migrate(args),
                ..
            }) => migrate::migrate(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Accounts(args),
                ..
            }) => admin::accounts(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Orgs(args),
                ..
            }) => admin::orgs(cli.json, args).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Disable(args),
                ..
            }) => admin::set_disabled(cli.json, args, true).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::Enable(args),
                ..
            }) => admin::set_disabled(cli.json, args, false).await,
            Command::Admin(AdminArgs {
                command: AdminCommand::DeleteAccount(args),
                ..
            }) => admin::delete_account(cli.json, args).await,
            Command::Signup(args) => account::signup(&cli.server, cli.json, args).await,
            Command::Login(args) => account::login(&cli.server, cli.json, args).await,
            Command::Logout => account::logout(cli.json).await,
            Command::Whoami => account::whoami(cli.json).await,
            Command::Org(command) => orgs::org(cli.json, command).await,
            Command::Invites { command } => orgs::invites(cli.json, command).await,
            Command::TeamProject(command) => orgs::team_project(cli.json, command).await,
            Command::Share {
                org,
                accept_new_key,
                repair,
            } => orgs::share(cli.json, &org, accept_new_key, repair).await,
            Command::Keys(KeysCommand::Fingerprint { email, org }) => {
                orgs::fingerprint(cli.json, email, org).await
            }
            Command::Keys(KeysCommand::Trust {
                email,
                fingerprint,
                org,
            }) => orgs::trust(cli.json, &email, &fingerprint, org).await,
            Command::Account(AccountCommand::Reset(args)) => {
                account::reset(&cli.server, cli.json, args).await
            }
            Command::Account(AccountCommand::Delete { passphrase }) => {
                account::delete_account(cli.json, &passphrase).await
            }
            Command::Passphrase(PassphraseCommand::Change) => {
                account::change_passphrase(cli.json).await
            }
            Command::Branches { project } => orgs::branches(cli.json, &project).await,
            Command::Log { project, branch } => orgs::log(cli.json, &project, &branch).await,
            Command::Push(args) => sync::push(cli.json, args).await,
            Command::Pull(args) => sync::pull(cli.json, args).await,
            Command::Status(args) => sync::status(cli.json, args).await,
            Command::Watch(args) => watch::watch(cli.json, args).await,
            Command::Healthcheck => healthcheck(&cli.server).await,
            Command::Completions { .. } | Command::Man { .. } => Ok(()),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{}", failure::describe(&error));
            failure::exit_code(&error)
        }
    }
}

async fn healthcheck(server: &str) -> anyhow::Result<()> {
    let api = hypnos_client::Api::new(server)?;
    api.ready()
        .await
        .map_err(|err| anyhow::anyhow!("hypnos healthcheck: {server} is not ready: {err}"))?;
    println!("{server} is ready");
    Ok(())
}

async fn reset_token(json_output: bool, args: ResetTokenArgs) -> anyhow::Result<()> {
    // Only the database matters to the admin command; the rest keeps its defaults.
    let mut config = ServerConfig::parse_defaults();
    config.database_url = args.database_url;
    if args.mail {
        // The mail names the server as `hypnos server` does.
        config.public_url = args.public_url.or(config.public_url);
        config.server_name = args.server_name.or(config.server_name);
        config.mail = args.smtp;
        let to = hypnos_server::admin::mail_reset_token(&config, &args.email)
            .await
            .map_err(|err| anyhow::anyhow!("hypnos admin reset-token: {err}"))?;
        if json_output {
            println!("{}", serde_json::json!({"mailedTo": to, "expiresIn": 3600}));
        } else {
            println!("Reset token (valid 1 hour, single use) mailed to {to}.");
        }
        return Ok(());
    }
    let token = hypnos_server::admin::issue_reset_token(&config, &args.email)
        .await
        .map_err(|err| anyhow::anyhow!("hypnos admin reset-token: {err}"))?;
    let email = args.email.trim().to_lowercase();
    if json_output {
        println!(
            "{}",
            serde_json::json!({"email": email, "token": token, "expiresIn": 3600})
        );
    } else {
        println!(
            "Reset token for {email} (valid 1 hour, single use; give it to the account's owner): \
             {token}"
        );
    }
    Ok(())
}

async fn signup_link(json_output: bool, args: SignupLinkArgs) -> anyhow::Result<()> {
    // The database and the public URL matter here; the rest keeps its defaults (and the
    // server's environment, e.g. HYPNOS_LISTEN or HYPNOS_TLS_CERT for the derived URL).
    let mut config = ServerConfig::parse_defaults();
    config.database_url = args.database_url;
    config.public_url = args.public_url.or(config.public_url);
    let link = hypnos_server::admin::issue_signup_link(&config, args.email.as_deref(), args.ttl)
        .await
        .map_err(|err| anyhow::anyhow!("hypnos admin signup-link: {err}"))?;
    let seconds = args.ttl.as_secs();
    let valid = match seconds {
        s if s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s % 3_600 == 0 => format!("{} hours", s / 3_600),
        s => format!("{} minutes", s.div_ceil(60)),
    };
    if json_output {
        println!(
            "{}",
            serde_json::json!({
                "url": link.url,
                "token": link.token,
                "email": link.email,
                "expiresAtMs": link.expires_at,
            })
        );
    } else {
        let whom = link.email.as_deref().map_or_else(
            || "anyone who has it".to_owned(),
            |email| format!("{email} only"),
        );
        println!(
            "Sign-up link (single use, for {whom}, valid {valid}; whoever holds it can use \
             it, so send it to that person only):\n{}\nOr: hypnos signup --email … --invite {}",
            link.url, link.token
        );
    }
    if config.public_url.is_none() {
        eprintln!(
            "note: the link starts with the server's --listen address; set --public-url (or \
             HYPNOS_PUBLIC_URL) to the URL users reach the server at"
        );
    }
    Ok(())
}

/// The format of the log lines (`--log-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// One line of text per event, with its spans' fields.
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields`, `target`, and `span`/`spans`
    /// with the request's method, path and id.
    Json,
}

/// Logs to stderr; `HYPNOS_LOG` (or `RUST_LOG`) sets the filter, `info` by default.
fn init_logging(format: LogFormat) {
    let filter = std::env::var("HYPNOS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    // Colours only on a terminal: a log file or a collector gets plain text.
    let logger = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logger.init(),
        LogFormat::Json => logger.json().init(),
    }
}
