"""How the suite's own scheduler hands tests to xdist's workers (tests/xdist_schedule.py)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from tests.xdist_schedule import ModuleFixtureScheduling

WAITING = "tests/test_writeback_faults.py"
BUSY = "tests/test_models_no_show.py"


class _Config(SimpleNamespace):
    def getvalue(self, name: str) -> Any:
        return getattr(self.option, name)


class _Node:
    """A worker that records the tests it was sent."""

    def __init__(self, name: str) -> None:
        self.gateway = SimpleNamespace(id=name)
        self.sent: list[int] = []
        self.shutting_down = False

    def send_runtest_some(self, indexes: list[int]) -> None:
        self.sent.extend(indexes)

    def shutdown(self) -> None:
        self.shutting_down = True


def _started(collection: list[str], workers: int) -> tuple[ModuleFixtureScheduling, list[_Node]]:
    config = _Config(
        option=SimpleNamespace(tx=[f"{workers}*popen"], loadscopereorder=True),
        rootpath=Path(__file__).resolve().parents[1],
    )
    scheduler = ModuleFixtureScheduling(config)  # type: ignore[arg-type]
    nodes = [_Node(f"gw{n}") for n in range(workers)]
    for node in nodes:
        scheduler.add_node(node)  # type: ignore[arg-type]
        scheduler.add_node_collection(node, collection)  # type: ignore[arg-type]
    scheduler.schedule()
    return scheduler, nodes


def _holds_a_waiting_test(node: _Node, collection: list[str]) -> bool:
    return any(collection[i].startswith(WAITING) for i in node.sent)


def test_at_most_half_the_workers_start_on_tests_that_mostly_wait() -> None:
    collection = [f"{WAITING}::test_{n}" for n in range(8)]
    collection += [f"{BUSY}::test_{n}" for n in range(8)]

    _, nodes = _started(collection, workers=4)

    assert sum(_holds_a_waiting_test(node, collection) for node in nodes) == 2


def test_tests_that_wait_still_all_run_when_nothing_else_is_left() -> None:
    collection = [f"{WAITING}::test_{n}" for n in range(3)]

    _, nodes = _started(collection, workers=4)

    assert sorted(i for node in nodes for i in node.sent) == [0, 1, 2]
