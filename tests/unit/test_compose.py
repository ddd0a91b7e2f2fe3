"""The production shape: docker-compose.yml and the Dockerfile agree with each other and with the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
APP_SERVICES = ("migrate", "api", "worker")
SECRET_NAME = re.compile(r"SECRET|PASSWORD|PWD|TOKEN|KEY", re.IGNORECASE)
REQUIRED_VARIABLE = re.compile(r"^\$\{[A-Z_]+:\?[^}]+\}$")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def _dockerfile_instructions() -> list[tuple[str, str]]:
    joined = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (parts[0].upper(), parts[1] if len(parts) > 1 else "")
        for line in lines
        if line and not line.startswith("#")
        for parts in [line.split(None, 1)]
    ]


def test_compose_runs_the_production_services(services: dict[str, dict[str, Any]]) -> None:
    assert set(services) == {
        "postgres",
        "temporal",
        "temporal-ui",
        "migrate",
        "api",
        "worker",
        "prometheus",
        "grafana",
    }


def test_api_worker_and_migrate_run_the_same_image_build(services: dict[str, dict[str, Any]]) -> None:
    images = {services[name]["image"] for name in APP_SERVICES}
    builds = [services[name]["build"] for name in APP_SERVICES]
    assert len(images) == 1
    assert all(build == builds[0] for build in builds)
    assert builds[0]["context"] == "."


def test_app_services_run_the_parts_the_cli_offers(services: dict[str, dict[str, Any]]) -> None:
    parser = build_parser()
    for name in APP_SERVICES:
        (subcommand,) = services[name]["command"]
        assert subcommand == name
        assert parser.parse_args([subcommand]).command == subcommand


def test_the_cli_offers_every_subcommand_compose_and_the_readme_use() -> None:
    parser = build_parser()
    for subcommand in ("up", "api", "worker", "migrate", "users"):
        assert parser.parse_args([subcommand]).command == subcommand


def test_every_dependency_exists_and_waits_on_a_condition(services: dict[str, dict[str, Any]]) -> None:
    conditions = {"service_started", "service_healthy", "service_completed_successfully"}
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on must name a condition per service"
        for target, rule in depends_on.items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert rule["condition"] in conditions, f"{name} → {target}"
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in services[target], (
                    f"{name} waits for {target}, which has no healthcheck"
                )


def test_app_starts_after_migration_and_a_healthy_temporal(services: dict[str, dict[str, Any]]) -> None:
    for name in ("api", "worker"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["temporal"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["migrate"]["restart"] == "no"
    assert services["temporal"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_database_temporal_and_api_have_healthchecks(services: dict[str, dict[str, Any]]) -> None:
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert "health" in services["temporal"]["healthcheck"]["test"]
    api_check = " ".join(services["api"]["healthcheck"]["test"])
    assert "/readyz" in api_check  # readiness: database and Temporal answer
    assert "urllib" in api_check


def _mounted(service: dict[str, Any], target: str) -> Path:
    """The repository path a service mounts read-only at `target`."""
    for volume in service["volumes"]:
        source, _, rest = volume.partition(":")
        if rest in (f"{target}:ro",):
            return ROOT / source
    raise AssertionError(f"nothing mounted read-only at {target}")


def test_prometheus_scrapes_the_api_and_every_worker_where_they_serve(
    services: dict[str, dict[str, Any]],
) -> None:
    config = yaml.safe_load(_mounted(services["prometheus"], "/etc/prometheus/prometheus.yml").read_text())
    targets = {
        name: (job["metrics_path"], job["dns_sd_configs"][0]["port"])
        for job in config["scrape_configs"]
        for name in job["dns_sd_configs"][0]["names"]
    }
    worker_port = int(_environment(services["worker"])["WORKER_METRICS_ADDRESS"].rsplit(":", 1)[1])
    assert targets == {
        "api": ("/metrics", int(_environment(services["api"])["API_PORT"])),
        "worker": ("/metrics", worker_port),
    }
    assert f":{worker_port}/metrics" in " ".join(services["worker"]["healthcheck"]["test"])
    (api_job,) = (job for job in config["scrape_configs"] if job["dns_sd_configs"][0]["names"] == ["api"])
    token_file = api_job["authorization"]["credentials_file"]
    assert api_job["authorization"]["type"] == "Bearer"
    assert any(volume.endswith(f":{token_file}:ro") for volume in services["prometheus"]["volumes"])
    assert _environment(services["api"])["METRICS_TOKEN"].startswith("${METRICS_TOKEN:?")
    for name in ("prometheus", "grafana"):
        assert all(host == "127.0.0.1" for host, _ in _published(services[name])), f"{name} is for this host"


def test_grafana_provisions_the_dashboard_on_the_datasource_its_panels_name(
    services: dict[str, dict[str, Any]],
) -> None:
    grafana = services["grafana"]
    provisioning = _mounted(grafana, "/etc/grafana/provisioning")
    dashboards = _mounted(grafana, "/var/lib/grafana/dashboards")
    (source,) = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())["datasources"]
    assert source["url"] == "http://prometheus:9090"
    (provider,) = yaml.safe_load((provisioning / "dashboards" / "duban.yml").read_text())["providers"]
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    panels = json.loads((dashboards / "duban.json").read_text(encoding="utf-8"))["panels"]
    named = {panel["datasource"]["uid"] for panel in panels if panel["type"] != "row"}
    assert named == {source["uid"]}


def test_temporal_persists_in_the_database_service(services: dict[str, dict[str, Any]]) -> None:
    env = _environment(services["temporal"])
    assert env["DB"] == "postgres12"
    assert env["POSTGRES_SEEDS"] == "postgres"
    assert _environment(services["temporal-ui"])["TEMPORAL_ADDRESS"] == "temporal:7233"
    assert any(v.startswith("postgres-data:") for v in services["postgres"]["volumes"])


def _published(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(host address, container port) of each published port; "" is every interface."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((str(port.get("host_ip", "")), str(port["target"])))
            continue
        parts = str(port).split(":")
        found.append((parts[0] if len(parts) == 3 else "", parts[-1]))
    return found


def test_temporal_is_not_published_beyond_the_host_and_the_api_is(
    services: dict[str, dict[str, Any]],
) -> None:
    assert _published(services["temporal"]) == []  # the frontend: anyone reaching it commands every workflow
    for host, _ in _published(services["temporal-ui"]):
        assert host in ("127.0.0.1", "::1"), "the Temporal UI has no login: bind it to loopback"
    for name, service in services.items():
        for host, port in _published(service):
            assert port not in ("7233", "8233") or host in ("127.0.0.1", "::1"), f"{name} publishes {port}"
    assert _published(services["api"]) == [("", "8000")]


def test_app_services_read_their_secrets_from_a_read_only_mount(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert "./secrets:/run/secrets:ro" in services[name]["volumes"]
        assert env["AUDIT_SIGNER_FILE"].startswith("/run/secrets/")
        assert env["UNIT_SECRETS_FILE"].startswith("/run/secrets/")


def test_app_services_are_configured_for_production(services: dict[str, dict[str, Any]]) -> None:
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert env["ENVIRONMENT"] == "production"
        assert env["TEMPORAL_ADDRESS"] == "temporal:7233"
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://duban:")
        assert env["DATABASE_URL"].endswith("@postgres:5432/duban")
        assert REQUIRED_VARIABLE.match(env["JWT_SECRET"])
        assert REQUIRED_VARIABLE.match(env["ACTION_SIGNING_KEY"])
    assert _environment(services["api"])["API_HOST"] == "0.0.0.0"  # noqa: S104 — inside its container
    assert "8000:8000" in services["api"]["ports"]
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_no_secret_has_a_default(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key) and not key.endswith("_FILE"):  # a path names where a secret is
                assert REQUIRED_VARIABLE.match(value), f"{name}.{key} must be ${{{key}:?…}}, not {value!r}"
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    assert not re.search(r"\$\{\w*(SECRET|PASSWORD|PWD|TOKEN)\w*:?-", text), "a secret has a default"
    assert "duban-embedded-demo-secret" not in text


def test_every_image_is_pinned(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: image {image} has no tag"
        assert tag != "latest"
        assert re.search(r"\d+\.\d+", tag), f"{name}: {image} is not pinned to a version"


def test_dockerfile_runs_duban_as_a_non_root_user_without_test_dependencies() -> None:
    instructions = _dockerfile_instructions()
    froms = [arg for op, arg in instructions if op == "FROM"]
    assert froms
    # Python stages, besides the node stage that only installs the pages' assets.
    assert all(arg.startswith(("python:3.11", "node:")) for arg in froms)
    assert froms[-1].startswith("python:3.11")
    users = [arg for op, arg in instructions if op == "USER"]
    assert users
    assert users[-1] not in ("root", "0")
    assert [arg for op, arg in instructions if op == "ENTRYPOINT"] == ['["duban"]']
    runs = " ".join(arg for op, arg in instructions if op == "RUN")
    assert "pip install" in runs
    assert "[test]" not in runs
    assert "-e " not in runs


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".env", ".git", ".venv", "data", "*.db", "tests"):
        assert entry in ignored


def _compose_cli() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        if os.environ.get("DUBAN_REQUIRE_COMPOSE_CLI") == "1":
            pytest.fail("DUBAN_REQUIRE_COMPOSE_CLI=1 but docker-compose is not installed")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    return found


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    secrets = ("JWT_SECRET", "ACTION_SIGNING_KEY", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD")
    keep = {k: v for k, v in os.environ.items() if k not in secrets}
    return subprocess.run(  # noqa: S603 — a fixed argument list
        [_compose_cli(), "--file", str(COMPOSE_FILE), "config", "--quiet"],
        env={**keep, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_docker_compose_accepts_the_file_when_the_secrets_are_set() -> None:
    result = _compose_config(
        {
            "JWT_SECRET": "a-real-secret",
            "ACTION_SIGNING_KEY": "a-real-key",
            "POSTGRES_PASSWORD": "a-real-password",
            "GRAFANA_ADMIN_PASSWORD": "a-real-password",
            "METRICS_TOKEN": "a-real-token",
        }
    )
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_start_without_a_jwt_secret() -> None:
    result = _compose_config({"ACTION_SIGNING_KEY": "a-real-key", "POSTGRES_PASSWORD": "a-real-password"})
    assert result.returncode != 0
    assert "JWT_SECRET" in result.stderr


def test_the_image_builds_htmx_and_echarts_from_the_lockfile_into_the_wheel() -> None:
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    # A pinned node stage installs exactly what package-lock.json says (npm ci, never npm install).
    stage = re.search(r"^FROM (node:[\w.-]+) AS (\w+)$", dockerfile, re.MULTILINE)
    assert stage is not None
    assert re.fullmatch(r"node:\d+\.\d+\.\d+-[\w-]+", stage[1])
    assert "COPY package.json package-lock.json ./" in dockerfile
    assert re.search(r"^RUN npm ci\b", dockerfile, re.MULTILINE)
    # Each file the Makefile vendors lands where the app serves it, before the wheel is built.
    vendored = dict(re.findall(r"^(\w+) := (pages/static/vendor/\S+)$", makefile, re.MULTILINE))
    assert set(vendored) == {"HTMX", "ECHARTS"}
    venv = re.search(r"^venv: (.*)$", makefile, re.MULTILINE)
    assert venv is not None
    for name, target in vendored.items():
        assert f"$({name})" in venv[1].split()
        rule = re.search(rf"^\$\({name}\):.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
        assert rule is not None, name
        made = re.search(r"^\tcp (node_modules/\S+) \$@$", rule[1], re.MULTILINE)
        assert made is not None, name
        copy = f"COPY --from={stage[2]} /assets/{made[1]} {target}"
        assert copy in dockerfile
        assert dockerfile.index(copy) < dockerfile.index("RUN pip wheel")
    assert dockerfile.index("FROM python") > dockerfile.index(stage[0])
    # The wheel includes them (and the pages' own scripts), and the host's own copies never reach
    # the build context.
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"static/vendor/*.js"' in pyproject
    assert '"static/*.js"' in pyproject
    assert {"node_modules", "pages/static/vendor"} <= set(ignored)
