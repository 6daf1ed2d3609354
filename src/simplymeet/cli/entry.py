"""The `simplymeet` program's entry point.

Importing the command line takes a moment; a Ctrl-C (or SIGINT from a scheduler) that lands
then ends the program as one during a command does, with one line and exit 130, not with a
traceback: nothing has been done yet.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import the command line, then run it (`simplymeet.cli.main.main`)."""
    try:
        from simplymeet.cli.main import main as run
    except KeyboardInterrupt:
        print("interrupted: nothing was done", file=sys.stderr)
        raise SystemExit(130) from None
    run()
