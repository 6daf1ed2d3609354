"""The `simplymeet` program's entry point.

Importing the command line takes a moment; a Ctrl-C (or SIGINT from a scheduler) that lands
then ends the program as one during a command does, with one line and exit 130, not with a
traceback: nothing has been done yet.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

from simplymeet.interruptions import (
    Terminated,
    interrupted_exit_code,
    received,
    signal_inside,
)

__all__ = [
    "INTERRUPTED",
    "Terminated",
    "interrupted_exit_code",
    "raise_deferred",
    "signal_inside",
    "take_interrupts",
    "take_terminations",
]

REDELIVER_SECONDS = 0.05
"""How soon a signal that came in the middle of an import is delivered again."""

_deferred: list[int] = []
"""A stop signal that came in the middle of an import, not raised yet."""


def _importing(frame: FrameType | None) -> bool:
    """Whether `frame` runs inside Python's import machinery."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _stop(signum: int, frame: FrameType | None) -> None:
    """Raise the signal's exception, unless the main thread is importing a module: raised
    there, it could leave an import lock held (a read-ahead thread importing beside it then
    waits for ever: the command hung) or be swallowed by the import machinery (the command
    ran on to exit 0). Then the signal is delivered again shortly, until it lands outside."""
    if _importing(frame):
        _deferred[:] = [signum]
        redeliver = threading.Timer(REDELIVER_SECONDS, _redeliver)
        redeliver.daemon = True
        redeliver.start()
        return
    _raise(signum)


def _redeliver() -> None:
    if _deferred:
        os.kill(os.getpid(), _deferred[0])


def _raise(signum: int) -> None:
    _deferred.clear()
    received.append(signum)
    raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt


def raise_deferred() -> None:
    """Raise a stop signal that came during an import now, where one is pending."""
    if _deferred:
        _raise(_deferred[0])


def take_interrupts() -> None:
    """Have SIGINT raise KeyboardInterrupt in this process, even if it started ignoring it.

    A shell starts a background job (`simplymeet event cancel ... &` in a CI step or a cron
    script) with SIGINT ignored, and Python leaves it so: a SIGINT sent on purpose (`kill
    -INT`, an orchestrator's stop) was lost and a write-back went on to its end, exit 0. A
    sync took it all the same, dlt setting its own handler for its steps; now every command
    does.
    """
    signal.signal(signal.SIGINT, _stop)


def take_terminations() -> None:
    """Have SIGTERM raise `Terminated`. Python's default ends the process at once, with no
    word and nothing settled; a sync sets dlt's handlers over this one while its steps run
    (the first signal stops it at the next step boundary, a second one here)."""
    signal.signal(signal.SIGTERM, _stop)


INTERRUPTED = "interrupted: what was loaded is kept; run the command again to go on"


def open_closed_streams() -> None:
    """Give a standard stream the process started without (`cmd 2>&-`, a daemon's launcher)
    the null device: Python leaves it None, which the command's first print or prompt check
    would crash on, and its descriptor free, where the next file opened (the warehouse) would
    take it and receive whatever is written to that stream."""
    for name, mode in (("stdin", "r"), ("stdout", "w"), ("stderr", "w")):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, mode))  # noqa: SIM115 - for the process's life


def main() -> None:
    """Import the command line, then run it (`simplymeet.cli.main.main`)."""
    open_closed_streams()
    take_interrupts()
    try:
        from simplymeet.cli.main import main as run

        raise_deferred()
    except KeyboardInterrupt:
        print("interrupted: nothing was done", file=sys.stderr)
        raise SystemExit(130) from None
    run()
