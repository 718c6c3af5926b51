-- Issue 13: each organization keeps its member and admin counts (owners count as admins) for
-- the newest app's list of spaces, maintained by triggers on every change of `memberships`.
-- PostgreSQL's 0009 explains why (row-level security); SQLite keeps the same columns so that
-- both run the same query. PostgreSQL's SELECT-only policy on invitations has no SQLite
-- counterpart (SQLite has no row-level security).

ALTER TABLE organizations ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organizations ADD COLUMN admin_count INTEGER NOT NULL DEFAULT 0;

UPDATE organizations
   SET member_count = (SELECT COUNT(*) FROM memberships m
                       WHERE m.organization_id = organizations.id),
       admin_count = (SELECT COUNT(*) FROM memberships m
                      WHERE m.organization_id = organizations.id
                        AND m.role IN ('owner', 'admin'));

CREATE TRIGGER memberships_count_insert AFTER INSERT ON memberships
BEGIN
    UPDATE organizations
       SET member_count = member_count + 1,
           admin_count = admin_count + (NEW.role IN ('owner', 'admin'))
     WHERE id = NEW.organization_id;
END;

CREATE TRIGGER memberships_count_delete AFTER DELETE ON memberships
BEGIN
    UPDATE organizations
       SET member_count = member_count - 1,
           admin_count = admin_count - (OLD.role IN ('owner', 'admin'))
     WHERE id = OLD.organization_id;
END;

CREATE TRIGGER memberships_count_update AFTER UPDATE OF organization_id, role ON memberships
BEGIN
    UPDATE organizations
       SET member_count = member_count - 1,
           admin_count = admin_count - (OLD.role IN ('owner', 'admin'))
     WHERE id = OLD.organization_id;
    UPDATE organizations
       SET member_count = member_count + 1,
           admin_count = admin_count + (NEW.role IN ('owner', 'admin'))
     WHERE id = NEW.organization_id;
END;
