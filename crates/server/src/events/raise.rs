//! The events handlers raise, each built from what the handler already holds: one function per
//! kind of change, so that every place that makes the change says it the same way.
//!
//! Every function here publishes in the background ([`Events::publish`]): a handler answers as
//! soon as its transaction commits, never later because of its event.

use hypnos_crypto::wire::events::{
    Event, FileEvent, OrganizationEvent, Presence, PresenceEvent, PresenceLeave, TeamProjectEvent,
    VaultKeyEvent,
};

use super::{Events, Notice};
use crate::storage::{PresenceEntry, Project, SecretHash};

impl Events {
    /// A push to `branch` of `project` (or, with `branch` empty, the project's creation).
    pub fn file_changed(&self, project: &Project, branch: &str) {
        self.publish(Notice::event(Event::FileChanged(file_event(
            project, branch,
        ))));
    }

    /// `branch` of `project` was deleted.
    pub fn branch_deleted(&self, project: &Project, branch: &str) {
        self.publish(Notice::event(Event::BranchDeleted(file_event(
            project, branch,
        ))));
    }

    /// `project` was archived or removed.
    pub fn file_deleted(&self, project: &Project) {
        self.publish(Notice::event(Event::FileDeleted(file_event(project, ""))));
    }

    /// The team project `team_project` of `team` was created, renamed or deleted.
    pub fn team_project_changed(&self, team: &str, team_project: &str) {
        self.publish(Notice::event(Event::TeamProjectChanged(TeamProjectEvent {
            topic: team.to_owned(),
            team: team.to_owned(),
            project: team_project.to_owned(),
        })));
    }

    /// The organization, its members or their roles changed.
    pub fn organization_changed(&self, team: &str) {
        self.publish(Notice::event(Event::OrganizationChanged(
            OrganizationEvent {
                topic: team.to_owned(),
                team: team.to_owned(),
            },
        )));
    }

    /// The storage rule of `team` changed: every member's app reads it again.
    pub fn storage_rule_changed(&self, team: &str) {
        self.publish(Notice::event(Event::StorageRuleChanged(
            OrganizationEvent {
                topic: team.to_owned(),
                team: team.to_owned(),
            },
        )));
    }

    /// `account` is no longer a member of `team`: its streams of `team` end, and the others
    /// refresh the member list.
    pub fn member_left(&self, team: &str, account: &str) {
        self.publish(Notice::MemberLeft {
            team: team.to_owned(),
            account: account.to_owned(),
        });
        self.organization_changed(team);
    }

    /// `team` was deleted: its streams end.
    pub fn team_closed(&self, team: &str) {
        self.publish(Notice::TeamClosed {
            team: team.to_owned(),
        });
    }

    /// `account` reset its vault key through the session `by`: its other sessions' apps
    /// clear their vault.
    pub fn vault_key_changed(&self, account: &str, by: SecretHash) {
        self.publish(Notice::Event {
            event: Event::VaultKeyChanged(VaultKeyEvent {
                topic: account.to_owned(),
                session_id: String::new(),
            }),
            account: Some(account.to_owned()),
            except_session: Some(by),
        });
    }

    /// A member is now where `presence` says (`PresentStateChanged`), having left `left`
    /// (`PresentUserLeave` first, naming the old place exactly as it was stored), if anything.
    pub fn presence_moved(&self, left: Option<&PresenceEntry>, presence: Presence) {
        let mut notices: Vec<Notice> = left.map(leave_notice).into_iter().collect();
        notices.push(Notice::event(Event::PresentStateChanged(PresenceEvent {
            topic: presence.team.clone(),
            presence,
        })));
        self.publish_in_order(notices);
    }

    /// The members of `left` are no longer at those places (`PresentUserLeave` each).
    pub fn presence_left(&self, left: &[PresenceEntry]) {
        self.publish_in_order(left.iter().map(leave_notice).collect());
    }

    /// The session `session` of `account` ended (or, with `None`, all of them): streams
    /// opened with it end.
    pub fn sessions_ended(&self, account: &str, session: Option<SecretHash>) {
        self.publish(Notice::SessionsEnded {
            account: account.to_owned(),
            session,
            keep: None,
        });
    }

    /// Every session of `account` but `kept` ended (a new passphrase, set through `kept`):
    /// streams opened with the others end.
    pub fn other_sessions_ended(&self, account: &str, kept: SecretHash) {
        self.publish(Notice::SessionsEnded {
            account: account.to_owned(),
            session: None,
            keep: Some(kept),
        });
    }
}

fn file_event(project: &Project, branch: &str) -> FileEvent {
    FileEvent {
        topic: project.organization_id.to_string(),
        team: project.organization_id.to_string(),
        // A project filed under no team project (the sync API allows it) has none to name;
        // the app then shows no refresh for it, and `hypnos watch` matches on `file`.
        project: project.team_project_id.clone().unwrap_or_default(),
        file: project.id.to_string(),
        branch: branch.to_owned(),
    }
}

fn leave_notice(entry: &PresenceEntry) -> Notice {
    Notice::event(Event::PresentUserLeave(PresenceLeave {
        topic: entry.organization_id.to_string(),
        team: entry.organization_id.to_string(),
        acct: entry.account_id.to_string(),
        project: entry.team_project_id.clone(),
        file: entry.workspace_id.clone(),
    }))
}
