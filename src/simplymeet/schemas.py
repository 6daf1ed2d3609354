"""The warehouse schemas the product writes beside the sync's dataset.

Their names live here, free of imports, so that the settings can refuse a dataset named like
one of them: a sync into `analytics` or `writeback` would add its account column to the
models' or the journal's tables, and every later build or write-back would fail on them.
"""

from __future__ import annotations

MODELS_SCHEMA = "analytics"
"""Schema the models (and their seed tables) are written to."""

JOURNAL_SCHEMA = "writeback"
"""Schema of the write-back journal."""

OWN_SCHEMAS: tuple[str, ...] = (MODELS_SCHEMA, JOURNAL_SCHEMA)
"""Schemas no dataset may be named after."""
