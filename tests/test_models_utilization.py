"""Utilization on hand-built calendars: snapshot slots vs working-hours fallback."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import pytest

from simplymeet.config import Settings
from simplymeet.models import load_project
from simplymeet.models import test_models as run_data_tests
from simplymeet.models.sample import SampleWarehouse
from tests.models_support import build_only

build = partial(
    build_only,
    models=[
        "utilization_daily",
        "utilization_host_daily",
        "utilization_host_weekday",
        "utilization_weekly",
    ],
)
"""`raw.build()` for these tests: the utilization marts and the models they read."""


AS_OF = "2025-06-30T18:00:00Z"
MONDAY = dt.date(2025, 6, 23)
TUESDAY = dt.date(2025, 6, 24)
SATURDAY = dt.date(2025, 6, 28)


def at(date: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(date, dt.time(hour, minute), dt.UTC)


def day_row(
    con: duckdb.DuckDBPyConnection, date: dt.date, event_type: int = 10, host: int = 1
) -> dict[str, Any]:
    cursor = con.execute(
        "select * from analytics.utilization_daily "
        "where host_user_id = ? and event_type_id = ? and date_local = ?",
        [host, event_type, date],
    )
    names = [d[0] for d in cursor.description]
    (row,) = cursor.fetchall()
    return dict(zip(names, row, strict=True))


@pytest.fixture
def raw() -> SampleWarehouse:
    """Host 1 in UTC with a 30-minute event type 10."""
    raw = SampleWarehouse(synced_at=AS_OF)
    raw.user(1, timezone="UTC")
    raw.event_type(10, owner=1, duration=30)
    return raw


def test_utilization_uses_the_snapshot_slots_and_says_so(raw):
    # snapshot of 20 June lists Monday 23 June: 09:00 and 09:30 taken by the booking below,
    # 10:00-11:30 free (4 slots), 12:00 blocked. Offered: the 4 free slots (120 min) plus
    # the booked hour = 180 min; booked 60 min; utilization 60 / 180.
    raw.availability_day(10, MONDAY, snapshot_date="2025-06-20")
    for hour, minute, available in [
        (9, 0, False),
        (9, 30, False),
        (10, 0, True),
        (10, 30, True),
        (11, 0, True),
        (11, 30, True),
        (12, 0, False),
    ]:
        raw.slot(
            10,
            at(MONDAY, hour, minute),
            date=MONDAY,
            start=f"{hour:02d}:{minute:02d}",
            snapshot_date="2025-06-20",
            available=available,
        )
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 9), duration=60)
    con = build(raw)

    row = day_row(con, MONDAY)

    assert row["offered_minutes_source"] == "snapshot"
    assert row["snapshot_date"] == dt.date(2025, 6, 20)
    assert (row["booked_minutes"], row["offered_minutes"]) == (60, 180)
    assert row["utilization"] == pytest.approx(1 / 3)


def test_latest_snapshot_before_the_day_wins(raw):
    # two snapshots list Monday: 16 June offers 09:00-10:00, 20 June offers 09:00-09:30
    for snapshot, slots in (("2025-06-16", [(9, 0), (9, 30)]), ("2025-06-20", [(9, 0)])):
        raw.availability_day(10, MONDAY, snapshot_date=snapshot)
        for hour, minute in slots:
            raw.slot(
                10,
                at(MONDAY, hour, minute),
                date=MONDAY,
                start=f"{hour}:{minute}",
                snapshot_date=snapshot,
            )
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 15))  # booked outside the slots
    con = build(raw)

    row = day_row(con, MONDAY)

    assert row["snapshot_date"] == dt.date(2025, 6, 20)
    assert row["offered_minutes"] == 30 + 30  # the 09:00 slot and the booked half hour


def test_day_without_snapshot_falls_back_to_working_hours_and_says_so(raw):
    # no snapshot: offered 09:00-17:00 = 480 min; booked 2 h; utilization 120 / 480
    raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 10), duration=120)
    con = build(raw)

    row = day_row(con, TUESDAY)

    assert row["offered_minutes_source"] == "working_hours"
    assert row["snapshot_date"] is None
    assert (row["booked_minutes"], row["offered_minutes"]) == (120, 480)
    assert row["utilization"] == 0.25


def test_working_hours_are_in_the_hosts_local_time(raw):
    # Paris host: 07:00-08:00 UTC is 09:00-10:00 in Paris, inside working hours
    raw.user(2, timezone="Europe/Paris")
    raw.event_type(11, owner=2)
    raw.event(host=2, event_type=11, scheduled_at=at(TUESDAY, 7), duration=60)
    con = build(raw)

    row = day_row(con, TUESDAY, event_type=11, host=2)

    assert row["booked_in_offered_minutes"] == 60
    assert row["booked_outside_offered_minutes"] == 0
    assert row["utilization"] == 60 / 480


def test_booking_outside_working_hours_is_reported_not_counted(raw):
    raw.event(host=1, event_type=10, scheduled_at=at(SATURDAY, 10), duration=60)
    con = build(raw)

    row = day_row(con, SATURDAY)

    assert row["offered_minutes"] == 0
    assert row["booked_outside_offered_minutes"] == 60
    assert row["utilization"] is None


def test_overlapping_bookings_of_a_group_slot_count_once(raw):
    for _ in range(3):
        raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 10), duration=60)
    con = build(raw)

    row = day_row(con, TUESDAY)

    assert row["booked_minutes"] == 60
    assert row["utilization"] == 60 / 480


def test_partly_overlapping_bookings_count_the_time_they_cover(raw):
    # same start, nested, chained and apart: 10:00-12:00 and 14:00-14:30 are covered
    for start, minutes in [((10, 0), 60), ((10, 0), 30), ((10, 45), 75), ((11, 0), 15)]:
        raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, *start), duration=minutes)
    raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 14), duration=30)
    con = build(raw)

    row = day_row(con, TUESDAY)

    assert row["booked_minutes"] == 150
    assert row["booked_in_offered_minutes"] == 150


def test_a_slot_booked_three_times_is_one_booked_interval(raw):
    for _ in range(3):
        raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 10), duration=60)
    con = build(raw)

    (count,) = con.execute(
        "select count(*) from analytics.int_utilization_intervals "
        "where interval_kind = 'booked' and date_local = ?",
        [TUESDAY],
    ).fetchone()

    assert count == 1


def test_canceled_bookings_are_not_booked_time(raw):
    raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 10), duration=60)
    raw.event(
        host=1,
        event_type=10,
        scheduled_at=at(TUESDAY, 14),
        duration=60,
        state="canceled",
        canceled_at=at(TUESDAY, 8),
    )
    con = build(raw)

    assert day_row(con, TUESDAY)["booked_minutes"] == 60


def test_days_without_bookings_count_their_offered_minutes(raw):
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 10), duration=60)
    con = build(raw)

    # the spine runs from the first booking to the day before the last sync (29 June)
    days = con.execute(
        "select date_local, booked_minutes, offered_minutes from analytics.utilization_daily "
        "order by date_local"
    ).fetchall()

    assert [d[0] for d in days] == [MONDAY + dt.timedelta(days=n) for n in range(7)]
    assert days[1] == (TUESDAY, 0, 480)


def test_host_daily_counts_working_hours_shared_by_event_types_once(raw):
    raw.event_type(11, owner=1)
    raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 9), duration=60)
    raw.event(host=1, event_type=11, scheduled_at=at(TUESDAY, 13), duration=60)
    con = build(raw)

    host_day = con.execute(
        "select booked_minutes, offered_minutes, utilization, offered_minutes_source "
        "from analytics.utilization_host_daily where host_user_id = 1 and date_local = ?",
        [TUESDAY],
    ).fetchone()

    assert day_row(con, TUESDAY, 10)["offered_minutes"] == 480
    assert day_row(con, TUESDAY, 11)["offered_minutes"] == 480
    assert host_day == (120, 480, 0.25, "working_hours")


def test_weekly_utilization_says_which_sources_its_days_used(raw):
    raw.availability_day(10, MONDAY, snapshot_date="2025-06-20")
    raw.slot(10, at(MONDAY, 9), date=MONDAY, start="09:00", snapshot_date="2025-06-20")
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 9))
    con = build(raw)

    week = con.execute(
        "select offered_minutes_source, snapshot_days, working_hours_days, offered_minutes "
        "from analytics.utilization_weekly where week_start_local = ?",
        [MONDAY],
    ).fetchone()

    # Monday: the 09:00 slot (30 min); Tuesday-Friday: 4 x 480; the weekend: none
    assert week == ("mixed", 1, 6, 30 + 4 * 480)


def test_working_hours_come_from_the_models_settings(raw):
    raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 10), duration=60)
    settings = Settings(
        {
            "models": {
                "working_day_start": "10:00",
                "working_day_end": "12:00",
                "working_days": ["tuesday"],
            }
        }
    )
    con = duckdb.connect()
    build(raw, con, settings=settings)

    assert day_row(con, TUESDAY)["offered_minutes"] == 120
    assert day_row(con, MONDAY + dt.timedelta(days=2))["offered_minutes"] == 0


def test_utilization_heatmap_is_by_host_and_local_weekday(raw):
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 10), duration=240)
    raw.event(host=1, event_type=10, scheduled_at=at(TUESDAY, 10), duration=120)
    con = build(raw)

    cells = dict(
        con.execute(
            "select weekday_name, utilization from analytics.utilization_host_weekday"
        ).fetchall()
    )

    assert cells["Monday"] == 0.5
    assert cells["Tuesday"] == 0.25
    assert cells["Wednesday"] == 0
    assert cells["Saturday"] is None


def test_every_utilization_rollup_reads_the_one_day_level_model():
    project = load_project()
    rollups = [m for m in project.models if m.name.startswith("utilization_")]

    assert len(rollups) == 5
    for model in rollups:
        utilization_inputs = {ref for ref in model.refs if "utilization" in ref}
        assert utilization_inputs == {"int_utilization_day_minutes"}, model.name


def test_a_booking_starting_at_a_non_whole_minute_splits_its_minutes_exactly(raw):
    # A snapshot day 09:00-11:30; bookings 09:52:01-10:22:01 and 10:05-10:35, both inside the
    # offered time (booked slots are offered on snapshot days). Measured in minutes as
    # floats, |booked| + |offered| - |booked or offered| left -1.4e-14 outside offered time,
    # which failed the data tests and made every sync exit 10.
    raw.availability_day(10, MONDAY, snapshot_date="2025-06-20")
    for hour, minute in [(9, 0), (9, 30), (10, 0), (10, 30), (11, 0)]:
        raw.slot(
            10,
            at(MONDAY, hour, minute),
            date=MONDAY,
            start=f"{hour:02d}:{minute:02d}",
            snapshot_date="2025-06-20",
        )
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 9, 52) + dt.timedelta(seconds=1))
    raw.event(host=1, event_type=10, scheduled_at=at(MONDAY, 10, 5))
    con = build(raw)

    row = day_row(con, MONDAY)
    (host_day,) = con.execute(
        "select booked_minutes, booked_in_offered_minutes, booked_outside_offered_minutes "
        "from analytics.utilization_host_daily where date_local = ?",
        [MONDAY],
    ).fetchall()

    booked = (43 * 60 - 1) / 60  # 09:52:01-10:35:00
    assert row["booked_minutes"] == booked
    assert (row["booked_in_offered_minutes"], row["booked_outside_offered_minutes"]) == (booked, 0)
    assert host_day == (booked, booked, 0)
    assert run_data_tests(con, select=["utilization_daily", "utilization_host_daily"]) == []


def _utc_snapshot(raw: SampleWarehouse, event_type: int, slots: list[dt.datetime]) -> None:
    """A snapshot taken on 20 June as the sync asks for it, in UTC: the days 20-27 June by
    their UTC dates, each slot under the UTC date and time of its start."""
    for offset in range(8):
        raw.availability_day(event_type, dt.date(2025, 6, 20 + offset), snapshot_date="2025-06-20")
    for start in slots:
        start = start.astimezone(dt.UTC)
        raw.slot(
            event_type,
            start,
            date=start.date(),
            start=f"{start:%H:%M}",
            snapshot_date="2025-06-20",
        )


@pytest.mark.parametrize("timezone", ["Australia/Sydney", "Asia/Tokyo", "America/New_York"])
def test_a_slot_counts_on_the_hosts_local_day_of_its_start(raw, timezone):
    # Six half-hour slots on Monday 23 June in the host's calendar, 08:00-10:00 and
    # 20:00-21:00: in UTC some of them start on Sunday 22 (Sydney, Tokyo) or Tuesday 24
    # (New York), and the snapshot lists them under those UTC dates.
    zone = ZoneInfo(timezone)
    raw.user(2, timezone=timezone)
    raw.event_type(11, owner=2)
    local = [dt.datetime.combine(MONDAY, dt.time(h, m), zone) for h in (8, 9, 20) for m in (0, 30)]
    _utc_snapshot(raw, 11, local)
    con = build(raw)

    monday = day_row(con, MONDAY, event_type=11, host=2)
    neighbours = [
        day_row(con, MONDAY + dt.timedelta(days=n), event_type=11, host=2) for n in (-1, 1)
    ]

    assert (monday["offered_minutes_source"], monday["offered_minutes"]) == ("snapshot", 180)
    assert [(d["offered_minutes_source"], d["offered_minutes"]) for d in neighbours] == [
        ("snapshot", 0),
        ("snapshot", 0),
    ]


def test_a_local_day_the_snapshot_lists_only_in_part_falls_back_to_working_hours(raw):
    # Monday 23 June in Sydney (UTC+10) runs from 14:00 UTC on Sunday 22 to 14:00 UTC on
    # Monday 23; a snapshot listing only the UTC date 23 June says nothing of its morning.
    raw.user(2, timezone="Australia/Sydney")
    raw.event_type(11, owner=2)
    raw.availability_day(11, MONDAY, snapshot_date=MONDAY)
    raw.slot(11, at(MONDAY, 0), date=MONDAY, start="00:00", snapshot_date=MONDAY)
    raw.event(host=2, event_type=11, scheduled_at=at(MONDAY, 0))  # 10:00 in Sydney
    con = build(raw)

    row = day_row(con, MONDAY, event_type=11, host=2)

    assert (row["offered_minutes_source"], row["offered_minutes"]) == ("working_hours", 480)


def test_a_snapshot_dated_in_the_hosts_time_zone_lists_the_hosts_local_days(raw):
    # A snapshot asked in Tokyo time (as the demo warehouse's are) labels days and start
    # times in Tokyo: its Monday is the host's Monday.
    zone = ZoneInfo("Asia/Tokyo")
    raw.user(2, timezone="Asia/Tokyo")
    raw.event_type(11, owner=2)
    raw.availability_day(11, MONDAY, snapshot_date="2025-06-20", timezone="Asia/Tokyo")
    for hour in (8, 9):
        start = dt.datetime.combine(MONDAY, dt.time(hour), zone)
        raw.slot(11, start, date=MONDAY, start=f"{hour:02d}:00", snapshot_date="2025-06-20")
    con = build(raw)

    row = day_row(con, MONDAY, event_type=11, host=2)

    assert (row["offered_minutes_source"], row["offered_minutes"]) == ("snapshot", 60)


def _days_of(con: duckdb.DuckDBPyConnection, event_type: int) -> list[dt.date]:
    return [
        date
        for (date,) in con.execute(
            "select date_local from analytics.utilization_daily "
            "where event_type_id = ? order by date_local",
            [event_type],
        ).fetchall()
    ]


def test_a_disabled_event_type_offers_nothing_and_its_bookings_are_booked_outside(raw):
    # Type 12 is disabled: its snapshot lists Tuesday 09:00 free, and working hours would
    # offer 09:00-17:00; neither is offered time. Its booking is booked time outside it.
    raw.event_type(12, owner=1, is_enabled=False)
    raw.availability_day(12, TUESDAY, snapshot_date="2025-06-20")
    raw.slot(12, at(TUESDAY, 9), date=TUESDAY, start="09:00", snapshot_date="2025-06-20")
    raw.event(host=1, event_type=12, scheduled_at=at(TUESDAY, 10), duration=60)
    con = build(raw)

    row = day_row(con, TUESDAY, event_type=12)

    assert row["offered_minutes_source"] == "disabled"
    assert (row["booked_minutes"], row["offered_minutes"]) == (60, 0)
    assert (row["booked_in_offered_minutes"], row["booked_outside_offered_minutes"]) == (0, 60)
    assert row["utilization"] is None


def test_a_disabled_event_type_has_only_the_days_of_its_bookings(raw):
    # Enabled, a type's days run from its first activity to the day before as_of (30 June);
    # disabled, its snapshot days and the days since its booking are not its days.
    raw.event_type(12, owner=1, is_enabled=False)
    for offset in range(8):
        raw.availability_day(12, dt.date(2025, 6, 20 + offset), snapshot_date="2025-06-20")
    raw.event(host=1, event_type=12, scheduled_at=at(TUESDAY, 10))
    con = build(raw)

    assert _days_of(con, 12) == [TUESDAY]


def test_a_disabled_event_type_adds_nothing_to_its_hosts_offered_time(raw):
    # Host 1's enabled type 10 offers Tuesday 09:00-10:00 (its snapshot); its disabled type
    # 12 would fall back to working hours, but offers nothing: the host-level day is 60
    # offered minutes from the snapshot, and type 12's booking is outside them.
    raw.event_type(12, owner=1, is_enabled=False)
    raw.availability_day(10, TUESDAY, snapshot_date="2025-06-20")
    for minute in (0, 30):
        raw.slot(
            10,
            at(TUESDAY, 9, minute),
            date=TUESDAY,
            start=f"09:{minute}",
            snapshot_date="2025-06-20",
        )
    raw.event(host=1, event_type=12, scheduled_at=at(TUESDAY, 13), duration=60)
    con = build(raw)

    host_day = con.execute(
        "select booked_minutes, offered_minutes, booked_outside_offered_minutes, "
        "offered_minutes_source from analytics.utilization_host_daily "
        "where host_user_id = 1 and date_local = ?",
        [TUESDAY],
    ).fetchone()

    assert host_day == (60, 60, 60, "snapshot")
    assert run_data_tests(con, select=["utilization_daily", "utilization_host_daily"]) == []


def test_a_disabled_event_type_read_as_enabled_from_its_landed_flag(raw):
    # The sync lands isEnabled as a boolean whatever a server spells it as (false, 0, "0"):
    # the models read that column, so a type landed enabled keeps its working hours.
    raw.event_type(12, owner=1, is_enabled=True)
    raw.event(host=1, event_type=12, scheduled_at=at(TUESDAY, 10))
    con = build(raw)

    assert day_row(con, TUESDAY, event_type=12)["offered_minutes"] == 480


def _snapshot_of_monday_and_tuesday(raw: SampleWarehouse, taken: dt.datetime) -> None:
    """A snapshot dated Monday (UTC), taken at `taken`, listing Monday and Tuesday with a
    free slot at 08:00 UTC on each: as the endpoint shows it, hours already past are
    unavailable."""
    for date in (MONDAY, TUESDAY):
        raw.availability_day(11, date, snapshot_date=MONDAY, synced_at=taken)
        start = at(date, 8)
        raw.slot(
            11,
            start,
            date=date,
            start="08:00",
            snapshot_date=MONDAY,
            available=start > taken,
            synced_at=taken,
        )


def test_a_snapshot_taken_during_a_day_does_not_cover_that_day(raw):
    # Taken at 15:00 UTC on Monday: Monday's morning had passed (its 08:00 slot shows as
    # unavailable), so Monday, booked at noon, falls back to working hours; Tuesday is the
    # snapshot's.
    raw.event_type(11, owner=1)
    _snapshot_of_monday_and_tuesday(raw, at(MONDAY, 15))
    raw.event(host=1, event_type=11, scheduled_at=at(MONDAY, 12))
    con = build(raw)

    monday, tuesday = (day_row(con, date, event_type=11) for date in (MONDAY, TUESDAY))

    assert (monday["offered_minutes_source"], monday["offered_minutes"]) == ("working_hours", 480)
    assert monday["booked_in_offered_minutes"] == 30
    assert (tuesday["offered_minutes_source"], tuesday["offered_minutes"]) == ("snapshot", 30)


def test_a_day_a_later_snapshot_was_taken_during_uses_the_snapshot_before_it(raw):
    # Friday's snapshot (taken before Monday began) offers Monday 08:00 and 08:30; Monday's
    # own, taken at 15:00, does not cover Monday.
    raw.event_type(11, owner=1)
    raw.availability_day(11, MONDAY, snapshot_date="2025-06-20")
    for minute in (0, 30):
        raw.slot(
            11, at(MONDAY, 8, minute), date=MONDAY, start=f"08:{minute}", snapshot_date="2025-06-20"
        )
    _snapshot_of_monday_and_tuesday(raw, at(MONDAY, 15))
    con = build(raw)

    row = day_row(con, MONDAY, event_type=11)

    assert (row["snapshot_date"], row["offered_minutes"]) == (dt.date(2025, 6, 20), 60)


@pytest.mark.parametrize(("taken_hour", "source"), [(2, "snapshot"), (10, "working_hours")])
def test_a_snapshot_covers_a_local_day_taken_before_it_began_in_the_hosts_zone(
    raw, taken_hour, source
):
    # New York's Monday begins at 04:00 UTC on Monday: a snapshot of the UTC days Monday and
    # Tuesday taken at 02:00 UTC covers it, one taken at 10:00 UTC (06:00 there) does not.
    raw.user(2, timezone="America/New_York")
    raw.event_type(11, owner=2)
    _snapshot_of_monday_and_tuesday(raw, at(MONDAY, taken_hour))
    raw.event(host=2, event_type=11, scheduled_at=at(MONDAY, 16))  # noon in New York
    con = build(raw)

    assert day_row(con, MONDAY, event_type=11, host=2)["offered_minutes_source"] == source
