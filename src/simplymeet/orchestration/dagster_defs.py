"""Dagster definitions: each account's sync as dlt assets, the SQL models downstream of them,
the data tests as asset checks, and an hourly schedule.

    pip install -e ".[dagster]"
    SIMPLYMEET_API_KEY=... dagster dev -m simplymeet.orchestration.dagster_defs

- `<account>/<dataset>/<resource>`, in an asset group named after the account: one asset per
  resource of `simplymeet_source` for each account `config.toml` names (`[[accounts]]`; one
  implicit `default` without), declared by dagster-dlt's `@dlt_assets` over that source and
  the account's own pipeline (`make_pipeline`); materializing a subset syncs just those
  resources, with that account's key and URL.
- `analytics/<model>`, in the group `models`: one asset per model in `sql/`, depending on the
  models and the raw tables it reads (the model runner's sqlglot graph, `Model.refs` and
  `.sources`) of every account, since every model carries all accounts (an `account` column).
  They are built together, as `build_models` builds them: in one transaction, seeds first.
- one asset check per data test declared beside the models (`sql/**/<model>.toml`).
- job `simplymeet_sync_and_models` over everything, in one process so the accounts load one
  after the other (a DuckDB file has one writer), and schedule `simplymeet_hourly` on it,
  stopped until turned on (a laptop running `dagster dev` should not start syncing unasked).

Why the assets call our runner and not `DagsterDltResource.run`: dagster-dlt's `run` first
drops the pipeline's local state (or just its pending packages), then calls a bare
`pipeline.run`. Dropping pending packages does not rewind the incremental cursor extracted
with them, so rows can be skipped silently (shared/FACTS.md), and a bare `pipeline.run` has
none of what makes a sync prove itself: the lock, loading a killed run's packages before
extracting, the count checks and re-reads, the reconcile of deleted events, the quarantine
and the run record. So `@dlt_assets` declares the assets (keys, kinds, resource subsets) and
their body calls `simplymeet.sync.sync` for the selected resources; the DagsterDltResource is
not used.

Failures carry the sync's exit-code meaning (`simplymeet.cli.errors`): the step fails with a
`dagster.Failure` whose description starts with it ("auth (exit 4): ...", "sync incomplete
(exit 8): ...") and whose metadata holds `exit_code`. Rows quarantined (exit 9 on the CLI) do
not fail the assets, since everything else loaded: each materialization carries
`rows_quarantined` and the run logs a warning naming the table.
"""

# No `from __future__ import annotations`: Dagster reads the annotations of asset functions
# (the `config: SyncConfig` parameter) as objects when they are decorated.
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import dagster as dg
from dagster_dlt import DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData
from dlt.extract.source import DltSource

from simplymeet.accounts import Account, configured_accounts
from simplymeet.cli.errors import (
    EXIT_API,
    EXIT_AUTH,
    EXIT_DATA_TESTS,
    EXIT_FAILURE,
    EXIT_INCOMPLETE,
    EXIT_LOCKED,
    EXIT_REJECTED_ROWS,
    EXIT_USAGE,
    exit_code_for,
)
from simplymeet.client import SimplyMeetClient
from simplymeet.config import Settings, load_settings
from simplymeet.landing_schema import EVENT_VERSIONS, RUNS_TABLE
from simplymeet.models.destinations import DESTINATIONS as MODEL_DESTINATIONS
from simplymeet.models.seeds import MODELS_SCHEMA

if TYPE_CHECKING:
    from simplymeet.models import DataTest, Project
    from simplymeet.models.connection import Warehouse
    from simplymeet.sync import SyncApi, SyncSummary

MEANINGS: dict[int, str] = {
    EXIT_FAILURE: "unexpected failure",
    EXIT_USAGE: "bad input or configuration",
    EXIT_LOCKED: "locked: another sync of this pipeline is running",
    EXIT_AUTH: "auth: the API key was refused",
    EXIT_API: "API unreachable",
    EXIT_INCOMPLETE: "sync incomplete",
    EXIT_REJECTED_ROWS: "rows quarantined",
    EXIT_DATA_TESTS: "data tests failed",
}
"""What each exit code of a sync means, as a failed step's description starts."""

HOURLY = "0 * * * *"


MODELS_GROUP = "models"
JOB = "simplymeet_sync_and_models"
SCHEDULE = "simplymeet_hourly"


def _client(settings: Settings, account: Account) -> SimplyMeetClient:
    """The API client of `account`: its URL, its key (read at run time, as the CLI reads it)."""
    return SimplyMeetClient.from_settings(account.settings(settings), api_key=account.key())


class SyncConfig(dg.Config):
    """Run options of the sync assets (set in the launchpad; the schedule uses the defaults)."""

    full_refresh: bool = False
    """Re-read every event, then reconcile deletes (as `simplymeet sync --full-refresh`)."""


def build_definitions(settings: Settings) -> dg.Definitions:
    """The assets, checks, job and schedule of every account `settings` names."""
    from simplymeet.models import load_project

    accounts = configured_accounts(settings)
    assets: list[dg.AssetsDefinition] = [_sync_assets(settings, a) for a in accounts]
    checks: list[dg.AssetChecksDefinition] = []
    if settings.get("warehouse", "destination") in MODEL_DESTINATIONS:
        # Other destinations load raw tables only, as `simplymeet sync` does for them.
        project = load_project()
        assets.append(_model_assets(settings, accounts, project))
        checks.append(_data_test_checks(settings, project))
    job = dg.define_asset_job(
        JOB,
        selection=dg.AssetSelection.all(),
        description="Sync every account, build the models, run their data tests.",
        executor_def=dg.in_process_executor,
    )
    schedule = dg.ScheduleDefinition(
        name=SCHEDULE, job=job, cron_schedule=HOURLY, execution_timezone="UTC"
    )
    return dg.Definitions(assets=assets, asset_checks=checks, jobs=[job], schedules=[schedule])


@dg.definitions
def defs() -> dg.Definitions:
    """What `dagster dev -m simplymeet.orchestration.dagster_defs` loads: config.toml's
    accounts (or $SIMPLYMEET_CONFIG's). Lazy, so importing this module reads no settings."""
    return build_definitions(load_settings())


# --- the sync -----------------------------------------------------------------------------


def _dataset(settings: Settings) -> str:
    return str(settings.get("warehouse", "dataset"))


def resource_key(settings: Settings, account: Account, resource: str) -> dg.AssetKey:
    """The asset key of one resource of the sync of `account`, e.g. `default/raw/events`."""
    return dg.AssetKey([account.name, _dataset(settings), resource])


def model_key(model: str) -> dg.AssetKey:
    """The asset key of one model, e.g. `analytics/fct_events` (all accounts' rows)."""
    return dg.AssetKey([MODELS_SCHEMA, model])


@dataclass
class _Translator(DagsterDltTranslator):
    """dagster-dlt's asset specs, keyed and grouped per account; the API is no asset upstream."""

    account: Account | None = None
    settings: Settings | None = None

    def get_asset_spec(self, data: DltResourceTranslatorData) -> dg.AssetSpec:
        assert self.account is not None and self.settings is not None
        name = data.resource.name
        return (
            super()
            .get_asset_spec(data)
            .replace_attributes(
                key=resource_key(self.settings, self.account, name),
                deps=[],
                group_name=self.account.name,
                description=(
                    f"SimplyMeet {name} of account {self.account.name}, in "
                    f"{', '.join(raw_tables(name))}: synced by simplymeet's runner."
                ),
            )
        )


def _resources(settings: Settings) -> list[str]:
    from simplymeet.sync import RESOURCE_NAMES

    configured = settings.get("sync", "resources")
    return [name for name in RESOURCE_NAMES if not configured or name in configured]


def _declared_source(settings: Settings, account: Account) -> DltSource:
    """The source's resources wrapped as a DltSource, for dagster-dlt to read their names.

    Declaring resources makes no request: they read through `api` only when iterated, and
    the runner iterates its own, built with a client that holds the account's key.
    """
    import datetime as dt

    import dlt

    from simplymeet.sync import simplymeet_source

    resources = simplymeet_source(
        cast("SyncApi", None), dt.datetime.now(dt.UTC), resources=_resources(settings)
    )
    return dlt.source(name=f"simplymeet_{account.name}")(lambda: resources)()


def raw_tables(resource: str) -> list[str]:
    """The raw tables one resource of the source lands in."""
    # The runner's table list (one place for that fact); event_versions is the events
    # resource's history table, which the runner does not count, and the runs table holds
    # when the events were last found current.
    from simplymeet.sync.runner import tracked_tables

    tables = tracked_tables([resource])
    return [*tables, EVENT_VERSIONS.name, RUNS_TABLE] if resource == "events" else tables


def _sync_assets(settings: Settings, account: Account) -> dg.AssetsDefinition:
    from simplymeet.sync import make_pipeline

    resources = _resources(settings)

    @dlt_assets(
        dlt_source=_declared_source(settings, account),
        dlt_pipeline=make_pipeline(account.settings(settings)),
        name=f"{account.name}_sync",
        dagster_dlt_translator=_Translator(account=account, settings=settings),
    )
    def sync_assets(
        context: dg.AssetExecutionContext, config: SyncConfig
    ) -> Iterator[dg.MaterializeResult]:
        from simplymeet.cli.sync_cmd import landing_notes
        from simplymeet.sync import SyncRequest, sync

        selected = context.selected_asset_keys
        chosen = [name for name in resources if resource_key(settings, account, name) in selected]
        request = SyncRequest(
            resources=chosen, full_refresh=config.full_refresh, build_models=False
        )
        try:
            with _client(settings, account) as client:
                summary = sync(settings, client, request, account=account)
        except Exception as exc:
            raise failure(exc) from None  # the cause may quote a DSN's password
        lines, _code = landing_notes(summary)
        for line in lines:
            context.log.warning(f"{account.name}: {line}")
        for name in chosen:
            yield dg.MaterializeResult(
                asset_key=resource_key(settings, account, name),
                metadata=_sync_metadata(summary, name),
            )

    return sync_assets


def _sync_metadata(summary: "SyncSummary", resource: str) -> dict[str, Any]:
    """What the run did to one resource's tables, and what it says of the whole run."""
    tables = {row.name: row for row in summary.tables}
    rows = [tables[name] for name in raw_tables(resource) if name in tables]
    metadata: dict[str, Any] = {
        "tables": dg.MetadataValue.json(
            {
                row.name: {
                    "rows": row.rows_after,
                    "loaded": row.loaded,
                    "new": row.new,
                    "updated": row.updated,
                    "deleted": row.deleted,
                }
                for row in rows
            }
        ),
        "rows_loaded": sum(row.loaded for row in rows),
        "rows_quarantined": summary.rejected_rows,
        "requests": summary.requests,
        "warehouse": summary.warehouse,
    }
    if rows:
        metadata["dagster/row_count"] = rows[0].rows_after
    if resource == "events":
        metadata["reconciled"] = summary.reconciled
        metadata["deleted_found"] = summary.deleted_found
    return metadata


def failure(exc: BaseException) -> dg.Failure:
    """`exc` as a failed step, described by the exit code the CLI would have exited with."""
    code, message = exit_code_for(exc)
    meaning = MEANINGS.get(code, MEANINGS[EXIT_FAILURE])
    return dg.Failure(
        description=f"{meaning} (exit {code}): {message}",
        metadata={"exit_code": code, "meaning": meaning},
        # Worth retrying: the lock frees, the API comes back, a re-read adds up.
        allow_retries=code in (EXIT_LOCKED, EXIT_API, EXIT_INCOMPLETE),
    )


# --- the models and their data tests -------------------------------------------------------


def _warehouse(settings: Settings) -> "Warehouse":
    from simplymeet.models.connection import warehouse_for

    wh = settings.section("warehouse")
    return warehouse_for(wh["destination"], wh["duckdb_path"])


def _model_assets(
    settings: Settings, accounts: Sequence[Account], project: "Project"
) -> dg.AssetsDefinition:
    owner = {table: name for name in _resources(settings) for table in raw_tables(name)}
    destination = str(settings.get("warehouse", "destination"))
    specs = []
    for model in project.models:
        unlanded = sorted(model.sources - set(owner))
        if unlanded:
            raise ValueError(
                f"model {model.name} reads raw {', '.join(unlanded)}, which no synced "
                "resource lands ([sync] resources in the config)"
            )
        deps = [model_key(ref) for ref in sorted(model.refs & set(project.names))]
        deps += [
            resource_key(settings, account, owner[table])
            for account in accounts
            for table in sorted(model.sources)
        ]
        specs.append(
            dg.AssetSpec(
                key=model_key(model.name),
                deps=list(dict.fromkeys(deps)),
                group_name=MODELS_GROUP,
                description=model.grain or f"model {model.name}",
                kinds={"sql", destination},
                metadata={
                    "materialized": model.materialization,
                    "path": str(model.path.relative_to(project.sql_dir)),
                },
            )
        )

    # One step for every model: `build_models` builds them in one transaction (a failing
    # model rolls the build back), so a subset would be a different, partial build.
    @dg.multi_asset(name="models", specs=specs, can_subset=False)
    def models(context: dg.AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        from simplymeet.models import build_models

        try:
            result = build_models(
                _warehouse(settings), settings=settings, dataset=_dataset(settings)
            )
        except Exception as exc:
            raise failure(exc) from None  # the cause may quote a DSN's password
        context.log.info(f"{len(result.models)} models built in {result.seconds:.1f} s")
        for built in result.models:
            metadata: dict[str, Any] = {"seconds": round(built.seconds, 3)}
            if built.rows is not None:
                metadata["dagster/row_count"] = built.rows
            yield dg.MaterializeResult(asset_key=model_key(built.name), metadata=metadata)

    return models


def check_names(tests: Sequence["DataTest"]) -> dict[tuple[str, str], str]:
    """A Dagster check name for each (model, test): the test's name in [A-Za-z0-9_], unique
    per model (`event_id.unique` -> `event_id_unique`)."""
    names: dict[tuple[str, str], str] = {}
    taken: set[tuple[str, str]] = set()
    for test in tests:
        base = re.sub(r"[^A-Za-z0-9_]+", "_", test.name).strip("_") or "data_test"
        name, n = base, 1
        while (test.model, name) in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add((test.model, name))
        names[(test.model, test.name)] = name
    return names


def _data_test_checks(settings: Settings, project: "Project") -> dg.AssetChecksDefinition:
    from simplymeet.models import load_data_tests

    tests = load_data_tests(project)
    names = check_names(tests)

    def check_key(test: "DataTest") -> dg.AssetCheckKey:
        return dg.AssetCheckKey(model_key(test.model), names[(test.model, test.name)])

    specs = [
        dg.AssetCheckSpec(
            name=names[(test.model, test.name)],
            asset=model_key(test.model),
            description=test.description or test.name,
        )
        for test in tests
    ]

    @dg.multi_asset_check(specs=specs, name="data_tests", can_subset=True)
    def data_tests(context: dg.AssetCheckExecutionContext) -> Iterator[dg.AssetCheckResult]:
        from simplymeet.models import test_models

        selected = context.selected_asset_check_keys
        chosen = [test for test in tests if check_key(test) in selected]
        try:
            failures = test_models(
                _warehouse(settings),
                select=sorted({test.model for test in chosen}),
                limit=5,
                dataset=_dataset(settings),
                settings=settings,
            )
        except Exception as exc:
            raise failure(exc) from None  # the cause may quote a DSN's password
        failed = {(found.model, found.test): found for found in failures}
        for test in chosen:
            found = failed.get((test.model, test.name))
            metadata: dict[str, Any] = {"failing_rows": found.failing_rows if found else 0}
            if found is not None:
                # What to look at; a passing check carries no more (273 of them per run).
                metadata["first_rows"] = dg.MetadataValue.json(
                    [dict(zip(found.columns, map(str, row), strict=False)) for row in found.rows]
                )
                metadata["sql"] = dg.MetadataValue.md(f"```sql\n{found.sql}\n```")
            key = check_key(test)
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=found is None,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata=metadata,
            )

    return data_tests
