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


def main() -> None:
    """Import the command line, then run it (`simplymeet.cli.main.main`)."""
    take_interrupts()
    try:
        from simplymeet.cli.main import main as run
    except KeyboardInterrupt:
        print("interrupted: nothing was done", file=sys.stderr)
        raise SystemExit(130) from None
    run()
