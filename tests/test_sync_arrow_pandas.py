"""`simplymeet sync` converts rows to Arrow without importing pandas (0.25-0.45 s of every run
as typed); whole tables still go to and from pandas afterwards, and a sync run as a library
leaves pyarrow as it found it.

Each runs in a fresh interpreter: in the test process pandas is often imported already."""

from __future__ import annotations

from pathlib import Path

from simplymeet.emulator import start_emulator
from tests.fresh_process import probe
from tests.sync_support import REPO, settings_for
from tests.test_sync_resilience import cli_env

_SYNC_PROBE = """
import json, sys
from simplymeet.cli.main import cli
try:
    cli(["sync"], prog_name="simplymeet")
except SystemExit as exit:
    code = exit.code
print(json.dumps({"code": code, "pandas": "pandas" in sys.modules}))
"""

_AFTERWARDS_PROBE = """
import json
from simplymeet.sync.arrow_pandas import convert_without_pandas
convert_without_pandas()
import pandas as pd
import pyarrow as pa
frame = pa.table({"n": [1, None]}).to_pandas()
back = pa.Table.from_pandas(pd.DataFrame({"t": [pd.NaT, pd.Timestamp("2026-12-01")]}))
print(json.dumps({
    "to_pandas": str(frame["n"].dtype),
    "from_pandas_nulls": back.column("t").null_count,
    "series": str(pa.array(pd.Series([1, 2])).type),
}))
"""


_LIBRARY_PROBE = """
import json, pathlib, sys, tempfile
from simplymeet.emulator import start_emulator
from tests.sync_support import run_sync, settings_for
with start_emulator(seed=4, events=30) as emulator, tempfile.TemporaryDirectory() as tmp:
    run_sync(settings_for(pathlib.Path(tmp), emulator), emulator, resources=["events"])
import pandas as pd
import pyarrow as pa
nulls = pa.array(pd.Series([1, None], dtype="Int64")).null_count
print(json.dumps({"nullable_series_nulls": nulls}))
"""


def test_a_sync_of_every_resource_with_its_models_never_imports_pandas(tmp_path: Path) -> None:
    with start_emulator(seed=4, events=300) as emulator:
        env = cli_env(settings_for(tmp_path, emulator), emulator.api_key)
        env["SIMPLYMEET_SYNC__BUILD_MODELS"] = "true"
        probed = probe(_SYNC_PROBE, env=env)
    assert probed == {"code": 0, "pandas": False}


def test_whole_tables_go_to_and_from_pandas_after_the_command_settled_its_question() -> None:
    assert probe(_AFTERWARDS_PROBE) == {
        "to_pandas": "float64",
        "from_pandas_nulls": 1,
        "series": "int64",
    }


def test_a_sync_run_as_a_library_leaves_pyarrow_reading_pandas_missing_values() -> None:
    assert probe(_LIBRARY_PROBE, cwd=REPO) == {"nullable_series_nulls": 1}
