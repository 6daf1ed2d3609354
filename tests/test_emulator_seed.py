"""Seeded data: deterministic by (seed, anchor), and shaped like a real organization's."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from simplymeet.contract.dates import parse_api_datetime
from simplymeet.emulator import Store

ANCHOR = dt.date(2025, 6, 15)


@pytest.fixture(scope="module")
def store() -> Store:
    return Store(seed=5, events=3000, anchor=ANCHOR)


@pytest.fixture(scope="module")
def events(store: Store) -> list[dict]:
    return [store.event_dto(i) for i in store.all_event_ids()]


def _t(value: str | None) -> dt.datetime | None:
    return parse_api_datetime(value)


def test_same_seed_and_anchor_give_the_same_data():
    a, b = Store(seed=3, events=300, anchor=ANCHOR), Store(seed=3, events=300, anchor=ANCHOR)
    assert [a.event_dto(i) for i in range(1, 301)] == [b.event_dto(i) for i in range(1, 301)]
    for kind in ("event_types", "users", "polls", "user_event_type_tags", "cancellation_policies"):
        assert a.list_dtos(kind) == b.list_dtos(kind)


def test_different_seed_gives_different_data():
    a, b = Store(seed=3, events=300, anchor=ANCHOR), Store(seed=4, events=300, anchor=ANCHOR)
    assert a.event_dto(1) != b.event_dto(1)
    assert a.list_dtos("users") != b.list_dtos("users")


def test_anchor_defaults_to_today_utc():
    assert Store(events=1).anchor == dt.datetime.now(dt.UTC).date()


def test_seeded_history_ends_at_the_anchor(store, events):
    anchor = dt.datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=dt.UTC)
    for e in events:
        for field in ("createdAt", "updatedAt", "canceledAt"):
            assert e[field] is None or _t(e[field]) <= anchor, (e["id"], field)
        assert all(_t(p["createdAt"]) <= anchor for p in e["participants"])
    upcoming = sum(_t(e["scheduledAt"]) > anchor for e in events)
    assert 0.02 < upcoming / len(events) < 0.15


def test_about_eighteen_months_of_bookings(events):
    first = min(_t(e["scheduledAt"]) for e in events).date()
    last = max(_t(e["scheduledAt"]) for e in events).date()
    assert 500 <= (ANCHOR - first).days <= 545
    assert 30 <= (last - ANCHOR).days <= 61


def test_ids_follow_booking_order(events):
    created = [_t(e["createdAt"]) for e in events]
    assert created == sorted(created)


def test_bookings_are_made_before_they_happen(events):
    assert all(_t(e["createdAt"]) < _t(e["scheduledAt"]) for e in events)
    leads = sorted(
        (_t(e["scheduledAt"]) - _t(e["createdAt"])).total_seconds() / 86400 for e in events
    )
    assert 1 < leads[len(leads) // 2] < 10  # median lead time in days


def test_bookings_fall_inside_host_working_hours(store, events):
    hosts = {h.id: h for h in store.ref.hosts}
    for e in events:
        host = hosts[e["user"]["id"]]
        start = _t(e["scheduledAt"]).astimezone(ZoneInfo(host.timezone))
        end = _t(e["endDate"]).astimezone(ZoneInfo(host.timezone))
        assert start.weekday() in host.work_days, e["id"]
        assert host.work_start_min <= start.hour * 60 + start.minute, e["id"]
        assert end.hour * 60 + end.minute <= host.work_end_min or e["duration"] > (
            host.work_end_min - host.work_start_min
        )


def test_state_mix_is_realistic(store, events):
    anchor = dt.datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, tzinfo=dt.UTC)
    canceled = [e for e in events if e["state"] == "canceled"]
    past_kept = [e for e in events if e["state"] != "canceled" and _t(e["endDate"]) < anchor]
    no_show = [e for e in past_kept if e["state"] == "no_show"]
    rescheduled = [e for e in events if e["rescheduling"]]
    assert 0.08 < len(canceled) / len(events) < 0.16
    assert 0.03 < len(no_show) / len(past_kept) < 0.07
    assert 0.05 < len(rescheduled) / len(events) < 0.11


def test_cancellations_are_consistent_and_some_are_late(events):
    canceled = [e for e in events if e["state"] == "canceled"]
    late = 0
    for e in canceled:
        assert e["cancellation"]["canceler"] in ("invitee", "host")
        assert _t(e["createdAt"]) <= _t(e["canceledAt"]) <= _t(e["scheduledAt"])
        late += _t(e["scheduledAt"]) - _t(e["canceledAt"]) < dt.timedelta(hours=24)
    assert {e["cancellation"]["canceler"] for e in canceled} == {"invitee", "host"}
    assert 0.15 < late / len(canceled) < 0.6
    assert all(
        e["canceledAt"] is None and e["cancellation"] is None
        for e in events
        if e["state"] != "canceled"
    )


def test_answers_answer_the_event_types_questions(events):
    for e in events:
        questions = {q["uuid"] for q in e["eventType"]["questions"]}
        assert {a["questionUuid"] for a in e["answers"]} <= questions
        required = {q["uuid"] for q in e["eventType"]["questions"] if q["required"]}
        assert required <= {a["questionUuid"] for a in e["answers"]}


def test_payments_only_for_paid_event_types(events):
    for e in events:
        if e["eventType"]["amount"] is None:
            assert e["payment"] is None
        else:
            assert e["payment"]["amount"] == e["eventType"]["amount"]
            assert e["payment"]["status"] in ("paid", "pending", "refunded", "failed")
    assert {e["payment"]["status"] for e in events if e["payment"]} >= {"paid", "refunded"}


def test_participants_and_invitees(events):
    assert {len(e["participants"]) for e in events} == {0, 1, 2, 3}
    assert all(
        e["invitee"]["email"] and e["invitee"]["timezone"] and e["invitee"]["locale"]
        for e in events
    )
    ids = [s["id"] for e in events for s in e["participants"] + e["answers"] + e["rescheduling"]]
    assert len(ids) == len(set(ids))


def test_collective_events_list_every_host(events):
    collective = [e for e in events if e["eventType"]["type"] == "collective"]
    assert collective
    assert all(
        [u["id"] for u in e["users"]] == [u["id"] for u in e["eventType"]["users"]]
        for e in collective
    )


def test_policies_have_history_and_polls_have_results(store):
    policies = store.list_dtos("cancellation_policies")
    assert [p["version"] for p in policies if p["type"] == "organization"] == [1, 2, 3]
    assert any(p["period"] == 1440 for p in policies)
    assert any(s["results"] for p in store.list_dtos("polls") for s in p["availability"])


def test_a_million_events_are_not_materialized_per_event(store):
    # Columnar: per-event memory is a few dozen bytes, details are derived when rendered.
    assert store.cols.nbytes() / store.cols.n < 120
    assert store.overlays == {}
