"""The `simplymeet` program's entry point.

Importing the command line takes a moment; a Ctrl-C (or SIGINT from a scheduler) that lands
then ends the program as one during a command does, with one line and exit 130, not with a
traceback: nothing has been done yet.
"""

from __future__ import annotations

import signal
import sys


def take_interrupts() -> None:
    """Have SIGINT raise KeyboardInterrupt in this process, even if it started ignoring it.

    A shell starts a background job (`simplymeet event cancel ... &` in a CI step or a cron
    script) with SIGINT ignored, and Python leaves it so: a SIGINT sent on purpose (`kill
    -INT`, an orchestrator's stop) was lost and a write-back went on to its end, exit 0. A
    sync took it all the same, dlt setting its own handler for its steps; now every command
    does.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's or an orchestrator's stop), raised where Ctrl-C raises its
    KeyboardInterrupt: every command stops as it does for Ctrl-C, and exits 143."""

    signal_code = signal.SIGTERM


def _terminated(signum: int, frame: object) -> None:
    raise Terminated


def take_terminations() -> None:
    """Have SIGTERM raise `Terminated`. Python's default ends the process at once, with no
    word and nothing settled; a sync sets dlt's handlers over this one while its steps run
    (the first signal stops it at the next step boundary, a second one here)."""
    signal.signal(signal.SIGTERM, _terminated)


def signal_inside(exc: BaseException) -> BaseException | None:
    """The KeyboardInterrupt (dlt's SignalReceivedException is one) an error was raised from:
    a signal dlt took mid-step comes back wrapped in the step's failure."""
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        if isinstance(error, KeyboardInterrupt):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
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
    except KeyboardInterrupt:
        print("interrupted: nothing was done", file=sys.stderr)
        raise SystemExit(130) from None
    run()
