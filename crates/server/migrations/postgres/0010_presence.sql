-- Issue 15, presence: who has which team project (and workspace) of an organization open, as
-- `POST /v1/organizations/{org}/collaborators` records it and the app's avatars show it. One row
-- per member of an organization (the app shows one place per account): the team project, the
-- workspace (NULL on the project's dashboard) and when the row expires. The server process that
-- holds an open event stream of the member pushes `expires_at` forward; every process deletes
-- expired rows and announces each as a leave.
--
-- Worth nothing after a crash (a present member's app posts again when it moves, and rows
-- expire within minutes), so, like login_attempts (0002) and rate_limit_hits (0006), the table
-- is unlogged: recording and refreshing presence waits for no WAL flush. The foreign keys take
-- the rows along when an organization or an account is deleted; a member who leaves keeps its
-- row until it expires or its stream closes (the list shows current members only), so that its
-- leave is still announced.
CREATE UNLOGGED TABLE presence (
    organization_id TEXT   NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_id      TEXT   NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    team_project_id TEXT   NOT NULL,
    workspace_id    TEXT,
    expires_at      BIGINT NOT NULL,
    CONSTRAINT presence_pkey PRIMARY KEY (organization_id, account_id)
);
CREATE INDEX presence_expires ON presence (expires_at);

-- Row-level security (0003): a transaction sees and writes the presence of its organization
-- only. Two things act across organizations, and each is let through no further than it needs:
-- - refreshing the rows of the members whose streams a process holds sets each organization in
--   turn (set_config in the one transaction), under the tenant policy;
-- - the sweep of expired rows sets `hypnos.expired_before` (unix ms) for its transaction and may
--   then read and delete rows that expired before it, in any organization: rows that nobody
--   keeps any more and whose leave it announces to their own organization's streams. It can
--   neither insert nor update.
CREATE FUNCTION hypnos_expired_before() RETURNS BIGINT LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('hypnos.expired_before', true), '')::BIGINT $$;

ALTER TABLE presence ENABLE ROW LEVEL SECURITY;
ALTER TABLE presence FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON presence
    USING (organization_id = hypnos_organization())
    WITH CHECK (organization_id = hypnos_organization());
CREATE POLICY expired_read ON presence FOR SELECT
    USING (expires_at <= hypnos_expired_before());
CREATE POLICY expired_delete ON presence FOR DELETE
    USING (expires_at <= hypnos_expired_before());
