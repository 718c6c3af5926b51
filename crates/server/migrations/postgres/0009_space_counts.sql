-- Issue 13: the newest app lists an account's organizations as "spaces", each with how many
-- members, admins and pending invitations it has (`GET /v3/users/me/spaces`), one page of up to
-- 200 in one query. Row-level security (migration 0003) lets an account see only its own
-- memberships in organizations it does not own, and a policy on `memberships` cannot widen that
-- by reading `memberships` itself (PostgreSQL refuses the recursion). So:
--
-- 1. Each organization keeps its member and admin counts (owners count as admins), maintained by
--    a trigger on every change of `memberships` (sign-up, teams, accepting, leaving, removal,
--    role changes, deletions by cascade), so no code path can forget them. `organizations` is the
--    tenant registry without a policy; a count tells no member anything the member list does not.
-- 2. Owners and admins may read the invitations of their organizations while acting for their
--    account, to count the pending ones: a SELECT-only policy, so what an account may update or
--    delete outside its organization's transaction is unchanged. It mirrors `read:invitation`.

ALTER TABLE organizations
    ADD COLUMN member_count BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN admin_count  BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION hypnos_count_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE organizations
           SET member_count = member_count - 1,
               admin_count = admin_count
                   - CASE WHEN OLD.role IN ('owner', 'admin') THEN 1 ELSE 0 END
         WHERE id = OLD.organization_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        UPDATE organizations
           SET member_count = member_count + 1,
               admin_count = admin_count
                   + CASE WHEN NEW.role IN ('owner', 'admin') THEN 1 ELSE 0 END
         WHERE id = NEW.organization_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER memberships_count
    AFTER INSERT OR DELETE OR UPDATE OF organization_id, role ON memberships
    FOR EACH ROW EXECUTE FUNCTION hypnos_count_members();

-- The counts of the organizations that exist now. Row-level security binds this migration as it
-- binds the server (see 0007), so it visits each organization in its own scope.
DO $$
DECLARE
    org TEXT;
BEGIN
    FOR org IN SELECT id FROM organizations LOOP
        PERFORM set_config('hypnos.organization_id', org, true);
        UPDATE organizations
           SET member_count = (SELECT COUNT(*) FROM memberships m WHERE m.organization_id = org),
               admin_count = (SELECT COUNT(*) FROM memberships m
                              WHERE m.organization_id = org AND m.role IN ('owner', 'admin'))
         WHERE id = org;
    END LOOP;
    PERFORM set_config('hypnos.organization_id', '', true);
END $$;

CREATE POLICY managers_read ON invitations FOR SELECT
    USING (organization_id IN (SELECT m.organization_id FROM memberships m
                               WHERE m.account_id = hypnos_account()
                                 AND m.role IN ('owner', 'admin')));
