-- PostgreSQL's 0003 adds row-level security. SQLite has none: there the storage layer's own
-- tenant filter is the guard, and the same tests check it. The file keeps the two migration
-- lists numbered alike.
SELECT 1;
