"""The command line starts without the heavy libraries: each loads only when a command needs it.

`simplymeet --help` (and every command's own help) must not pay seconds of imports for dlt,
DuckDB, pyarrow or pandas. Checked in a fresh interpreter through `sys.modules`, never by timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from simplymeet.cli.main import cli
from tests.cli_support import every_command

HEAVY = ("dlt", "duckdb", "pyarrow", "pandas")

_PROBE = """
import json, sys
from simplymeet.cli.main import cli
try:
    cli(sys.argv[1:], prog_name="simplymeet")
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"code": code, "heavy": heavy}}))
"""


def _imported_by(*args: str, modules: tuple[str, ...] = HEAVY) -> dict[str, object]:
    """Run the command line with `args` in a fresh interpreter; its exit code and which of
    `modules` (the heavy libraries) it imported."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=modules), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_top_level_help_imports_no_heavy_library():
    assert _imported_by("--help") == {"code": 0, "heavy": []}


def test_top_level_help_loads_neither_the_settings_nor_rich_nor_httpx():
    """What `alerts`, `sync` and the others run on loads when they run (~0.1 s of --help)."""
    assert _imported_by("--help", modules=("pydantic_settings", "rich", "httpx")) == {
        "code": 0,
        "heavy": [],
    }


def test_top_level_help_builds_no_write_back_command():
    """Those are built from the contract's pydantic DTOs (0.2 s, most of --help's start)."""
    assert _imported_by("--help", modules=("pydantic", "simplymeet.contract.dtos")) == {
        "code": 0,
        "heavy": [],
    }


def test_the_write_back_groups_listed_are_the_operations_groups_in_order():
    from simplymeet.writeback.groups import GROUPS
    from simplymeet.writeback.operations import OPERATIONS

    assert tuple(dict.fromkeys(spec.group for spec in OPERATIONS.values())) == GROUPS


@pytest.mark.parametrize(
    "args",
    [
        ("sync", "--help"),
        ("emulator", "serve", "--help"),
        ("models", "build", "--help"),
        ("event", "cancel-list", "--help"),
        ("report", "--help"),
    ],
    ids=" ".join,
)
def test_command_help_imports_no_database_or_dataframe_library(args):
    """A command's help names its options without loading what the command runs on (the sync's
    help lists the resources from a light module, not from the dlt source)."""
    assert _imported_by(*args) == {"code": 0, "heavy": []}


@pytest.mark.parametrize("path", [path for path, _ in every_command(cli)], ids=" ".join)
def test_every_command_help_renders(path):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_sync_help_lists_the_source_resources():
    from simplymeet.sync.source import RESOURCE_NAMES  # the names the source itself uses

    result = CliRunner().invoke(cli, ["sync", "--help"], terminal_width=400)
    assert ", ".join(RESOURCE_NAMES) in " ".join(result.output.split())


def test_emulator_serve_help_names_the_api_key_variable():
    from simplymeet.config import API_KEY_ENV

    result = CliRunner().invoke(cli, ["emulator", "serve", "--help"], terminal_width=400)
    assert f"${API_KEY_ENV}" in result.output


def test_package_exports_still_resolve():
    """The lazily loaded package exports are the same objects as in their modules."""
    import simplymeet.models as models
    import simplymeet.sync as sync
    import simplymeet.writeback as writeback
    from simplymeet.models.runner import build_models
    from simplymeet.sync.runner import run_sync
    from simplymeet.writeback.journal import SCHEMA

    assert sync.run_sync is run_sync
    assert models.build_models is build_models
    assert writeback.JOURNAL_SCHEMA == SCHEMA
    assert "event_cancel_list" in writeback.__all__


def test_an_unknown_package_attribute_is_an_attribute_error():
    import simplymeet.sync as sync

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = sync.nope


def test_models_build_imports_no_pandas(tmp_path):
    # The seed tables are written from plain rows: pyarrow imports pandas (0.23 s) as soon as
    # it builds an array from a Python list.
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()

    probed = _imported_by("models", "build", "--db", str(warehouse), modules=("pandas",))

    assert probed == {"code": 0, "heavy": []}


def test_a_ctrl_c_while_the_program_imports_exits_130_in_one_line(monkeypatch, capsys):
    from simplymeet.cli import entry

    class Importing(types.ModuleType):
        """The command line, as a Ctrl-C finds it while it is still being imported."""

        def __getattr__(self, name: str) -> object:
            raise KeyboardInterrupt

    monkeypatch.setitem(sys.modules, "simplymeet.cli.main", Importing("simplymeet.cli.main"))

    with pytest.raises(SystemExit) as done:
        entry.main()

    assert done.value.code == 130
    assert capsys.readouterr().err == "interrupted: nothing was done\n"


def test_the_program_s_entry_point_is_the_one_that_takes_a_ctrl_c_while_importing():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    assert project["project"]["scripts"]["simplymeet"] == "simplymeet.cli.entry:main"


@pytest.mark.parametrize("closed", [0, 1, 2], ids=["stdin", "stdout", "stderr"])
def test_a_command_started_with_a_standard_stream_closed_exits_with_its_own_code(
    tmp_path: Path, closed: int
) -> None:
    # A daemon's launcher or `cmd 2>&-` starts it so: Python leaves that stream None.
    import os

    done = subprocess.run(
        [sys.executable, "-m", "simplymeet.cli.main", "sql", "--db", str(tmp_path / "none.duckdb"),
         "select 1"],
        preexec_fn=lambda: os.close(closed),
        capture_output=closed == 0,
        timeout=60,
        check=False,
    )  # fmt: skip

    assert done.returncode == 2  # no warehouse there: a usage error, not a crash (1)
