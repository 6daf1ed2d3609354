"""One progress style for long work: the write-back's item bar is the sync's rich bar."""

from __future__ import annotations

import io

from rich.console import Console

from simplymeet.cli.progress import MIN_ITEMS, counting_progress


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=80), out


def test_progress_counts_items_up_to_the_total():
    console, out = _terminal()

    with counting_progress(40, "sending", console=console) as advance:
        assert advance is not None
        for _ in range(40):
            advance(1)

    assert "sending" in out.getvalue()
    assert "40/40" in out.getvalue()


def test_progress_is_silent_for_a_few_items():
    console, out = _terminal()

    with counting_progress(MIN_ITEMS - 1, "sending", console=console) as advance:
        assert advance is None

    assert out.getvalue() == ""


def test_progress_is_silent_when_stderr_is_not_a_terminal():
    # pytest captures stderr: not a terminal, as under cron
    with counting_progress(1000, "sending") as advance:
        assert advance is None
