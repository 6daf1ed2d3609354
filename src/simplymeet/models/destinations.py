"""Destinations the models are built and tested on (no heavy imports: read at CLI start)."""

from __future__ import annotations

DESTINATIONS: tuple[str, ...] = ("duckdb", "postgres")
"""Destinations the models are built and tested on (others: see sql/README.md)."""
