"""A sync sends its state-independent first reads ahead (while dlt loads) and takes every
one of them: each goes out once, none is left unread."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

from simplymeet.client import SimplyMeetClient
from simplymeet.client.read_ahead import Read
from simplymeet.contract.endpoints import match_route
from simplymeet.emulator import start_emulator
from simplymeet.sync import SyncRequest, sync
from simplymeet.sync.first_reads import first_reads, read_ahead
from simplymeet.sync.lock import pipeline_lock
from simplymeet.sync.resource_names import RESOURCE_NAMES
from tests.sync_support import EVENTS_ONLY, run_sync, settings_for
from tests.synced_template import synced_copy


def _first_requests(emulator, read: Read) -> int:
    """How many requests `emulator` answered that are `read` (a list's page 1 at its size)."""

    def same(record) -> bool:
        if read.on_page is None:
            return True
        query = parse_qs(record.query)
        return query.get("page") == ["1"] and query.get("onPage") == [str(read.on_page)]

    return emulator.count(read.endpoint, where=same)


NOT_EVENTS = [name for name in RESOURCE_NAMES if name != "events"]
"""Every resource that reads ahead: the events scan, most of a sync's cost, reads nothing ahead."""


def _sync(settings, emulator, **request) -> SimplyMeetClient:
    """A sync as `simplymeet sync` runs it: its first reads sent ahead, then the run."""
    client = SimplyMeetClient(emulator.base_url, api_key=emulator.api_key, concurrency=4)
    with client:
        read_ahead(
            client,
            settings,
            request.get("resources"),
            full_refresh=request.get("full_refresh", False),
        )
        sync(settings, client, SyncRequest(build_models=False, **request))
    return client


def test_a_full_sync_takes_every_read_it_sent_ahead_and_sends_each_once(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)

    client = _sync(settings, emulator, resources=NOT_EVENTS)

    reads = first_reads(RESOURCE_NAMES, int(settings.get("api", "page_size")))
    assert client.reads_ahead_unused == 0
    assert {read.endpoint: _first_requests(emulator, read) for read in reads} == {
        read.endpoint: 1 for read in reads
    }


def test_an_incremental_sync_takes_every_read_it_sent_ahead(tmp_path_factory, tmp_path, emulator):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    emulator.reset_log()

    client = _sync(settings, emulator, resources=NOT_EVENTS)

    reads = first_reads(RESOURCE_NAMES, int(settings.get("api", "page_size")))
    assert client.reads_ahead_unused == 0
    assert all(_first_requests(emulator, read) == 1 for read in reads)


PER_TYPE = {"event_type_tag_list", "event_type_availability"}


def _per_type_requests(emulator) -> list[tuple[str, str]]:
    """The (path, query) of each per-event-type read `emulator` answered (tags, availability)."""
    found = []
    for record in emulator.requests:
        route = match_route(record.method, record.path)
        if route is not None and route[0].name in PER_TYPE:
            found.append((record.path, record.query))
    return found


def test_a_first_sync_reads_every_event_types_tags_and_availability_ahead_once(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)

    client = _sync(settings, emulator, resources=NOT_EVENTS)

    paths = _per_type_requests(emulator)
    assert client.reads_ahead_unused == 0
    first_pages = emulator.count("event_type_tag_list", where=lambda r: "page=1" in r.query)
    assert first_pages == emulator.count("event_type_availability") > 0
    assert len(paths) == len(set(paths))


def test_a_full_refresh_reads_every_event_type_ahead_once(tmp_path_factory, tmp_path, emulator):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator, per_event_type_refresh_hours=24.0)
    emulator.reset_log()

    client = _sync(settings, emulator, resources=NOT_EVENTS, full_refresh=True)

    paths = _per_type_requests(emulator)
    assert client.reads_ahead_unused == 0
    assert emulator.count("event_type_tag_list") > 0
    assert len(paths) == len(set(paths))


def test_a_sync_within_the_cadence_reads_no_event_type_ahead(tmp_path_factory, tmp_path, emulator):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator, per_event_type_refresh_hours=24.0)
    emulator.reset_log()

    client = _sync(settings, emulator, resources=NOT_EVENTS)

    assert client.reads_ahead_unused == 0
    assert _per_type_requests(emulator) == []


def test_a_sync_of_some_resources_reads_ahead_only_theirs(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)

    client = _sync(settings, emulator, resources=["users", "cancellation_policies"])

    assert client.reads_ahead_unused == 0
    assert emulator.count("event_type_list") == 0
    assert emulator.count("poll_list") == 0


def _sent_ahead(emulator, settings, resources=None, **options) -> int:
    """How many reads `read_ahead` sent for these settings, through a client of `emulator`."""
    with SimplyMeetClient(emulator.base_url, api_key=emulator.api_key) as client:
        return read_ahead(client, settings, resources, **options)


def test_nothing_is_read_ahead_while_another_sync_holds_the_pipeline_lock(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)
    wh = settings.section("warehouse")

    client = SimplyMeetClient(emulator.base_url, api_key=emulator.api_key)
    with pipeline_lock(Path(wh["pipelines_dir"]), wh["pipeline_name"]), client:
        sent = read_ahead(client, settings, None)

    assert sent == 0
    assert emulator.count() == 0


def test_nothing_is_read_ahead_when_the_pipelines_folder_is_a_file(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)
    Path(settings.get("warehouse", "pipelines_dir")).write_text("not a folder")

    assert _sent_ahead(emulator, settings) == 0
    assert emulator.count() == 0


def test_nothing_is_read_ahead_into_a_file_another_pipeline_wrote(
    tmp_path_factory, tmp_path, emulator
):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    emulator.reset_log()
    other = settings.with_overrides("warehouse", pipeline_name="another_pipeline")

    sent = _sent_ahead(emulator, other)

    assert sent == 0
    assert emulator.count() == 0


def test_a_file_the_accounts_own_pipelines_wrote_is_read_ahead_for(
    tmp_path_factory, tmp_path, emulator
):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    other = settings.with_overrides("warehouse", pipeline_name="another_pipeline")

    sent = _sent_ahead(emulator, other, ["users"], pipelines=["test_sync"])

    assert sent == 1


def test_nothing_is_read_ahead_when_a_resource_is_unknown(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)

    sent = _sent_ahead(emulator, settings, ["users", "eventz"])

    assert sent == 0
    assert emulator.count() == 0


def test_nothing_is_read_ahead_for_a_destination_other_than_duckdb(tmp_path, emulator):
    settings = settings_for(tmp_path, emulator)

    sent = _sent_ahead(emulator, settings, destination="postgres")

    assert sent == 0
    assert emulator.count() == 0


def test_the_events_scan_is_not_read_ahead():
    assert first_reads(["events"], 100) == []


def test_the_event_type_list_is_read_first_for_every_resource_built_on_it():
    for resource in ("event_types", "event_type_tags", "availability"):
        assert first_reads([resource, "users"], 50)[0] == Read("event_type_list", on_page=50)


def _event_read(emulator, **query: str):
    """The one event-list request `emulator` answered with exactly this query (page 1 unless
    given, of the configured 100 events)."""
    asked = {k: [v] for k, v in {"page": "1", "onPage": "100", **query}.items()}
    (record,) = [
        record
        for record in emulator.requests
        if record.path.endswith("/event/") and parse_qs(record.query) == asked
    ]
    return record


NEWEST = {"orderField": "updatedAt", "orderDirection": "desc"}
CANCELED = {**NEWEST, "filter[state]": "canceled"}


def test_a_first_sync_asks_for_the_canceled_events_before_its_last_page_is_answered(tmp_path):
    with start_emulator(seed=4, events=300, latency_ms=150) as emulator:
        run_sync(settings_for(tmp_path, emulator), emulator, resources=EVENTS_ONLY)
        last = _event_read(emulator, page="3", orderField="id", orderDirection="asc")
        canceled = _event_read(emulator, **CANCELED)
    assert canceled.received_at < last.answered_at


def test_an_incremental_run_asks_for_the_canceled_events_beside_the_newest_ids(
    tmp_path_factory, tmp_path, emulator
):
    settings = synced_copy(tmp_path_factory, tmp_path, emulator)
    emulator.reset_log()
    emulator.set_faults("latency=150,endpoints=event_list")
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    newest_ids = _event_read(emulator, orderField="id", orderDirection="desc")
    canceled = _event_read(emulator, **CANCELED)
    assert canceled.received_at < newest_ids.answered_at


def test_the_reads_that_follow_the_event_type_list_are_made_without_importing_pyarrow():
    # They are made on the client's thread while the main thread imports dlt: an import of
    # pyarrow there held them back behind it.
    import subprocess
    import sys

    code = """
import sys
from simplymeet.sync.first_reads import first_reads
[types] = [r for r in first_reads(["event_type_tags", "availability"], 100, every_type_due=True,
                                  horizon_days=7) if r.then is not None]
body = {"meta": {"pagesCount": 1, "itemsPerPage": 100, "itemsCount": 2, "currentPage": 1},
        "items": [{"id": 3, "duration": 30, "users": [{"id": 7}]}, {"id": "4.0", "users": []}]}
reads = list(types.then(body))
print(sorted((r.endpoint, tuple(sorted((r.path_params or {}).items()))) for r in reads))
print("pyarrow" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    listed, pyarrow_imported = done.stdout.strip().splitlines()
    assert listed == str(
        [
            ("event_type_availability", (("id", 3),)),
            ("event_type_availability", (("id", 4),)),
            ("event_type_tag_list", (("eventTypeId", 3),)),
            ("event_type_tag_list", (("eventTypeId", 4),)),
        ]
    ), done.stderr
    assert pyarrow_imported == "False"
