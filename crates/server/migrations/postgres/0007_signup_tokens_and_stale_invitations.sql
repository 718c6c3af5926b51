-- Issue 12, "Tenants and roles".
--
-- 1. Sign-up tokens: the operator's one-time sign-up links (`hypnos admin signup-link`), which
--    let one account be created whatever the sign-up policy. Like reset tokens, only the SHA-256
--    of a token is kept (a stolen database opens no sign-up), with its expiry and, optionally,
--    the one e-mail it is for. Server-wide, not tenant data: no row-level security.
CREATE TABLE signup_tokens (
    token_hash BYTEA  NOT NULL,
    email      TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    CONSTRAINT signup_tokens_pkey PRIMARY KEY (token_hash)
);
CREATE INDEX signup_tokens_expires ON signup_tokens (expires_at);

-- 2. An invitation must not outlive its inviter's right to make it. From now on removing,
--    leaving or demoting a member deletes the invitations it can no longer make, and accepting
--    re-checks the inviter; this deletes those left behind by earlier versions: invitations
--    whose inviter is no longer a member, or whose role no longer allows inviting at the
--    invitation's role (an owner may invite admins and members, an admin admins and members, a
--    member nobody). Their keys go with them (ON DELETE CASCADE).
--
--    Row-level security confines every statement to the organization set for the transaction
--    (migration 0003), so the clean-up visits each organization in turn (`organizations` itself
--    has no policy). It needs no privilege beyond the server's own: it works for the ordinary
--    role the server connects as, whoever created the tables.
DO $$
DECLARE
    org TEXT;
BEGIN
    FOR org IN SELECT id FROM organizations LOOP
        PERFORM set_config('hypnos.organization_id', org, true);
        DELETE FROM invitations i
        WHERE i.organization_id = org
          AND NOT EXISTS (
              SELECT 1 FROM memberships m
              WHERE m.organization_id = i.organization_id
                AND m.account_id = i.inviter_account_id
                AND (m.role = 'owner' OR (m.role = 'admin' AND i.role IN ('admin', 'member')))
          );
    END LOOP;
    PERFORM set_config('hypnos.organization_id', '', true);
END $$;
