"""End-to-end tests reuse the API harness: real HTTP into the app, the dev server, a real worker."""

from tests.api.conftest import api

__all__ = ["api"]
