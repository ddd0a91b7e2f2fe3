"""The audit commands that need nothing but the pure `ledger` and `domain` packages.

`verify-bundle` runs on an auditor's machine with no database, no server and none of the
service's code; the helpers here (reading a public key, printing a replayed state) are shared
with the online commands in `audit_commands`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import TypeAdapter, ValidationError

from cli_support import CliError
from domain.fold import fold
from domain.instants import Instant
from domain.state import ItemState
from ledger.bundle import bundle_events, verify_bundle
from ledger.checkpoint import BadKey, Signer, public_key_from_pem

Command = Callable[[Any, argparse.Namespace], int]
_INSTANT: TypeAdapter[datetime] = TypeAdapter(Instant)


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
        raise CliError(f"无法读取公钥 {path} / cannot read the public key: {error.strerror}", 2) from error
    try:
        return public_key_from_pem(pem)
    except BadKey:
        try:
            return Signer.from_pem(pem).public
        except BadKey as error:
            raise CliError(f"{path}: {error}", 2) from error


def cmd_verify_bundle(settings: Any, args: argparse.Namespace) -> int:
    """Verify an export bundle offline; with --replay, print an item's state from the bundle alone."""
    public_key = read_public_key(Path(args.public_key))
    path = Path(args.file)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"无法读取导出包 {path} / cannot read the bundle: {error}", 2) from error
    report = verify_bundle(lines, public_key)
    if not report.ok:
        raise CliError(report.one_line())
    print(f"导出包完好 / bundle verified: {report.items_checked} items, {report.events_checked} events")
    if args.replay:
        events = bundle_events(lines, args.replay)
        if not events:
            raise CliError(f"导出包中没有事项 {args.replay} / no such item in the bundle", 2)
        if args.as_of is not None:
            events = [event for event in events if event.occurred_at <= args.as_of]
        when = args.as_of.isoformat() if args.as_of is not None else "导出时 / at export"
        print_state(fold(events, ItemState(id=args.replay)), when, args.json)
    return 0
