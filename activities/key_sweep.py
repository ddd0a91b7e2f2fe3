"""The sweep of expired Idempotency-Keys (KeySweepWorkflow's activity)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from store.idempotency import IdempotencyKeys
from workflows.key_sweep import SWEEP_KEYS_ACTIVITY, KeysSwept, KeySweepRun

# The API decides expiry by its own clock: sweep only keys expired this long ago on the worker's,
# so a worker clock running ahead never deletes a key the API still answers with.
CLOCK_MARGIN = timedelta(minutes=10)


class KeySweepActivities:
    """Bound to the database whose keys it sweeps (injected by the worker)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name=SWEEP_KEYS_ACTIVITY)
    async def sweep_idempotency_keys(self, run: KeySweepRun) -> KeysSwept:
        """Delete every key that expired (its TTL `run.ttl_hours`) at least CLOCK_MARGIN ago."""
        keys = IdempotencyKeys(self._sessions, timedelta(hours=run.ttl_hours))
        deleted = await keys.sweep(datetime.now(UTC) - CLOCK_MARGIN)
        activity.logger.info("idempotency keys swept", extra={"deleted": deleted})
        return KeysSwept(deleted=deleted)
