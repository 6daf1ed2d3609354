"""The Rich console every command prints through."""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import Iterable
from typing import Any

from rich.console import Console
from rich.segment import Segment

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters but line feed and tab, and the direction overrides and isolates that a
terminal applying right-to-left order obeys (`12` read as `21` after U+202E)."""


def written_out(text: str) -> str:
    """`text` with every character `_CONTROLS` names written out (`\\x1b`, `\\u202e`)."""
    return _CONTROLS.sub(_written, text)


def _written(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class _Console(Console):
    """A Rich console that prints text as it is and stops as `sql` does when the reader of
    its output goes away (`simplymeet report | head`): quietly, exit 141 (a program ended by
    SIGPIPE), not Rich's silent exit 1, which a scheduler reads as a failure."""

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        # What is printed comes from the server and from people, and is shown, never obeyed:
        # an escape sequence in a host's name cleared the screen or hid every figure after
        # it. Rich's own styling is kept: it comes as styles and control segments, not text.
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
