"""Tokens: 401 without one, with a bad or expired one, or for a user the org chart no longer has."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from api.auth import issue_token, user_id_from
from api.errors import NotAuthenticated
from settings import Settings
from tests.api.conftest import SUPERVISOR, Api


def _assert_401(response_status: int, headers: dict[str, str], detail: str) -> None:
    assert response_status == 401
    assert headers.get("www-authenticate") == "Bearer"
    assert detail


async def test_no_token_is_401(api: Api) -> None:
    response = await api.http.get("/api/items")
    _assert_401(response.status_code, dict(response.headers), response.json()["detail"])
    assert "令牌" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Basic c3VwLXpoYW5nOng=", "Bearer "])
async def test_a_bad_token_is_401(api: Api, header: str) -> None:
    response = await api.http.get("/api/items", headers={"Authorization": header})
    _assert_401(response.status_code, dict(response.headers), response.json()["detail"])


async def test_an_expired_token_is_401(api: Api) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=api.settings.jwt_ttl_hours + 1)
    token = issue_token(api.settings, SUPERVISOR, now=long_ago)
    response = await api.http.get("/api/items", headers={"Authorization": f"Bearer {token}"})
    _assert_401(response.status_code, dict(response.headers), response.json()["detail"])
    assert "过期" in response.json()["detail"]


async def test_a_token_signed_with_another_secret_is_401(api: Api) -> None:
    now = datetime.now(UTC)
    forged = jwt.encode(
        {"sub": SUPERVISOR, "iat": now, "exp": now + timedelta(hours=1)}, "x" * 32, algorithm="HS256"
    )
    response = await api.http.get("/api/items", headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_a_user_missing_from_the_org_chart_is_401(api: Api) -> None:
    response = await api.get("/api/items", "someone-who-left")
    assert response.status_code == 401
    assert "someone-who-left" in response.json()["detail"]


def test_a_token_names_only_the_user(api_settings_secret: str) -> None:
    settings = Settings(_env_file=None, jwt_secret=api_settings_secret)
    token = issue_token(settings, "fgw-li")
    assert user_id_from(settings, token) == "fgw-li"
    assert set(jwt.decode(token, api_settings_secret, algorithms=["HS256"])) == {"sub", "iat", "exp"}
    with pytest.raises(NotAuthenticated):
        user_id_from(
            settings.model_copy(update={"jwt_secret": "another-secret-that-is-long-enough-for-hs256"}), token
        )


@pytest.fixture
def api_settings_secret() -> str:
    """A secret long enough for HS256."""
    return "a-test-secret-that-is-long-enough-for-hs256"


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt"])
@pytest.mark.parametrize(
    "path", ["/api/items", "/api/items/any-id/actions/urge", "/api/me/notifications/1/read"]
)
async def test_a_malformed_body_without_a_valid_token_is_401_not_422(
    api: Api, header: str | None, path: str
) -> None:
    headers = {"Content-Type": "application/json", **({"Authorization": header} if header else {})}
    response = await api.http.post(path, content=b'{"title": ', headers=headers)
    _assert_401(response.status_code, dict(response.headers), response.json()["detail"])


async def test_a_malformed_body_with_a_valid_token_is_still_422(api: Api) -> None:
    response = await api.post(
        "/api/items", SUPERVISOR, content=b'{"title": ', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"].startswith("请求内容有误")
