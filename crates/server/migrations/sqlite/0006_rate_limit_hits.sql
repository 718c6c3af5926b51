-- Rate-limit counters (issue 12), kept in the database so that every server process on it
-- shares one budget. One row per limited key (SHA-256 of what is limited: no e-mail or address
-- is stored): its window (begun by its first hit, a minute long) and the hits in it; a hit is
-- one upsert that returns the count and starts a new window when the last has ended.
-- SQLite has no unlogged tables: this is a plain table. The purge task deletes the rows whose
-- windows have ended.
CREATE TABLE rate_limit_hits (
    key BLOB NOT NULL,
    window_start INTEGER NOT NULL,
    hits INTEGER NOT NULL,
    PRIMARY KEY (key)
) WITHOUT ROWID;
