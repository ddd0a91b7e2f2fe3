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


def _signed(settings: Settings, **claims: object) -> str:
    return jwt.encode({"sub": SUPERVISOR, **claims}, settings.jwt_secret, algorithm="HS256")


async def test_a_token_meant_to_live_longer_than_the_ttl_is_401(api: Api) -> None:
    now = datetime.now(UTC)
    year_2300 = _signed(api.settings, iat=now, exp=datetime(2300, 1, 1, tzinfo=UTC))
    just_over = _signed(
        api.settings, iat=now, exp=now + timedelta(hours=api.settings.jwt_ttl_hours, seconds=1)
    )
    for token in (year_2300, just_over):
        response = await api.http.get("/api/items", headers={"Authorization": f"Bearer {token}"})
        _assert_401(response.status_code, dict(response.headers), response.json()["detail"])
        assert f"{api.settings.jwt_ttl_hours} 小时上限" in response.json()["detail"]
    exactly = _signed(api.settings, iat=now, exp=now + timedelta(hours=api.settings.jwt_ttl_hours))
    assert (
        await api.http.get("/api/items", headers={"Authorization": f"Bearer {exactly}"})
    ).status_code == 200


async def test_a_token_issued_in_the_future_is_401_past_the_30_second_leeway(api: Api) -> None:
    def issued_in(seconds: int) -> dict[str, str]:
        iat = datetime.now(UTC) + timedelta(seconds=seconds)
        return {"Authorization": f"Bearer {_signed(api.settings, iat=iat, exp=iat + timedelta(hours=1))}"}

    future = await api.http.get("/api/items", headers=issued_in(120))
    _assert_401(future.status_code, dict(future.headers), future.json()["detail"])
    assert "签发时间在未来" in future.json()["detail"]
    assert "30" in future.json()["detail"]
    assert (await api.http.get("/api/items", headers=issued_in(10))).status_code == 200
