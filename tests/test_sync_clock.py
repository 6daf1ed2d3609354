"""A run on a wrong clock does not leave later runs' rows out of the models: the stamps a
run writes stay in order with those the warehouse holds (`sync/run_clock.py`)."""

from __future__ import annotations

import datetime as dt
import email.utils

import httpx
import pytest

from simplymeet.client import SimplyMeetClient
from simplymeet.emulator import RunningEmulator
from simplymeet.emulator.drift import stamp_future
from simplymeet.sync import SyncRequest, run_clock, sync
from simplymeet.sync.per_type_refresh import Refresh, RefreshPlan
from simplymeet.sync.run_clock import ONE_TICK, TOLERANCE, run_stamp
from tests.loopback import Answer, Pairs, behind, served
from tests.sync_support import EVENTS_ONLY, client_for, query, run_sync, settings_for
from tests.synced_template import synced_copy

YEAR = dt.timedelta(days=400)
NOW = dt.datetime(2026, 12, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def synced(tmp_path_factory, tmp_path, emulator: RunningEmulator):
    """Settings of a warehouse that has had one full sync of `emulator`."""
    return synced_copy(tmp_path_factory, tmp_path, emulator)


def _clock_off_by(monkeypatch: pytest.MonkeyPatch, offset: dt.timedelta) -> None:
    monkeypatch.setattr(run_clock, "local_now", lambda: dt.datetime.now(dt.UTC) + offset)


def _cancel_one(emulator: RunningEmulator, nth: int) -> int:
    active = [
        event_id
        for event_id in emulator.store.all_event_ids()
        if (emulator.store.event_dto(event_id) or {}).get("state") == "active"
    ]
    event_id = active[nth]
    with client_for(emulator) as client:
        client.event_cancel(event_id)
    return event_id


def _final_state(settings, event_id: int) -> str:
    [(state,)] = query(
        settings, f"select final_state from analytics.fct_events where event_id = {event_id}"
    )
    return str(state)


def _newest_stamp(settings) -> dt.datetime:
    [(newest,)] = query(settings, "select max(_synced_at) from raw.events")
    return newest


def test_after_a_run_on_a_clock_a_year_ahead_the_models_see_every_later_change(
    synced, emulator, monkeypatch
):
    _clock_off_by(monkeypatch, YEAR)
    _cancel_one(emulator, 0)
    run_sync(synced, emulator, build_models=True)
    monkeypatch.undo()
    canceled = _cancel_one(emulator, 1)
    summary = run_sync(synced, emulator, build_models=True)
    assert summary.stamps_brought_back > 0
    assert not summary.model_test_failures
    assert _final_state(synced, canceled) == "canceled"
    assert _newest_stamp(synced) <= dt.datetime.now(dt.UTC)


def test_a_run_on_a_clock_a_year_behind_is_stamped_by_the_servers_time(
    synced, emulator, monkeypatch
):
    _clock_off_by(monkeypatch, -YEAR)
    canceled = _cancel_one(emulator, 0)
    summary = run_sync(synced, emulator, build_models=True)
    assert not summary.model_test_failures
    assert _final_state(synced, canceled) == "canceled"
    assert abs(_newest_stamp(synced) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_a_run_on_a_clock_a_year_ahead_says_its_rows_are_stamped_ahead(
    synced, emulator, monkeypatch, caplog
):
    _clock_off_by(monkeypatch, YEAR)
    run_sync(synced, emulator, resources=EVENTS_ONLY)
    assert "this run's rows are stamped ahead" in caplog.text


def test_a_first_run_on_a_clock_hours_behind_says_its_rows_are_stamped_behind(
    tmp_path, emulator, monkeypatch, caplog
):
    # Nothing held to compare with: only the server's Date tells.
    _clock_off_by(monkeypatch, -3 * TOLERANCE)
    run_sync(settings_for(tmp_path, emulator), emulator, resources=EVENTS_ONLY)
    assert "this run's rows are stamped behind" in caplog.text


def test_a_run_on_a_right_clock_says_nothing_of_clocks(tmp_path, emulator, caplog):
    run_sync(settings_for(tmp_path, emulator), emulator, resources=EVENTS_ONLY)
    assert "stamped behind" not in caplog.text and "stamped ahead" not in caplog.text


def _newest_run(settings) -> dt.datetime:
    [(newest,)] = query(settings, "select max(started_at) from raw._sync_runs")
    return newest


def test_a_server_date_far_older_than_its_own_newest_stamp_moves_no_stamp_held(
    synced, emulator, monkeypatch
):
    _clock_off_by(monkeypatch, dt.timedelta(hours=2))
    run_sync(synced, emulator, resources=EVENTS_ONLY)
    monkeypatch.undo()
    held = _newest_run(synced)
    emulator.set_faults(f"date_ahead={-int(YEAR.total_seconds())}")
    summary = run_sync(synced, emulator, resources=EVENTS_ONLY)
    assert summary.stamps_brought_back == 0
    assert _newest_run(synced) > held


def test_a_booking_stamped_ahead_of_the_server_does_not_keep_a_clock_ahead_run_s_stamps(
    synced, emulator, monkeypatch
):
    # The server's newest booking, stamped two hours ahead of its clock (a bad import), is no
    # reason to doubt its `Date`: the next run on a right clock brings the stamps back.
    _clock_off_by(monkeypatch, dt.timedelta(hours=3))
    run_sync(synced, emulator, resources=EVENTS_ONLY)
    monkeypatch.undo()
    stamp_future(emulator.store, emulator.store.all_event_ids()[0], 2 * 3600)

    summary = run_sync(synced, emulator, resources=EVENTS_ONLY)

    assert summary.stamps_brought_back > 0
    assert _newest_run(synced) <= dt.datetime.now(dt.UTC)


def test_a_clock_stepped_back_a_little_stamps_just_after_the_newest_stamp_held():
    held = NOW + dt.timedelta(minutes=5)
    asked: list[bool] = []
    stamp, ceiling = run_stamp(NOW, held, lambda: asked.append(True) or None)
    assert (stamp, ceiling, asked) == (held + ONE_TICK, None, [])


def test_stamps_far_ahead_of_a_clock_the_server_confirms_are_brought_back_to_now():
    stamp, ceiling = run_stamp(NOW, NOW + YEAR, lambda: NOW + dt.timedelta(seconds=2))
    assert (stamp, ceiling) == (NOW, NOW - ONE_TICK)


def test_stamps_far_ahead_of_a_clock_the_server_cannot_judge_are_left_and_the_run_follows_them():
    stamp, ceiling = run_stamp(NOW, NOW + YEAR, lambda: None)
    assert (stamp, ceiling) == (NOW + YEAR + ONE_TICK, None)


def test_a_clock_right_within_the_tolerance_never_asks_the_server():
    stamp, ceiling = run_stamp(NOW, NOW - TOLERANCE, lambda: pytest.fail("asked"))
    assert (stamp, ceiling) == (NOW, None)


def test_an_event_types_read_stamped_after_now_is_due_again():
    plan = RefreshPlan({})
    ahead = Refresh(every_hours=24.0, now=NOW + YEAR)
    plan.record([7], {7: "fingerprint"}, ahead)
    assert plan.due({7: "fingerprint"}, Refresh(every_hours=24.0, now=NOW)) == [7]


def _dated_ahead(by: dt.timedelta) -> Answer:
    """The emulator, its `Date` header `by` ahead of its clock: a server clock running ahead."""

    def answer(
        up: httpx.Client, path: str, pairs: Pairs, body: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        reply = served(up, path, pairs, body, headers)
        ahead = email.utils.format_datetime(dt.datetime.now(dt.UTC) + by, usegmt=True)
        kept = {
            k: v for k, v in reply.headers.items() if k.lower() not in ("date", "content-length")
        }
        return httpx.Response(
            reply.status_code, headers={**kept, "Date": ahead}, content=reply.content
        )

    return answer


def test_changes_after_the_servers_clock_was_set_back_below_the_cursor_are_read(synced, emulator):
    # Two hours ahead for a run, its newest booking stamped on that clock: the cursor rests
    # there. Set right, the server stamps the next change two hours below the cursor.
    # More of them than a page holds: the change sorts below the first page.
    ahead = dt.timedelta(hours=2)
    for event_id in emulator.store.all_event_ids()[:12]:
        stamp_future(emulator.store, event_id, ahead.total_seconds())
    synced = synced.with_overrides("api", page_size=10)
    with (
        behind(emulator, _dated_ahead(ahead)) as base_url,
        SimplyMeetClient(base_url, api_key=emulator.api_key, concurrency=4) as client,
    ):
        sync(synced, client, SyncRequest(resources=list(EVENTS_ONLY), build_models=False))
    changed = emulator.store.all_event_ids()[30]
    with client_for(emulator) as client:
        client.call("event_notes", path_params={"id": changed}, body={"notes": "set back"})

    run_sync(synced, emulator, resources=EVENTS_ONLY)

    assert query(synced, f"select notes from raw.events where id = {changed}") == [("set back",)]


def test_a_reconciling_run_looks_back_from_the_last_reconcile_on_the_servers_clock(
    tmp_path, emulator, monkeypatch
):
    # This machine 50 minutes ahead of the server: the last reconcile (here the first run)
    # started at 12:50 by its clock when the server stamped 12:00. A change stamped by a
    # clock 25 minutes behind the server's, made then, is looked for from 11:00, not 11:50.
    from simplymeet.sync.runner import SKEW_MARGIN, _look_back_to, make_pipeline

    settings = settings_for(tmp_path, emulator)
    _clock_off_by(monkeypatch, dt.timedelta(minutes=50))
    run_sync(settings, emulator, resources=EVENTS_ONLY)
    [(newest,)] = query(settings, "select max(updated_at) from raw.events")

    with make_pipeline(settings).sql_client() as sql:
        back_to = _look_back_to(sql, "default", cursor_at=newest + dt.timedelta(hours=2))

    assert back_to <= newest - SKEW_MARGIN
