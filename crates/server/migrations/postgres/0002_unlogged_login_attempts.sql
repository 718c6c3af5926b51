-- A started log-in lives two minutes and is worth nothing after a crash (the client starts
-- again), so it need not be written to the WAL: as an unlogged table, log-in steps a and m1
-- no longer wait for a WAL flush. An unlogged table's rows are visible to every connection
-- like any other's, so any server process can still finish a log-in another began; PostgreSQL
-- empties the table after a crash (not after a clean restart).
--
-- The foreign key to accounts goes: checking it locks the account row, and that lock is itself
-- WAL-logged. delete_account removes an account's attempts explicitly instead, and a log-in
-- whose account vanished fails at login-m1 when its session cannot be created.
ALTER TABLE login_attempts DROP CONSTRAINT login_attempts_account_id_fkey;
ALTER TABLE login_attempts SET UNLOGGED;
