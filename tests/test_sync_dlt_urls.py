"""A sync into DuckDB has dlt parse its connection URL with dlt's own port of SQLAlchemy's
`URL` (0.15-0.4 s of SQLAlchemy's import a run), and dlt sees the same credentials either way.

Each runs in a fresh interpreter: in the test process SQLAlchemy is often imported already.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from simplymeet.emulator import start_emulator
from tests.sync_support import settings_for
from tests.test_sync_resilience import cli_env

_SYNC_PROBE = """
import json, sys
from simplymeet.cli.main import cli
try:
    cli(["sync", "--resources", "events,users"], prog_name="simplymeet")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "sqlalchemy": "sqlalchemy" in sys.modules}))
"""

_CREDENTIALS_PROBE = """
import json, sys
if sys.argv[1] == "shims":
    from simplymeet.sync.dlt_urls import parse_urls_without_sqlalchemy
    parse_urls_without_sqlalchemy()
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
opened, rendered = {}, {}
for path in ["/tmp/a warehouse/w.duckdb", "/tmp/w.duckdb", "relative/ü.duckdb"]:
    credentials = DuckDbCredentials(path, global_config={"memory_limit": "256MB"})
    opened[path] = credentials.database
    if path.isascii():
        rendered[path] = [str(credentials), credentials.to_native_representation()]
server = PostgresCredentials("postgresql://sm:p%40ss%3Aw%2Fd%25@127.0.0.1:5432/warehouse")
rendered["postgresql"] = [str(server), server.to_native_representation(), server.password]
imported = "sqlalchemy" in sys.modules
print(json.dumps({"sqlalchemy": imported, "opened": opened, "rendered": rendered}))
"""


def _last_json_line(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_sync_into_duckdb_never_imports_sqlalchemy(tmp_path: Path) -> None:
    with start_emulator(seed=4, events=50) as emulator:
        done = subprocess.run(
            [sys.executable, "-c", _SYNC_PROBE],
            env=cli_env(settings_for(tmp_path, emulator), emulator.api_key),
            capture_output=True,
            text=True,
            timeout=180,
        )
    assert _last_json_line(done) == {"code": 0, "sqlalchemy": False}


def test_dlt_opens_the_same_files_and_renders_the_same_urls_without_sqlalchemy(
    tmp_path: Path,
) -> None:
    # dlt's port writes a non-ASCII character of a path as it is where SQLAlchemy
    # percent-encodes it (the same URL); the file opened is the same.
    def probe(way: str) -> dict[str, object]:
        return _last_json_line(
            subprocess.run(
                [sys.executable, "-c", _CREDENTIALS_PROBE, way],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                timeout=120,
            )
        )

    shims, sqlalchemy = probe("shims"), probe("sqlalchemy")

    assert (shims["sqlalchemy"], sqlalchemy["sqlalchemy"]) == (False, True)
    assert shims["opened"] == sqlalchemy["opened"]
    assert shims["rendered"] == sqlalchemy["rendered"]
