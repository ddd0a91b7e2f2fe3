"""The action signing key: shared by the API and the workers, never a public default in production."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import TEST_ACTION_KEY, Settings


def test_the_embedded_key_is_created_once_private_and_the_same_for_every_process(tmp_path: Path) -> None:
    settings = [Settings(_env_file=None, data_dir=tmp_path) for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(Settings.resolved_action_key, settings))
    (key,) = keys
    assert len(key) == 64
    assert (tmp_path / "action-signing.key").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["action-signing.key"]


def test_a_configured_key_wins_and_tests_share_a_fixed_one(tmp_path: Path) -> None:
    configured = Settings(_env_file=None, data_dir=tmp_path, action_signing_key="k-123")
    assert configured.resolved_action_key() == b"k-123"
    assert Settings(_env_file=None, environment="test").resolved_action_key() == TEST_ACTION_KEY


def test_production_refuses_to_start_without_an_action_signing_key() -> None:
    with pytest.raises(ValidationError, match="ACTION_SIGNING_KEY"):
        Settings(
            _env_file=None,
            environment="production",
            jwt_secret="a-real-secret",
            audit_signer_file=Path("/run/secrets/audit.key"),
        )
