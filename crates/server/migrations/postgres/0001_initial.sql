-- The whole Hypnos schema, PostgreSQL flavour. migrations/sqlite/0001_initial.sql has the same
-- tables, columns, keys and indexes; keep the two in step.
--
-- Conventions: ids are TEXT, times are BIGINT unix milliseconds, binary is BYTEA, JSON is TEXT.
-- Tenant-owned tables carry organization_id in their primary key and in every foreign key to
-- another tenant table, so a row can never point into another organization.

CREATE TABLE accounts (
    id                TEXT   NOT NULL,
    email             TEXT   NOT NULL,
    first_name        TEXT   NOT NULL,
    last_name         TEXT   NOT NULL,
    salt_key          TEXT   NOT NULL,
    salt_auth         TEXT   NOT NULL,
    salt_enc          TEXT   NOT NULL,
    verifier          TEXT   NOT NULL,
    public_key        TEXT   NOT NULL,
    enc_private_key   TEXT   NOT NULL,
    enc_symmetric_key TEXT   NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    CONSTRAINT accounts_pkey PRIMARY KEY (id),
    CONSTRAINT accounts_email_key UNIQUE (email)
);

CREATE TABLE organizations (
    id               TEXT   NOT NULL,
    name             TEXT   NOT NULL,
    display_name     TEXT   NOT NULL,
    kind             TEXT   NOT NULL CHECK (kind IN ('personal', 'team')),
    owner_account_id TEXT   NOT NULL REFERENCES accounts (id),
    storage_rule     TEXT   NOT NULL DEFAULT 'cloud_plus_local',
    created_at       BIGINT NOT NULL,
    CONSTRAINT organizations_pkey PRIMARY KEY (id)
);
CREATE UNIQUE INDEX organizations_one_personal_per_owner
    ON organizations (owner_account_id) WHERE kind = 'personal';
CREATE INDEX organizations_owner ON organizations (owner_account_id);

CREATE TABLE memberships (
    organization_id TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role            TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at      BIGINT NOT NULL,
    CONSTRAINT memberships_pkey PRIMARY KEY (organization_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE invitations (
    organization_id    TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                 TEXT   NOT NULL,
    invitee_account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inviter_account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role               TEXT   NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT NOT NULL,
    CONSTRAINT invitations_pkey PRIMARY KEY (organization_id, id),
    CONSTRAINT invitations_id_key UNIQUE (id)
);
CREATE INDEX invitations_invitee ON invitations (invitee_account_id);
CREATE INDEX invitations_inviter ON invitations (inviter_account_id);
CREATE INDEX invitations_expires ON invitations (expires_at);

CREATE TABLE invitation_keys (
    organization_id   TEXT    NOT NULL,
    invitation_id     TEXT    NOT NULL,
    project_id        TEXT    NOT NULL,
    enc_symmetric_key TEXT    NOT NULL,
    auto_linked       BOOLEAN NOT NULL DEFAULT FALSE,
    CONSTRAINT invitation_keys_pkey PRIMARY KEY (organization_id, invitation_id, project_id),
    FOREIGN KEY (organization_id, invitation_id)
        REFERENCES invitations (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE team_projects (
    organization_id TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id              TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    CONSTRAINT team_projects_pkey PRIMARY KEY (organization_id, id),
    CONSTRAINT team_projects_id_key UNIQUE (id)
);

CREATE TABLE projects (
    organization_id  TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id               TEXT   NOT NULL,
    team_project_id  TEXT,
    name             TEXT   NOT NULL,
    root_document_id TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    CONSTRAINT projects_pkey PRIMARY KEY (organization_id, id),
    CONSTRAINT projects_id_key UNIQUE (id),
    FOREIGN KEY (organization_id, team_project_id)
        REFERENCES team_projects (organization_id, id)
);
CREATE INDEX projects_team_project ON projects (organization_id, team_project_id);

CREATE TABLE project_keys (
    organization_id   TEXT    NOT NULL,
    project_id        TEXT    NOT NULL,
    account_id        TEXT    NOT NULL,
    enc_symmetric_key TEXT    NOT NULL,
    auto_linked       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at        BIGINT  NOT NULL,
    CONSTRAINT project_keys_pkey PRIMARY KEY (organization_id, project_id, account_id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES projects (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, account_id)
        REFERENCES memberships (organization_id, account_id) ON DELETE CASCADE
);
CREATE INDEX project_keys_account ON project_keys (account_id);
CREATE INDEX project_keys_member ON project_keys (organization_id, account_id);

CREATE TABLE branches (
    organization_id TEXT   NOT NULL,
    project_id      TEXT   NOT NULL,
    name            TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    modified_at     BIGINT NOT NULL,
    CONSTRAINT branches_pkey PRIMARY KEY (organization_id, project_id, name),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES projects (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE snapshots (
    organization_id TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    id              TEXT NOT NULL,
    parent          TEXT NOT NULL,
    created         TEXT NOT NULL,
    author          TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT NOT NULL,
    state           TEXT NOT NULL,
    CONSTRAINT snapshots_pkey PRIMARY KEY (organization_id, project_id, id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES projects (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE branch_snapshots (
    organization_id TEXT   NOT NULL,
    project_id      TEXT   NOT NULL,
    branch          TEXT   NOT NULL,
    position        BIGINT NOT NULL,
    snapshot_id     TEXT   NOT NULL,
    CONSTRAINT branch_snapshots_pkey PRIMARY KEY (organization_id, project_id, branch, position),
    FOREIGN KEY (organization_id, project_id, branch)
        REFERENCES branches (organization_id, project_id, name) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, project_id, snapshot_id)
        REFERENCES snapshots (organization_id, project_id, id)
);
CREATE INDEX branch_snapshots_snapshot ON branch_snapshots (organization_id, project_id, snapshot_id);

CREATE TABLE blobs (
    organization_id TEXT   NOT NULL,
    project_id      TEXT   NOT NULL,
    id              TEXT   NOT NULL,
    content         TEXT   NOT NULL,
    size            BIGINT NOT NULL,
    CONSTRAINT blobs_pkey PRIMARY KEY (organization_id, project_id, id),
    FOREIGN KEY (organization_id, project_id)
        REFERENCES projects (organization_id, id) ON DELETE CASCADE
);

CREATE TABLE audit_events (
    organization_id  TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id               TEXT   NOT NULL,
    at               BIGINT NOT NULL,
    actor_account_id TEXT,
    action           TEXT   NOT NULL,
    target           TEXT   NOT NULL,
    details          TEXT   NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (organization_id, id)
);
CREATE INDEX audit_events_org_at ON audit_events (organization_id, at);

-- Not tenant-owned.

CREATE TABLE sessions (
    id_hash             BYTEA  NOT NULL,
    account_id          TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at          BIGINT NOT NULL,
    last_seen_at        BIGINT NOT NULL,
    idle_ttl_ms         BIGINT NOT NULL,
    idle_expires_at     BIGINT NOT NULL,
    absolute_expires_at BIGINT NOT NULL,
    CONSTRAINT sessions_pkey PRIMARY KEY (id_hash)
);
CREATE INDEX sessions_account ON sessions (account_id);
CREATE INDEX sessions_idle_expires ON sessions (idle_expires_at);
CREATE INDEX sessions_absolute_expires ON sessions (absolute_expires_at);

CREATE TABLE login_attempts (
    id         TEXT   NOT NULL,
    account_id TEXT   REFERENCES accounts (id) ON DELETE CASCADE,
    m1         BYTEA  NOT NULL,
    m2         BYTEA  NOT NULL,
    key_hash   BYTEA  NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT login_attempts_pkey PRIMARY KEY (id)
);
CREATE INDEX login_attempts_expires ON login_attempts (expires_at);
CREATE INDEX login_attempts_account ON login_attempts (account_id);

CREATE TABLE reset_tokens (
    token_hash BYTEA  NOT NULL,
    account_id TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT reset_tokens_pkey PRIMARY KEY (token_hash)
);
CREATE INDEX reset_tokens_account ON reset_tokens (account_id);
CREATE INDEX reset_tokens_expires ON reset_tokens (expires_at);

CREATE TABLE security_events (
    id         BIGINT GENERATED ALWAYS AS IDENTITY,
    at         BIGINT NOT NULL,
    kind       TEXT   NOT NULL,
    account_id TEXT,
    client_ip  TEXT,
    details    TEXT,
    CONSTRAINT security_events_pkey PRIMARY KEY (id)
);
CREATE INDEX security_events_at ON security_events (at);
CREATE INDEX security_events_account ON security_events (account_id, at);

CREATE TABLE server_settings (
    name  TEXT  NOT NULL,
    value BYTEA NOT NULL,
    CONSTRAINT server_settings_pkey PRIMARY KEY (name)
);
