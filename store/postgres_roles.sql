-- The production roles of duban on PostgreSQL (README, "Production PostgreSQL roles").
-- Run as the owner (migrator) role after every `duban migrate`; every statement is idempotent.
-- duban_owner owns the schema and runs migrations; duban_app is what the API and workers log in as.
-- The app role may read and append the audit log, the ledger and the checkpoints, never change them.

GRANT USAGE ON SCHEMA public TO duban_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO duban_app;
REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_events, ledger, checkpoints FROM duban_app;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM duban_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO duban_app;
