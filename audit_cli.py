"""`duban audit …`: the auditor's commands.

This module imports only the pure `ledger` package, `domain` and the standard library, so
`python -m audit_cli verify-bundle FILE --public-key KEY` runs on an auditor's machine with no
database, no server and none of the service's code; the commands that need the database or
Temporal live in `audit.commands` and are imported when one of them runs.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import TypeAdapter, ValidationError

from domain.fold import fold
from domain.instants import Instant
from domain.state import ItemState
from ledger.bundle import bundle_events, verify_bundle
from ledger.checkpoint import BadKey, Signer, public_key_from_pem

Command = Callable[[Any, argparse.Namespace], int]
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


class AuditFailure(Exception):
    """An expected failure of an audit command: one line, and the exit code."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def instant(text: str) -> datetime:
    """An ISO-8601 instant with a timezone (or a bare date: 18:00 Beijing), for argparse."""
    try:
        return _INSTANT.validate_python(text)
    except ValidationError as error:
        raise argparse.ArgumentTypeError(f"{text}: {error.errors()[0]['msg']}") from error


def state_summary(state: ItemState, when: str) -> str:
    """A few readable lines: the item, its stage and light, and how many events made it."""
    if not state.opened:
        return f"{state.id}：{when} 尚未立项 / not yet opened ({state.last_seq} events)"
    lines = [
        f"{state.number} {state.title}",
        f"  时点 as of    {when}",
        f"  阶段 stage    {state.stage.label}",
        f"  灯 light      {state.light.value}",
        f"  事件 events   {state.last_seq}",
    ]
    return "\n".join(lines)


def print_state(state: ItemState, when: str, as_json: bool) -> None:
    """Print a replayed state, as a summary or as JSON."""
    if as_json:
        print(json.dumps(state.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        print(state_summary(state, when))


def read_public_key(path: Path) -> Ed25519PublicKey:
    """The public key in a PEM file: a public key, or a private key's public half."""
    try:
        pem = path.read_bytes()
    except OSError as error:
        raise AuditFailure(
            f"无法读取公钥 {path} / cannot read the public key: {error.strerror}", 2
        ) from error
    try:
        return public_key_from_pem(pem)
    except BadKey:
        try:
            return Signer.from_pem(pem).public
        except BadKey as error:
            raise AuditFailure(f"{path}: {error}", 2) from error


def cmd_verify_bundle(settings: Any, args: argparse.Namespace) -> int:
    """Verify an export bundle offline; with --replay, print an item's state from the bundle alone."""
    public_key = read_public_key(Path(args.public_key))
    path = Path(args.file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise AuditFailure(f"无法读取导出包 {path} / cannot read the bundle: {error}", 2) from error
    report = verify_bundle(lines, public_key)
    if not report.ok:
        raise AuditFailure(report.one_line())
    print(f"导出包完好 / bundle verified: {report.items_checked} items, {report.events_checked} events")
    if args.replay:
        events = bundle_events(lines, args.replay)
        if not events:
            raise AuditFailure(f"导出包中没有事项 {args.replay} / no such item in the bundle", 2)
        if args.as_of is not None:
            events = [event for event in events if event.occurred_at <= args.as_of]
        when = args.as_of.isoformat() if args.as_of is not None else "导出时 / at export"
        print_state(fold(events, ItemState(id=args.replay)), when, args.json)
    return 0


def _online(name: str) -> Command:
    """A command of `audit.commands`, imported only when it runs (it needs the database or Temporal)."""

    def run(settings: Any, args: argparse.Namespace) -> int:
        command: Command = getattr(importlib.import_module("audit.commands"), name)
        return command(settings, args)

    return run


def _guarded(command: Command) -> Command:
    def run(settings: Any, args: argparse.Namespace) -> int:
        try:
            return command(settings, args)
        except AuditFailure as failure:
            print(f"duban: {failure}", file=sys.stderr)
            return failure.code

    return run


def add_audit_commands(commands: Any) -> None:
    """Register `audit` and its subcommands on the `duban` parser's subparsers."""
    audit = commands.add_parser("audit", help="审计工具 / the auditor's toolkit")
    sub = audit.add_subparsers(dest="audit_command", required=True, parser_class=type(audit))

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.set_defaults(run=_guarded(run))
        return parser

    verify = command(
        "verify", _online("cmd_verify"), "校验审计链、账本与检查点 / verify log, ledger, checkpoints"
    )
    verify.add_argument("item", nargs="?", metavar="ITEM", help="只校验这一事项 / only this item")
    verify.add_argument("--public-key", metavar="KEY", help="检查点公钥 / checkpoint public key (PEM)")
    verify.add_argument(
        "--checkpoint", action="append", default=[], metavar="FILE", help="另核对已发布的检查点 / published"
    )
    verify.add_argument(
        "--no-workflows",
        action="store_true",
        help="不对照工作流状态（Temporal 不可达时）/ skip comparing each item's workflow with its log",
    )
    keygen = command("keygen", _online("cmd_keygen"), "生成检查点签名密钥 / create the signing key")
    keygen.add_argument("--out", metavar="PATH", help="密钥文件 / key file (default: AUDIT_SIGNER_FILE)")
    checkpoint = command("checkpoint", _online("cmd_checkpoint"), "封存并签署检查点 / seal and sign now")
    checkpoint.add_argument("--out", metavar="DIR", help="把检查点写成文件 / also write it as a file")
    export = command("export", _online("cmd_export"), "导出审计包 / write the export bundle")
    export.add_argument("file", metavar="FILE")
    offline = command("verify-bundle", cmd_verify_bundle, "离线校验导出包 / verify a bundle offline")
    offline.add_argument("file", metavar="FILE")
    offline.add_argument("--public-key", required=True, metavar="KEY")
    offline.add_argument("--replay", metavar="ITEM", help="从导出包回放事项 / replay an item from the bundle")
    offline.add_argument("--as-of", type=instant, metavar="ISO")
    offline.add_argument("--json", action="store_true", help="JSON output")
    replay = command("replay", _online("cmd_replay"), "回放事项在某时点的状态 / state as of an instant")
    replay.add_argument("item", metavar="ITEM")
    replay.add_argument("--as-of", type=instant, metavar="ISO")
    replay.add_argument("--json", action="store_true", help="JSON output")
    diff = command("diff", _online("cmd_diff"), "两时点之间的变化 / what changed between two instants")
    diff.add_argument("item", metavar="ITEM")
    diff.add_argument("t1", type=instant, metavar="T1")
    diff.add_argument("t2", type=instant, metavar="T2")
    reconcile = command("reconcile", _online("cmd_reconcile"), "与工作流历史对账 / reconcile with Temporal")
    reconcile.add_argument("item", metavar="ITEM")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"duban: 参数有误 / bad arguments: {message}", file=sys.stderr)
        sys.exit(2)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (`python -m audit_cli …`): the audit commands without the rest of duban."""
    parser = _Parser(prog="audit_cli", description="督办审计 / duban audit")
    add_audit_commands(parser.add_subparsers(dest="command", required=True, parser_class=_Parser))
    args = parser.parse_args(["audit", *(argv if argv is not None else sys.argv[1:])])
    settings = (
        None if args.audit_command == "verify-bundle" else importlib.import_module("settings").Settings()
    )
    code: int = args.run(settings, args)
    return code


if __name__ == "__main__":
    sys.exit(main())
