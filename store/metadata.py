"""The one `MetaData` every table module joins, and the width of the short keys they share.

It imports nothing of the store, so `store.schema` and each `store.*_tables` module can build
on it without importing one another in a circle.
"""

from __future__ import annotations

from sqlalchemy import MetaData

metadata = MetaData()

ID = 128  # item, event, unit and user ids are short keys chosen by callers
