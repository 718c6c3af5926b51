//! An account's vault key: the [`VaultStore`] interface (its SQL: `sql/vault.rs`).

use async_trait::async_trait;

use super::StoreError;
use super::ids::AccountId;
use super::model::{Vault, VaultVerification};

/// An account's vault key (insomnia-wire.md §5.1): its SRP salt and verifier, and the pending
/// verifications of it. Each method acts for one account, in that account's [`super::Scope`];
/// `sql/vault.rs` implements this trait for both backends. The vault goes with the account
/// (deletion); a passphrase change or an account reset keeps it.
#[async_trait]
pub trait VaultStore: Send + Sync {
    /// The account's vault, if it has one.
    async fn vault(&self, account_id: &AccountId) -> Result<Option<Vault>, StoreError>;

    /// Stores the account's first vault (`created_at` = `updated_at` = the vault's
    /// `updated_at`). If it has one already: `Conflict(VaultExists)` and nothing changes; an
    /// unknown account gives `NotFound`.
    async fn create_vault(&self, vault: Vault) -> Result<(), StoreError>;

    /// Stores the account's vault, replacing the one it has (keeping its `created_at`), and
    /// deletes the account's pending vault verifications, in one transaction. An unknown account
    /// gives `NotFound`.
    async fn reset_vault(&self, vault: Vault) -> Result<(), StoreError>;

    /// Stores a started verification, but only while the account's vault still has `verifier`
    /// (the one the proofs were computed against); otherwise `Conflict(VaultChanged)` and
    /// nothing is written. A reused id gives `Conflict(VaultVerification)`.
    async fn put_vault_verification(
        &self,
        verification: VaultVerification,
        verifier: &str,
    ) -> Result<(), StoreError>;

    /// Removes and returns the account's verification with this id, atomically: of two
    /// concurrent takes at most one gets it. `None` if it does not exist, belongs to another
    /// account (which leaves it in place) or has expired.
    async fn take_vault_verification(
        &self,
        id: &str,
        account_id: &AccountId,
        now_ms: i64,
    ) -> Result<Option<VaultVerification>, StoreError>;
}
