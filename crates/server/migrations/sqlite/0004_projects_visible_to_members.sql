-- PostgreSQL's 0004 changes a row-level security policy; SQLite has none. The file keeps the two
-- migration lists numbered alike.
SELECT 1;
