//! `hypnos watch`: an export file kept in step with the team, live. It opens the
//! organization's event stream, then syncs: teammates' pushes to the file's projects are pulled
//! and merged into the file as their `FileChanged` events arrive, and the file's own changes on
//! disk are pushed once it has been still for a while (`--debounce`, 1 s). A conflict stops it
//! (exit 3, as a push or pull would); a lost stream or network reconnects with backoff and
//! syncs again, since events sent meanwhile were missed.
//!
//! The file is polled (its size and modification time every [`POLL`], its content when they
//! move) rather than watched through the OS's notifications: no dependency, the same on every
//! system and file system (network mounts included), and an editor's save by rename is seen
//! like any other. A change is its content: what a pull just wrote is never pushed back.

use std::{
    collections::BTreeSet,
    convert::Infallible,
    path::{Path, PathBuf},
    time::{Duration, Instant, SystemTime},
};

use anyhow::Context as _;
use clap::Args;
use hypnos_client::{
    ClientError,
    crypto::wire::events::Event,
    sync::{PushOptions, SyncError, Syncer, Target, export::Export, read_export},
};
use serde_json::{Value, json};

use super::sync::{
    Context, FileFormat, branch_name, context, failure, format_of, pulled_text, push_vetted,
    pushed_text,
};
use super::{names, orgs::vetter, trust::Vetter};

/// How often the file is looked at.
const POLL: Duration = Duration::from_millis(500);

/// The first wait before reconnecting; it doubles on each failure in a row, up to [`MAX_WAIT`].
const FIRST_WAIT: Duration = Duration::from_secs(1);

/// The longest wait before reconnecting.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// `hypnos watch`.
#[derive(Args)]
pub struct WatchArgs {
    /// The export file to keep in step: its workspaces' projects (or, with --workspace or
    /// --project, that project, pulled into it first: it may not exist yet).
    file: PathBuf,
    /// The organization: its id or its name.
    #[arg(long)]
    org: String,
    /// The team project a workspace new to the server goes into when it is pushed (not needed
    /// while every workspace of the file is on the server).
    #[arg(long)]
    team_project: Option<String>,
    /// Pull this workspace (`wrk_…`) into the file first.
    #[arg(long, conflicts_with = "project")]
    workspace: Option<String>,
    /// Pull this project (`prj_…`) into the file first.
    #[arg(long)]
    project: Option<String>,
    /// The branch.
    #[arg(long, default_value = "master", value_parser = branch_name)]
    branch: String,
    /// How long the file must stay unchanged on disk before it is pushed (an editor saving in
    /// steps, a user saving twice): 1s, 500ms, 1m…
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    debounce: Duration,
    /// The message of the snapshots pushed.
    #[arg(short = 'm', long, default_value = "Pushed by hypnos watch")]
    message: String,
    /// A new file's format, with --workspace or --project (as for hypnos pull).
    #[arg(long, value_enum)]
    format: Option<FileFormat>,
    /// Encrypt a new project's key even to a member whose public key is not pinned here.
    #[arg(long)]
    accept_new_key: bool,
    /// Go on although the server's history of the branch no longer holds the snapshot this
    /// machine saw last.
    #[arg(long)]
    accept_rollback: bool,
}

/// Runs `hypnos watch` until Ctrl-C (exit 0), a conflict (exit 3) or an error it cannot
/// outwait (exit 1).
pub async fn watch(json_output: bool, mut args: WatchArgs) -> anyhow::Result<()> {
    // No progress bars between the watch's lines.
    let context = context(true).await?;
    // Names become ids once: events and files name organizations by id.
    args.org = names::org_id(&context.api, &context.session.id, &args.org).await?;
    if let Some(team_project) = &args.team_project {
        let id = names::team_project_id(&context.api, &context.session.id, &args.org, team_project)
            .await?;
        args.team_project = Some(id);
    }
    let syncer = context.syncer(args.accept_rollback)?;
    let vetter = vetter(&context.session, args.accept_new_key)?;
    let out = Out { json: json_output };
    let mut watcher = Watcher {
        context: &context,
        syncer,
        vetter,
        disk: Disk::new(&args.file, args.debounce),
        projects: BTreeSet::new(),
        out,
        args: &args,
    };
    tokio::select! {
        outcome = watcher.run() => outcome,
        stopped = tokio::signal::ctrl_c() => {
            stopped.context("cannot wait for Ctrl-C")?;
            out.say(json!({"action": "stopped"}), "Stopped.".into());
            Ok(())
        }
    }
}

/// Where the lines go: text, or one JSON object a line.
#[derive(Clone, Copy)]
struct Out {
    json: bool,
}

impl Out {
    fn say(self, value: Value, text: String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}

/// What ends a connection: a loss to reconnect after (why), or an error that ends the watch.
enum Stop {
    Lost(String),
    Fatal(anyhow::Error),
}

impl From<anyhow::Error> for Stop {
    fn from(error: anyhow::Error) -> Self {
        Self::Fatal(error)
    }
}

/// A step of a connection: it goes on, or stops.
type Step = Result<(), Stop>;

/// A sync failure: the network's is outwaited, a conflict or anything else ends the watch.
fn sync_stop(error: SyncError, what: &str, json_output: bool) -> Stop {
    match error {
        SyncError::Client(ClientError::Unavailable(unavailable)) => {
            Stop::Lost(unavailable.to_string())
        }
        other => Stop::Fatal(failure(other, what, json_output)),
    }
}

struct Watcher<'a> {
    context: &'a Context,
    syncer: Syncer<'a>,
    vetter: Vetter,
    disk: Disk,
    /// The file's projects (`prj_…`) on the server, whose `FileChanged` events concern it.
    projects: BTreeSet<String>,
    out: Out,
    args: &'a WatchArgs,
}

impl Watcher<'_> {
    /// Connects, syncs and follows, reconnecting after each loss.
    async fn run(&mut self) -> anyhow::Result<()> {
        let mut wait = FIRST_WAIT;
        let mut first = true;
        loop {
            let why = match self.connection(&mut first, &mut wait).await {
                Ok(never) => match never {},
                Err(Stop::Fatal(error)) => return Err(error),
                Err(Stop::Lost(why)) => why,
            };
            self.out.say(
                json!({"action": "disconnected", "reason": why, "retryInSeconds": wait.as_secs()}),
                format!(
                    "Disconnected ({why}); reconnecting in {} s.",
                    wait.as_secs()
                ),
            );
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_WAIT);
        }
    }

    /// One connection: open the stream, sync, then follow the stream and the file until
    /// something is lost.
    async fn connection(
        &mut self,
        first: &mut bool,
        wait: &mut Duration,
    ) -> Result<Infallible, Stop> {
        let args = self.args;
        let org = &args.org;
        let mut stream = match self.context.api.events(&self.context.session.id, org).await {
            Ok(stream) => stream,
            Err(ClientError::Unavailable(unavailable)) => {
                return Err(Stop::Lost(unavailable.to_string()));
            }
            Err(other) => {
                return Err(Stop::Fatal(anyhow::Error::new(other).context(format!(
                    "cannot open the event stream of organization {org}"
                ))));
            }
        };
        self.out.say(
            json!({"action": "connected", "org": org}),
            format!("Connected to the event stream of {org}."),
        );
        if *first {
            self.start().await?;
            *first = false;
        } else {
            self.reconcile().await?;
        }
        *wait = FIRST_WAIT;
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                event = stream.next_event() => self.on_event(event).await?,
                _ = tick.tick() => {
                    self.disk.poll();
                    if self.disk.due() {
                        self.push().await?;
                    }
                }
            }
        }
    }

    /// The first sync: the project asked for pulled into the file, then the file's state.
    async fn start(&mut self) -> Step {
        let target = match (&self.args.project, &self.args.workspace) {
            (Some(project), _) => Some(Target::Project(project)),
            (None, Some(workspace)) => Some(Target::Workspace(workspace)),
            (None, None) => None,
        };
        if let Some(target) = target {
            let pulled = self
                .syncer
                .pull(
                    &self.args.org,
                    target,
                    &self.args.branch,
                    &self.args.file,
                    format_of(self.args.format),
                    None,
                )
                .await
                .map_err(|err| sync_stop(err, "The pull", self.out.json))?;
            self.out.say(
                json!({"action": "pulled", "pulled": pulled}),
                pulled_text(&pulled, &self.args.file),
            );
        }
        read_export(&self.args.file).map_err(|err| Stop::Fatal(err.into()))?;
        self.disk.settled();
        self.reconcile().await?;
        self.out.say(
            json!({"action": "watching", "file": self.args.file, "branch": self.args.branch,
                   "projects": self.projects}),
            format!(
                "Watching {} on {} ({}); Ctrl-C stops.",
                self.args.file.display(),
                self.args.branch,
                if self.projects.is_empty() {
                    "not on the server yet".to_owned()
                } else {
                    self.projects.iter().cloned().collect::<Vec<_>>().join(", ")
                }
            ),
        );
        Ok(())
    }

    /// One event: said, and a sync if it is a push to one of the file's projects on its branch.
    async fn on_event(&mut self, event: Option<Result<Event, ClientError>>) -> Step {
        let event = match event {
            None => return Err(Stop::Lost("the server ended the stream".into())),
            Some(Err(error)) => return Err(Stop::Lost(error.to_string())),
            Some(Ok(event)) => event,
        };
        let ours = match &event {
            Event::FileChanged(file) => {
                file.team == self.args.org
                    && file.branch == self.args.branch
                    && self.projects.contains(&file.file)
            }
            _ => false,
        };
        self.out.say(
            json!({"action": "event", "event": event}),
            format!("Event: {}.", describe(&event)),
        );
        if ours {
            self.reconcile().await?;
        }
        Ok(())
    }

    /// Brings the teammates' changes into the file (a pull of each project that has any) and
    /// arranges a push if the file has changes the server lacks.
    async fn reconcile(&mut self) -> Step {
        let json_output = self.out.json;
        let Some(file) = self.readable()? else {
            return Ok(());
        };
        let plans = self
            .syncer
            .status(&self.args.file, &file, &self.args.branch)
            .await
            .map_err(|err| sync_stop(err, "The pull", json_output))?;
        let conflicts: Vec<_> = plans
            .iter()
            .filter(|plan| !plan.conflicts.is_empty())
            .map(|plan| (plan.workspace_id.clone(), plan.conflicts.clone()))
            .collect();
        if !conflicts.is_empty() {
            return Err(sync_stop(
                SyncError::Conflicts { conflicts },
                "The pull",
                json_output,
            ));
        }
        self.projects = plans
            .iter()
            .filter_map(|plan| plan.project.as_ref().map(|project| project.id.clone()))
            .collect();
        let mut outgoing = false;
        for plan in &plans {
            match (&plan.project, &plan.remote_tip) {
                (Some(project), Some(_)) if !plan.incoming.is_empty() => {
                    let pulled = self
                        .syncer
                        .pull(
                            &self.args.org,
                            Target::Project(&project.id),
                            &self.args.branch,
                            &self.args.file,
                            None,
                            None,
                        )
                        .await
                        .map_err(|err| sync_stop(err, "The pull", json_output))?;
                    self.disk.settled();
                    outgoing |= !pulled.outgoing.is_empty();
                    self.out.say(
                        json!({"action": "pulled", "pulled": pulled}),
                        pulled_text(&pulled, &self.args.file),
                    );
                }
                (Some(_), Some(_)) => outgoing |= !plan.outgoing.is_empty(),
                // Not on the server, or nothing on the branch yet: a push makes it.
                _ => outgoing = true,
            }
        }
        if outgoing {
            self.disk.push_soon();
        }
        Ok(())
    }

    /// The file as an export; `None` (said) if it is not one now: half-saved, say. Its next
    /// change is pushed, merging in what it missed meanwhile.
    fn readable(&mut self) -> Result<Option<Export>, Stop> {
        match read_export(&self.args.file) {
            Ok(file) => Ok(Some(file)),
            Err(err @ (SyncError::Invalid(_) | SyncError::Io(_))) => {
                self.out.say(
                    json!({"action": "unreadable", "reason": err.to_string()}),
                    format!("{err}; waiting for the file to change."),
                );
                Ok(None)
            }
            Err(other) => Err(sync_stop(other, "The pull", self.out.json)),
        }
    }

    /// Pushes the file.
    async fn push(&mut self) -> Step {
        let json_output = self.out.json;
        let content = self.disk.seen.clone();
        if self.readable()?.is_none() {
            self.disk.settled_as(content);
            return Ok(());
        }
        let outcome = push_vetted(
            self.context,
            &self.syncer,
            &mut self.vetter,
            &self.args.file,
            &PushOptions {
                org: &self.args.org,
                team_project: self.args.team_project.as_deref(),
                branch: &self.args.branch,
                message: &self.args.message,
                prefer: None,
            },
        )
        .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(SyncError::BranchMoved(why)) => {
                // Its event is on the way; the file is pushed again after the merge.
                self.disk.push_soon();
                self.out.say(
                    json!({"action": "retrying", "reason": why}),
                    format!("{why}; pushing again."),
                );
                return Ok(());
            }
            Err(other) => return Err(sync_stop(other, "The push", json_output)),
        };
        crate::state::save_pins(&self.vetter.pins)?;
        if outcome.iter().any(|pushed| !pushed.incoming.is_empty()) {
            self.disk.settled();
        } else {
            self.disk.settled_as(content);
        }
        self.projects
            .extend(outcome.iter().map(|pushed| pushed.id.clone()));
        self.out.say(
            json!({"action": "pushed", "projects": outcome}),
            pushed_text(&outcome, &self.args.file, None),
        );
        Ok(())
    }
}

/// An event, for people: its type and the ids it carries.
fn describe(event: &Event) -> String {
    match event {
        Event::FileChanged(file) | Event::BranchDeleted(file) | Event::FileDeleted(file) => {
            let mut text = format!("{} {} in {}", event.kind(), file.file, file.project);
            if !file.branch.is_empty() {
                text.push_str(&format!(" on {}", file.branch));
            }
            text
        }
        Event::TeamProjectChanged(project) => format!("{} {}", event.kind(), project.project),
        Event::OrganizationChanged(org) | Event::StorageRuleChanged(org) => {
            format!("{} {}", event.kind(), org.team)
        }
        Event::PresentStateChanged(presence) => format!(
            "{} {} in {}",
            event.kind(),
            presence.presence.acct,
            presence
                .presence
                .file
                .as_deref()
                .unwrap_or(&presence.presence.project)
        ),
        Event::PresentUserLeave(leave) => format!(
            "{} {} from {}",
            event.kind(),
            leave.acct,
            leave.file.as_deref().unwrap_or(&leave.project)
        ),
        Event::VaultKeyChanged(_) => event.kind().to_owned(),
    }
}

/// The file on disk, as last seen and as last synced.
struct Disk {
    path: PathBuf,
    /// Its modification time and size when last read.
    stamp: Option<(Option<SystemTime>, u64)>,
    /// Its content when last read (`None`: missing or unreadable).
    seen: Option<Vec<u8>>,
    /// The content the server holds too (written by a pull, or pushed).
    synced: Option<Vec<u8>>,
    /// When `seen` last changed.
    changed_at: Instant,
    /// Push even if `seen` is `synced` (a pull kept changes the server lacks).
    force: bool,
    /// How long `seen` must stay unchanged before it is pushed.
    debounce: Duration,
}

impl Disk {
    fn new(path: &Path, debounce: Duration) -> Self {
        Self {
            debounce,
            path: path.to_owned(),
            stamp: None,
            seen: None,
            synced: None,
            changed_at: Instant::now(),
            force: false,
        }
    }

    fn stamp(&self) -> Option<(Option<SystemTime>, u64)> {
        std::fs::metadata(&self.path)
            .ok()
            .map(|meta| (meta.modified().ok(), meta.len()))
    }

    /// Looks at the file; reads it if its size or time moved.
    fn poll(&mut self) {
        let stamp = self.stamp();
        if stamp == self.stamp {
            return;
        }
        self.stamp = stamp;
        let content = std::fs::read(&self.path).ok();
        if content != self.seen {
            self.seen = content;
            self.changed_at = Instant::now();
        }
    }

    /// Whether the file holds changes to push and has been still long enough.
    fn due(&self) -> bool {
        self.seen.is_some()
            && (self.force || self.seen != self.synced)
            && self.changed_at.elapsed() >= self.debounce
    }

    /// The file as it is now matches the server (a sync just wrote it).
    fn settled(&mut self) {
        self.stamp = self.stamp();
        self.seen = std::fs::read(&self.path).ok();
        self.synced = self.seen.clone();
        self.force = false;
    }

    /// The server holds `content` (what a push read, when it wrote nothing back).
    fn settled_as(&mut self, content: Option<Vec<u8>>) {
        self.synced = content;
        self.force = false;
    }

    /// The file has changes the server lacks: push them after the debounce.
    fn push_soon(&mut self) {
        self.force = true;
        self.changed_at = Instant::now();
    }
}
