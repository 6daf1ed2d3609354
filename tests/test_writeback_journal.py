"""The journal: every write recorded before and after it is sent, jobs resumable by name."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb

from simplymeet.writeback import Targets, plan_operation, run_operation
from simplymeet.writeback.api import execute_plan
from simplymeet.writeback.execute import DEFAULT_TIMEOUT_S, Executor
from simplymeet.writeback.journal import open_journal
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
)


class _Spy:
    """A client that looks at the journal each time a write is about to go out (read-backs
    go out unlooked at)."""

    def __init__(self, real: Any, journal: Any, job_id: str, endpoint: str) -> None:
        self.real, self.journal, self.job_id, self.endpoint = real, journal, job_id, endpoint
        self.stats = real.stats
        self.seen: list[dict[str, str | None]] = []

    def call(self, endpoint: str, *args: Any, **kwargs: Any) -> Any:
        if endpoint == self.endpoint:
            history = self.journal.history(self.job_id)
            self.seen.append({key: h.last for key, h in history.items()})
        return self.real.call(endpoint, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_each_item_is_journaled_pending_before_its_request_goes_out(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 3)
    plan = plan_operation("event_no_show", synced.settings, Targets(ids=ids))
    with synced.client() as client, open_journal(synced.db) as journal:
        spy = _Spy(client, journal, plan.job_id, "event_no_show")
        Executor(plan, spy, journal, concurrency=1).run()

    keys = [item.key for item in plan.items]
    assert [seen[key] for seen, key in zip(spy.seen, keys, strict=True)] == ["pending"] * 3
    assert spy.seen[1][keys[0]] == "succeeded"


def test_a_request_pending_from_a_run_journaled_without_its_timeout_is_waited_for_the_default(
    synced: Synced, monkeypatch
) -> None:
    plan = plan_operation(
        "event_no_show", synced.settings, Targets(ids=synced.ids("state = 'active'", 1))
    )
    with open_journal(synced.db) as journal:
        run_id = journal.start_run(plan, selection="", in_flight=(1.0, 0.0))
        journal.begin(plan.job_id, run_id, plan.requests()[0])  # killed mid-request
    # A run journaled before runs kept their bounds: none to read back.
    con = duckdb.connect(str(synced.db))
    con.execute("update writeback.runs set request_timeout_s = null, retry_span_s = null")
    con.close()
    waited: list[float] = []
    monkeypatch.setattr("simplymeet.writeback.execute.time.sleep", waited.append)

    with synced.client(timeout=1.0) as client, open_journal(synced.db) as journal:
        Executor(plan, client, journal, concurrency=1).run()

    assert max(waited) > DEFAULT_TIMEOUT_S - 5  # not the 1 s of the client that checks


def test_a_journal_written_before_baselines_were_kept_is_read_by_the_next_job(
    synced: Synced,
) -> None:
    first, second = synced.ids("state = 'active'", 2)
    with synced.client() as client:
        run_operation("event_no_show", synced.settings, client, Targets(ids=[first]))
    con = duckdb.connect(str(synced.db))
    con.execute("alter table writeback.journal drop column baseline")
    con.close()

    with synced.client() as client:
        dry = run_operation(
            "event_no_show", synced.settings, client, Targets(ids=[first, second]), dry_run=True
        )
        sent = run_operation("event_no_show", synced.settings, client, Targets(ids=[first, second]))

    assert [item.target_id for item in dry.plan.items] == [second]  # first: done before
    assert [o.item.target_id for o in sent.by("succeeded")] == [second]


def test_journal_records_each_write_and_never_the_key(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 2)

    result = synced.cli(
        "event", "notes", "--ids", ",".join(map(str, ids)), "--notes", "call back", "--no-refresh"
    )

    assert result.exit_code == 0, result.output
    rows = synced.query(
        "select j.job_id, run_id, j.operation, target, method, path, payload, outcome, "
        "http_status, error, started_at <= finished_at, jobs.command "
        "from writeback.journal j join writeback.jobs using (job_id) order by target"
    )
    assert [r[3] for r in rows] == [f"event {i}" for i in sorted(ids)]
    for row, event_id in zip(rows, sorted(ids), strict=True):
        _, run_id, operation, _, method, path, payload, outcome, status, error, ordered, cmd = row
        assert (operation, method, path) == (
            "event_notes",
            "PUT",
            f"/panel/api/event/notes/{event_id}",
        )
        assert json.loads(payload) == {"notes": "call back"}
        assert (outcome, status, error, ordered, cmd) == (
            "succeeded",
            204,
            None,
            True,
            "event notes",
        )
        assert run_id
    dump = synced.query(
        "select string_agg(j::varchar, '') from writeback.journal j "
        "union all select string_agg(r::varchar, '') from writeback.runs r "
        "union all select string_agg(b::varchar, '') from writeback.jobs b"
    )
    assert synced.emulator.api_key not in "".join(str(r[0]) for r in dump)


def test_runs_record_their_counts_and_the_refresh(synced: Synced) -> None:
    ids = synced.upcoming(3)
    canceled = synced.ids("state = 'canceled'", 1)

    result = synced.cli(
        "event", "cancel-list", "--ids", ",".join(map(str, ids + canceled)), "--yes"
    )

    assert result.exit_code == 0, result.output
    assert synced.query(
        "select requests, succeeded, failed, unknown, skipped, refreshed_at is not null, "
        "refresh_error from writeback.runs"
    ) == [(1, 3, 0, 0, 1, True, None)]
    assert synced.query(
        "select outcome, error from writeback.journal where request_id is null"
    ) == [("skipped", "already canceled")]


def test_a_named_job_resumes_when_its_selection_grows(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 3)
    options = {"job": "follow-ups", "refresh": False}
    values = {"notes": "follow up"}
    with synced.client() as client:
        run_operation(
            "event_notes", synced.settings, client, Targets(ids=ids[:2]), values, **options
        )
        synced.emulator.reset_log()
        report = run_operation(
            "event_notes", synced.settings, client, Targets(ids=ids), values, **options
        )

    assert report.plan.job_id == "follow-ups"
    assert synced.emulator.count("event_notes") == 1
    assert [o.item.target_id for o in report.succeeded if o.note is None] == [ids[2]]


def test_a_job_name_is_not_reused_for_another_operation(synced: Synced) -> None:
    ids = synced.upcoming(2)
    first = synced.cli(
        "event", "no-show", "--ids", str(ids[0]), "--job", "j1", "--yes", "--no-refresh",
        "--include-future",
    )  # fmt: skip
    assert first.exit_code == 0, first.output

    second = synced.cli("event", "resend-notification", "--ids", str(ids[1]), "--job", "j1")

    assert second.exit_code == 2  # an option to change: nothing was sent
    assert "job 'j1' is a event_no_show job" in second.output
    assert synced.emulator.count("event_resend_notification") == 0


def test_the_same_items_in_another_order_are_the_same_job(synced: Synced) -> None:
    ids = synced.ids("state = 'active'", 3)

    one = plan_operation("event_cancel_list", synced.settings, Targets(ids=ids), {"reason": "x"})
    two = plan_operation(
        "event_cancel_list", synced.settings, Targets(ids=ids[::-1]), {"reason": "x"}
    )
    other = plan_operation("event_cancel_list", synced.settings, Targets(ids=ids), {"reason": "y"})

    assert one.job_id == two.job_id
    assert one.job_id != other.job_id


def test_show_lists_a_jobs_items_by_their_latest_outcome(synced: Synced) -> None:
    good, gone = synced.ids("state = 'active'", 2)
    with synced.client() as client:
        client.event_delete(gone)
    run = synced.cli(
        "event", "no-show", "--ids", f"{good},{gone}", "--job", "nightly", "--yes", "--no-refresh"
    )
    assert run.exit_code == 6

    jobs = synced.cli("writeback", "jobs")
    failed = synced.cli("writeback", "show", "nightly", "--outcome", "failed")

    assert "nightly  event no-show" in jobs.output and "succeeded 1 · failed 1" in jobs.output
    assert failed.output.startswith(f"event {gone}: failed HTTP 404")
    assert f"event {good}" not in failed.output


def test_jobs_and_show_count_the_items_a_stopped_run_never_sent(synced: Synced) -> None:
    ids = synced.upcoming(12)
    synced.emulator.set_faults("429=1,retry_after=0,endpoints=event_cancel")
    run = synced.cli(
        "event", "cancel", "--ids", ",".join(map(str, ids)), "--job", "stopped", "--yes",
        "--no-refresh", "--concurrency", "1",
    )  # fmt: skip
    assert run.exit_code == 5, run.output
    [(journaled,)] = synced.query(
        "select count(distinct item_key) from writeback.journal where job_id = 'stopped'"
    )
    assert 0 < journaled < 12

    jobs = synced.cli("writeback", "jobs")
    show = synced.cli("writeback", "show", "stopped")

    assert f"not sent {12 - journaled}" in jobs.output
    assert f"{12 - journaled} of the job's 12 items not sent yet" in show.output


def test_jobs_says_when_a_jobs_last_run_never_finished(synced: Synced) -> None:
    [event_id] = synced.upcoming(1)
    run = synced.cli("event", "cancel", "--ids", str(event_id), "--job", "killed", "--yes")
    assert run.exit_code == 0, run.output
    # What a run killed mid-way leaves: no finish stamp.
    con = duckdb.connect(str(synced.db))
    con.execute("update writeback.runs set finished_at = null")
    con.close()

    jobs = synced.cli("writeback", "jobs")

    assert "killed  event cancel" in jobs.output and "last run unfinished" in jobs.output


def test_a_refresh_is_stamped_no_earlier_than_the_sends_it_read_back(synced: Synced) -> None:
    # A send is stamped by the server's whole-second Date rounded up, up to a second ahead of
    # this machine: a refresh stamped by this clock alone could read as older than it.
    [event_id] = synced.upcoming(1)
    result = synced.cli("event", "cancel", "--ids", str(event_id), "--yes", "--no-refresh")
    assert result.exit_code == 0, result.output
    con = duckdb.connect(str(synced.db))
    con.execute(
        "update writeback.journal set started_at = started_at + interval 5 second, "
        "finished_at = finished_at + interval 5 second"
    )
    [(run_id,)] = con.execute("select run_id from writeback.runs").fetchall()
    con.close()

    with open_journal(synced.db) as journal:
        journal.mark_refreshed(run_id)

    assert synced.query(
        "select count(*) from writeback.runs r join writeback.journal j using (run_id) "
        "where r.refreshed_at >= j.finished_at"
    ) == [(1,)]


def _count_database_opens(monkeypatch, path: Path, marker: Path) -> list[str]:
    """Patch duckdb.connect to note each connection to `path` that had to open the file's
    database: DuckDB keeps one per file per process while any connection to it is open, so
    a connection that finds the mark an earlier one set on the database shares it."""
    opened: list[str] = []
    connect = duckdb.connect

    def counting(database: Any = ":memory:", *args: Any, **kwargs: Any) -> Any:
        con = connect(database, *args, **kwargs)
        if database != ":memory:" and Path(str(database)).resolve() == path.resolve():
            [(temp,)] = con.execute("select current_setting('temp_directory')").fetchall()
            if temp != str(marker):
                opened.append(str(database))
                con.execute(f"set global temp_directory = '{marker}'")
        return con

    monkeypatch.setattr(duckdb, "connect", counting)
    return opened


def test_a_sent_job_and_its_refresh_open_the_warehouse_once(synced: Synced, monkeypatch) -> None:
    # The journal, the refresh's sync and models, and the refresh's journaling share one
    # database: each open reads the catalog again (~20 ms of CPU, 8 opens a command before).
    plan = plan_operation("event_no_show", synced.settings, Targets(ids=synced.ids("true", 1)))
    opened = _count_database_opens(monkeypatch, synced.db, synced.root / "marked")

    with synced.client() as client:
        report = execute_plan(plan, synced.settings, client)

    assert report.succeeded and report.refreshed
    assert len(opened) == 1


def test_a_plan_and_its_preview_open_the_warehouse_once(synced: Synced, monkeypatch) -> None:
    # The plan's read of the targets and the preview's read of the journal share one
    # read-only database (two opens before).
    targets = Targets(ids=synced.ids("true", 1))
    opened = _count_database_opens(monkeypatch, synced.db, synced.root / "marked")

    report = run_operation("event_no_show", synced.settings, synced.client, targets, dry_run=True)

    assert report.preview is not None and len(report.preview.to_send) == 1
    assert len(opened) == 1
