"""Which dlt destinations a sync can keep exact, told before anything is written to one.

A sync merges its tables on their keys (`delete-insert`, and `insert-only` for the versions
it keeps) and then proves the run with SQL run in the destination: its row counts against
the server's, deletes marked in place, stale child rows pruned. dlt lets a destination
without those merges fall back to appending, with a warning, and a destination without SQL
had those checks skipped: a filesystem bucket took a second copy of every row on the second
run and the run ended 0, the worst outcome this product can have. A destination lacking
`insert-only` (sqlalchemy, redshift, clickhouse) failed in the extract, after the requests.
Such destinations are refused up front, as a setting to fix.
"""

from __future__ import annotations

from simplymeet.config import ConfigError
from simplymeet.landing_schema import EVENTS
from simplymeet.sync.source import INSERT_ONLY, MERGE

STRATEGIES = (MERGE["strategy"], INSERT_ONLY["strategy"])
"""The merge strategies the source's tables ask for."""


def refuse_unfit_destination(reference: str) -> None:
    """Raise `ConfigError` when the destination named `reference` (a dlt destination name or
    module path) lacks a merge strategy the sync's tables use; an unknown name raises dlt's
    own error. Every destination dlt ships with both strategies is a SQL one."""
    from dlt.common.destination import Destination

    destination = Destination.from_reference(reference)
    assert destination is not None  # None only for no reference at all
    capabilities = destination.capabilities()
    supported = capabilities.supported_merge_strategies
    if capabilities.merge_strategies_selector is not None:
        # What a table the sync declares gets: Athena merges only iceberg tables, and the
        # sync's are not (dlt would append, as on a filesystem bucket).
        supported = capabilities.merge_strategies_selector(
            supported, table_schema={"name": EVENTS.name}
        )
    missing = [strategy for strategy in STRATEGIES if strategy not in supported]
    if missing:
        raise ConfigError(
            f"destination {destination.destination_name!r} cannot hold a sync exactly: it "
            f"lacks the {' and '.join(missing)} merge the sync's tables use (dlt would append "
            "or refuse them); use duckdb, postgres or another SQL destination (--destination "
            "or [warehouse] destination)"
        )
