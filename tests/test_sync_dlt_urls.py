"""A sync into DuckDB has dlt parse its connection URL with dlt's own port of SQLAlchemy's
`URL` (0.15-0.4 s of SQLAlchemy's import a run), and dlt sees the same credentials either way.

Each runs in a fresh interpreter: in the test process SQLAlchemy is often imported already.
"""

from __future__ import annotations

from pathlib import Path

from simplymeet.emulator import start_emulator
from tests.fresh_process import probe
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


def test_a_sync_into_duckdb_never_imports_sqlalchemy(tmp_path: Path) -> None:
    with start_emulator(seed=4, events=50) as emulator:
        env = cli_env(settings_for(tmp_path, emulator), emulator.api_key)
        probed = probe(_SYNC_PROBE, env=env)
    assert probed == {"code": 0, "sqlalchemy": False}


def test_dlt_opens_the_same_files_and_renders_the_same_urls_without_sqlalchemy(
    tmp_path: Path,
) -> None:
    # dlt's port writes a non-ASCII character of a path as it is where SQLAlchemy
    # percent-encodes it (the same URL); the file opened is the same.
    shims = probe(_CREDENTIALS_PROBE, "shims", cwd=tmp_path)
    sqlalchemy = probe(_CREDENTIALS_PROBE, "sqlalchemy", cwd=tmp_path)

    assert (shims["sqlalchemy"], sqlalchemy["sqlalchemy"]) == (False, True)
    assert shims["opened"] == sqlalchemy["opened"]
    assert shims["rendered"] == sqlalchemy["rendered"]
