"""Persistence of duban: the hash-chained audit log, its read models, numbers and the org chart.

SQLAlchemy 2.0 async over SQLite (the embedded default, via aiosqlite) or PostgreSQL
(asyncpg). The schema is owned by the Alembic migrations under `store/migrations`.
"""
