"""When the pipeline folder and the warehouse disagree, the warehouse's state wins.

Each test breaks things the way an operator or a crash would (folder deleted, a run killed
after normalize and its packages dropped with dlt's own CLI, the warehouse file replaced by a
backup) and then checks the next sync against what the emulator serves.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from simplymeet.emulator import RunningEmulator
from simplymeet.sync.runner import make_pipeline
from tests.sync_support import (
    EVENTS_ONLY,
    assert_events_match,
    client_for,
    query,
    run_sync,
    settings_for,
    sync_killed_before_loading,
)
from tests.synced_template import synced_copy


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator):
    """Settings of a warehouse that has had one full sync of `emulator` (reconcile off)."""
    # A first sync never reconciles (nothing to compare with), so the shared template is what
    # it writes under any cadence; the cadence only matters to the runs that follow.
    synced = synced_copy(tmp_path_factory, tmp_path, emulator)
    return synced.with_overrides("sync", reconcile_every_hours=1000.0)


def _edit_notes(emulator: RunningEmulator, count: int, text: str) -> list[int]:
    ids = emulator.store.all_event_ids()[:: max(1, emulator.store.event_count // count)][:count]
    with client_for(emulator) as client:
        for event_id in ids:
            client.event_notes(event_id, notes=f"{text} {event_id}")
    return ids


def _pipelines_dir(settings) -> Path:
    return Path(settings.get("warehouse", "pipelines_dir"))


def test_a_wiped_pipeline_folder_is_restored_from_the_warehouse(synced, emulator):
    shutil.rmtree(_pipelines_dir(synced))
    _edit_notes(emulator, 3, "after the folder was lost")
    emulator.reset_log()
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert summary.state_restored
    assert_events_match(synced, emulator)


def test_a_wiped_pipeline_folder_is_followed_by_an_incremental_run(synced, emulator):
    shutil.rmtree(_pipelines_dir(synced))
    _edit_notes(emulator, 3, "after the folder was lost")
    emulator.reset_log()
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    # One page newest-first reaches past the restored cursor, one of the canceled events,
    # and one probe after the scan; a full re-read of 2,000 events would be 20 pages.
    assert emulator.count("event_list") <= 4


def _emptied_state_file(settings) -> Path:
    folder = _pipelines_dir(settings) / settings.get("warehouse", "pipeline_name")
    (folder / "state.json").write_text("")  # a crash or a full disk as dlt wrote it
    return folder


def _damage(folder: Path, kind: str) -> None:
    if kind == "state emptied":
        (folder / "state.json").write_text("")
    elif kind.startswith("state "):  # JSON, but no dlt state: a hand edit, another tool
        (folder / "state.json").write_text(kind.removeprefix("state "))
    elif kind == "schema not UTF-8":
        [schema] = (folder / "schemas").glob("*.schema.json")
        schema.write_bytes(b"\xff\xfe" + schema.read_bytes()[2:])
    else:  # a package folder's version file emptied
        (folder / kind.split()[0] / ".version").write_text("")


@pytest.mark.parametrize(
    "kind",
    [
        "state emptied",
        "state {}",
        "state []",
        "state null",
        "schema not UTF-8",
        "load version emptied",
        "normalize version",
    ],
)
def test_a_damaged_pipeline_folder_is_restored_from_the_warehouse(synced, emulator, kind):
    _damage(_pipelines_dir(synced) / synced.get("warehouse", "pipeline_name"), kind)
    _edit_notes(emulator, 3, "after the folder was damaged")
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert summary.state_restored
    assert_events_match(synced, emulator)


def test_a_damaged_pipeline_folder_is_kept_beside_the_new_one(synced, emulator):
    folder = _emptied_state_file(synced)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    [aside] = folder.parent.glob(f"{folder.name}.damaged-*")
    assert (aside / "state.json").read_text() == ""


@pytest.mark.parametrize("table", ["events", "events__participants", "event_versions"])
def test_a_table_dropped_by_hand_is_read_again_in_full(synced, emulator, table):
    with duckdb.connect(synced.get("warehouse", "duckdb_path")) as con:
        con.execute(f"drop table raw.{table}")
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert summary.event_pages >= 20  # 2,000 events in pages of 100: all of them
    assert_events_match(synced, emulator)
    [(versioned,)] = query(synced, "select count(distinct id) from raw.event_versions")
    assert versioned == emulator.store.event_count


def _dlt_drop_pending_packages(settings) -> None:
    dlt_cli = Path(sys.executable).parent / "dlt"
    name = settings.get("warehouse", "pipeline_name")
    done = subprocess.run(
        [
            str(dlt_cli),
            "--yes",
            "pipeline",
            "--pipelines-dir",
            str(_pipelines_dir(settings)),
            name,
            "drop-pending-packages",
        ],
        cwd=_pipelines_dir(settings).parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def _drop_pending_by_hand(settings) -> None:
    """What an operator does without dlt's CLI: delete the packages the load never took."""
    folder = _pipelines_dir(settings) / settings.get("warehouse", "pipeline_name") / "normalize"
    load = folder.parent / "load"
    for stage in (load / "normalized", load / "new", folder / "extracted"):
        if stage.exists():
            shutil.rmtree(stage)
            stage.mkdir()


# dlt 1.31's `drop-pending-packages` became `abort-packages`, which rewinds the local state
# itself, so the dlt-cli case passes with or without our recovery; it stays as a guard for the
# dlt versions that do not (FACTS.md measured one). Deleting the packages by hand does not
# rewind anything: that case fails without `sync/recovery.py`.
@pytest.mark.parametrize(
    "drop", [_dlt_drop_pending_packages, _drop_pending_by_hand], ids=["dlt-cli", "by-hand"]
)
def test_dropped_pending_packages_are_read_again(synced, emulator, drop):
    _edit_notes(emulator, 3, "carried by the dropped packages")
    sync_killed_before_loading(synced, emulator)
    drop(synced)
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert_events_match(synced, emulator)


def _killed_as_normalize_committed(settings) -> None:
    """The folder a run leaves when killed after dlt's normalize moved its package to
    `load/normalized` and before it deleted the extracted one: both hold the package."""
    extracted = (
        _pipelines_dir(settings) / settings.get("warehouse", "pipeline_name") / "normalize"
    ) / "extracted"
    kept = extracted.parent / "kept"
    shutil.copytree(extracted, kept)
    make_pipeline(settings).normalize()
    shutil.rmtree(extracted)
    kept.rename(extracted)


def test_a_run_killed_as_normalize_committed_its_package_is_loaded_by_the_next(synced, emulator):
    _edit_notes(emulator, 3, "carried by the package normalized twice over")
    sync_killed_before_loading(synced, emulator, stage="normalizing")
    _killed_as_normalize_committed(synced)

    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)

    assert_events_match(synced, emulator)


def test_a_first_load_left_pending_lands_once_after_another_folder_loaded_the_warehouse(
    tmp_path, emulator
):
    # Folder A's first sync could not load (the file was busy: exit 3, "run again"); a sync
    # from folder B loaded the warehouse meanwhile; A's re-run loads its pending package,
    # planned as a first load's append.
    first = settings_for(tmp_path, emulator)
    other = first.with_overrides("warehouse", pipelines_dir=str(tmp_path / "other-folder"))
    sync_killed_before_loading(first, emulator)
    run_sync(other, emulator, resources=EVENTS_ONLY)

    run_sync(first, emulator, resources=EVENTS_ONLY)

    assert query(first, "select count(*) - count(distinct id) from raw.events") == [(0,)]
    assert_events_match(first, emulator)


def test_a_warehouse_restored_from_backup_reads_again_what_it_lost(synced, emulator):
    db = Path(synced.get("warehouse", "duckdb_path"))
    backup = db.with_suffix(".backup")
    shutil.copy(db, backup)
    _edit_notes(emulator, 3, "after the backup")
    run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    shutil.copy(backup, db)
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert summary.state_restored
    assert_events_match(synced, emulator)


def test_a_lost_warehouse_is_backfilled_in_full(synced, emulator):
    Path(synced.get("warehouse", "duckdb_path")).unlink()
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY, reconcile=False)
    assert summary.state_restored
    assert_events_match(synced, emulator)
