"""The SimplyMeet sync as a plain dlt pipeline script, for cron, Airflow or GitHub Actions.

    SIMPLYMEET_API_KEY=... .venv/bin/python pipelines/simplymeet_pipeline.py

Settings come from config.toml (or $SIMPLYMEET_CONFIG); the API key from $SIMPLYMEET_API_KEY
or .simplymeet/secrets.toml. It runs the same source and the same recovery, cleanup and
reconciliation steps as `simplymeet sync`, and exits non-zero when the run fails. With several
`[[accounts]]`, every account is synced side by side, one outcome line each.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from simplymeet.accounts import configured_accounts
from simplymeet.cli.entry import (
    INTERRUPTED,
    interrupted_exit_code,
    signal_inside,
    take_interrupts,
    take_terminations,
)
from simplymeet.cli.errors import exit_code_for
from simplymeet.cli.sync_cmd import checked_alerts, landing_notes, shared_data_test_notes
from simplymeet.client import SimplyMeetClient
from simplymeet.config import Settings, load_settings


class _OneLineParser(argparse.ArgumentParser):
    """Usage errors as one line, the form every `simplymeet` command prints (a scheduler's
    log keeps one line per failure)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    """Run one sync; print one line per table; return the exit code (130 or 143 when stopped
    by SIGINT or SIGTERM, as `simplymeet sync`)."""
    # No options: an argument given is a mistake (exit 2), not a setting silently ignored.
    _OneLineParser(description=__doc__.splitlines()[0]).parse_args(argv)
    take_interrupts()
    take_terminations()
    try:
        return _run()
    except KeyboardInterrupt as exc:
        print(INTERRUPTED, file=sys.stderr)
        return interrupted_exit_code(exc)


def _run() -> int:
    try:
        settings = load_settings()
        accounts = configured_accounts(settings)
        # Bad settings and a missing key exit before dlt and pyarrow load (~2 CPU-s).
        api_key = accounts[0].key() if len(accounts) == 1 else None
        from simplymeet.sync import SyncRequest, overall_exit_code, sync, sync_accounts

        if len(accounts) > 1:
            outcomes = sync_accounts(settings, SyncRequest())
            for outcome in outcomes:
                status = "ok" if not outcome.exit_code else f"exit {outcome.exit_code}"
                print(f"account {outcome.account}: {status} {outcome.message}".rstrip())
            for line in shared_data_test_notes(outcomes):
                print(line, file=sys.stderr)
            built = any(o.summary is not None and o.summary.models_built for o in outcomes)
            return _with_alerts(settings, overall_exit_code(outcomes), built)
        [account] = accounts
        own = account.settings(settings)
        with SimplyMeetClient.from_settings(own, api_key=api_key) as client:
            summary = sync(settings, client, SyncRequest(), account=account)
    except Exception as exc:  # the scheduler needs a code and one line, not a traceback
        signalled = signal_inside(exc)
        if signalled is not None:
            raise signalled from None  # a stop dlt took mid-step: 130 or 143
        code, message = exit_code_for(exc)
        print(f"error: {message}", file=sys.stderr)
        if getattr(exc, "loaded", None) is not None:  # the settings were read, the run loaded
            _with_alerts(settings, code, getattr(exc.loaded, "models_built", False))  # type: ignore[attr-defined]
        return code
    for table in summary.tables:
        print(f"{table.name}: {table.rows_after} rows ({table.loaded} loaded)")
    print(f"{summary.requests} requests in {summary.duration_seconds:.1f} s")
    lines, code = landing_notes(summary)
    for line in lines:
        print(line, file=sys.stderr)
    return _with_alerts(settings, code, summary.models_built)


def _with_alerts(settings: Settings, code: int, built: bool) -> int:
    """`code` once the alerts are checked as `simplymeet sync` checks them; an alert check
    that cannot run is one line and its own code, after the run's."""
    try:
        return checked_alerts(settings, code, built=built)
    except Exception as exc:
        alerts_code, message = exit_code_for(exc)
        print(f"error: {message}", file=sys.stderr)
        return code or alerts_code


# dlt's normalize and load steps may start worker processes: keep the guard.
if __name__ == "__main__":
    sys.exit(main())
