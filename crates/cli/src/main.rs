//! `hypnos`: the Hypnos command line. `hypnos server` runs the sync server, `hypnos admin` holds
//! the operator's commands, and the account commands (`signup`, `login`, `logout`, `whoami`) are a
//! client of a server, on `hypnos-client`, as are the organization and sync commands.
//!
//! Exit codes: 0 done, 1 failed, 2 usage error (clap's), 3 a merge conflict stopped a push or
//! pull.

mod commands;
mod progress;
mod state;

use commands::{account, orgs, sync};

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use hypnos_server::ServerConfig;

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
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the sync server (HTTP API) on its database.
    Server(ServerConfig),
    /// Operator commands that work on the server's database.
    #[command(subcommand)]
    Admin(AdminCommand),
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
        /// The organization's id.
        org: String,
        /// Share even to a public key that differs from the one pinned here (after comparing
        /// fingerprints).
        #[arg(long)]
        accept_new_key: bool,
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
    /// The fingerprint of your public key, or of a teammate's (by e-mail).
    Fingerprint {
        /// A teammate's e-mail; yours if left out.
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a one-time token (valid one hour) with which the account can reset its lost
    /// passphrase (POST /auth/reset). The token is the last word of the output.
    ResetToken(ResetTokenArgs),
}

#[derive(Args)]
struct ResetTokenArgs {
    /// The account's e-mail.
    email: String,
    /// The database URL, as for `hypnos server` (default: SQLite in ./hypnos-data/).
    #[arg(long = "database", env = "HYPNOS_DATABASE_URL")]
    database_url: Option<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("hypnos: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        // Commands fail with a sentence (exit 1) unless they say otherwise (a sync's conflict).
        let failed = Failure::Error;
        if !matches!(cli.command, Command::Server(_) | Command::Admin(_)) {
            state::check_settings().map_err(failed)?;
        }
        match cli.command {
            Command::Server(config) => hypnos_server::serve(config)
                .await
                .map_err(|err| failed(format!("hypnos server: {err}"))),
            Command::Admin(AdminCommand::ResetToken(args)) => {
                reset_token(args).await.map_err(failed)
            }
            Command::Signup(args) => account::signup(&cli.server, cli.json, args)
                .await
                .map_err(failed),
            Command::Login(args) => account::login(&cli.server, cli.json, args)
                .await
                .map_err(failed),
            Command::Logout => account::logout(cli.json).await.map_err(failed),
            Command::Whoami => account::whoami(cli.json).await.map_err(failed),
            Command::Org(command) => orgs::org(cli.json, command).await.map_err(failed),
            Command::Invites { command } => orgs::invites(cli.json, command).await.map_err(failed),
            Command::TeamProject(command) => {
                orgs::team_project(cli.json, command).await.map_err(failed)
            }
            Command::Share {
                org,
                accept_new_key,
            } => orgs::share(cli.json, &org, accept_new_key)
                .await
                .map_err(failed),
            Command::Keys(KeysCommand::Fingerprint { email }) => {
                orgs::fingerprint(cli.json, email).await.map_err(failed)
            }
            Command::Account(AccountCommand::Reset(args)) => {
                account::reset(&cli.server, cli.json, args)
                    .await
                    .map_err(failed)
            }
            Command::Account(AccountCommand::Delete { passphrase }) => {
                account::delete_account(cli.json, &passphrase)
                    .await
                    .map_err(failed)
            }
            Command::Passphrase(PassphraseCommand::Change) => {
                account::change_passphrase(cli.json).await.map_err(failed)
            }
            Command::Branches { project } => {
                orgs::branches(cli.json, &project).await.map_err(failed)
            }
            Command::Log { project, branch } => {
                orgs::log(cli.json, &project, &branch).await.map_err(failed)
            }
            Command::Push(args) => sync::push(cli.json, args).await,
            Command::Pull(args) => sync::pull(cli.json, args).await,
            Command::Status(args) => sync::status(cli.json, args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Error(message)) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
        Err(Failure::Conflict(message)) => {
            eprintln!("{message}");
            ExitCode::from(3)
        }
    }
}

/// Why a command failed, which sets its exit code.
pub enum Failure {
    /// Exit 1.
    Error(String),
    /// A merge conflict: exit 3.
    Conflict(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Self::Error(message)
    }
}

async fn reset_token(args: ResetTokenArgs) -> Result<(), String> {
    // Only the database matters to the admin command; the rest keeps its defaults.
    let mut config = ServerConfig::parse_defaults();
    config.database_url = args.database_url;
    let token = hypnos_server::admin::issue_reset_token(&config, &args.email)
        .await
        .map_err(|err| format!("hypnos admin reset-token: {err}"))?;
    println!(
        "Reset token for {} (valid 1 hour, single use; give it to the account's owner): {token}",
        args.email.trim().to_lowercase()
    );
    Ok(())
}

/// Logs to stderr; `HYPNOS_LOG` (or `RUST_LOG`) sets the filter, `info` by default.
fn init_logging() {
    let filter = std::env::var("HYPNOS_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}
