"""Deterministic orchestration: one workflow per tracked item."""
