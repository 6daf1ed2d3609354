"""One progress style for all long work (the sync's pages, a write-back's items): rich, on stderr.

Shown only when stderr is a terminal; cron and pipes get no progress output at all.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

MIN_ITEMS = 20
"""Below this many items a job is over before a bar would help."""


def progress_columns() -> tuple[Any, ...]:
    """Spinner, stage, bar, done/total, elapsed: the columns every progress display shows."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    return (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )


@contextmanager
def counting_progress(
    total: int, description: str, *, console: Any = None
) -> Iterator[Callable[[int], None] | None]:
    """Yield `advance(n)` driving a bar to `total`, or None when no bar should be shown.

    `console` (a rich Console) defaults to stderr, and then only when stderr is a terminal.
    """
    from rich.progress import Progress

    from simplymeet.cli.console import make_console

    if console is None:
        if not sys.stderr.isatty():
            yield None
            return
        console = make_console(stderr=True)
    if total < MIN_ITEMS:
        yield None
        return
    with Progress(*progress_columns(), console=console, transient=True) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int) -> None:
            progress.advance(task, n)

        yield advance
