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

REDELIVER_SECONDS = 0.05
"""How soon a signal that came in the middle of an import is delivered again."""

_received: list[int] = []
"""The stop signals this process raised on (at most one is needed): a signal whose exception
was turned into another error (DuckDB's "Query interrupted") is still one."""
_deferred: list[int] = []
"""A stop signal that came in the middle of an import, not raised yet."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's or an orchestrator's stop), raised where Ctrl-C raises its
    KeyboardInterrupt: every command stops as it does for Ctrl-C, and exits 143."""

    signal_code = signal.SIGTERM


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
    _received.append(signum)
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


def signal_inside(exc: BaseException) -> BaseException | None:
    """The KeyboardInterrupt (dlt's SignalReceivedException is one) an error was raised from:
    a signal dlt took mid-step comes back wrapped in the step's failure. Or, where the chain
    lost it (DuckDB ends a query the signal interrupted with an error of its own), the stop
    signal this process raised on."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    if _received:
        return Terminated() if _received[-1] == signal.SIGTERM else KeyboardInterrupt()
    return None


def interrupted_exit_code(exc: BaseException) -> int:
    """The exit code of a process stopped by the signal `exc` stands for: 128 + the signal
    (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + int(getattr(exc, "signal_code", signal.SIGINT))


INTERRUPTED = "interrupted: what was loaded is kept; run the command again to go on"


def main() -> None:
    """Import the command line, then run it (`simplymeet.cli.main.main`)."""
    take_interrupts()
    try:
        from simplymeet.cli.main import main as run

        raise_deferred()
    except KeyboardInterrupt:
        print("interrupted: nothing was done", file=sys.stderr)
        raise SystemExit(130) from None
    run()
