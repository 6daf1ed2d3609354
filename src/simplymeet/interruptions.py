"""Stop signals (SIGTERM, SIGINT) as exceptions, and which one a process was stopped by.

Stdlib only: the command line's entry point takes it before anything else is imported, and the
library asks it whether an error it caught was a stop (`signal_inside`).
"""

from __future__ import annotations

import signal

received: list[int] = []
"""The stop signals this process raised on (at most one is needed): a signal whose exception
was turned into another error (DuckDB's "Query interrupted") is still one."""


class Terminated(KeyboardInterrupt):
    """SIGTERM (a scheduler's or an orchestrator's stop), raised where Ctrl-C raises its
    KeyboardInterrupt: every command stops as it does for Ctrl-C, and exits 143."""

    signal_code = signal.SIGTERM


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
    if received:
        return Terminated() if received[-1] == signal.SIGTERM else KeyboardInterrupt()
    return None


def raise_if_received() -> None:
    """Raise the stop signal this process received, at a step boundary: one whose exception
    an error of another kind replaced (DuckDB ends a query the signal interrupted with its
    own) and a check then took for a plain failure would otherwise be lost, and the command
    run on to exit 0."""
    if received:
        raise Terminated() if received[-1] == signal.SIGTERM else KeyboardInterrupt()


def interrupted_exit_code(exc: BaseException) -> int:
    """The exit code of a process stopped by the signal `exc` stands for: 128 + the signal
    (130 for Ctrl-C, 143 for SIGTERM)."""
    return 128 + int(getattr(exc, "signal_code", signal.SIGINT))
