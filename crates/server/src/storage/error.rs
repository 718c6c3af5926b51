//! What can go wrong in the store ([`StoreError`]), which rule a refused change broke
//! ([`Conflict`]), and the mapping of sqlx's errors both backends share.

use std::fmt;

/// What can go wrong in the store. Messages never contain secrets.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row the operation needs does not exist.
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or an expected value did not hold; the [`Conflict`] says which.
    /// Nothing was changed.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// The database cannot be reached or is overloaded; retrying later may work (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Anything else: a bug, a corrupt row, a failed migration.
    #[error("storage error: {0}")]
    Other(String),
}

/// Which rule a refused change broke. Handlers match on it to choose their answer; one they do
/// not single out reaches the client as a `CONFLICT` whose message is [`Conflict::label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conflict {
    /// The e-mail address belongs to another account.
    Email,
    /// An account with this id exists.
    AccountId,
    /// An organization with this id exists.
    OrganizationId,
    /// A personal organization was asked to go the way of a team, or its owner has one already.
    PersonalOrganization,
    /// The account is a member already (a membership row exists).
    Membership,
    /// A session with this id exists.
    Session,
    /// A log-in attempt with this id exists.
    LoginAttempt,
    /// A vault verification with this id exists.
    VaultVerification,
    /// A reset token with this hash exists.
    ResetToken,
    /// Another uniqueness rule.
    Duplicate,
    /// A row refers to one that does not exist (a foreign key).
    Reference,
    /// The stored verifier or encrypted symmetric key is not the expected one.
    Credentials,
    /// The account owns a team that others still belong to.
    OwnsSharedTeam,
    /// The change would take an organization's owner away.
    OwnerStays,
    /// The invitee already belongs to the organization.
    AlreadyMember,
    /// A live invitation to the same account exists.
    AlreadyInvited,
    /// A key names a project the sharer cannot share, or a non-member.
    KeyNotShareable,
    /// A new project's keys do not name exactly the organization's members.
    KeysMismatch,
    /// A push does not continue its branch's tip.
    NotFastForward,
    /// A pushed snapshot names a blob the project lacks.
    MissingBlobs,
    /// An account that has a vault key asks to create one.
    VaultExists,
    /// The vault key changed during a verification.
    VaultChanged,
    /// An invitation is accepted after its inviter lost the right to make it (no longer a
    /// member, or a role that may not invite at the invitation's role).
    InviterLostRights,
}

impl Conflict {
    /// The words for it, as HTTP answers and logs show them.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::AccountId => "account id",
            Self::OrganizationId => "organization id",
            Self::PersonalOrganization => "personal organization",
            Self::Membership => "membership",
            Self::Session => "session",
            Self::LoginAttempt => "login attempt",
            Self::VaultVerification => "vault verification",
            Self::ResetToken => "reset token",
            Self::Duplicate => "duplicate",
            Self::Reference => "reference",
            Self::Credentials => "credentials",
            Self::OwnsSharedTeam => "owns a team with other members",
            Self::OwnerStays => "the owner stays",
            Self::AlreadyMember => "already a member",
            Self::AlreadyInvited => "already invited",
            Self::KeyNotShareable => "key not shareable",
            Self::KeysMismatch => "keys do not match the members",
            Self::NotFastForward => "not a fast-forward",
            Self::MissingBlobs => "missing blobs",
            Self::VaultExists => "vault exists",
            Self::VaultChanged => "vault changed",
            Self::InviterLostRights => "the inviter may no longer invite at this role",
        }
    }
}

impl fmt::Display for Conflict {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.label())
    }
}

/// Maps the errors that do not come from the database server itself (pool, network, decoding).
/// Each backend maps its database errors first and hands the rest here.
pub(super) fn map_non_database_error(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".into())
        }
        sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".into()),
        sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("the database connection worker crashed".into())
        }
        sqlx::Error::Io(io) => StoreError::Unavailable(format!("database I/O error: {io}")),
        sqlx::Error::Tls(_) => StoreError::Unavailable("TLS error talking to the database".into()),
        sqlx::Error::Protocol(message) => {
            StoreError::Unavailable(format!("database protocol error: {message}"))
        }
        // The URL may hold a password: do not repeat it.
        sqlx::Error::Configuration(_) => StoreError::Other("invalid database URL".into()),
        other => StoreError::Other(other.to_string()),
    }
}

/// Maps a migration failure, keeping "the database is down" apart from "the migration is bad".
pub(super) fn map_migrate_error(
    error: sqlx::migrate::MigrateError,
    map_error: fn(sqlx::Error) -> StoreError,
) -> StoreError {
    match error {
        sqlx::migrate::MigrateError::Execute(inner) => match map_error(inner) {
            unavailable @ StoreError::Unavailable(_) => unavailable,
            other => StoreError::Other(format!("migration failed: {other}")),
        },
        other => StoreError::Other(format!("migration failed: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_conflict_reads_as_its_label() {
        assert_eq!(Conflict::NotFastForward.to_string(), "not a fast-forward");
        assert_eq!(
            StoreError::Conflict(Conflict::Email).to_string(),
            "conflict: email"
        );
    }
}
