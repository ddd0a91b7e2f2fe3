"""The worker process: `python worker.py` (or `duban worker`) runs it until SIGINT or SIGTERM.

What a worker is made of — its workflows, activities, interceptors and schedules — is built in
`bootstrap.py`, the one composition root shared with the API and the CLI; this module is the
worker's door, kept at the top level so that operators and images find it where they look.
"""

from __future__ import annotations

import sys

from bootstrap import build_worker, checkpoint_worker, run_worker

__all__ = ["build_worker", "checkpoint_worker", "main", "run_worker"]


def main() -> int:
    """Run the worker as `duban worker` does: one line and exit 2 for a setting that is unusable."""
    from cli import main as duban  # noqa: PLC0415 — the CLI's error handling, only when run

    return duban(["worker", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
