-- The vault key (insomnia-wire.md §5.1): per account, the SRP salt and verifier of a key the
-- user keeps (the key never reaches the server), and the pending SRP verifications of it.
--
-- Both tables belong to one account, like `sessions`: no row-level security (they hold nothing
-- of an organization), rows go with the account (ON DELETE CASCADE). A passphrase change and an
-- operator reset of the account keep the vault: the vault key is a separate secret the user
-- still holds. A started verification lives two minutes, is single use, and holds only the
-- proofs M1 and M2 (K is unused); replacing the vault deletes the account's pending ones.
CREATE TABLE vaults (
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    salt       TEXT   NOT NULL,
    verifier   TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT vaults_pkey PRIMARY KEY (account_id)
);

CREATE TABLE vault_verifications (
    id         TEXT   NOT NULL,
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    m1         BYTEA  NOT NULL,
    m2         BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT vault_verifications_pkey PRIMARY KEY (id)
);
CREATE INDEX vault_verifications_account ON vault_verifications (account_id);
CREATE INDEX vault_verifications_expires ON vault_verifications (expires_at);
