"""The whole verification an auditor runs: every item's hash chain, then the ledger and its checkpoints."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.chain import ChainReport
from ledger.checkpoint import Checkpoint
from store.event_log import EventLog
from store.ledger import Ledger


async def verify_audit_trail(
    sessions: async_sessionmaker[AsyncSession],
    *,
    item_id: str | None = None,
    public_key: Ed25519PublicKey | None = None,
    published: Iterable[Checkpoint] = (),
) -> ChainReport:
    """The first problem in the chains, the ledger or the checkpoints; ok with the chain's counts.

    For one item: its chain and its ledger entries (checkpoints cover the whole ledger, so they
    are checked only without `item_id`). Signatures are checked when `public_key` is given.
    """
    events, sealed = EventLog(sessions), Ledger(sessions)
    if item_id is not None:
        chain = await events.verify_item(item_id)
        entries = await sealed.verify_item(item_id) if chain.ok else chain
    else:
        chain = await events.verify_all()
        entries = await sealed.verify(public_key, published) if chain.ok else chain
    if not entries.ok:
        return entries.model_copy(
            update={"items_checked": chain.items_checked, "events_checked": chain.events_checked}
        )
    return chain
