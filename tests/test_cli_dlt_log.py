"""dlt's own log stays off the terminal unless asked for: a command's lines say what happened,
its last naming the cause (a load failing on a full disk logged 1,600 lines of dlt's retries).
"""

from __future__ import annotations

import logging

import pytest

from tests.cli_support import run_cli


def _shown(level: int) -> bool:
    record = logging.LogRecord("dlt", level, __file__, 1, "a load job failed", None, None)
    return bool(logging.getLogger("dlt").filter(record))


@pytest.mark.parametrize("level", [logging.WARNING, logging.ERROR])
def test_dlt_log_is_off_the_terminal_at_the_default_verbosity(level, tmp_path):
    run_cli("sql", "--db", str(tmp_path / "none.duckdb"), "select 1")
    assert not _shown(level)


def test_dlt_log_is_shown_with_verbose(tmp_path):
    run_cli("sql", "--db", str(tmp_path / "none.duckdb"), "select 1")
    run_cli("-v", "sql", "--db", str(tmp_path / "none.duckdb"), "select 1")
    assert _shown(logging.WARNING)
