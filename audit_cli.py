"""`duban audit …`: the auditor's commands, their parser and the standalone entry point.

This module imports only the standard library: each command's module is imported when the
command runs. `audit.offline` (`verify-bundle`) needs only the pure `ledger` and `domain`
packages, so `python -m audit_cli verify-bundle FILE --public-key KEY` runs on an auditor's
machine with no database, no server and none of the service's code; the commands that need the
database or Temporal live in `audit_commands`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, NoReturn

from cli_support import CliError, run_command

Command = Callable[[Any, argparse.Namespace], int]


def instant(text: str) -> datetime:
    """An ISO-8601 instant with a timezone (or a bare date: 18:00 Beijing), for argparse."""
    from audit.offline import instant as parse  # noqa: PLC0415 — pydantic only when an instant is given

    return parse(text)


def _command(module: str, name: str) -> Command:
    """`module.name`, imported only when the command runs."""

    def run(settings: Any, args: argparse.Namespace) -> int:
        command: Command = getattr(importlib.import_module(module), name)
        return command(settings, args)

    return run


def _online(name: str) -> Command:
    """A command of `audit_commands` (it needs the database or Temporal)."""
    return _command("audit_commands", name)


def add_audit_commands(commands: Any) -> None:
    """Register `audit` and its subcommands on the `duban` parser's subparsers."""
    audit = commands.add_parser("audit", help="审计工具 / the auditor's toolkit")
    sub = audit.add_subparsers(dest="audit_command", required=True, parser_class=type(audit))

    def command(name: str, run: Command, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = sub.add_parser(name, help=help_text)
        parser.set_defaults(run=run)
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
    offline = command(
        "verify-bundle",
        _command("audit.offline", "cmd_verify_bundle"),
        "离线校验导出包 / verify a bundle offline",
    )
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
        raise CliError(f"参数有误 / bad arguments: {message}", code=2)


def main(argv: Sequence[str] | None = None) -> int:
    """Standalone entry (`python -m audit_cli …`): the audit commands without the rest of duban."""

    def run() -> int:
        parser = _Parser(prog="audit_cli", description="督办审计 / duban audit")
        add_audit_commands(parser.add_subparsers(dest="command", required=True, parser_class=_Parser))
        args = parser.parse_args(["audit", *(argv if argv is not None else sys.argv[1:])])
        settings = (
            None if args.audit_command == "verify-bundle" else importlib.import_module("settings").Settings()
        )
        code: int = args.run(settings, args)
        return code

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
