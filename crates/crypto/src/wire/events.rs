//! The event stream and presence (insomnia-wire.md §5, insomnia-wire-newer.md §7): what
//! `GET /v1/teams/{org}/streams` sends, as the `data` of unnamed server-sent events, and the
//! bodies of `POST /v1/organizations/{org}/collaborators`.
//!
//! The app dispatches on `type` alone and never reads `topic`; it compares `team` with the
//! organization it shows and `project` with the team project (`proj_…`) it shows. In file events
//! `file` is the sync project (`prj_…`): the newest app refreshes the open workspace only when it
//! equals that workspace's sync project. In presence, `file` is the workspace (`wrk_…`), and it
//! is absent while the user is on a project's dashboard. No event carries a document, a name of
//! a document or any key: only ids.

use serde::{Deserialize, Serialize};

/// One event of an organization's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type")]
pub enum Event {
    /// A push to a branch of a sync project (or the project's creation).
    FileChanged(FileEvent),
    /// A branch of a sync project was deleted.
    BranchDeleted(FileEvent),
    /// A sync project was archived or removed.
    FileDeleted(FileEvent),
    /// A team project was created, renamed or deleted.
    TeamProjectChanged(TeamProjectEvent),
    /// The organization, its members or their roles changed.
    OrganizationChanged(OrganizationEvent),
    /// The organization's storage rule changed.
    StorageRuleChanged(OrganizationEvent),
    /// A member opened a file or project (the presence row, with the stream's topic).
    PresentStateChanged(PresenceEvent),
    /// A member left the file or project they had open.
    PresentUserLeave(PresenceLeave),
    /// The account's vault key was reset by one of its sessions (sent to its other sessions).
    VaultKeyChanged(VaultKeyEvent),
}

impl Event {
    /// The organization the event concerns; `None` for an account's own event
    /// ([`Event::VaultKeyChanged`]), which goes to every stream of the account.
    pub fn team(&self) -> Option<&str> {
        match self {
            Self::FileChanged(event) | Self::BranchDeleted(event) | Self::FileDeleted(event) => {
                Some(&event.team)
            }
            Self::TeamProjectChanged(event) => Some(&event.team),
            Self::OrganizationChanged(event) | Self::StorageRuleChanged(event) => Some(&event.team),
            Self::PresentStateChanged(event) => Some(&event.presence.team),
            Self::PresentUserLeave(event) => Some(&event.team),
            Self::VaultKeyChanged(_) => None,
        }
    }

    /// The `type` member of the event, as the app switches on it.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::FileChanged(_) => "FileChanged",
            Self::BranchDeleted(_) => "BranchDeleted",
            Self::FileDeleted(_) => "FileDeleted",
            Self::TeamProjectChanged(_) => "TeamProjectChanged",
            Self::OrganizationChanged(_) => "OrganizationChanged",
            Self::StorageRuleChanged(_) => "StorageRuleChanged",
            Self::PresentStateChanged(_) => "PresentStateChanged",
            Self::PresentUserLeave(_) => "PresentUserLeave",
            Self::VaultKeyChanged(_) => "VaultKeyChanged",
        }
    }
}

/// A change to a sync project's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEvent {
    /// The stream's topic (the organization id; the app does not read it).
    pub topic: String,
    /// The organization id.
    pub team: String,
    /// The team project id (`proj_…`) the sync project belongs to.
    pub project: String,
    /// The sync project id (`prj_…`).
    pub file: String,
    /// The branch pushed to or deleted; empty for [`Event::FileDeleted`].
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub branch: String,
}

/// A change to a team project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamProjectEvent {
    /// The stream's topic (the organization id).
    pub topic: String,
    /// The organization id.
    pub team: String,
    /// The team project id.
    pub project: String,
}

/// A change to the organization itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrganizationEvent {
    /// The stream's topic (the organization id).
    pub topic: String,
    /// The organization id.
    pub team: String,
}

/// Where a member is: one row of the presence list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Presence {
    /// The account id.
    pub acct: String,
    /// The avatar image's URL; empty: the app shows the initials.
    pub avatar: String,
    /// The branch (the app sends none and reads none: always empty here).
    pub branch: String,
    /// The workspace open (`wrk_…`); absent on a project's dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The member's first name.
    pub first_name: String,
    /// The member's last name.
    pub last_name: String,
    /// The team project id.
    pub project: String,
    /// The organization id.
    pub team: String,
}

/// [`Presence`] as an event: the row with the stream's topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceEvent {
    /// The stream's topic (the organization id).
    pub topic: String,
    /// The row.
    #[serde(flatten)]
    pub presence: Presence,
}

/// A member left a place: the app removes the row whose `acct`, `project` and `file` all equal
/// these (an absent `file` matches only an absent one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceLeave {
    /// The stream's topic (the organization id).
    pub topic: String,
    /// The organization id.
    pub team: String,
    /// The account id.
    pub acct: String,
    /// The team project left.
    pub project: String,
    /// The workspace left; absent if it was the dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The vault key was reset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VaultKeyEvent {
    /// The stream's topic (the account id).
    pub topic: String,
    /// The app compares this with its own session id and clears its vault key when they
    /// differ. The server never sends a session id to another session (it is a bearer token):
    /// the event goes only to the account's *other* sessions, with this empty.
    pub session_id: String,
}

/// `POST /v1/organizations/{org}/collaborators`: the caller now has this open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceRequest {
    /// The team project id.
    pub project: String,
    /// The workspace id; absent on the project's dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
}

/// The answer: everyone present in the organization, the caller included (the app filters
/// its own account out), one row per account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PresenceList {
    /// The rows.
    pub data: Vec<Presence>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests may panic")]
mod tests {
    use super::*;

    #[test]
    fn file_events_are_flat_json_with_their_type() {
        let event = Event::FileChanged(FileEvent {
            topic: "org_1".into(),
            team: "org_1".into(),
            project: "proj_1".into(),
            file: "prj_1".into(),
            branch: "master".into(),
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "FileChanged", "topic": "org_1", "team": "org_1",
                "project": "proj_1", "file": "prj_1", "branch": "master"})
        );
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
    }

    #[test]
    fn presence_events_flatten_the_row_and_omit_an_absent_file() {
        let event = Event::PresentStateChanged(PresenceEvent {
            topic: "org_1".into(),
            presence: Presence {
                acct: "acct_1".into(),
                avatar: String::new(),
                branch: String::new(),
                file: None,
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                project: "proj_1".into(),
                team: "org_1".into(),
            },
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"type": "PresentStateChanged", "topic": "org_1", "acct": "acct_1",
                "avatar": "", "branch": "", "firstName": "Ada", "lastName": "Lovelace",
                "project": "proj_1", "team": "org_1"})
        );
        assert_eq!(serde_json::from_value::<Event>(json).unwrap(), event);
        assert_eq!(event.team(), Some("org_1"));
    }

    #[test]
    fn the_vault_event_names_no_organization() {
        let event = Event::VaultKeyChanged(VaultKeyEvent {
            topic: "acct_1".into(),
            session_id: String::new(),
        });
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            serde_json::json!({"type": "VaultKeyChanged", "topic": "acct_1", "sessionId": ""})
        );
        assert_eq!(event.team(), None);
        assert_eq!(event.kind(), "VaultKeyChanged");
    }
}
