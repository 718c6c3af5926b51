-- Row-level security: PostgreSQL's own guard of tenancy, behind the server's membership check.
--
-- The storage layer begins every transaction that touches a tenant table by setting, for that
-- transaction only, the organization it acts in (`hypnos.organization_id`, taken from the
-- caller's verified membership) and the account it acts for (`hypnos.account_id`). The policies
-- below then confine every statement to that organization's rows, and to the account's own rows
-- where an account owns some (its memberships, its project keys, the invitations to it), so a
-- query written without its tenant filter still cannot read or write another tenant's rows.
-- New or changed rows must belong to the transaction's organization (WITH CHECK). With neither
-- setting a statement sees nothing.
--
-- FORCE makes the policies bind the tables' owner too: the server should connect as an ordinary
-- role that owns the database. Superusers and BYPASSRLS roles are never bound by policies; the
-- server warns at start when it connects as one. Foreign-key cascades are not filtered (PostgreSQL
-- runs referential actions without row security), so deleting an organization still takes all
-- its rows with it.
--
-- `organizations` itself is the tenant registry (names and owners, which membership checks must
-- read), not tenant-owned data, and has no policy.

CREATE FUNCTION hypnos_organization() RETURNS TEXT LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('hypnos.organization_id', true), '') $$;
CREATE FUNCTION hypnos_account() RETURNS TEXT LANGUAGE sql STABLE
    AS $$ SELECT NULLIF(current_setting('hypnos.account_id', true), '') $$;

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
-- An account sees its own memberships everywhere, and all memberships of the organizations it
-- owns (deleting the account must know whether others belong to them).
CREATE POLICY tenant ON memberships
    USING (organization_id = hypnos_organization()
           OR account_id = hypnos_account()
           OR organization_id IN (SELECT id FROM organizations
                                  WHERE owner_account_id = hypnos_account()))
    WITH CHECK (organization_id = hypnos_organization());

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON invitations
    USING (organization_id = hypnos_organization() OR invitee_account_id = hypnos_account())
    WITH CHECK (organization_id = hypnos_organization());

ALTER TABLE invitation_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitation_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON invitation_keys
    USING (organization_id = hypnos_organization()
           OR EXISTS (SELECT 1 FROM invitations i
                      WHERE i.organization_id = invitation_keys.organization_id
                        AND i.id = invitation_keys.invitation_id
                        AND i.invitee_account_id = hypnos_account()))
    WITH CHECK (organization_id = hypnos_organization());

ALTER TABLE project_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE project_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON project_keys
    USING (organization_id = hypnos_organization() OR account_id = hypnos_account())
    WITH CHECK (organization_id = hypnos_organization());

ALTER TABLE team_projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE team_projects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON team_projects USING (organization_id = hypnos_organization());

ALTER TABLE projects ENABLE ROW LEVEL SECURITY;
ALTER TABLE projects FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON projects USING (organization_id = hypnos_organization());

ALTER TABLE branches ENABLE ROW LEVEL SECURITY;
ALTER TABLE branches FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON branches USING (organization_id = hypnos_organization());

ALTER TABLE snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON snapshots USING (organization_id = hypnos_organization());

ALTER TABLE branch_snapshots ENABLE ROW LEVEL SECURITY;
ALTER TABLE branch_snapshots FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON branch_snapshots USING (organization_id = hypnos_organization());

ALTER TABLE blobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE blobs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON blobs USING (organization_id = hypnos_organization());

ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant ON audit_events USING (organization_id = hypnos_organization());
