-- The sync API names a project by its id alone, so the server must find a project's
-- organization before it can act in it: acting for an account (hypnos.account_id), a project of
-- any organization the account belongs to is visible, as its memberships are. Writes still need
-- the transaction's organization.
DROP POLICY tenant ON projects;
CREATE POLICY tenant ON projects
    USING (organization_id = hypnos_organization()
           OR organization_id IN (SELECT m.organization_id FROM memberships m
                                  WHERE m.account_id = hypnos_account()))
    WITH CHECK (organization_id = hypnos_organization());
