//! `hypnos push`, `hypnos pull`, `hypnos status`: the app's export files, synced end to end
//! with `hypnos_client::sync`.

use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::{Args, ValueEnum};
use hypnos_client::sync::{
    Changes, Plan, Pulled, PushOptions, Pushed, SyncError, Syncer, Target,
    export::Format,
    merge::{Conflict, Prefer},
};
use serde_json::json;

use super::account::{print, saved};
use super::names;
use super::orgs::{emails_of, full_session, vetter};
use super::trust::Vetter;
use crate::failure::Conflicted;

/// The side that wins conflicts.
#[derive(Clone, Copy, ValueEnum)]
pub enum PreferSide {
    /// This file's documents.
    Ours,
    /// The server's (your teammates') documents.
    Theirs,
}

/// An export's format.
#[derive(Clone, Copy, ValueEnum)]
pub enum FileFormat {
    /// The app's "Insomnia v4" export, JSON.
    Json,
    /// The app's "Insomnia v4" export, YAML.
    Yaml,
    /// The "Insomnia v5" YAML file of Insomnia 11 and later (one workspace; the app imports it
    /// and keeps such files in Git).
    V5,
}

/// `hypnos push`.
#[derive(Args)]
pub struct PushArgs {
    /// A file of the app: an "Insomnia v4" export (formats 3 and 4, JSON or YAML, as any app up
    /// to 10.x wrote it) or an "Insomnia v5" file (type collection.insomnia.rest/5.0, spec.,
    /// environment., mock.; Insomnia 11 and later). Each workspace in it becomes, or updates,
    /// the project of that workspace. If teammates pushed since your last sync, their changes
    /// are merged into this file first.
    file: PathBuf,
    /// The organization: its id or its name (`hypnos org list`).
    #[arg(long)]
    org: String,
    /// The team project new projects go into: its id or its name (`hypnos team-project list
    /// ORG`).
    #[arg(long)]
    team_project: String,
    /// The branch (the newer apps' names may hold a '/', as feature/login).
    #[arg(long, default_value = "master", value_parser = branch_name)]
    branch: String,
    /// The snapshot's message.
    #[arg(short = 'm', long, default_value = "Pushed with hypnos")]
    message: String,
    /// Settle conflicts with this side's documents instead of stopping.
    #[arg(long, value_enum)]
    prefer: Option<PreferSide>,
    /// Encrypt a new project's key even to a member whose public key is not pinned here, new
    /// or changed (only after comparing fingerprints: hypnos keys fingerprint EMAIL).
    #[arg(long)]
    accept_new_key: bool,
    /// Go on although the server's history of the branch no longer holds the snapshot this
    /// machine saw last (the server went back: a restored backup, or tampering).
    #[arg(long)]
    accept_rollback: bool,
}

/// `hypnos pull`.
#[derive(Args)]
#[command(group = clap::ArgGroup::new("which").required(true).args(["workspace", "project"]))]
pub struct PullArgs {
    /// The organization's id.
    #[arg(long)]
    org: String,
    /// The workspace's id (`wrk_…`), as the app knows it.
    #[arg(long)]
    workspace: Option<String>,
    /// The project's id (`prj_…`), as hypnos push and hypnos log show it.
    #[arg(long)]
    project: Option<String>,
    /// The branch (the newer apps' names may hold a '/', as feature/login).
    #[arg(long, default_value = "master", value_parser = branch_name)]
    branch: String,
    /// The export to write (the app imports it). If it exists, the workspace is merged into it.
    #[arg(short = 'o', long = "output")]
    output: PathBuf,
    /// The file's format (default: an existing file keeps its own, v5 included; a new file is
    /// v4 YAML for a .yaml or .yml name, else v4 JSON). v5 holds one workspace, and refuses
    /// documents it has no place for (proto files, WebSocket payloads) rather than drop them.
    #[arg(long, value_enum)]
    format: Option<FileFormat>,
    /// Settle conflicts with this side's documents instead of stopping.
    #[arg(long, value_enum)]
    prefer: Option<PreferSide>,
    /// Go on although the server's history of the branch no longer holds the snapshot this
    /// machine saw last (the server went back: a restored backup, or tampering).
    #[arg(long)]
    accept_rollback: bool,
}

/// `hypnos status`.
#[derive(Args)]
pub struct StatusArgs {
    /// An export of the app.
    file: PathBuf,
    /// The branch (the newer apps' names may hold a '/', as feature/login).
    #[arg(long, default_value = "master", value_parser = branch_name)]
    branch: String,
    /// Go on although the server's history of the branch no longer holds the snapshot this
    /// machine saw last (the server went back: a restored backup, or tampering).
    #[arg(long)]
    accept_rollback: bool,
}

/// A branch name any version of the app allows; the app keeps them lower-cased.
pub(super) fn branch_name(name: &str) -> Result<String, String> {
    if hypnos_client::crypto::sync::is_branch_name(name) {
        Ok(name.to_lowercase())
    } else {
        Err(format!(
            "a branch name is 3 to {} letters, digits, '-', '_', '.' or '/', starting with a letter \
             or digit (with a '/': no '//', '..', trailing '/' or '.', part starting with '.' or \
             ending in '.lock')",
            hypnos_client::crypto::sync::MAX_BRANCH_NAME
        ))
    }
}

/// The export format asked for.
pub(super) fn format_of(format: Option<FileFormat>) -> Option<Format> {
    format.map(|format| match format {
        FileFormat::Json => Format::Json,
        FileFormat::Yaml => Format::Yaml,
        FileFormat::V5 => Format::V5,
    })
}

fn prefer(side: Option<PreferSide>) -> Option<Prefer> {
    side.map(|side| match side {
        PreferSide::Ours => Prefer::Ours,
        PreferSide::Theirs => Prefer::Theirs,
    })
}

/// A logged-in syncer and what it needs.
pub(super) struct Context {
    pub(super) api: hypnos_client::Api,
    pub(super) session: hypnos_client::Session,
    home: PathBuf,
    bars: crate::progress::Bars,
}

/// The saved session's context; progress bars are drawn unless `json_output`.
pub(super) async fn context(json_output: bool) -> anyhow::Result<Context> {
    let saved = saved()?;
    let api = hypnos_client::Api::new(&saved.server)?;
    let session = full_session(&api, &saved).await?;
    Ok(Context {
        api,
        session,
        home: crate::state::home()?,
        bars: crate::progress::Bars::new(json_output)?,
    })
}

impl Context {
    pub(super) fn syncer(&self, accept_rollback: bool) -> anyhow::Result<Syncer<'_>> {
        Ok(
            Syncer::new(&self.api, &self.session, &self.home, &self.bars)?
                .accept_rollback(accept_rollback),
        )
    }
}

/// "3 added, 1 changed, 2 removed".
fn summary(changes: &Changes) -> String {
    format!(
        "{} added, {} changed, {} removed",
        changes.added.len(),
        changes.modified.len(),
        changes.removed.len()
    )
}

/// A sync's error; conflicts are listed (on stdout too with `--json`) and exit 3.
pub(super) fn failure(err: SyncError, what: &str, json_output: bool) -> anyhow::Error {
    match err {
        SyncError::Conflicts { conflicts } => {
            if json_output {
                println!("{}", json!({"conflicts": conflict_json(&conflicts)}));
            }
            let mut text = format!(
                "{what} stopped: these documents changed both here and on the server since this \
                 machine last synced; nothing was pushed or written.\n"
            );
            for (workspace, list) in &conflicts {
                text.push_str(&format!("  in {workspace}:\n"));
                for conflict in list {
                    text.push_str(&format!(
                        "    {} \"{}\": {}\n",
                        conflict.key,
                        conflict.name,
                        conflict.kind.describe()
                    ));
                }
            }
            text.push_str(
                "Run again with --prefer ours (keep this file's versions) or --prefer theirs \
                 (take the server's), or edit the file so the two agree.",
            );
            Conflicted(text).into()
        }
        other => other.into(),
    }
}

fn conflict_json(conflicts: &[(String, Vec<Conflict>)]) -> serde_json::Value {
    json!(
        conflicts
            .iter()
            .map(|(workspace, list)| json!({"workspaceId": workspace, "conflicts": list}))
            .collect::<Vec<_>>()
    )
}

/// Runs `hypnos push`.
pub async fn push(json_output: bool, args: PushArgs) -> anyhow::Result<()> {
    let context = context(json_output).await?;
    let org = names::org_id(&context.api, &context.session.id, &args.org).await?;
    let team_project =
        names::team_project_id(&context.api, &context.session.id, &org, &args.team_project).await?;
    let syncer = context.syncer(args.accept_rollback)?;
    let mut vetter = vetter(&context.session, args.accept_new_key)?;
    let outcome = push_vetted(
        &context,
        &syncer,
        &mut vetter,
        &args.file,
        &PushOptions {
            org: &org,
            team_project: Some(&team_project),
            branch: &args.branch,
            message: &args.message,
            prefer: prefer(args.prefer),
        },
    )
    .await
    .map_err(|err| failure(err, "The push", json_output))?;
    crate::state::save_pins(&vetter.pins)?;
    print(
        json_output,
        json!({"projects": outcome}),
        pushed_text(&outcome, &args.file, args.prefer),
    );
    Ok(())
}

/// Pushes `file` with each member's public key vetted against this machine's pins before a new
/// project's key is encrypted to it (the caller saves the pins).
pub(super) async fn push_vetted(
    context: &Context,
    syncer: &Syncer<'_>,
    vetter: &mut Vetter,
    file: &Path,
    options: &PushOptions<'_>,
) -> Result<Vec<Pushed>, SyncError> {
    // E-mails for the messages about members' keys (a new project's key goes to each); best
    // effort: the push itself says what is wrong with the organization.
    let emails = emails_of(&context.api, &context.session.id, options.org)
        .await
        .unwrap_or_default();
    syncer
        .push(file, options, |account, public| {
            vetter
                .vet(account, emails.get(account).map(String::as_str), public)
                .map_err(|refused| refused.to_string())
        })
        .await
}

/// What a push did, for people: a line a workspace, and what it merged into `file`.
pub(super) fn pushed_text(outcome: &[Pushed], file: &Path, side: Option<PreferSide>) -> String {
    let mut lines = Vec::new();
    for pushed in outcome {
        let mut line = match &pushed.snapshot {
            Some(snapshot) => format!(
                "Pushed \"{}\" ({}) to {}: {}; snapshot {} ({} blobs uploaded){}.",
                pushed.name,
                pushed.id,
                pushed.branch,
                summary(&pushed.outgoing),
                &snapshot[..12],
                pushed.uploaded_blobs,
                if pushed.created_project {
                    ", new project"
                } else {
                    ""
                }
            ),
            None => format!(
                "\"{}\" ({}) on {} is up to date.",
                pushed.name, pushed.id, pushed.branch
            ),
        };
        if !pushed.incoming.is_empty() {
            line.push_str(&format!(
                "\n  Merged teammates' changes into {}: {}.",
                file.display(),
                summary(&pushed.incoming)
            ));
        }
        if pushed.key_unchecked {
            line.push_str(
                "\n  The project held no documents yet, so your key for it could not be checked \
                 against its data.",
            );
        }
        if !pushed.conflicts.is_empty() {
            line.push_str(&format!(
                "\n  {} conflicts settled with {} documents.",
                pushed.conflicts.len(),
                if matches!(side, Some(PreferSide::Theirs)) {
                    "the server's"
                } else {
                    "this file's"
                }
            ));
        }
        lines.push(line);
    }
    lines.join("\n")
}

/// Runs `hypnos pull`.
pub async fn pull(json_output: bool, args: PullArgs) -> anyhow::Result<()> {
    let context = context(json_output).await?;
    let org = names::org_id(&context.api, &context.session.id, &args.org).await?;
    let syncer = context.syncer(args.accept_rollback)?;
    let target = match (&args.project, &args.workspace) {
        (Some(project), _) => Target::Project(project),
        (None, Some(workspace)) => Target::Workspace(workspace),
        (None, None) => bail!("name --project or --workspace"),
    };
    let format = format_of(args.format);
    let pulled = syncer
        .pull(
            &org,
            target,
            &args.branch,
            &args.output,
            format,
            prefer(args.prefer),
        )
        .await
        .map_err(|err| failure(err, "The pull", json_output))?;
    let mut text = pulled_text(&pulled, &args.output);
    if !pulled.outgoing.is_empty() {
        text.push_str(&format!(
            "\n  The file has changes the server lacks ({}): hypnos push {} --org {} --team-project …",
            summary(&pulled.outgoing),
            args.output.display(),
            org
        ));
    }
    print(json_output, json!(pulled), text);
    Ok(())
}

/// What a pull wrote into `file`, for people.
pub(super) fn pulled_text(pulled: &Pulled, file: &Path) -> String {
    format!(
        "Pulled \"{}\" ({}) at {} of {} into {}: {} documents; {}.",
        pulled.name,
        pulled.id,
        &pulled.snapshot[..12],
        pulled.branch,
        file.display(),
        pulled.documents,
        summary(&pulled.incoming)
    )
}

/// Runs `hypnos status`.
pub async fn status(json_output: bool, args: StatusArgs) -> anyhow::Result<()> {
    let context = context(json_output).await?;
    let syncer = context.syncer(args.accept_rollback)?;
    let file = hypnos_client::sync::read_export(&args.file)?;
    let plans = syncer
        .status(&args.file, &file, &args.branch)
        .await
        .map_err(|err| failure(err, "The status", json_output))?;
    let text = plans.iter().map(describe).collect::<Vec<_>>().join("\n");
    print(json_output, json!({"workspaces": plans}), text);
    Ok(())
}

/// A plan, for people.
fn describe(plan: &Plan) -> String {
    let mut text = match &plan.project {
        None => format!(
            "\"{}\" ({}): not on the server yet; a push creates it with {} documents.",
            plan.name,
            plan.workspace_id,
            plan.outgoing.len()
        ),
        Some(project) if plan.outgoing.is_empty() && plan.incoming.is_empty() => format!(
            "\"{}\" ({}, {}): up to date with {}.",
            plan.name, plan.workspace_id, project.id, plan.branch
        ),
        Some(project) => format!(
            "\"{}\" ({}, {}) on {}: a push would change {}.",
            plan.name,
            plan.workspace_id,
            project.id,
            plan.branch,
            summary(&plan.outgoing)
        ),
    };
    let list = |changes: &Changes| {
        let mut lines = String::new();
        for (label, map) in [
            ("added", &changes.added),
            ("changed", &changes.modified),
            ("removed", &changes.removed),
        ] {
            for (key, name) in map {
                lines.push_str(&format!("\n    {label:<8} {key} \"{name}\""));
            }
        }
        lines
    };
    text.push_str(&list(&plan.outgoing));
    if !plan.incoming.is_empty() {
        text.push_str(&format!(
            "\n  Teammates' changes a push would merge into the file: {}{}",
            summary(&plan.incoming),
            list(&plan.incoming)
        ));
    }
    if !plan.conflicts.is_empty() {
        text.push_str("\n  Conflicts (a push stops unless --prefer ours|theirs):");
        for conflict in &plan.conflicts {
            text.push_str(&format!(
                "\n    {} \"{}\": {}",
                conflict.key,
                conflict.name,
                conflict.kind.describe()
            ));
        }
    }
    text
}
