-- Issue 15, presence: who has which team project (and workspace) of an organization open; one
-- row per member of an organization, expiring unless the server process holding the member's
-- event stream pushes `expires_at` forward. The same table as PostgreSQL's 0010 (see there for
-- the reasons); SQLite has neither unlogged tables nor row-level security.
CREATE TABLE presence (
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_project_id TEXT    NOT NULL,
    workspace_id    TEXT,
    expires_at      INTEGER NOT NULL,
    CONSTRAINT presence_pkey PRIMARY KEY (organization_id, account_id)
) STRICT;
CREATE INDEX presence_expires ON presence (expires_at);
