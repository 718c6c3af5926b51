-- Rate-limit counters (issue 12), kept in the database so that every server process on it
-- shares one budget: N processes must not give an attacker N times the attempts.
--
-- One row per limited key: its window (which begins with its first hit and lasts a minute)
-- and the hits in it; a hit is one upsert that returns the count and starts a new window when
-- the last has ended. `key` is SHA-256 of what is limited (an address, an account with or
-- without an address, a caller), so no e-mail or address is stored here. The counts are worth nothing
-- after a crash (the windows last a minute), so, like login_attempts (0002), the table is
-- unlogged: counting a hit waits for no WAL flush. Not a tenant table: no row-level security.
-- The purge task deletes the rows whose windows have ended.
CREATE UNLOGGED TABLE rate_limit_hits (
    key BYTEA NOT NULL,
    window_start BIGINT NOT NULL,
    hits INTEGER NOT NULL,
    CONSTRAINT rate_limit_hits_pkey PRIMARY KEY (key)
);
