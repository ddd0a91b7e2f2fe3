"""The HTTP edge: auth, schemas, error mapping, routers per resource (DESIGN.md, API contract)."""

from api.app import create_app

__all__ = ["create_app"]
