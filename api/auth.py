"""Bearer tokens (JWT HS256) that carry only who the user is; role and unit come from the org chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.errors import NotAuthenticated
from api.request_log import bind_request
from api.services import ServicesDep, get_services
from domain.people import Actor
from settings import Settings
from store.org import UserRecord

ALGORITHM = "HS256"
# Clocks of API replicas may drift a little; a token is not refused for a few seconds of skew.
LEEWAY = timedelta(seconds=30)
_SKEW = f"允许 {LEEWAY.seconds} 秒时钟偏差"
_SKEW_EN = f"{LEEWAY.seconds} s of clock skew allowed"

bearer = HTTPBearer(auto_error=False, description="`duban token USER_ID` prints a token")


def issue_token(settings: Settings, user_id: str, *, now: datetime | None = None) -> str:
    """A signed token for `user_id`, valid for `settings.jwt_ttl_hours`."""
    issued = now or datetime.now(UTC)
    claims = {"sub": user_id, "iat": issued, "exp": issued + timedelta(hours=settings.jwt_ttl_hours)}
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def user_id_from(settings: Settings, token: str) -> str:
    """The user id a valid token names; NotAuthenticated if it is forged, malformed, expired, issued in
    the future, or meant to live longer than JWT_TTL_HOURS. Clocks may differ by LEEWAY (30 s)."""
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            leeway=LEEWAY,
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise NotAuthenticated(
            f"登录已过期，请重新获取令牌（{_SKEW}）/ the token has expired ({_SKEW_EN})"
        ) from error
    except jwt.ImmatureSignatureError as error:
        raise NotAuthenticated(
            f"令牌的签发时间在未来（{_SKEW}）/ the token was issued in the future ({_SKEW_EN})"
        ) from error
    except jwt.InvalidTokenError as error:
        raise NotAuthenticated("令牌无效 / invalid token") from error
    # A leaked token must not outlive the configured lifetime, whatever `exp` it was signed with.
    if int(claims["exp"]) - int(claims["iat"]) > settings.jwt_ttl_hours * 3600:
        raise NotAuthenticated(
            f"令牌有效期超过 {settings.jwt_ttl_hours} 小时上限，请重新获取令牌 / "
            f"the token's lifetime exceeds the {settings.jwt_ttl_hours} h maximum"
        )
    return str(claims["sub"])


async def current_user(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> UserRecord:
    """The signed-in user, as the org chart knows them now."""
    if credentials is None:
        raise NotAuthenticated("需要登录：请提供 Bearer 令牌 / a bearer token is required")
    user_id = user_id_from(services.settings, credentials.credentials)
    user = await services.org.user(user_id)
    if user is None:
        raise NotAuthenticated(f"用户 {user_id} 不在组织架构中 / unknown user")
    bind_request(user=user.id, role=user.role.value)
    return user


CurrentUser = Annotated[UserRecord, Depends(current_user)]


def _signs_in(dependant: Dependant) -> bool:
    return any(sub.call is current_user or _signs_in(sub) for sub in dependant.dependencies)


async def authenticate_first(request: Request) -> None:
    """NotAuthenticated when the request's route needs a signed-in user and the token does not name one.

    FastAPI decodes a JSON body before it solves any dependency, so a malformed body answered 422
    before the token was even looked at; the JSON error handler calls this first (api/errors.py).
    """
    route = request.scope.get("route")
    if isinstance(route, APIRoute) and _signs_in(route.dependant):
        await current_user(get_services(request), await bearer(request))


async def current_actor(user: CurrentUser) -> Actor:
    """The signed-in user as the domain sees an actor."""
    return Actor(id=user.id, role=user.role, unit=user.unit, name=user.name)


CurrentActor = Annotated[Actor, Depends(current_actor)]
