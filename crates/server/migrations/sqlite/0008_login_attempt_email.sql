-- Issue 12, "Locking others out": brute-force limits count failed log-ins, not log-in starts.
-- login-m1, where the guess is, checks the limits and counts a wrong proof against the e-mail
-- the log-in was started for, so the started log-in keeps it. A row lives two minutes: rows from before
-- this migration get '' and, if finished wrongly, count against that stand-in, which no log-in
-- starts with (login-a checks the e-mail's form).
ALTER TABLE login_attempts ADD COLUMN email TEXT NOT NULL DEFAULT '';
