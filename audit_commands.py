"""The `duban audit` commands that need the database or Temporal (audit_cli holds the parser).

An entry point beside `cli`, outside the `audit` package: it uses the composition root
(`bootstrap`), which itself builds on `audit`."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError

from audit.diff import state_changes
from audit.export import NothingToExport, export_lines
from audit.keys import generate_key, load_signer, public_path
from audit.offline import print_state, read_public_key
from audit.reconcile import Reconciliation, reconcile
from audit.splits import first_split, items_to_compare
from bootstrap import connect_temporal
from cli_support import CliError, run_with_sessions
from domain.fold import fold
from domain.state import ItemState
from ledger.chain import ChainReport
from ledger.checkpoint import Checkpoint
from settings import Settings
from store.event_log import EventLog
from store.ledger import Ledger
from store.verification import verify_audit_trail

T = TypeVar("T")


def _published(paths: list[str]) -> list[Checkpoint]:
    published = []
    for name in paths:
        try:
            published.append(Checkpoint.model_validate_json(Path(name).read_text(encoding="utf-8")))
        except (OSError, ValueError) as error:
            raise CliError(
                f"无法读取检查点文件 {name} / cannot read the checkpoint file: {error}", 2
            ) from error
    return published


def cmd_verify(settings: Settings, args: argparse.Namespace) -> int:
    """Verify chains, ledger and checkpoints (signatures with --public-key or the configured key)."""
    if args.public_key:
        public_key = read_public_key(Path(args.public_key))
    elif settings.resolved_audit_signer_file.exists():
        public_key = read_public_key(settings.resolved_audit_signer_file)
    else:
        public_key = None
    published = _published(args.checkpoint)

    async def verify(sessions: async_sessionmaker[AsyncSession]) -> tuple[ChainReport, str]:
        report = await verify_audit_trail(
            sessions, item_id=args.item, public_key=public_key, published=published
        )
        if not report.ok or args.no_workflows or (args.item is not None and report.events_checked == 0):
            return report, "（未对照工作流 / workflows not compared）" if args.no_workflows else ""
        split, compared = await _compare_workflows(settings, sessions, args.item)
        return split or report, compared

    report, compared = run_with_sessions(settings, verify)
    if not report.ok:
        raise CliError(report.one_line())
    if args.item is not None and report.events_checked == 0:
        raise CliError(f"审计日志中没有事项 {args.item} / no such item in the audit log", 2)
    signed = "" if public_key is not None else "（未校验签名 / signatures not checked: no public key）"
    print(report.one_line() + compared + signed)
    return 0


async def _compare_workflows(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], item_id: str | None
) -> tuple[ChainReport | None, str]:
    """The first item whose workflow parted from its log, and a note of how many were compared."""
    try:
        client = await connect_temporal(settings)
    except RuntimeError as error:
        raise CliError(
            f"无法连接 Temporal {settings.temporal_address}，不能对照工作流"
            "（可加 --no-workflows 只校验日志）/ Temporal unreachable: workflows cannot be compared"
            " (--no-workflows checks the log alone)"
        ) from error
    try:
        item_ids = [item_id] if item_id is not None else await items_to_compare(client, sessions)
        split = await first_split(client, EventLog(sessions), item_ids)
    except RPCError as error:
        raise CliError(f"无法查询工作流 / cannot query the workflows: {error.message}") from error
    return split, f"；工作流与日志一致 / workflows agree: {len(item_ids)} compared"


def cmd_keygen(settings: Settings, args: argparse.Namespace) -> int:
    """Create the checkpoint signing key (never overwriting one) and its public key beside it."""
    path = Path(args.out) if args.out else settings.resolved_audit_signer_file
    try:
        signer = generate_key(path)
    except OSError as error:  # an unusable key (KeyUnavailable) is `run_command`'s: one line, exit 2
        raise CliError(f"无法写入 {path} / cannot write the key: {error.strerror}", 2) from error
    print(f"已生成签名密钥 {path}（公钥 {public_path(path)}，key id {signer.key_id}）/ signing key written")
    return 0


def cmd_checkpoint(settings: Settings, args: argparse.Namespace) -> int:
    """Seal every committed event, sign a checkpoint, and write it as a file with --out."""
    signer = load_signer(settings)
    checkpoint = run_with_sessions(settings, lambda sessions: Ledger(sessions).checkpoint(signer))
    line = f"检查点 / checkpoint: size {checkpoint.size}, root {checkpoint.root}, key {checkpoint.key_id}"
    if args.out:
        path = write_checkpoint(Path(args.out), checkpoint)
        line += f" → {path}"
    print(line)
    return 0


def write_checkpoint(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write `checkpoint` as JSON into `directory`, named by its size and time."""
    stamp = checkpoint.created_at.strftime("%Y%m%dT%H%M%S%fZ")
    path = directory / f"checkpoint-{checkpoint.size:08d}-{stamp}.json"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(checkpoint.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise CliError(f"无法写入 {path} / cannot write the checkpoint: {error.strerror}", 2) from error
    return path


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    """Seal and sign a fresh checkpoint, then write the bundle of every event it covers."""
    signer = load_signer(settings)

    async def export(sessions: async_sessionmaker[AsyncSession]) -> tuple[Checkpoint, list[str]]:
        await Ledger(sessions).checkpoint(signer)
        return await export_lines(sessions)

    try:
        checkpoint, lines = run_with_sessions(settings, export)
    except NothingToExport as error:
        raise CliError(str(error)) from error
    except ValidationError as error:
        raise CliError(
            "审计日志中有无法还原的事件，请先运行 duban audit verify / an audit row no longer reads as an"
            " event; run `duban audit verify` to locate it"
        ) from error
    path = Path(args.file)
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as error:
        raise CliError(f"无法写入 {path} / cannot write the bundle: {error.strerror}", 2) from error
    print(
        f"已导出 {len(lines) - 2} 条事件 / exported {len(lines) - 2} events"
        f" (checkpoint size {checkpoint.size}) → {path}"
    )
    return 0


def _replayed(settings: Settings, item_id: str, until: datetime | None) -> ItemState:
    events = run_with_sessions(settings, lambda sessions: EventLog(sessions).read(item_id, until=until))
    if until is None and not events:
        raise CliError(f"审计日志中没有事项 {item_id} / no such item in the audit log", 2)
    return fold(events, ItemState(id=item_id))


def cmd_replay(settings: Settings, args: argparse.Namespace) -> int:
    """Print the item's state folded from its events up to --as-of (or all of them)."""
    if args.as_of is not None and not _replayed(settings, args.item, None).opened:
        raise CliError(f"审计日志中没有事项 {args.item} / no such item in the audit log", 2)
    state = _replayed(settings, args.item, args.as_of)
    print_state(state, args.as_of.isoformat() if args.as_of else "现在 / now", args.json)
    return 0


def cmd_diff(settings: Settings, args: argparse.Namespace) -> int:
    """Print what changed in the item between T1 and T2, field by field."""
    before = _replayed(settings, args.item, args.t1)
    after = _replayed(settings, args.item, args.t2)
    if not after.opened and not before.opened:
        raise CliError(f"事项 {args.item} 在这两个时点都不存在 / the item did not exist at either instant", 2)
    changes = state_changes(before, after)
    print(f"{args.item}: {args.t1.isoformat()} → {args.t2.isoformat()}，{len(changes)} 处变化 / changes")
    for line in changes:
        print(f"  {line}")
    return 0


def cmd_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    """Compare the item's audit log with its workflow history and state; non-zero on a difference."""

    async def run(sessions: async_sessionmaker[AsyncSession]) -> Reconciliation:
        try:
            client = await connect_temporal(settings)
        except RuntimeError as error:
            raise CliError(f"无法连接 Temporal {settings.temporal_address} / Temporal unreachable") from error
        try:
            return await reconcile(client, EventLog(sessions), args.item)
        except RPCError as error:
            raise CliError(
                f"无法读取事项 {args.item} 的工作流 / cannot read its workflow: {error.message}"
            ) from error

    result = run_with_sessions(settings, run)
    summary = (
        f"{args.item}: {result.updates} 次办理 updates, 工作流记录 {result.history_events} 条"
        f" / recorded events, 审计日志 {result.log_events} 条 / audit events"
    )
    if not result.ok:
        print(summary)
        for line in result.differences:
            print(f"  {line}")
        raise CliError(f"对账发现 {len(result.differences)} 处差异 / reconciliation found differences")
    print(f"{summary} — 一致 / in agreement")
    return 0
