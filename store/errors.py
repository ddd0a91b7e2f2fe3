"""The store's exceptions; the edges translate them once (HTTP, CLI, activities)."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error the store raises on purpose."""
