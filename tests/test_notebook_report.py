"""notebooks/report.ipynb runs end to end against a demo warehouse and shows its charts."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from simplymeet.report.data import resolve_warehouse_path
from tests.synced_template import demo_copy

nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency")
pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "report.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run as Jupyter runs it: kernel in `notebooks/`, a relative SIMPLYMEET_DB."""
    project = tmp_path_factory.mktemp("project")
    # A rule every demo warehouse fires: the notebook shows what `alerts check` would.
    (project / "config.toml").write_text(
        '[[alerts]]\nname = "any booking at all"\nmetric = "created"\nperiod = "all"\nabove = 0\n'
    )
    (project / "notebooks").mkdir()
    demo_copy(tmp_path_factory, project / "demo.duckdb")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    mp = pytest.MonkeyPatch()
    mp.setenv("SIMPLYMEET_DB", "demo.duckdb")
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(project / "notebooks")}},
        )
        client.execute()
    finally:
        mp.undo()
    return notebook


def outputs(notebook) -> list[dict]:
    return [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]


def test_report_notebook_runs_end_to_end_without_errors(executed):
    assert not [out for out in outputs(executed) if out.output_type == "error"]


def test_report_notebook_shows_three_charts_and_the_kpi_table(executed):
    data = [out.get("data", {}) for out in outputs(executed)]

    svgs = [d["image/svg+xml"] for d in data if "image/svg+xml" in d]
    assert len(svgs) == 3
    assert any("No-show rate" in d.get("text/html", "") for d in data)


def test_report_notebook_shows_this_period_against_the_last(executed):
    tables = [out.get("data", {}).get("text/html", "") for out in outputs(executed)]

    assert any("prior_rate" in t and "is_significant_change" in t for t in tables)


def test_report_notebook_lists_the_firing_alerts_as_a_table(executed):
    tables = [out.get("data", {}).get("text/html", "") for out in outputs(executed)]

    assert any("rule" in t and "condition" in t and "change_z" in t for t in tables)


def test_report_notebook_shows_the_alerts_the_config_fires(executed):
    tables = [out.get("data", {}).get("text/html", "") for out in outputs(executed)]

    assert any("any booking at all" in t for t in tables)


def test_report_notebook_shows_the_booking_history(executed):
    tables = [out.get("data", {}).get("text/html", "") for out in outputs(executed)]

    assert any("lead_time_bucket" in t and "cumulative_share" in t for t in tables)
    assert any("reschedules" in t and "known_from_history_only" in t for t in tables)


def test_report_notebook_cells_stay_short():
    # notebooks show, the library does: a long cell is a function waiting to move
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert len([line for line in cell.source.splitlines() if line.strip()]) <= 5, (
                cell.source
            )


def test_report_notebook_is_committed_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


def test_a_relative_warehouse_path_is_read_from_the_project_folder(tmp_path):
    (tmp_path / "config.toml").write_text("")
    (tmp_path / "notebooks").mkdir()

    resolved = resolve_warehouse_path("simplymeet.duckdb", start=tmp_path / "notebooks")

    assert resolved == tmp_path.resolve() / "simplymeet.duckdb"


def test_an_absolute_warehouse_path_is_kept(tmp_path):
    assert resolve_warehouse_path(tmp_path / "x.duckdb", start=Path("/")) == tmp_path / "x.duckdb"


def test_the_alert_rules_of_a_named_config_that_is_missing_are_an_error(tmp_path, monkeypatch):
    from simplymeet.config import ConfigError
    from simplymeet.report.data import alert_rules

    monkeypatch.setenv("SIMPLYMEET_CONFIG", str(tmp_path / "missing.toml"))

    with pytest.raises(ConfigError):
        alert_rules(tmp_path)


def test_a_project_without_config_has_no_alert_rules(tmp_path, monkeypatch):
    from simplymeet.report.data import alert_rules

    monkeypatch.delenv("SIMPLYMEET_CONFIG", raising=False)

    assert alert_rules(tmp_path) == []


def test_the_notebook_leaves_the_warehouse_free_for_a_sync_once_its_data_is_read(
    tmp_path_factory,
):
    # Held open from the first cell to the last, a kernel left open locked every scheduled
    # sync out (exit 3).
    project = tmp_path_factory.mktemp("project")
    (project / "config.toml").write_text("")
    (project / "notebooks").mkdir()
    demo_copy(tmp_path_factory, project / "demo.duckdb")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    first = next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    client = nbclient.NotebookClient(
        notebook,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(project / "notebooks")}},
    )
    mp = pytest.MonkeyPatch()
    mp.setenv("SIMPLYMEET_DB", "demo.duckdb")
    try:
        with client.setup_kernel():
            client.execute_cell(notebook.cells[first], first)
            duckdb.connect(str(project / "demo.duckdb")).close()  # a sync's writer opens it
    finally:
        mp.undo()
