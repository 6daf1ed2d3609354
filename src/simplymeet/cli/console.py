"""The Rich console every command prints through."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from rich.console import Console


class _Console(Console):
    """A Rich console that prints text as it is and stops as `sql` does when the reader of
    its output goes away (`simplymeet report | head`): quietly, exit 141 (a program ended by
    SIGPIPE), not Rich's silent exit 1, which a scheduler reads as a failure."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise SystemExit(128 + signal.SIGPIPE)


def make_console(**options: Any) -> Console:
    """A console for a command's output (`stderr=True` for its notes). Markup is off: names,
    reasons and fields come from the server and from people (`[/x] Bob` is a name, and Rich
    would refuse it, or `[bold]Ann` would print as Ann)."""
    return _Console(markup=False, **options)
