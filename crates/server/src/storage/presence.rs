//! Presence: where the members of an organization are, as the app's avatars show it. The
//! [`PresenceStore`] interface (its SQL: `sql/presence.rs`) and its rows.
//!
//! One entry per member of an organization: the team project it has open and, inside it, the
//! workspace (none on the project's dashboard). An entry expires unless pushed forward: the
//! server process holding the member's event stream refreshes it (`crate::presence`), and
//! every process takes the expired ones to announce their leaves.

use async_trait::async_trait;

use super::StoreError;
use super::ids::{AccountId, OrgId};

/// Most entries [`PresenceStore::present_members`] and [`PresenceStore::take_expired_presence`]
/// return at once.
pub const MAX_PRESENCE_ROWS: u32 = 1000;

/// One member's place in an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresenceEntry {
    /// The organization.
    pub organization_id: OrgId,
    /// The member.
    pub account_id: AccountId,
    /// The team project open (`proj_…`).
    pub team_project_id: String,
    /// The workspace open in it (`wrk_…`); `None` on the project's dashboard.
    pub workspace_id: Option<String>,
    /// When the entry lapses unless refreshed (unix ms).
    pub expires_at: i64,
}

impl PresenceEntry {
    /// Whether `other` names the same place (team project and workspace).
    pub fn same_place(&self, other: &Self) -> bool {
        self.team_project_id == other.team_project_id && self.workspace_id == other.workspace_id
    }
}

/// A present member, with the names the app shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PresentMember {
    /// Where it is.
    pub entry: PresenceEntry,
    /// Its first name.
    pub first_name: String,
    /// Its last name.
    pub last_name: String,
}

/// Presence, written once for both backends (`sql/presence.rs`). Every method but the two
/// housekeeping ones acts in the organization it names; on PostgreSQL those two cross
/// organizations only as migration 0010's policies let them.
#[async_trait]
pub trait PresenceStore: Send + Sync {
    /// Records `entry` (replacing the member's entry in that organization) and returns the
    /// entry it replaced, expired or not, so that its leave can be announced. Only a current
    /// member at a team project of that organization is recorded: otherwise `NotFound` and
    /// nothing changes.
    async fn set_presence(&self, entry: PresenceEntry)
    -> Result<Option<PresenceEntry>, StoreError>;

    /// The organization's entries that have not expired at `now_ms`, of current members only,
    /// with their names: the most recently refreshed first, at most `limit` (capped at
    /// [`MAX_PRESENCE_ROWS`]).
    async fn present_members(
        &self,
        organization_id: &OrgId,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<PresentMember>, StoreError>;

    /// Deletes and returns the member's entry in the organization, unless it expires after
    /// `expiring_by` (it was set or refreshed since: pass `i64::MAX` to delete it whatever its
    /// expiry). Of two concurrent removals at most one gets it.
    async fn remove_presence(
        &self,
        organization_id: &OrgId,
        account_id: &AccountId,
        expiring_by: i64,
    ) -> Result<Option<PresenceEntry>, StoreError>;

    /// Pushes the expiry of the entries of these (organization, member) pairs to `expires_at`
    /// (never back); pairs without an entry are skipped. One transaction; returns how many
    /// entries changed.
    async fn refresh_presence(
        &self,
        members: &[(OrgId, AccountId)],
        expires_at: i64,
    ) -> Result<u64, StoreError>;

    /// Deletes and returns entries that expired at or before `now_ms`, in any organization, the
    /// oldest first, at most `limit` (capped at [`MAX_PRESENCE_ROWS`]). Of two processes
    /// sweeping at once, each entry goes to one.
    async fn take_expired_presence(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<PresenceEntry>, StoreError>;
}
