-- PostgreSQL's 0002 makes login_attempts an unlogged table without a foreign key. SQLite has
-- no unlogged tables and checking its foreign key writes nothing, so nothing changes here; the
-- file keeps the two migration lists numbered alike.
SELECT 1;
