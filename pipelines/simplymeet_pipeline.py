"""The SimplyMeet sync as a plain dlt pipeline script, for cron, Airflow or GitHub Actions.

    SIMPLYMEET_API_KEY=... .venv/bin/python pipelines/simplymeet_pipeline.py

Settings come from config.toml (or $SIMPLYMEET_CONFIG); the API key from $SIMPLYMEET_API_KEY
or .simplymeet/secrets.toml. It runs the same source and the same recovery, cleanup and
reconciliation steps as `simplymeet sync`, and exits non-zero when the run fails.
"""

from __future__ import annotations

import sys

from simplymeet.cli.errors import exit_code_for
from simplymeet.cli.sync_cmd import landing_notes
from simplymeet.client import SimplyMeetClient
from simplymeet.config import load_settings
from simplymeet.sync import SyncRequest, sync


def main() -> int:
    """Run one sync; print one line per table; return the exit code."""
    try:
        settings = load_settings()
        with SimplyMeetClient.from_settings(settings) as client:
            summary = sync(settings, client, SyncRequest())
    except Exception as exc:  # the scheduler needs a code and one line, not a traceback
        code, message = exit_code_for(exc)
        print(f"error: {message}", file=sys.stderr)
        return code
    for table in summary.tables:
        print(f"{table.name}: {table.rows_after} rows ({table.loaded} loaded)")
    print(f"{summary.requests} requests in {summary.duration_seconds:.1f} s")
    lines, code = landing_notes(summary)
    for line in lines:
        print(line, file=sys.stderr)
    return code


# dlt's normalize and load steps may start worker processes: keep the guard.
if __name__ == "__main__":
    sys.exit(main())
