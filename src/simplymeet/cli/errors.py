"""Exit codes, one per kind of failure an operator or a scheduler can act on."""

from __future__ import annotations

import pydantic

from simplymeet.config import ConfigError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
"""Bad input or configuration: fix the command, nothing was sent or written."""
EXIT_LOCKED = 3
"""Another sync of the same pipeline is running: try again later."""
EXIT_AUTH = 4
"""The API key is wrong, missing, or its plan has no API access."""
EXIT_API = 5
"""The API could not be reached or kept failing after retries."""
EXIT_PARTIAL = 6
"""Some items of a bulk job failed; the rest succeeded and are journaled."""
EXIT_ALERTS = 7
"""`simplymeet alerts check`: at least one metric alert fired."""
EXIT_INCOMPLETE = 8
"""The sync could not prove itself complete: what it read does not add up to the server's own
counts even after re-reading. Rows may be missing; nothing was dropped, run it again."""
EXIT_REJECTED_ROWS = 9
"""The sync loaded everything else, but rows that break the contract were quarantined in the
rejected-rows table (named in the message) instead of loaded."""


def exit_code_for(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for an exception raised by the library."""
    from simplymeet.client.errors import AuthError, SimplyMeetError
    from simplymeet.sync.checks import IncompleteScanError
    from simplymeet.sync.lock import SyncLockedError

    message = _one_line(exc)
    if isinstance(exc, SyncLockedError):
        return EXIT_LOCKED, message
    if isinstance(exc, IncompleteScanError):
        return EXIT_INCOMPLETE, message
    if isinstance(exc, AuthError):
        return EXIT_AUTH, message
    if isinstance(exc, SimplyMeetError):
        return EXIT_API, message
    if isinstance(exc, ConfigError | ValueError | pydantic.ValidationError | FileNotFoundError):
        return EXIT_USAGE, message
    cause = exc.__cause__ or exc.__context__
    if cause is not None and cause is not exc:
        code, inner = exit_code_for(cause)
        if code != EXIT_FAILURE:
            return code, inner
    return EXIT_FAILURE, message


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
