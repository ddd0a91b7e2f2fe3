"""Each kind of tampering a privileged intruder can do is detected and located.

Three items are logged, sealed and checkpointed one after another (positions 1-3, 4-6, 7-9), so
a signed checkpoint brackets each item. The intruder bypasses the triggers; the chain catches
edits inside an item, the ledger catches a vanished last event, and only the signed checkpoints
catch a forged insertion, a whole item removed, or an item's chain consistently rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Executable, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import RecordedEvent
from ledger.chain import ChainReport, FailureKind
from ledger.checkpoint import Signer
from store.event_log import EventLog
from store.ledger import Ledger
from store.ledger_tables import checkpoints, ledger
from store.schema import audit_events
from store.verification import verify_audit_trail
from tests.store.stories import SUPERVISOR, ItemStory
from tests.store.tampering import tamper

ITEMS = ("item-x", "item-y", "item-z")


@dataclass
class Trail:
    """The logged items, the key that signed the checkpoints, and the store."""

    sessions: async_sessionmaker[AsyncSession]
    signer: Signer
    events: dict[str, list[RecordedEvent]]

    async def verify(self) -> ChainReport:
        return await verify_audit_trail(self.sessions, public_key=self.signer.public)

    async def chain_only(self) -> ChainReport:
        return await EventLog(self.sessions).verify_all()

    async def rewrite_chain(self, item_id: str, events: list[RecordedEvent]) -> None:
        """Replace the item's rows by `events`, chained afresh (as an intruder with the code could)."""
        await tamper(self.sessions, [delete(audit_events).where(audit_events.c.item_id == item_id)])
        await EventLog(self.sessions).append(events)

    async def reseal_to_match(self) -> None:
        """Make the ledger agree with the tampered log: copy hashes and seqs over, seal what is new."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(audit_events.c.event_id, audit_events.c.seq, audit_events.c.hash)
                )
            ).all()
        await tamper(
            self.sessions,
            [
                update(ledger).where(ledger.c.event_id == row.event_id).values(seq=row.seq, hash=row.hash)
                for row in rows
            ],
        )
        await Ledger(self.sessions).seal()


@pytest.fixture
async def trail(sessions: async_sessionmaker[AsyncSession]) -> Trail:
    """Three items of three events, each followed by a seal and a signed checkpoint."""
    log, sealed, signer = EventLog(sessions), Ledger(sessions), Signer.generate()
    events = {}
    for item_id in ITEMS:
        story = ItemStory(item_id)
        story.open()
        story.sign_all()
        await log.append(story.events)
        await sealed.checkpoint(signer)
        events[item_id] = story.events
    return Trail(sessions, signer, events)


def _at(report: ChainReport) -> tuple[object, ...]:
    return (report.ok, report.kind, report.item_id, report.seq)


async def test_an_untouched_trail_verifies(trail: Trail) -> None:
    report = await trail.verify()
    assert report.ok
    assert (report.items_checked, report.events_checked) == (3, 9)


async def test_a_flipped_payload_byte_is_a_hash_mismatch_at_its_seq(trail: Trail) -> None:
    await tamper(
        trail.sessions,
        [
            update(audit_events)
            .where(audit_events.c.item_id == "item-y", audit_events.c.seq == 2)
            .values(payload={"unit": "zjk"})
        ],
    )
    assert _at(await trail.verify()) == (False, FailureKind.HASH_MISMATCH, "item-y", 2)


async def test_a_deleted_middle_event_is_a_gap_at_the_next_seq(trail: Trail) -> None:
    await tamper(
        trail.sessions,
        [delete(audit_events).where(audit_events.c.item_id == "item-y", audit_events.c.seq == 2)],
    )
    assert _at(await trail.verify()) == (False, FailureKind.SEQ_GAP, "item-y", 3)


async def test_a_deleted_last_event_passes_the_chain_but_the_ledger_names_it(trail: Trail) -> None:
    await tamper(
        trail.sessions,
        [delete(audit_events).where(audit_events.c.item_id == "item-y", audit_events.c.seq == 3)],
    )
    assert (await trail.chain_only()).ok
    report = await trail.verify()
    assert _at(report) == (False, FailureKind.EVENT_MISSING, "item-y", 3)
    assert report.position == 6


async def test_two_swapped_events_break_the_link_at_the_first_of_them(trail: Trail) -> None:
    def renumber(old: int, new: int) -> Executable:
        return (
            update(audit_events)
            .where(audit_events.c.item_id == "item-y", audit_events.c.seq == old)
            .values(seq=new)
        )

    await tamper(trail.sessions, [renumber(2, -1), renumber(3, 2), renumber(-1, 3)])
    assert _at(await trail.verify()) == (False, FailureKind.BROKEN_LINK, "item-y", 2)


async def test_a_forged_event_inserted_and_chained_is_caught_only_by_the_signed_checkpoint(
    trail: Trail,
) -> None:
    first, *rest = trail.events["item-y"]
    forged = first.model_copy(
        update={"id": "item-y-2", "seq": 2, "type": "CommentAdded", "payload": {"text": "已当面督办"}}
    )
    shifted = [e.model_copy(update={"id": f"item-y-{e.seq + 1}", "seq": e.seq + 1}) for e in rest]
    await trail.rewrite_chain("item-y", [first, forged, *shifted])
    await trail.reseal_to_match()

    assert (await trail.chain_only()).ok
    assert (await Ledger(trail.sessions).verify()).kind is FailureKind.CHECKPOINT_MISMATCH
    report = await trail.verify()
    assert (report.kind, report.item_id, report.position, report.position_end) == (
        FailureKind.CHECKPOINT_MISMATCH,
        "item-y",
        4,
        6,
    )


async def test_a_whole_item_deleted_is_caught_only_by_the_signed_checkpoint(trail: Trail) -> None:
    await tamper(
        trail.sessions,
        [
            delete(audit_events).where(audit_events.c.item_id == "item-y"),
            delete(ledger).where(ledger.c.item_id == "item-y"),
            update(ledger).where(ledger.c.position > 6).values(position=ledger.c.position - 3),
        ],
    )

    assert (await trail.chain_only()).ok
    report = await trail.verify()
    assert (report.ok, report.kind, report.position, report.position_end) == (
        False,
        FailureKind.CHECKPOINT_MISMATCH,
        4,
        6,
    )


async def test_an_item_chain_rewritten_consistently_is_caught_only_by_the_signed_checkpoint(
    trail: Trail,
) -> None:
    events = trail.events["item-y"]
    rewritten = [
        events[0].model_copy(update={"actor": SUPERVISOR.model_copy(update={"name": "某人"})}),
        *events[1:],
    ]
    await trail.rewrite_chain("item-y", rewritten)
    await trail.reseal_to_match()

    assert (await trail.chain_only()).ok
    report = await trail.verify()
    assert (report.kind, report.item_id, report.position, report.position_end) == (
        FailureKind.CHECKPOINT_MISMATCH,
        "item-y",
        4,
        6,
    )
    assert "4..6" in report.one_line()


async def test_checkpoints_replaced_by_the_intruder_fail_the_signature_check(trail: Trail) -> None:
    await trail.rewrite_chain("item-y", trail.events["item-y"][:2])
    await tamper(trail.sessions, [delete(checkpoints), delete(ledger)])
    await Ledger(trail.sessions).checkpoint(Signer.generate())

    unsigned = await verify_audit_trail(trail.sessions)
    signed = await trail.verify()

    assert unsigned.ok
    assert (signed.ok, signed.kind) == (False, FailureKind.BAD_SIGNATURE)
