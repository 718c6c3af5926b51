//! The newest app's space list: what [`super::TenantStore::spaces_of`] reads and returns.

use super::StoreError;
use super::ids::{AccountId, OrgId};
use super::model::{Membership, Organization, OrganizationKind, Role};
use super::rows::MembershipRow;

/// The orders of the newest app's space list ([`super::TenantStore::spaces_of`]); each ends on the
/// organization id, so every order is total and a page boundary is exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpaceOrder {
    /// As `/v1/organizations` lists them: the personal organization first, then the teams,
    /// oldest first.
    Default,
    /// By creation time, oldest first (newest first when descending).
    CreatedAt {
        /// Newest first.
        descending: bool,
    },
    /// By the name shown (the database's collation), then id.
    Name {
        /// Z to A.
        descending: bool,
    },
}

impl SpaceOrder {
    /// Where `entry` stands in this order.
    pub fn key_of(self, entry: &SpaceEntry) -> SpaceKey {
        let organization = &entry.organization;
        match self {
            SpaceOrder::Default => SpaceKey::Default {
                personal: organization.kind == OrganizationKind::Personal,
                created_at: organization.created_at,
                id: organization.id.clone(),
            },
            SpaceOrder::CreatedAt { .. } => SpaceKey::CreatedAt {
                created_at: organization.created_at,
                id: organization.id.clone(),
            },
            SpaceOrder::Name { .. } => SpaceKey::Name {
                name: organization.display_name.clone(),
                id: organization.id.clone(),
            },
        }
    }
}

/// A position in a [`SpaceOrder`]: the sort key of one space, of the order's own variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpaceKey {
    /// In [`SpaceOrder::Default`].
    Default {
        /// A personal organization (they come first).
        personal: bool,
        /// Its creation time.
        created_at: i64,
        /// Its id.
        id: OrgId,
    },
    /// In [`SpaceOrder::CreatedAt`].
    CreatedAt {
        /// Its creation time.
        created_at: i64,
        /// Its id.
        id: OrgId,
    },
    /// In [`SpaceOrder::Name`].
    Name {
        /// The name shown.
        name: String,
        /// Its id.
        id: OrgId,
    },
}

/// What [`super::TenantStore::spaces_of`] reads.
#[derive(Clone, Copy, Debug)]
pub struct SpaceQuery<'a> {
    /// The member.
    pub account_id: &'a AccountId,
    /// The order.
    pub order: SpaceOrder,
    /// Keeps the spaces whose shown name contains this (case-insensitive for ASCII on SQLite,
    /// for all of Unicode on PostgreSQL).
    pub name_contains: Option<&'a str>,
    /// Starts after this position (before it, with `backwards`); from the start when `None`.
    /// A key of another order than `order` is refused with `StoreError::Other`.
    pub from: Option<&'a SpaceKey>,
    /// Travels towards the start of the order.
    pub backwards: bool,
    /// The most spaces returned.
    pub limit: u32,
    /// Now: invitations that expired by then are not pending.
    pub now_ms: i64,
}

/// One space: the organization, the account's role there, its owner and its counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpaceEntry {
    /// The organization.
    pub organization: Organization,
    /// The account's role in it.
    pub role: Role,
    /// The owner's first name.
    pub owner_first_name: String,
    /// The owner's last name.
    pub owner_last_name: String,
    /// The owner's e-mail.
    pub owner_email: String,
    /// Its members.
    pub total_members: u64,
    /// Its owner and admins.
    pub total_admins: u64,
    /// Its invitations that have not expired, counted only where the account is an owner or
    /// admin (`read:invitation`); 0 elsewhere.
    pub total_invites: u64,
}

/// A row of [`super::TenantStore::spaces_of`]'s query.
#[derive(sqlx::FromRow)]
pub(super) struct SpaceRow {
    #[sqlx(flatten)]
    membership: MembershipRow,
    owner_first_name: String,
    owner_last_name: String,
    owner_email: String,
    member_count: i64,
    admin_count: i64,
    invite_count: i64,
}

impl TryFrom<SpaceRow> for SpaceEntry {
    type Error = StoreError;

    fn try_from(row: SpaceRow) -> Result<Self, StoreError> {
        let Membership { organization, role } = row.membership.try_into()?;
        let count = |value: i64| {
            u64::try_from(value).map_err(|_| {
                StoreError::Other(format!(
                    "organization {} has a negative count",
                    organization.id
                ))
            })
        };
        Ok(Self {
            total_members: count(row.member_count)?,
            total_admins: count(row.admin_count)?,
            total_invites: count(row.invite_count)?,
            organization,
            role,
            owner_first_name: row.owner_first_name,
            owner_last_name: row.owner_last_name,
            owner_email: row.owner_email,
        })
    }
}
