"""`duban audit …` in-process on both back-ends: keys, checkpoints, verification, export and replay.

The commands run in a thread (each runs its own event loop, as from a shell). Every expected
failure is one line on stderr and a non-zero exit.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import cli
from domain.events import RecordedEvent
from ledger.hashing import GENESIS_HASH, chain_hash
from store.event_log import EventLog
from store.schema import audit_events
from tests.store.stories import ItemStory
from tests.store.tampering import tamper

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DATABASE_URL and the signing key's path set; the working directory has no `.env`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AUDIT_SIGNER_FILE", str(tmp_path / "keys" / "audit-signing.key"))
    return tmp_path


async def duban(capfd: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `duban argv…` in a thread; its exit code, stdout and stderr."""
    capfd.readouterr()
    code = await asyncio.to_thread(cli.main, list(argv))
    out, err = capfd.readouterr()
    return code, out, err


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.fixture
async def logged(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[RecordedEvent]]:
    """Two items in the log: item-a into implementation (7 events), item-b signed for (3 events)."""
    log = EventLog(sessions)
    a, b = ItemStory("item-a"), ItemStory("item-b")
    a.open()
    a.into_implementation()
    b.open()
    b.sign_all()
    await log.append(a.events)
    await log.append(b.events)
    return {"item-a": a.events, "item-b": b.events}


async def test_keygen_checkpoint_verify_and_export_round_trip(
    env: Path, logged: dict[str, list[RecordedEvent]], capfd: pytest.CaptureFixture[str]
) -> None:
    assert (await duban(capfd, "audit", "keygen"))[0] == 0
    assert (env / "keys" / "audit-signing.key.pub").exists()
    code, _, err = await duban(capfd, "audit", "keygen")
    assert code == 2
    assert "not overwriting" in one_line(err)

    code, out, _ = await duban(capfd, "audit", "checkpoint", "--out", "published")
    assert code == 0
    assert "size 8" in out
    [published] = (env / "published").iterdir()
    assert json.loads(published.read_text())["size"] == 8

    code, out, _ = await duban(capfd, "audit", "verify", "--no-workflows", "--checkpoint", str(published))
    assert (code, out.strip().startswith("审计链完好")) == (0, True)
    assert (await duban(capfd, "audit", "verify", "--no-workflows", "item-a"))[0] == 0
    code, _, err = await duban(capfd, "audit", "verify", "--no-workflows", "nobody")
    assert code == 2
    one_line(err)

    code, out, _ = await duban(capfd, "audit", "export", "bundle.jsonl")
    assert code == 0
    assert "exported 8 events" in out
    code, out, _ = await duban(
        capfd,
        "audit",
        "verify-bundle",
        "bundle.jsonl",
        "--public-key",
        "keys/audit-signing.key.pub",
        "--replay",
        "item-a",
    )
    assert code == 0
    assert "bundle verified: 2 items, 8 events" in out
    assert "狠抓落实" in out


async def test_verify_names_the_tampered_item_and_seq_in_one_line(
    env: Path,
    logged: dict[str, list[RecordedEvent]],
    sessions: async_sessionmaker[AsyncSession],
    capfd: pytest.CaptureFixture[str],
) -> None:
    await tamper(
        sessions,
        [
            update(audit_events)
            .where(audit_events.c.item_id == "item-b", audit_events.c.seq == 2)
            .values(actor_name="某人")
        ],
    )
    code, _, err = await duban(capfd, "audit", "verify", "--no-workflows")
    assert code == 1
    line = one_line(err)
    assert "item item-b, seq 2" in line
    assert "[hash_mismatch]" in line


async def test_replay_and_diff_read_the_log_at_instants(
    env: Path, logged: dict[str, list[RecordedEvent]], capfd: pytest.CaptureFixture[str]
) -> None:
    events = logged["item-a"]
    opened, approved = events[0].occurred_at, events[-1].occurred_at

    code, out, _ = await duban(capfd, "audit", "replay", "item-a", "--as-of", opened.isoformat())
    assert code == 0
    assert "研究部署" in out
    code, out, _ = await duban(capfd, "audit", "replay", "item-a", "--as-of", approved.isoformat(), "--json")
    assert json.loads(out)["stage"] == "implement"

    code, out, _ = await duban(capfd, "audit", "diff", "item-a", opened.isoformat(), approved.isoformat())
    assert code == 0
    assert 'stage: "deploy" → "implement"' in out
    assert 'assignments.zjj.status: "pending" → "signed"' in out

    code, _, err = await duban(capfd, "audit", "replay", "nobody", "--as-of", opened.isoformat())
    assert code == 2
    one_line(err)
    code, _, err = await duban(capfd, "audit", "replay", "item-a", "--as-of", "yesterday")
    assert code == 2
    assert "Traceback" not in err
    assert "bad arguments: argument --as-of: yesterday" in err.splitlines()[-1]  # after argparse's usage


async def test_checkpoint_and_export_without_a_key_say_so_in_one_line(
    env: Path, logged: dict[str, list[RecordedEvent]], capfd: pytest.CaptureFixture[str]
) -> None:
    for command in (["audit", "checkpoint"], ["audit", "export", "bundle.jsonl"]):
        code, _, err = await duban(capfd, *command)
        assert code == 2
        assert "duban audit keygen" in one_line(err)


# -- the offline verifier on tampered copies --------------------------------------------------


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    return path


def _rechain(records: list[dict[str, Any]], item_id: str) -> None:
    """Recompute the item's chain hashes in place, as a careful forger would."""
    prev = GENESIS_HASH
    for record in records:
        event = record.get("event")
        if isinstance(event, dict) and event["item_id"] == item_id:
            record["prev_hash"] = prev
            record["hash"] = prev = chain_hash(prev, RecordedEvent.model_validate(event))


def _event_lines(records: list[dict[str, Any]], item_id: str) -> list[int]:
    return [
        i
        for i, r in enumerate(records)
        if isinstance(r.get("event"), dict) and r["event"]["item_id"] == item_id
    ]


def _flip_byte(records: list[dict[str, Any]]) -> None:
    i = _event_lines(records, "item-b")[1]
    records[i]["event"]["payload"]["unit"] = "zjk"


def _delete_middle(records: list[dict[str, Any]]) -> None:
    del records[_event_lines(records, "item-b")[1]]


def _delete_last(records: list[dict[str, Any]]) -> None:
    del records[_event_lines(records, "item-b")[-1]]


def _swap(records: list[dict[str, Any]]) -> None:
    i, j = _event_lines(records, "item-b")[1:3]
    records[i], records[j] = records[j], records[i]


def _forge_insert(records: list[dict[str, Any]]) -> None:
    last = records[_event_lines(records, "item-b")[-1]]
    forged = json.loads(json.dumps(last))
    forged["event"].update(
        id="forged", seq=last["event"]["seq"] + 1, type="CommentAdded", payload={"text": "补记"}
    )
    forged["position"] = None
    records.insert(_event_lines(records, "item-b")[-1] + 1, forged)
    _rechain(records, "item-b")


def _delete_item(records: list[dict[str, Any]]) -> None:
    for i in reversed(_event_lines(records, "item-b")):
        del records[i]


def _rewrite_item(records: list[dict[str, Any]]) -> None:
    first = records[_event_lines(records, "item-b")[0]]
    first["event"]["payload"]["title"] = "改写后的标题"
    _rechain(records, "item-b")


def _forge_checkpoint(records: list[dict[str, Any]]) -> None:
    records[1]["checkpoint"]["root"] = "0" * 64


TAMPERINGS = {
    "flipped byte": (_flip_byte, "hash_mismatch", "item item-b, seq 2"),
    "deleted middle event": (_delete_middle, "seq_gap", "item item-b, seq 3"),
    "deleted last event": (_delete_last, "event_missing", "position"),
    "swapped events": (_swap, "seq_gap", "item item-b, seq 3"),
    "forged inserted event": (_forge_insert, "not_covered", "item item-b, seq 4"),
    "deleted item": (_delete_item, "event_missing", "position"),
    "rewritten item": (_rewrite_item, "bad_proof", "item item-b, seq 1"),
    "forged checkpoint": (_forge_checkpoint, "bad_signature", "line 2"),
}


async def test_verify_bundle_fails_on_each_tampered_copy_naming_the_spot(
    env: Path, logged: dict[str, list[RecordedEvent]], capfd: pytest.CaptureFixture[str]
) -> None:
    assert (await duban(capfd, "audit", "keygen"))[0] == 0
    assert (await duban(capfd, "audit", "export", "bundle.jsonl"))[0] == 0
    public = "keys/audit-signing.key.pub"
    assert (await duban(capfd, "audit", "verify-bundle", "bundle.jsonl", "--public-key", public))[0] == 0

    for name, (change, kind, where) in TAMPERINGS.items():
        records = _lines(env / "bundle.jsonl")
        change(records)
        copy = _write(env / f"{name.replace(' ', '-')}.jsonl", records)
        code, _, err = await duban(capfd, "audit", "verify-bundle", str(copy), "--public-key", public)
        line = one_line(err)
        assert code == 1, name
        assert f"[{kind}]" in line, (name, line)
        assert where in line, (name, line)
        assert "line " in line, (name, line)

    (env / "other.key").write_bytes(b"")
    assert (await duban(capfd, "audit", "keygen", "--out", "other/other.key"))[0] == 0
    code, _, err = await duban(
        capfd, "audit", "verify-bundle", "bundle.jsonl", "--public-key", "other/other.key.pub"
    )
    assert code == 1
    assert "[bad_signature]" in one_line(err)


async def test_the_offline_verifier_loads_no_database_or_engine_code(
    env: Path, logged: dict[str, list[RecordedEvent]], capfd: pytest.CaptureFixture[str]
) -> None:
    assert (await duban(capfd, "audit", "keygen"))[0] == 0
    assert (await duban(capfd, "audit", "export", "bundle.jsonl"))[0] == 0
    probe = (
        "import sys, audit_cli\n"
        "code = audit_cli.main(['verify-bundle', 'bundle.jsonl',"
        " '--public-key', 'keys/audit-signing.key.pub', '--replay', 'item-b'])\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'temporalio', 'fastapi',"
        " 'store', 'api', 'workflows', 'activities', 'asyncpg', 'aiosqlite', 'httpx', 'settings'})\n"
        "print(code, loaded)\n"
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", probe],
        cwd=env,
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONPATH": str(REPO), "PATH": ""},
    )
    assert result.stdout.strip().splitlines()[-1] == "0 []", result.stdout + result.stderr
    assert "研究部署" in result.stdout
