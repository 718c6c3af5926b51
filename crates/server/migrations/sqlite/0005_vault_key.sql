-- The vault key (insomnia-wire.md §5.1): the same two tables as PostgreSQL's 0005 (see there).
CREATE TABLE vaults (
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    salt       TEXT    NOT NULL,
    verifier   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT vaults_pkey PRIMARY KEY (account_id)
) STRICT;

CREATE TABLE vault_verifications (
    id         TEXT    NOT NULL,
    account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    m1         BLOB    NOT NULL,
    m2         BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    CONSTRAINT vault_verifications_pkey PRIMARY KEY (id)
) STRICT;
CREATE INDEX vault_verifications_account ON vault_verifications (account_id);
CREATE INDEX vault_verifications_expires ON vault_verifications (expires_at);
