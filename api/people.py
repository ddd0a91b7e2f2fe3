"""/api/me: who the token says the caller is, as the org chart knows them."""

from __future__ import annotations

from fastapi import APIRouter

from api.auth import CurrentUser
from api.errors import error_responses
from api.schemas import UserPublic

router = APIRouter(prefix="/api", tags=["people"], responses=error_responses(401, 422, 503))


@router.get("/me", summary="当前用户 / the signed-in user")
async def me(user: CurrentUser) -> UserPublic:
    """The caller's user record: id, name, role, unit, title."""
    return UserPublic.model_validate(user)
