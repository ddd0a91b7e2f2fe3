"""The HTTP edge: auth, schemas, error mapping, routers per resource (README: the API)."""

from api.app import create_app

__all__ = ["create_app"]
