"""One sync run, start to finish: lock, recover, extract, load, tidy, reconcile, summarize.

The order matters for "killed mid-way, the next run converges": a previous run's load packages
that never reached the warehouse are loaded first (dlt would otherwise load them and extract
nothing new in that run), then child tables are pruned, then this run extracts. The events
cursor lives in dlt's state, which is committed with the load package that carries the rows,
so a cursor never runs ahead of the data it describes; where the local copy did anyway
(packages dropped, warehouse restored from a backup) or is gone, the warehouse's copy is taken
first (`recovery.py`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import dlt
from dlt.common.destination import TLoaderFileFormat
from dlt.common.runtime import signals

from simplymeet.accounts import Account, configured_accounts
from simplymeet.client.errors import AuthError, NotFoundError, SimplyMeetError
from simplymeet.config import Settings
from simplymeet.interruptions import raise_if_received
from simplymeet.landing_schema import RUN_COLUMNS, RUNS_TABLE, Table
from simplymeet.models import watermarks
from simplymeet.sync import (
    cleanup,
    first_load,
    migrate,
    null_recheck,
    per_type_refresh,
    policy_versions,
    quarantine,
    run_clock,
    unknown_fields,
)
from simplymeet.sync import tables as t
from simplymeet.sync.api import CANCELED_ONLY, SyncApi
from simplymeet.sync.arrow_memory import use_system_allocator
from simplymeet.sync.checks import IncompleteScanError, ScanReport
from simplymeet.sync.cursor import SOURCE_NAME, EventCursor, events_resource_state
from simplymeet.sync.destination_fit import refuse_unfit_destination
from simplymeet.sync.dlt_live_schema import reading_live_schemas_when_changed
from simplymeet.sync.dlt_secret_hints import cache_secret_hint_checks
from simplymeet.sync.dlt_table_configs import resolving_table_configs_once
from simplymeet.sync.dlt_urls import parse_urls_without_sqlalchemy
from simplymeet.sync.ids import as_id
from simplymeet.sync.lock import (
    check_pipelines_dir,
    check_warehouse_path,
    pipeline_lock,
    server_lock,
    warehouse_kept_open,
)
from simplymeet.sync.ownership import refuse_foreign_pipeline
from simplymeet.sync.reconcile import (
    HeadAhead,
    ServerHead,
    WarehouseEvents,
    missed_newest,
    newest_held_gone,
    quiet_by_stamps,
    reconcile_events,
    server_head,
    totals_differ,
    unheld_ids,
)
from simplymeet.sync.recovery import (
    DamagedPipelineFolder,
    align_state_with_warehouse,
    dropped_tables,
    move_damaged_folder_aside,
    opened_pipeline,
    pending_before_accounts,
    undone_if_refused,
)
from simplymeet.sync.resource_names import check_resources
from simplymeet.sync.retention import drop_extracts_already_normalized, prune_pipeline_storage
from simplymeet.sync.snapshots import Snapshots
from simplymeet.sync.source import (
    DEDUP_SORT,
    FULL_READ_OWED,
    RENEW_CHILDREN,
    RESOURCE_NAMES,
    appendable_tables,
    in_file_format,
    landed_tables,
    simplymeet_source,
)

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from dlt.common.destination.client import JobClientBase
    from dlt.destinations.sql_client import SqlClientBase

log = logging.getLogger("simplymeet.sync")

# dlt phones home by default; a scheduled sync of someone's calendar data should not.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
# dlt keeps each merge's rows in `<dataset>_staging` after the load: a second copy of every
# row loaded, written to the DuckDB file by the checkpoint that ends the load (B12: the whole
# run 0.2 s faster with them emptied). Nothing reads them; the next merge refills them.
os.environ.setdefault("LOAD__TRUNCATE_STAGING_DATASET", "true")


@dataclass
class SyncRequest:
    """What one run should do, beyond what config.toml says."""

    resources: Sequence[str] | None = None
    full_refresh: bool = False
    reconcile: bool | None = None
    """True forces the deleted-events pass, False skips it, None follows the configured cadence."""
    since: dt.datetime | None = None
    destination: str | None = None
    dataset: str | None = None
    build_models: bool | None = None
    refresh_ids: Sequence[int] | None = None
    """Re-read just these events (used after a write-back); no cursor movement, no reconcile."""
    deleted_ids: Sequence[int] = ()
    """Events known to be deleted upstream (a write-back deleted them): marked after the load."""
    reread_per_event_type: bool = False
    """Read every event type's tags and availability, whatever `per_event_type_refresh_hours`
    says (a write-back that changed them; `full_refresh` does it too)."""


@dataclass
class TableSummary:
    """Rows in one warehouse table before and after the run, and what the run did to it."""

    name: str
    rows_before: int
    rows_after: int
    loaded: int
    deleted: int = 0
    replaced: bool = False
    unchanged: bool = False
    """A replaced table whose list came back as last loaded: confirmed, not loaded again."""

    @property
    def new(self) -> int:
        return 0 if self.replaced else max(self.rows_after - self.rows_before, 0)

    @property
    def updated(self) -> int:
        return 0 if self.replaced else max(self.loaded - self.new, 0)


@dataclass
class SyncSummary:
    """The outcome of a run, as printed at its end and returned to orchestrators."""

    tables: list[TableSummary] = field(default_factory=list)
    requests: int = 0
    retries: int = 0
    totals_left: tuple[int, int] | None = None
    """(the server's count, the warehouse's live events) where they still differ after a
    reconcile found nothing more to mend: the next run does not reconcile again for the same
    two figures."""
    events_current_at: dt.datetime | None = None
    """The run's stamp when it read the events whole and they add up (no exit 5 or 8 for
    them): the moment the warehouse is known current, which the models judge past from."""
    totals_unjudged: tuple[int, int] | None = None
    """The same two figures where they differ and the server's newest event could not show
    it quiet: the next run that finds the very same two reconciles."""
    event_pages: int = 0
    duration_seconds: float = 0.0
    drift_detected: bool = False
    """The events scan saw rows deleted while it paged (and re-read around them)."""
    event_pages_reread: int = 0
    """Event pages (or id lookups) read again to close gaps the counts revealed."""
    scan_window_from: str | None = None
    """The oldest `updatedAt` the incremental scan asked for; None for a read of everything."""
    future_rows: int = 0
    """Events stamped ahead of the server's clock: loaded, ignored by the cursor."""
    events_reread: int = 0
    """Events read again by id after the load: served twice in one read, or with a child list
    null whose rows the warehouse held (`ScanReport.served_twice`, `ScanReport.null_lists`)."""
    events_rechecked: int = 0
    """Events the last run landed with a core field null, read again by id (`null_recheck`)."""
    stamps_brought_back: int = 0
    """Rows whose stamps a run on a clock ahead left in the future, brought back to this
    run's time (`run_clock`)."""
    reconciled: bool = False
    deleted_found: int = 0
    reconcile_method: str | None = None
    """"counts" (ranges compared, differing ones listed) or "ids" (every id looked up)."""
    recovered_pending: bool = False
    state_restored: str | None = None
    """Set when the local pipeline state was replaced by the warehouse's, saying why."""
    models_built: bool = False
    model_test_failures: list[str] | None = None
    """After the build, each failed data test as "model: test failed on N row(s)"; None when
    the tests did not run (models not built, or `[sync] test_models = false`)."""
    warehouse: str = ""
    rejected_rows: int = 0
    """Rows that broke the contract and went to `_rejected_rows` instead (exit code 9)."""
    unknown_fields: dict[str, list[str]] = field(default_factory=dict)
    """Fields the reference does not know, per table, kept in that table's `_extra`."""
    account: str = ""
    """The configured account this run synced (`simplymeet.accounts`)."""
    migrated_tables: list[str] = field(default_factory=list)
    """Tables of a warehouse written before accounts that gained the `account` column."""
    widened_tables: list[str] = field(default_factory=list)
    """Tables whose amounts were DECIMAL(18, 2) and now hold them as served (`migrate`)."""

    @property
    def rejected_note(self) -> str | None:
        """The line that names the rows set aside (exit code 9), or None when there were none."""
        if not self.rejected_rows:
            return None
        from simplymeet.landing_schema import REJECTED_ROWS

        dataset = self.warehouse.rsplit(" dataset ", 1)[-1] if self.warehouse else "raw"
        return (
            f"{self.rejected_rows:,} row(s) break the API contract and were set aside in "
            f"{dataset}.{REJECTED_ROWS.name} instead of loaded; everything else loaded"
        )


@dataclass
class SideBySide:
    """What the syncs of several accounts running at once in one process share.

    Extracts run concurrently; everything that writes the warehouse runs under `load_lock`
    (DuckDB has one writer). The caller has checked the warehouse file is free and holds
    no foreign pipeline, once, before starting them.
    """

    load_lock: threading.Lock = field(default_factory=threading.Lock)


def make_pipeline(
    settings: Settings, destination: str | None = None, dataset: str | None = None
) -> dlt.Pipeline:
    """The dlt pipeline for these settings: DuckDB file by default, any dlt destination by name."""
    # Before dlt resolves its first setting: most of that resolution asks the same question
    # of the same few hundred type hints (`dlt_secret_hints`).
    cache_secret_hint_checks()
    wh = settings.section("warehouse")
    name = destination or wh["destination"]
    dest: Any
    if name != "duckdb":
        refuse_unfit_destination(name)
    if name == "duckdb":
        from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

        parse_urls_without_sqlalchemy()

        # DuckDB may take 80% of RAM during the merge load by default; B4 measured the peak
        # of a 1M-event sync halve (1.5 GB -> 0.76 GB) with a cap, at no cost in load time,
        # and 256 MB rather than 512 keep it at 0.63 GB (the load ~1 s slower at 1M).
        credentials = DuckDbCredentials(
            str(Path(wh["duckdb_path"]).resolve()),
            global_config={"memory_limit": wh["duckdb_memory_limit"]},
        )
        dest = dlt.destinations.duckdb(credentials=credentials)
    else:
        dest = name
    return opened_pipeline(
        lambda folder: dlt.pipeline(
            pipeline_name=wh["pipeline_name"],
            destination=dest,
            dataset_name=dataset or wh["dataset"],
            pipelines_dir=str(folder),
            progress="log" if os.environ.get("SIMPLYMEET_DLT_PROGRESS") else None,
        ),
        Path(wh["pipelines_dir"]).resolve(),
        wh["pipeline_name"],
    )


def _schemas(dataset: str) -> tuple[str, ...]:
    """The schemas a sync and its models write in the warehouse: the dataset, dlt's staging
    copy of it, the models' and the write-back journal's."""
    from simplymeet.models.seeds import MODELS_SCHEMA
    from simplymeet.writeback.journal import SCHEMA as JOURNAL_SCHEMA

    return (dataset, f"{dataset}_staging", MODELS_SCHEMA, JOURNAL_SCHEMA)


def check_destination(settings: Settings) -> None:
    """Resolve the destination's settings and credentials as a sync's load will, connecting
    to nothing: raises what dlt raises for one that is missing (exit code 2), so a caller
    that writes to the API before it syncs can stop before anything is sent."""
    wh = settings.section("warehouse")
    with undone_if_refused(Path(wh["pipelines_dir"]), wh["pipeline_name"]):
        try:
            pipeline = make_pipeline(settings)
        except DamagedPipelineFolder:
            # The refresh's sync moves it aside and restores the state from the warehouse:
            # nothing here to refuse the writes for.
            return
        pipeline.destination_client()


@resolving_table_configs_once
@reading_live_schemas_when_changed
def run_sync(
    settings: Settings,
    api: SyncApi,
    request: SyncRequest | None = None,
    *,
    on_stage: Callable[[str], None] | None = None,
    account: Account | None = None,
    side_by_side: SideBySide | None = None,
) -> SyncSummary:
    """Sync the selected resources of one account into the warehouse; return what happened.

    `account` is one of `simplymeet.accounts.configured_accounts(settings)` (default: the
    first, which is the implicit `default` account when config.toml names none); `api`
    must be a client of that account (its key and base URL). The run uses the account's own
    dlt pipeline (state, lock, cursor) and stamps every row with its name. A run refused for
    its configuration (exit code 2: a destination without its credentials, say) leaves no
    pipeline folder it made behind.

        run_sync(settings, SyncApi(client), SyncRequest(), account=accounts[1])
    """
    account = account or configured_accounts(settings)[0]
    wh = account.settings(settings).section("warehouse")
    with undone_if_refused(Path(wh["pipelines_dir"]), wh["pipeline_name"]):
        return _run_sync(settings, api, request, on_stage, account, side_by_side)


def _run_sync(
    settings: Settings,
    api: SyncApi,
    request: SyncRequest | None,
    on_stage: Callable[[str], None] | None,
    account: Account,
    side_by_side: SideBySide | None,
) -> SyncSummary:
    request = request or SyncRequest()
    started = time.monotonic()
    primary = configured_accounts(settings)[0]
    pipeline_names = {known.pipeline_name for known in configured_accounts(settings)}
    settings = account.settings(settings)
    wh, sync = settings.section("warehouse"), settings.section("sync")
    resources = list(request.resources or sync["resources"] or RESOURCE_NAMES)
    check_resources(resources)
    told = on_stage or (lambda _name: None)

    def stage(name: str) -> None:
        # Between steps is where a run interrupted by a signal stops: what was loaded is
        # kept, and what was extracted is loaded by the next run.
        signals.raise_if_signalled()
        raise_if_received()
        told(name)

    summary = SyncSummary(account=account.name)
    check_pipelines_dir(wh["pipelines_dir"])
    if (request.destination or wh["destination"]) == "duckdb":
        check_warehouse_path(
            wh["duckdb_path"],
            create_folder=True,
            schemas=_schemas(request.dataset or wh["dataset"]),
        )
    try:
        pipeline = make_pipeline(settings, request.destination, request.dataset)
    except DamagedPipelineFolder as damaged:
        # Under the lock: a running sync holds it for as long as it writes the folder.
        with pipeline_lock(Path(wh["pipelines_dir"]), wh["pipeline_name"]):
            move_damaged_folder_aside(damaged)
        pipeline = make_pipeline(settings, request.destination, request.dataset)
    summary.warehouse = _describe(pipeline, wh)
    writing = side_by_side.load_lock if side_by_side else contextlib.nullcontext()
    duckdb_file = (
        wh["duckdb_path"] if (request.destination or wh["destination"]) == "duckdb" else None
    )
    # Ours around dlt's steps (theirs nest in it as no-ops): a Ctrl-C or SIGTERM that came
    # while a step ran would otherwise be forgotten when the step ended, and the run go on.
    with (
        signals.intercepted_signals(),
        pipeline_lock(Path(wh["pipelines_dir"]), wh["pipeline_name"]),
        server_lock(pipeline),
    ):
        # Several accounts side by side: the caller checked the file once for all of them.
        with writing, warehouse_kept_open(duckdb_file) as held:
            if held is not None and side_by_side is None:
                refuse_foreign_pipeline(str(duckdb_file), pipeline_names, held)
            # One client for every check before the extract: dlt resolves its whole
            # configuration for each client it opens (~15 ms, a tenth of a small sync's CPU).
            with contextlib.ExitStack() as opened:
                warehouse = _open_warehouse(opened, pipeline)
                if (sql := getattr(warehouse, "sql_client", None)) is not None:
                    migrate.refuse_a_dataset_as_staging(sql)
                if dataset := _dataset_client(warehouse):
                    migrate.refuse_foreign_tables(dataset, pipeline_names)
                    # Before dlt reads or writes a row: the old rows must carry the account
                    # the merge keys now start with, or this run's rows would land beside them.
                    summary.migrated_tables = migrate.add_account_column(dataset, primary.name)
                    migrate.refuse_another_accounts_pipeline(
                        dataset, wh["pipeline_name"], account.name
                    )
                    summary.widened_tables = migrate.widen_amounts(dataset)
                if summary.widened_tables:
                    stage(f"widened the amounts of {', '.join(summary.widened_tables)}")
                if summary.migrated_tables:
                    stage(f"gave {len(summary.migrated_tables)} tables their account column")
                pipeline, summary.state_restored = align_state_with_warehouse(pipeline, warehouse)
                if summary.state_restored:
                    stage("restored pipeline state from the warehouse")
                drop_extracts_already_normalized(pipeline)
                if pending_before_accounts(pipeline):
                    pipeline.abort_packages()
                    pipeline, _ = align_state_with_warehouse(pipeline, warehouse)
                    log.warning(
                        "dropped the load packages a version before accounts left pending: "
                        "their rows carry no account; what they held is read again"
                    )
                if pipeline.has_pending_data:
                    # Closed while dlt loads: a loader must not wait on this client's locks.
                    opened.close()
                    stage("loading what a previous run left pending")
                    pipeline.normalize()
                    pipeline.load()
                    summary.recovered_pending = True
                    # The load may have made the dataset.
                    warehouse = _open_warehouse(opened, pipeline)
                    if pending_into := _dataset_client(warehouse):
                        # Stamped with the start of the run that left them, maybe below a
                        # build another account's run took since.
                        watermarks.hold_back_to_newest(pending_into, account.name)
                # Dead extracts of killed runs and loaded packages hold invitee data recovery
                # never reads.
                prune_pipeline_storage(pipeline)
                tracked = tracked_tables(resources)
                appendable = appendable_tables(resources)
                before: dict[str, int] = {}
                account_rows: dict[str, int] = {}
                policies: policy_versions.Landed = {}
                recheck: list[int] = []
                renew_pending: list[int] = []
                owe_full_read = False
                sweep = False
                reconcile_now = False
                lookback = 0
                landed_stamps: dict[int, dt.datetime] | None = None
                after_unproven = False
                pruned_through: dt.datetime | None = None
                newest_held: dt.datetime | None = None
                first_of_account = True
                if dataset := _dataset_client(warehouse):
                    # Nothing below makes or drops a table until the extract.
                    opened.enter_context(cleanup.tables_held(dataset))
                    dropped = dropped_tables(
                        pipeline,
                        cleanup.existing_tables(dataset),
                        # The history too, where this run writes it.
                        tracked + [a.name for a in appendable if a.name not in tracked]
                        if sync["event_history"]
                        else tracked,
                    )
                    if dropped and not request.full_refresh and request.refresh_ids is None:
                        # Rows read since would land in a new table without the rest.
                        log.warning(
                            "%s no longer in the warehouse though loaded before (dropped?): "
                            "reading everything again, as --full-refresh does",
                            ", ".join(dropped),
                        )
                        request = dataclasses.replace(request, full_refresh=True)
                    if t.EVENTS.name in resources and not request.full_refresh:
                        added = migrate.columns_added_since(dataset, _event_tables())
                        if not added and pipeline.default_schema_name:
                            added = migrate.columns_never_loaded(
                                pipeline.default_schema, _event_tables()
                            )
                        owed = events_resource_state(pipeline.state).get(FULL_READ_OWED)
                        if request.refresh_ids is not None:
                            # Its load adds the columns; the next run must still read all.
                            owe_full_read = bool(added)
                        elif added or owed:
                            log.warning(
                                "%s not landed by the version that wrote the events held: "
                                "reading every event again, as --full-refresh does, so no row "
                                "keeps them empty",
                                ", ".join(added[:4]) + (", …" if len(added) > 4 else "")
                                if added
                                else "event columns",
                            )
                            request = dataclasses.replace(request, full_refresh=True)
                    newest_held = run_clock.newest_stamp(dataset, account.name)
                    pruned_through = _pruned_through(dataset, account.name)
                    first_of_account = pruned_through is None
                    if (first_of_account or summary.recovered_pending) and duckdb_file:
                        # An appending run killed before it deduplicated left no record; a
                        # pending first load appended what another pipeline folder may have
                        # loaded since (a run that found the file busy, run again).
                        first_load.drop_duplicate_keys(
                            dataset, appendable_tables(RESOURCE_NAMES), account.name, DEDUP_SORT
                        )
                    # A first run also counts the history, which it may append to as well.
                    counted = [table.name for table in appendable] if first_of_account else tracked
                    account_rows = cleanup.row_counts(dataset, counted, account.name)
                    if "cancellation_policies" in resources:
                        policies = policy_versions.landed(dataset, account.name)
                    if "events" in resources and request.refresh_ids is None:
                        events_state = events_resource_state(pipeline.state)
                        renew_pending = [int(i) for i in events_state.get(RENEW_CHILDREN) or ()]
                        after_unproven = EventCursor.load(events_state).held_runs > 0
                        reconcile_now = _reconcile_due(
                            request, sync, dataset, account, after_unproven=after_unproven
                        )
                        cursor_at = EventCursor.load(events_state).updated_at
                        if reconcile_now and cursor_at is not None and not request.full_refresh:
                            back_to = _look_back_to(dataset, account.name, cursor_at)
                            lookback = int((cursor_at - back_to).total_seconds())
                            landed_stamps = _landed_stamps(dataset, account.name, back_to)
                        # On the reconcile's cadence, and hourly, every null is asked again:
                        # two reads can both fall in one glitch of the server.
                        sweep = reconcile_now or null_recheck.sweep_due(
                            events_state, run_clock.local_now()
                        )
                        recheck = null_recheck.suspects(
                            dataset, account.name, events_state, everything=sweep
                        )
                        set_aside = null_recheck.set_aside(dataset, account.name)
                        recheck = sorted({*recheck, *set_aside})
                    before = {n: rows for n, rows in account_rows.items() if n in tracked}
                    # A run killed after its load left stale children: mend them now, in
                    # case this run stops before its own load.
                    cleanup.prune_stale_children(
                        dataset, _PARENTS, account.name, written_after=pruned_through
                    )
                synced_at, ceiling = run_clock.run_stamp(
                    run_clock.local_now(), newest_held, lambda: _server_now(api)
                )
                if ceiling is not None and dataset:
                    summary.stamps_brought_back = run_clock.bring_back(
                        dataset, account.name, pipeline.pipeline_name, ceiling
                    )
        if pruned_through is not None and synced_at <= pruned_through:
            # Stamps held ahead of this run's were brought back: they no longer say what is
            # new.
            pruned_through = None
        report = ScanReport()
        snapshots = Snapshots(before=before, reload=request.full_refresh)
        appending = (
            first_load.append_targets(
                [table.name for table in appendable],
                account_rows,
                first_of_account=first_of_account,
            )
            if duckdb_file is not None
            else frozenset()
        )
        source = simplymeet_source(
            api,
            synced_at,
            resources=resources,
            page_size=int(settings.get("api", "page_size")),
            lag_seconds=int(sync["lag_seconds"]),
            lookback_seconds=lookback,
            landed_stamps=landed_stamps,
            horizon_days=int(sync["availability_horizon_days"]),
            full_refresh=request.full_refresh,
            since=request.since,
            refresh_ids=request.refresh_ids,
            recheck_ids=recheck,
            recheck_sweep=sweep,
            report=report,
            history=bool(sync["event_history"]),
            per_event_type_refresh_hours=(
                0.0
                if request.reread_per_event_type
                else float(sync["per_event_type_refresh_hours"])
            ),
            account=account.name,
            snapshots=snapshots,
            append_to=appending,
            policies=policies,
            owe_full_read=owe_full_read,
        )
        stage("extracting")
        use_system_allocator()
        # One dlt worker per resource (dlt's default is 5): every resource's first request
        # leaves at once instead of queuing behind four others; the client's semaphore still
        # bounds what is in flight.
        in_file_format(source, exact_file_format(pipeline))
        pipeline.extract(source, workers=max(len(resources), _DLT_EXTRACT_WORKERS))
        # Asked while the run loads; a read again by id before the check asks anew.
        head_ahead = HeadAhead(api) if _totals_checked(request, resources, report) else None
        # Alone, kept open for the model build: no checkpoint between (`checkpoints`).
        with writing, warehouse_kept_open(duckdb_file, hand_over=side_by_side is None) as held:
            stage("normalizing")
            normalize_info = pipeline.normalize()
            stage("loading")
            with first_load.one_thread(held, bool(appending)):
                pipeline.load()
            loaded = dict(normalize_info.row_counts)
            summary.drift_detected = report.gaps_found > 0
            summary.event_pages_reread = report.reread_pages
            summary.scan_window_from = report.window_from
            summary.future_rows = report.future_rows
            summary.events_rechecked = len(recheck) if not request.full_refresh else 0
            deleted_ids: list[int] = []
            with pipeline.sql_client() as client, cleanup.tables_held(client):
                first_load.drop_duplicate_keys(
                    client,
                    [table for table in appendable if table.name in appending],
                    account.name,
                    DEDUP_SORT,
                )
                # A build since another account's run (started later, loaded first) must
                # still take this run's rows in.
                watermarks.hold_back(client, synced_at)

                def reread(ids: Sequence[int], renew_children: Sequence[int] = ()) -> None:
                    nonlocal head_ahead
                    head_ahead = None
                    # Its own load: of two rows of one id and one `updatedAt` in a load,
                    # the merge keeps either. `renew_children`: events whose child rows are
                    # replaced by this read's (both versions' were loaded, under one stamp).
                    read = ScanReport()
                    refresh = simplymeet_source(
                        api,
                        synced_at,
                        resources=["events"],
                        refresh_ids=ids,
                        page_size=_page_size(settings),
                        account=account.name,
                        history=bool(sync["event_history"]),
                        report=read,
                    )
                    in_file_format(refresh, exact_file_format(pipeline))
                    pipeline.extract(refresh)
                    for name, count in pipeline.normalize().row_counts.items():
                        loaded[name] = loaded.get(name, 0) + count
                    # Only now, the read done, and only for the events it was served: a run
                    # stopped between this and the load has the load's package loaded by the
                    # next run, children with it.
                    served = [i for i in renew_children if i in read.read_by_id]
                    cleanup.drop_children(client, t.EVENTS, served, account.name)
                    pipeline.load()
                    cleanup.forget_tables(client)  # the load may have made a table
                    cleanup.prune_stale_children(
                        client, [t.EVENTS], account.name, written_after=pruned_through
                    )

                if request.refresh_ids is None:
                    # Before the children of the run's rows are compared: a list served
                    # null left the children of its event's last version in place.
                    # Events read in two versions, this run or one that stopped before it
                    # read them again.
                    renew = report.read_in_versions | set(renew_pending)
                    suspects = (
                        report.served_twice
                        | renew
                        | cleanup.with_children(client, report.null_lists, account.name)
                    )
                    if suspects:
                        stage(f"reading {len(suspects):,} events again by id")
                        reread(sorted(suspects), sorted(renew))
                        summary.events_reread = len(suspects)
                reconciling = "events" in resources and _reconcile_due(
                    request, sync, client, account, after_unproven=after_unproven
                )
                live = WarehouseEvents(
                    client, t.EVENTS.name, "scheduled_at", t.DELETED_AT, account.name
                )
                totals_reconcile: int | None = None
                head: ServerHead | None = None
                counts_settled = False
                # Rows set aside are not landed: the totals then differ, and the run says so
                # already (exit 9).
                summary.rejected_rows = quarantine.rejected_count(client, synced_at, account.name)
                if not summary.rejected_rows and _totals_checked(request, resources, report):
                    head = _server_head(api, report, head_ahead)
                    missed = head and missed_newest(head, live, report.scan_started)
                    if missed:
                        assert head is not None and head.newest_at is not None
                        if report.scan_started and head.newest_at < report.scan_started:
                            # Changed before the scan's second: a first page served it late.
                            log.warning(
                                "events: the scan left out event %s, the server's newest, "
                                "though it changed before the scan began; read again by id",
                                missed,
                            )
                        else:
                            log.info(
                                "events: event %s, the server's newest, changed in the second "
                                "the scan began; read again by id",
                                missed,
                            )
                        reread([missed])
                        summary.events_reread += 1
                    if (
                        head
                        and not reconciling
                        and (
                            why := _totals_why(
                                api, client, account.name, head, live, report, summary
                            )
                        )
                    ):
                        log.info("events: %s; looking for events deleted upstream", why)
                        reconciling = True
                        totals_reconcile = head.count
                        counts_settled = True
                if reconciling or request.full_refresh:
                    # The periodic pass over every row compares every child row too.
                    pruned_through = None
                cleanup.prune_stale_children(
                    client, _PARENTS, account.name, written_after=pruned_through
                )
                cleanup.confirm_unchanged(
                    client, sorted(snapshots.unchanged), account.name, synced_at
                )
                if "availability" in resources:
                    # A read that landed no rows (fully booked, disabled, gone) still
                    # replaces its type's snapshot of the day; a failed read recorded none.
                    cleanup.drop_replaced_snapshots(
                        client,
                        per_type_refresh.snapshot_reads(pipeline.state, SOURCE_NAME),
                        account.name,
                    )
                # A resource whose read failed loaded nothing: its rows are not stale.
                unread = set(tracked_tables(report.unread))
                cleanup.drop_unrefreshed(
                    client,
                    [n for n in tracked if n not in _MERGED and n not in unread],
                    account.name,
                    synced_at,
                )
                # Deletes seen while paging no longer force a reconcile: the scan re-read
                # around them, and a reconcile every run would cost the whole table under
                # steady writes.
                if reconciling:
                    stage("reconciling deleted events")
                    found = reconcile_events(api, live, _page_size(settings))
                    deleted_ids = found.deleted_ids
                    if found.unconfirmed_ids:
                        shown = ", ".join(map(str, found.unconfirmed_ids[:5]))
                        report.problem(
                            f"reconcile: {len(found.unconfirmed_ids)} event(s) the lists left "
                            f"out could not be read by id to confirm they are gone (e.g. "
                            f"{shown}: {found.unconfirmed_error}); not marked deleted"
                        )
                    summary.reconciled = True
                    summary.reconcile_method = found.method
                    if found.changed_ids:
                        reread(found.changed_ids)
                    summary.deleted_found = cleanup.mark_deleted(
                        client, deleted_ids, synced_at, account.name
                    )
                    if (
                        head
                        and head.count is not None
                        and head.count > live.totals()[0]
                        and (counts_settled or totals_differ(head, live, report.scan_started))
                    ):
                        # Events the server lists that no read of this run could see. Not
                        # while it is written to (its count grows with what the scan already
                        # read past): the next quiet run looks.
                        unheld = unheld_ids(api, live.all_versions(), _page_size(settings))
                        if unheld:
                            log.warning(
                                "reconcile: %d event(s) the list serves were never read "
                                "(e.g. %s); reading them by id",
                                len(unheld),
                                ", ".join(map(str, unheld[:5])),
                            )
                            reread(unheld)
                            summary.events_reread += len(unheld)
                    if totals_reconcile is not None:
                        held_now = live.totals()[0]
                        # Kept for the next run not to reconcile again only where the pass
                        # counted what the closing check did: a count that moved within one
                        # run on a quiet server (a glitch) would park a deletion for good.
                        agreed = found.counted is None or found.counted == totals_reconcile
                        if (
                            held_now != totals_reconcile
                            and agreed
                            # Where the canceled read's count makes up the difference, a
                            # canceled event deleted later must still start a reconcile.
                            and not _canceled_counted_apart(
                                api, report, (totals_reconcile, held_now)
                            )
                        ):
                            summary.totals_left = (totals_reconcile, held_now)
                if "events" in resources and live.present():
                    # Listed or read by id with a deleted state: deleted, whatever the count.
                    summary.deleted_found += cleanup.mark_served_deleted(
                        client, synced_at, account.name
                    )
                if request.deleted_ids:
                    summary.deleted_found += cleanup.mark_deleted(
                        client, list(request.deleted_ids), synced_at, account.name
                    )
                after = cleanup.row_counts(client, tracked, account.name)
                # The re-reads since the count above may have set rows aside too.
                summary.rejected_rows = quarantine.rejected_count(client, synced_at, account.name)
                summary.unknown_fields = unknown_fields.landed(
                    client, [t.table_by_name(name) for name in tracked], synced_at, account.name
                )
                for name in tracked:
                    if name in after:
                        summary.tables.append(
                            TableSummary(
                                name=name,
                                rows_before=before.get(name, 0),
                                rows_after=after[name],
                                loaded=loaded.get(name, 0),
                                deleted=summary.deleted_found if name == t.EVENTS.name else 0,
                                replaced=name not in _MERGED,
                                unchanged=name in snapshots.unchanged,
                            )
                        )
                stats = api.stats()
                summary.requests = stats.get("requests", 0)
                summary.retries = stats.get("retries", 0)
                summary.event_pages = stats.get("event_pages", 0)
                if request.refresh_ids is None:
                    if "events" in resources and report.whole("events"):
                        summary.events_current_at = synced_at
                    # A write-back's refresh is journaled by the write-back itself.
                    _record_run(client, synced_at, request, summary)
            prune_pipeline_storage(pipeline)
        summary.duration_seconds = time.monotonic() - started
        run_clock.warn_if_apart(synced_at, api.clock.now(), summary.duration_seconds)
        # Everything read is loaded and the run recorded; now say that it does not add up,
        # or what could not be read.
        try:
            report.raise_if_incomplete()
            report.raise_if_failed()
        except (SimplyMeetError, IncompleteScanError) as exc:
            # Everything else was loaded: the models are still built on it. Left on the last
            # good run's figures, they stayed there for as long as one list never added up
            # or one deletion could not be confirmed (every run of a busy account).
            exc.loaded = summary  # type: ignore[union-attr]
            raise
        signals.raise_if_signalled()
        raise_if_received()
    return summary


_DLT_EXTRACT_WORKERS = 5
"""dlt's default number of threads stepping parallelized resources."""


def exact_file_format(pipeline: dlt.Pipeline) -> TLoaderFileFormat | None:
    """The load file format that keeps every value as served, where dlt's choice would not:
    dlt loads Arrow tables into PostgreSQL as CSV with `FORCE_NULL` on every nullable column,
    so an empty string (a booking's notes, an answer's value) landed as NULL. Its INSERT
    statements keep it. None elsewhere: dlt's own choice (Parquet for DuckDB) is exact."""
    destination = pipeline.destination
    if destination is not None and destination.destination_type == "dlt.destinations.postgres":
        return "insert_values"
    return None


_PARENTS = [t.EVENTS, t.EVENT_TYPES, t.POLLS]
"""Tables whose children are pruned against them (`cleanup.prune_stale_children`)."""


_MERGED = {
    t.EVENTS.name,
    *(child.table.name for child in t.EVENTS.children),
    t.CANCELLATION_POLICIES.name,
    t.AVAILABILITY_DAYS.name,
    t.AVAILABILITY_SLOTS.name,
}


def _event_tables() -> list[Table]:
    return [t.EVENTS, *(child.table for child in t.EVENTS.children)]


def tracked_tables(resources: Sequence[str]) -> list[str]:
    """The raw tables (parents, then their children) the runner counts for these resources."""
    return [table.name for table in landed_tables(resources)]


def _page_size(settings: Settings) -> int:
    return int(settings.get("api", "page_size"))


def _open_warehouse(opened: contextlib.ExitStack, pipeline: dlt.Pipeline) -> JobClientBase | None:
    """The destination's job client, open until `opened` closes; None where dlt cannot open
    one (the state check then opens its own and says why)."""
    try:
        # dlt's job clients are context managers without the typing protocol's signature.
        client = cast("AbstractContextManager[JobClientBase]", pipeline.destination_client())
        return opened.enter_context(client)
    except Exception:
        return None


def _dataset_client(client: JobClientBase | None) -> SqlClientBase[Any] | None:
    """`client`'s SQL client when the dataset exists, else None (also for destinations
    without SQL)."""
    # dlt's client, not the held connection: dlt normalizes the dataset's name
    # (`--dataset "SimplyMeet Raw"` is the schema simply_meet_raw) and only it knows how.
    sql = getattr(client, "sql_client", None)
    try:
        return sql if sql is not None and sql.has_dataset() else None
    except Exception:
        return None


def event_cursor(pipeline: dlt.Pipeline) -> EventCursor:
    """The events cursor a pipeline holds (empty before its first sync)."""
    return EventCursor.from_pipeline_state(pipeline.state)


SKEW_MARGIN = dt.timedelta(hours=1)
"""How far a clock stamping `updatedAt` may run behind the server's and a reconciling run
still find its change (`_look_back_to`)."""


def _look_back_to(client: SqlClientBase[Any], account: str, cursor_at: dt.datetime) -> dt.datetime:
    """Down to which `updatedAt` a reconciling run reads the events again: `SKEW_MARGIN`
    before the last reconcile (or the first run), or before the cursor where that is earlier.
    A change stamped by a clock running behind the server's by more than the lag lands below
    the cursor, and no incremental read sees it (nor the reconcile's counts and ids): the
    next reconciling run does, whenever since the last one it was made.

    The last reconcile's time is taken on the server's clock, as the stamps and the cursor
    are: the newest `updatedAt` the warehouse held when it ran. Its start on this machine's
    clock, ahead of the server's by up to the hour `run_clock` tolerates, shrank the margin
    by as much (a server 50 minutes behind left 10)."""
    last = _last_reconcile(client, account)
    if last is None:
        return cursor_at - SKEW_MARGIN
    events = client.make_qualified_table_name(t.EVENTS.name)
    held = client.execute_sql(
        f"select max(updated_at) from {events} where {t.ACCOUNT} = %s and {t.SYNCED_AT} <= %s",
        account,
        last,
    )
    newest_then = _aware(held[0][0]) if held and held[0][0] is not None else last
    return min(cursor_at, newest_then) - SKEW_MARGIN


def _landed_stamps(
    client: SqlClientBase[Any], account: str, since: dt.datetime
) -> dict[int, dt.datetime]:
    """The `updatedAt` the warehouse holds for each of `account`'s events stamped since
    `since`: what a reconciling run's look back need not load again."""
    events = client.make_qualified_table_name(t.EVENTS.name)
    rows = client.execute_sql(
        f"select id, updated_at from {events} where {t.ACCOUNT} = %s and updated_at >= %s",
        account,
        since,
    )
    return {int(i): _aware(at) for i, at in rows or () if at is not None}


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def _reconcile_due(
    request: SyncRequest,
    sync: dict[str, Any],
    client: SqlClientBase[Any],
    account: Account,
    *,
    after_unproven: bool = False,
) -> bool:
    """Whether this run reconciles: asked, a full refresh, the cadence's time, or the run
    before this one could not prove its events scan complete (`after_unproven`): what it
    loaded may hold a row no answer serves again (a page with an item more than its count),
    which no incremental read removes."""
    if request.refresh_ids is not None:
        return False
    if request.reconcile is not None:
        return request.reconcile
    if request.full_refresh or after_unproven:
        return True
    every = float(sync["reconcile_every_hours"])
    last = _last_reconcile(client, account.name)
    if last is None:
        # The first sync has nothing to reconcile against; start the clock from it.
        return False
    return dt.datetime.now(dt.UTC) - last >= dt.timedelta(hours=every)


def _totals_checked(request: SyncRequest, resources: Sequence[str], report: ScanReport) -> bool:
    """Whether this run checks its events against the server's count and newest event: a
    run of the events that read them as it meant to (one that did not fails anyway, and the
    next reconciles), unless told not to reconcile (the check's one request too) or only
    re-reading given ids."""
    return (
        "events" in resources
        and request.refresh_ids is None
        and request.reconcile is not False
        and not report.problems
        and "events" not in report.unread
    )


def _server_now(api: SyncApi) -> dt.datetime | None:
    """The server's time from the `Date` of one small read (the event list's count, never
    read ahead: an answer read before the run began is no clock); None when it cannot tell:
    a failing server (its reads fail the run soon enough, with their own error), or a `Date`
    far older than every `updatedAt` of the newest events the same answer serves."""
    try:
        head = server_head(api)
    except SimplyMeetError as error:
        if isinstance(error, AuthError):
            raise
        return None
    now = api.clock.now()
    stamps = [at for _, at in head.rows if at is not None]
    if not stamps and head.newest_at is not None:
        stamps = [head.newest_at]
    if now is not None and stamps and min(stamps) - now >= run_clock.TOLERANCE:
        # A Date far older than the server's own newest stamps says nothing of the time. One
        # row or a few stamped ahead (a bad import) among them do not: they left the stamps
        # a run on a clock ahead wrote in the future for as long as they were served.
        return None
    return now


def _server_head(
    api: SyncApi, report: ScanReport, ahead: HeadAhead | None = None
) -> ServerHead | None:
    """The server's count and newest event (`reconcile.server_head`, or what `ahead` asked
    for); None, and the run left unproven (exit 8), when they cannot be read."""
    try:
        return ahead.result() if ahead is not None else server_head(api)
    except SimplyMeetError as error:
        if isinstance(error, AuthError):
            raise
        report.problem(f"events: the server's count could not be read to check them ({error})")
        return None


def _pruned_through(client: SqlClientBase[Any], account: str) -> dt.datetime | None:
    """The stamp of `account`'s last recorded run, or None: a run is recorded only after it
    compared every child row written since the run recorded before it (or every one)."""
    return _run_stamp(client, account, "max")


def _last_reconcile(client: SqlClientBase[Any], account: str) -> dt.datetime | None:
    """When `account`'s last reconcile ran, else its first recorded run, else None."""
    return _run_stamp(client, account, "max", "reconciled") or _run_stamp(client, account, "min")


def _run_stamp(
    client: SqlClientBase[Any], account: str, aggregate: str, condition: str = "true"
) -> dt.datetime | None:
    """`aggregate` (min or max) of the start of `account`'s recorded runs where `condition`."""
    if RUNS_TABLE not in cleanup.existing_tables(client):
        return None
    runs = client.make_qualified_table_name(RUNS_TABLE)
    rows = client.execute_sql(
        f"select {aggregate}(started_at) from {runs} where {condition} and {t.ACCOUNT} = %s",
        account,
    )
    value = rows[0][0] if rows else None
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _run_columns(client: SqlClientBase[Any]) -> set[str]:
    """The columns `_sync_runs` has (none when it does not exist)."""
    rows = client.execute_sql(
        "select column_name from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        client.dataset_name,
        RUNS_TABLE,
    )
    return {str(row[0]) for row in rows or []}


def _totals_why(
    api: SyncApi,
    client: SqlClientBase[Any],
    account: str,
    head: ServerHead,
    live: WarehouseEvents,
    report: ScanReport,
    summary: SyncSummary,
) -> str | None:
    """Why the run reconciles for the totals the closing check read, or None.

    Totals that differ are reconciled when the server is quiet (`totals_differ`). A server
    whose newest-first list does not open with its newest stamp (stamps left null and sorted
    first, as PostgreSQL sorts NULL; an order it ignores) never looks quiet by its stamps:
    fewer events than held, counted alike as the scan began and as it ended, are reconciled,
    and so are the very same two figures the run before could not judge (counts that stood
    still between two runs are not those of writes in flight). Figures a reconcile
    already could not mend are not reconciled again, and are carried to the next run.
    """
    if head.count is None:
        # Nothing to compare: a delete upstream shows in no count (and a read of every id on
        # every run would cost as much as a first sync). Said, so exit 0 is not read as proof.
        log.warning(
            "events: the event list states no count: an event deleted upstream is found only "
            "by the reconcile ([sync] reconcile_every_hours, or sync --reconcile)"
        )
        return None
    figures = (head.count, live.totals()[0])
    if figures[0] == figures[1] or _canceled_counted_apart(api, report, figures):
        return None
    last_left, last_unjudged = _last_figures(client, account)
    if figures == last_left:
        # Reconciled at these very figures with nothing left to mend: a server whose list
        # leaves out events it serves by id.
        log.info(
            "events: the warehouse holds %s live events where the server counts %s, as after "
            "the last reconcile; not again",
            f"{figures[1]:,}",
            f"{figures[0]:,}",
        )
        summary.totals_left = figures
        return None
    why = totals_differ(head, live, report.scan_started)
    if (
        why is None
        and figures[1] > figures[0]
        and figures[0] == report.scan_counted
        and quiet_by_stamps(head, live, report.scan_started) is None
    ):
        # A head that cannot tell (stamps null and sorted first; an order the server ignores):
        # a count that stood still from the scan's first page to now is a server the run
        # saw no event added to or removed from, and the events it no longer counts were
        # removed before. Waiting for two runs with the same figures left them live through
        # every run of an account that books and cancels between syncs.
        why = (
            f"the warehouse holds {figures[1]:,} live events where the server counts "
            f"{figures[0]:,}, as it counted when the scan began"
        )
    if why is None and figures == last_unjudged:
        why = (
            f"the warehouse holds {figures[1]:,} live events where the server counts "
            f"{figures[0]:,}, as at the last run"
        )
    if why is None and figures[1] > figures[0]:
        gone = newest_held_gone(api, head, live, report.scan_started)
        if gone:
            why = (
                f"the warehouse holds {figures[1]:,} live events where the server counts "
                f"{figures[0]:,}, and its newest ({', '.join(map(str, gone))}) are gone upstream"
            )
    if why is None:
        summary.totals_unjudged = figures
    return why


def _canceled_counted_apart(api: SyncApi, report: ScanReport, figures: tuple[int, int]) -> bool:
    """Whether the totals agree once the canceled events are added to the server's count,
    on a server whose list leaves them out unless asked for by state.

    Such a server counts the warehouse's canceled events nowhere but in their own read: the
    totals differ on every run, and a reconcile cannot bring them together. The sum alone
    could agree by chance (as many deletions unseen as canceled events), so it counts only
    once the server is shown, in this run, to list a canceled event that read found when
    asked for it by state and by id, and not when asked by id alone (`_lists_canceled_apart`)."""
    counted, sample = report.canceled_counted, report.canceled_sample
    if counted is None or sample is None or figures[0] + counted != figures[1]:
        return False
    if report.canceled_apart is None:
        report.canceled_apart = _lists_canceled_apart(api, sample)
    if not report.canceled_apart:
        return False
    log.info(
        "events: the server counts %s events listed and %s canceled ones it lists only when "
        "asked: the %s live events the warehouse holds",
        f"{figures[0]:,}",
        f"{counted:,}",
        f"{figures[1]:,}",
    )
    return True


def _lists_canceled_apart(api: SyncApi, sample: int) -> bool:
    """Whether the event list, asked for canceled event `sample` by id, leaves it out, and
    holds it asked by state too. Any other row answered (a server ignoring `filter[ids]`),
    a failed request, or `sample` gone since it was read, says no. The two are asked at once."""
    asks: list[dict[str, Any]] = [{"ids": [sample]}, {"ids": [sample], **CANCELED_ONLY}]

    def ids(ask: int) -> list[int | None] | None:
        try:
            return [as_id(row.get("id")) for row in api.event_page(1, 1, filter=asks[ask]).items]
        except NotFoundError:
            return []
        except SimplyMeetError:
            return None

    (_, plain), (_, asked) = api.map_concurrently(ids, range(len(asks)))
    return plain == [] and asked == [sample]


def _last_figures(
    client: SqlClientBase[Any], account: str
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """The totals the last run of `account` left differing after its reconcile, and those it
    found differing and could not judge (`SyncSummary.totals_left`, `totals_unjudged`)."""
    present = _run_columns(client)
    if not {"served_count", "held_count"} <= present:
        return None, None
    unjudged = "unjudged_served_count, unjudged_held_count"
    if not {"unjudged_served_count", "unjudged_held_count"} <= present:
        unjudged = "null, null"
    runs = client.make_qualified_table_name(RUNS_TABLE)
    rows = client.execute_sql(
        f"select served_count, held_count, {unjudged} from {runs} where {t.ACCOUNT} = %s "
        "order by started_at desc limit 1",
        account,
    )
    if not rows:
        return None, None
    served, held, unjudged_served, unjudged_held = rows[0]
    return _pair(served, held), _pair(unjudged_served, unjudged_held)


def _pair(first: Any, second: Any) -> tuple[int, int] | None:
    return None if first is None or second is None else (int(first), int(second))


def _record_run(
    client: SqlClientBase[Any],
    started_at: dt.datetime,
    request: SyncRequest,
    summary: SyncSummary,
) -> None:
    """Append this run to `_sync_runs`: the audit trail, and the reconcile cadence's clock.

    Plain SQL rather than a second dlt load: that would cost a full extract-normalize-load
    cycle (a quarter of a second or more) for one row.
    """
    mode = "full" if request.full_refresh else "incremental"
    values = (
        started_at,
        dt.datetime.now(dt.UTC),
        mode,
        summary.reconciled,
        summary.deleted_found,
        summary.drift_detected,
        summary.requests,
        sum(table.loaded for table in summary.tables),
        summary.account,
        *(summary.totals_left or (None, None)),
        *(summary.totals_unjudged or (None, None)),
        summary.events_current_at,
    )
    runs = client.make_qualified_table_name(RUNS_TABLE)
    columns = ", ".join(f"{name} {kind}" for name, kind in RUN_COLUMNS)
    client.execute_sql(f"create table if not exists {runs} ({columns})")
    cleanup.forget_tables(client)
    present = _run_columns(client)
    for name, kind in RUN_COLUMNS:
        if name not in present:
            client.execute_sql(f"alter table {runs} add column {name} {kind}")
    names = ", ".join(name for name, _ in RUN_COLUMNS)
    marks = ", ".join("%s" for _ in RUN_COLUMNS)
    client.execute_sql(f"insert into {runs} ({names}) values ({marks})", *values)


def _describe(pipeline: dlt.Pipeline, wh: dict[str, Any]) -> str:
    dest = pipeline.destination.destination_name if pipeline.destination else "?"
    if dest == "duckdb":
        return f"duckdb:{Path(wh['duckdb_path']).resolve()} dataset {pipeline.dataset_name}"
    return f"{dest} dataset {pipeline.dataset_name}"
