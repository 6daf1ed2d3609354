"""How `pytest -n N` spreads the tests over the workers (`--dist load`, xdist's default).

Three rules, all about CPU on a small machine:

1. A test module that defines a module-scoped fixture (`@pytest.fixture(scope="module")`) runs
   on one worker, so its costly fixture (a synced warehouse, a built demo) is built once, not
   once per worker. Every other test is scheduled on its own, as `--dist load` does.
2. The modules in `SLOW_FIRST` start first, so that no long test starts last and runs alone
   while the other workers idle.
3. The tests of the modules in `WAITS` mostly wait (back-offs, a lost answer's in-flight
   window, timeouts): at most half the workers hold them at once, the others take tests that
   keep the cores busy. Four workers on two cores all waiting leave the machine idle; at the
   start of a run, with every waiting module among the first, it idled at ~40% for a minute.

`conftest.py` installs it for `--dist load` and `--dist loadgroup`: xdist's own `loadgroup`
reads `@pytest.mark.xdist_group`, but with pytest 9 its group suffix no longer reaches the node
id and every test is scheduled alone. The controller only sees node ids, so rule 1 reads the
module's source for the fixture. `--dist loadfile`, `worksteal` etc. stay xdist's own.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from xdist.scheduler import LoadScopeScheduling
from xdist.workermanage import WorkerController

# The costliest modules (CPU and wall on 2 cores), costliest first. A new slow module can be
# added here; a module missing from the list only starts in collection order.
SLOW_FIRST = (
    "test_readme_walkthrough.py",
    "test_bench_smoke.py",
    # Tests that mostly wait (WAITS): started among the costly ones, at most half the
    # workers at a time (rule 3), so their waits leave the cores to the others all along
    # instead of idling the run's end.
    "test_writeback_faults.py",
    "test_writeback_never_twice.py",
    "test_alerts_emulator.py",
    "test_event_history.py",
    "test_writeback_ambiguous.py",
    "test_sync_resilience.py",
    "test_cli_demo.py",
    "test_writeback_proof.py",
    "test_sync_live_conditions.py",
    "test_notebook_report.py",
    "test_sync_retention.py",
    "test_sync_recovery.py",
    "test_writeback_bulk.py",
    "test_client_faults.py",
    "test_alerts_cli.py",
    # Last of them: on a fresh machine `.ci/run` is still installing PostgreSQL's binaries
    # when the suite starts, and this module's first test waits for them.
    "test_models_postgres.py",
)

# Modules whose tests spend most of their wall time waiting: in a full run, CPU under ~40% of
# their wall time, where a test busy throughout shows ~50% (tests/README.md). Rule 3 spreads
# them.
WAITS = frozenset(
    {
        "test_writeback_faults.py",
        "test_writeback_never_twice.py",
        "test_writeback_ambiguous.py",
        "test_writeback_bulk.py",
        "test_writeback_proof.py",
        "test_sync_resilience.py",
        "test_client_faults.py",
        "test_alerts_cli.py",
    }
)

MODULE_FIXTURE = 'scope="module"'


@cache
def shares_a_module_fixture(path: str) -> bool:
    """Whether the test module at `path` (relative to the rootdir) has a module fixture."""
    try:
        return MODULE_FIXTURE in Path(path).read_text(encoding="utf-8")
    except OSError:
        return False


class ModuleFixtureScheduling(LoadScopeScheduling):
    """Each test is its own work unit, except the tests of a module with a module fixture."""

    def __init__(self, config: pytest.Config, log: object = None) -> None:
        super().__init__(config, log)  # type: ignore[arg-type]
        # Keep the collection order (`slow_first` set it) instead of biggest-group-first.
        config.option.loadscopereorder = False
        self.rootpath = config.rootpath

    def _assign_work_unit(self, node: WorkerController) -> None:
        """Rule 3: the next unit in order, unless it waits and half the other workers already
        hold a unit that waits; then the first unit that does not."""
        waiting = sum(
            1
            for other, units in self.assigned_work.items()
            if other is not node
            and any(_waits(scope) and not all(unit.values()) for scope, unit in units.items())
        )
        if waiting >= max(1, len(self.nodes) // 2):
            busy = next((scope for scope in self.workqueue if not _waits(scope)), None)
            if busy is not None:
                self.workqueue.move_to_end(busy, last=False)
        super()._assign_work_unit(node)

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        if shares_a_module_fixture(str(self.rootpath / module)):
            return module
        return nodeid


def _waits(scope: str) -> bool:
    return Path(scope.split("::", 1)[0]).name in WAITS


def slow_first(items: list[pytest.Item]) -> None:
    """Reorder `items` in place: the modules of `SLOW_FIRST` first, in that order."""
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
