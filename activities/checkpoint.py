"""The checkpoint activity: seal the ledger and sign its root with the key from outside the database."""

from __future__ import annotations

from temporalio import activity

from ledger.checkpoint import Signer
from store.ledger import Ledger
from workflows.checkpoint import MAKE_CHECKPOINT_ACTIVITY, CheckpointMade, CheckpointRun


class CheckpointActivities:
    """Bound to the ledger it seals and the signer (injected by the worker)."""

    def __init__(self, ledger: Ledger, signer: Signer) -> None:
        self._ledger = ledger
        self._signer = signer

    @activity.defn(name=MAKE_CHECKPOINT_ACTIVITY)
    async def make_checkpoint(self, run: CheckpointRun) -> CheckpointMade:
        """Seal every committed event and store a signed checkpoint over the whole ledger."""
        sealed = await self._ledger.seal()
        checkpoint = await self._ledger.checkpoint(self._signer)
        activity.logger.info("audit checkpoint", extra={"size": checkpoint.size, "sealed": sealed.sealed})
        return CheckpointMade(sealed=sealed.sealed, size=checkpoint.size, root=checkpoint.root)
