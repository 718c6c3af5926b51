-- An operator may disable an account (`hypnos admin disable`): it cannot log in, and its
-- sessions end, until `hypnos admin enable`. NULL: enabled.
ALTER TABLE accounts ADD COLUMN disabled_at INTEGER;
