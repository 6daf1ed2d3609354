"""notebooks/report.ipynb runs end to end against a demo warehouse and shows its charts."""

from __future__ import annotations

from pathlib import Path

import pytest

from simplymeet.models.sample import build_demo_warehouse

nbformat = pytest.importorskip("nbformat", reason="nbformat is a dev dependency")
nbclient = pytest.importorskip("nbclient", reason="nbclient is a dev dependency")
pytest.importorskip("ipykernel", reason="ipykernel is a dev dependency")

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "report.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("notebook")
    demo = build_demo_warehouse(folder / "demo.duckdb")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    mp = pytest.MonkeyPatch()
    mp.setenv("SIMPLYMEET_DB", str(demo))
    try:
        client = nbclient.NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(folder)}},
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
