-- Issue 12, "Tenants and roles" (see the PostgreSQL twin of this file for the reasons).
--
-- 1. Sign-up tokens: the operator's one-time sign-up links; only their SHA-256 is kept.
CREATE TABLE signup_tokens (
    token_hash BLOB    NOT NULL,
    email      TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    CONSTRAINT signup_tokens_pkey PRIMARY KEY (token_hash)
) STRICT;
CREATE INDEX signup_tokens_expires ON signup_tokens (expires_at);

-- 2. Invitations left behind by earlier versions whose inviter is no longer a member, or whose
--    role no longer allows inviting at the invitation's role.
DELETE FROM invitations
WHERE NOT EXISTS (
    SELECT 1 FROM memberships m
    WHERE m.organization_id = invitations.organization_id
      AND m.account_id = invitations.inviter_account_id
      AND (m.role = 'owner' OR (m.role = 'admin' AND invitations.role IN ('admin', 'member')))
);
