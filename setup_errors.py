"""The one base of "this configured thing cannot be used" errors (standard library only).

A missing signing key, a secrets file readable by others, a metrics address already taken: each
module raises its own subclass with a message that says what to do, and every command prints
it as one line and exits with 2 (`cli_support.run_command`), never a traceback.
"""

from __future__ import annotations


class SetupUnusable(Exception):
    """A configured file, key or address cannot be used; the message says what to do."""
