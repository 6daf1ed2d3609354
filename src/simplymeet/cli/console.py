"""The Rich console every command prints through."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment
from rich.text import Text

from simplymeet.cli.shown import written_out


class _Console(Console):
    """A Rich console that prints text as it is and stops as `sql` does when the reader of
    its output goes away (`simplymeet report | head`): quietly, exit 141 (a program ended by
    SIGPIPE), not Rich's silent exit 1, which a scheduler reads as a failure."""

    def render_str(self, text: str, **options: Any) -> Text:
        # What is printed comes from the server and from people, and is shown, never obeyed:
        # an escape sequence in a host's name cleared the screen or hid every figure after
        # it. Written out before Rich measures it, so a table's columns still line up.
        return super().render_str(written_out(text), **options)

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        # And whatever reached the output some other way (a `Text` made elsewhere). Rich's
        # own styling is kept: it comes as styles and control segments, not text.
        return super()._render_buffer(
            segment if segment.control else Segment(written_out(segment.text), segment.style)
            for segment in buffer
        )

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
