"""Where the suite puts its temporary folders (tests/temp_root.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.temp_root import PYTEST_TEMP_ROOT, has_room, use_ram_for_test_folders

PLENTY = "MemTotal:       24000000 kB\nMemAvailable:   20000000 kB\n"


def _meminfo(tmp_path: Path, text: str = PLENTY) -> Path:
    path = tmp_path / "meminfo"
    path.write_text(text)
    return path


def test_a_folder_with_room_on_a_machine_with_memory_has_room(tmp_path: Path) -> None:
    assert has_room(tmp_path, _meminfo(tmp_path), min_room=1, min_memory=1)


def test_a_missing_folder_has_no_room(tmp_path: Path) -> None:
    assert not has_room(tmp_path / "missing", _meminfo(tmp_path), min_room=1, min_memory=1)


def test_a_folder_short_of_free_room_has_no_room(tmp_path: Path) -> None:
    assert not has_room(tmp_path, _meminfo(tmp_path), min_room=1 << 60, min_memory=1)


def test_a_machine_short_of_available_memory_has_no_room(tmp_path: Path) -> None:
    meminfo = _meminfo(tmp_path, "MemTotal: 4000000 kB\nMemAvailable: 1000 kB\n")

    assert not has_room(tmp_path, meminfo, min_room=1, min_memory=1 << 30)


def test_memory_that_cannot_be_read_is_no_room(tmp_path: Path) -> None:
    assert not has_room(tmp_path, _meminfo(tmp_path, "MemTotal: 1 kB\n"), 1, 1)


def test_a_root_someone_chose_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PYTEST_TEMP_ROOT, str(tmp_path))

    assert not use_ram_for_test_folders(tmp_path / "elsewhere")
    assert Path(tmp_path) == Path(os.environ[PYTEST_TEMP_ROOT])


def test_a_folder_without_room_leaves_the_root_to_pytest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PYTEST_TEMP_ROOT, raising=False)

    assert not use_ram_for_test_folders(tmp_path / "missing")
    assert PYTEST_TEMP_ROOT not in os.environ
