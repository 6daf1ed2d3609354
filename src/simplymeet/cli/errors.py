"""Exit codes, one per kind of failure an operator or a scheduler can act on."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
"""Bad input or configuration: fix the command, nothing was sent or written."""
EXIT_LOCKED = 3
"""Another sync of the same pipeline is running: try again later."""
EXIT_AUTH = 4
"""The API key is wrong, missing, or its plan has no API access (or one endpoint is closed to
it, named in the message)."""
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
EXIT_DATA_TESTS = 10
"""The sync loaded and built the models, but a data test of the models failed: a metric may be
wrong (`simplymeet models test` shows the offending rows)."""


MOST_TELLING_FIRST = (
    EXIT_USAGE,
    EXIT_AUTH,
    EXIT_API,
    EXIT_PARTIAL,
    EXIT_LOCKED,
    EXIT_INCOMPLETE,
    EXIT_FAILURE,
    EXIT_DATA_TESTS,
    EXIT_REJECTED_ROWS,
)
"""Codes of one command's several parts (accounts), most telling first: a fix the operator
must make (configuration, key) before a server that is down, items a write-back left
undone, a lock held, a count that did not add up, an unexpected error, a model failing its
data tests, rows set aside (everything else loaded)."""


def most_telling(codes: Iterable[int]) -> int:
    """The command's exit code for its parts' `codes`: 0 when all are, else the most telling
    (`MOST_TELLING_FIRST`; any other, the highest)."""
    found = set(codes)
    return next((c for c in MOST_TELLING_FIRST if c in found), max(found, default=EXIT_OK))


def exit_code_for(exc: BaseException) -> tuple[int, str]:
    """The exit code and one-line message for an exception raised by the library, its
    secrets masked (`without_secrets`): every route prints or keeps it.

    dlt wraps what a resource raised (PipelineStepFailed, ResourceExtractionError, and for
    parallel resources a "generator already executing" ValueError whose context holds the
    real error), so the whole chain is searched for our own exceptions before a generic one
    decides the code.
    """
    code, message = _exit_code_for(exc)
    return code, without_secrets(message)


def _exit_code_for(exc: BaseException) -> tuple[int, str]:
    own = _classify(exc)
    if own is not None:
        return own
    chain = _chain(exc)
    found = [code for code in (_classify(error) for error, _ in chain) if code is not None]
    for wanted in (EXIT_LOCKED, EXIT_AUTH, EXIT_API, EXIT_INCOMPLETE, EXIT_USAGE):
        for code, message in found:
            if code == wanted:
                return code, message
    for error, inside_dlt in chain:
        if not inside_dlt and isinstance(error, ValueError | FileNotFoundError):
            return EXIT_USAGE, one_line(error)
    step = _failed_step(exc)
    if step is not None:
        return EXIT_FAILURE, step
    return EXIT_FAILURE, one_line(exc)


def _classify(error: BaseException) -> tuple[int, str] | None:
    """The code of one exception if it is one we know, regardless of what it wraps."""
    import pydantic

    from simplymeet.client.errors import AuthError, SimplyMeetError
    from simplymeet.config import ConfigError
    from simplymeet.models.errors import MissingCredentialsError
    from simplymeet.sync.checks import IncompleteScanError
    from simplymeet.sync.lock import SyncLockedError, warehouse_holder
    from simplymeet.sync.quarantine import RowsSetAside

    if isinstance(error, SyncLockedError):
        return EXIT_LOCKED, one_line(error)
    if isinstance(error, RowsSetAside):
        return EXIT_REJECTED_ROWS, one_line(error)
    if isinstance(error, IncompleteScanError):
        return EXIT_INCOMPLETE, one_line(error)
    holder = warehouse_holder(str(error))
    if holder is not None:
        return EXIT_LOCKED, (
            f"the warehouse file is held by another process (pid {holder}); "
            "close that process or wait for it, then run again"
        )
    if isinstance(error, AuthError):
        return EXIT_AUTH, one_line(error)
    if isinstance(error, SimplyMeetError):
        return EXIT_API, one_line(error)
    if isinstance(error, ConfigError | pydantic.ValidationError):
        return EXIT_USAGE, one_line(error)
    if isinstance(error, MissingCredentialsError) or _dlt_configuration(error):
        # A destination named without its credentials, or with ones dlt cannot read: a
        # setting to fix, not a failure.
        return EXIT_USAGE, one_line(error)
    if _is_unknown_destination(error):
        return EXIT_USAGE, _unknown_destination(error)
    if "not a valid DuckDB database file" in str(error):
        # A --db, $SIMPLYMEET_DB or duckdb_path naming another kind of file: the user's input.
        return EXIT_USAGE, one_line(error)
    return None


def _dlt_configuration(error: BaseException) -> bool:
    """Whether `error` is dlt's about its configuration (a missing or unreadable setting),
    told by name: dlt is not imported to ask."""
    return any(
        cls.__name__ == "ConfigurationException" and cls.__module__.startswith("dlt.")
        for cls in type(error).__mro__
    )


def _chain(exc: BaseException) -> list[tuple[BaseException, bool]]:
    """`exc` and everything behind it (dlt's `.exception`, causes, contexts), depth first,
    each with whether a dlt exception wraps it."""
    found: list[tuple[BaseException, bool]] = []
    seen: set[int] = set()
    todo: list[tuple[BaseException | None, bool]] = [(exc, False)]
    while todo:
        error, inside = todo.pop(0)
        if error is None or id(error) in seen:
            continue
        seen.add(id(error))
        found.append((error, inside))
        wrapped = inside or _is_dlt(error)
        inner = getattr(error, "exception", None)
        nested = [inner if isinstance(inner, BaseException) else None]
        todo[:0] = [(e, wrapped) for e in (*nested, error.__cause__, error.__context__)]
    return found


def _is_dlt(error: BaseException) -> bool:
    return type(error).__module__.split(".")[0] == "dlt"


def _is_unknown_destination(error: BaseException) -> bool:
    return _is_dlt(error) and type(error).__name__ in {
        "UnknownDestinationModule",
        "InvalidDestinationReference",
    }


def _unknown_destination(error: BaseException) -> str:
    ref = getattr(error, "ref", None) or getattr(error, "refs", None) or "?"
    return (
        f"unknown destination {ref!r} (--destination or [warehouse] destination): "
        "use a dlt destination name such as duckdb, postgres or bigquery"
    )


def _failed_step(exc: BaseException) -> str | None:
    """For a failed dlt step: the step and the innermost cause, whole, on one line."""
    for error, _ in _chain(exc):
        if type(error).__name__ == "PipelineStepFailed" and _is_dlt(error):
            inner: BaseException = getattr(error, "exception", None) or error
            while inner.__cause__ is not None and inner.__cause__ is not inner:
                inner = inner.__cause__
            text = " ".join(str(inner).split()) or type(inner).__name__
            pending = (
                "; its data is kept and loaded by the next run"
                if getattr(error, "has_pending_data", False)
                else ""
            )
            return f"the {getattr(error, 'step', '?')} step failed: {text}{pending}"
    return None


_CREDENTIALS = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^\s:/@]*):[^\s@/]*@", re.I)
"""`scheme://user:password@`: a DSN or a URL a driver's message quotes whole."""


def without_secrets(text: str) -> str:
    """`text` (a line about to be printed) with every API key this process may use masked (a
    value pasted into the wrong setting is quoted by the error about it) and the password of
    any `scheme://user:password@` (a PostgreSQL DSN a driver's error quotes) blanked."""
    from simplymeet.client.secret import SCRUBBED_LENGTH, redact

    text = _CREDENTIALS.sub(r"\g<scheme>\g<user>:***@", text)
    for secret in known_secrets():
        if len(secret) >= SCRUBBED_LENGTH:  # a shorter one's letters are everywhere
            text = redact(text, secret)
    return text


def known_secrets() -> set[str]:
    """Every secret this process may hold, each read as best it can be (an unreadable file
    says so in its own error): the implicit account's key, every text of the secrets file
    (an account's `api_key_secret`), and the variables holding keys (an account's
    `api_key_env` in a settings file this process read or would read, and any variable named
    like `*API_KEY*`)."""
    import os

    from simplymeet.config import DEFAULT_SECRETS_PATH, key_variables, read_api_key, read_secrets

    found: set[str] = set()
    with contextlib.suppress(Exception):
        found.add(read_api_key() or "")
    with contextlib.suppress(Exception):
        found.update(_texts(read_secrets(DEFAULT_SECRETS_PATH)))
    names = {name for name in os.environ if "API_KEY" in name.upper()} | key_variables()
    found.update((os.environ.get(name) or "").strip() for name in names)
    found.discard("")
    return found


def _texts(value: object) -> list[str]:
    """Every text inside a TOML value."""
    if isinstance(value, str):
        return [value.strip()]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def one_line(exc: BaseException) -> str:
    """The first line of an exception's message (its class name when it has none)."""
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__
