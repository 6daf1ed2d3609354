"""The settle period's clock: neither this machine's clock nor the server's running ahead
ends it early (`writeback/server_time.py`)."""

from __future__ import annotations

import datetime as dt
import email.utils
from types import SimpleNamespace

from simplymeet.writeback.server_time import ServerTime

SERVER = dt.datetime(2026, 12, 5, 12, 0, 0, tzinfo=dt.UTC)


def _answered_at(clock: ServerTime, when: dt.datetime) -> None:
    clock.observe(SimpleNamespace(headers={"date": email.utils.format_datetime(when, True)}))


def _clock(local: dt.datetime) -> ServerTime:
    clock = ServerTime(object(), local=lambda: local)
    _answered_at(clock, SERVER)
    return clock


def test_now_is_the_servers_time_when_this_machine_runs_ahead():
    now = _clock(SERVER + dt.timedelta(hours=2)).now()
    assert SERVER <= now < SERVER + dt.timedelta(seconds=5)


def test_now_is_this_machines_time_when_the_server_runs_ahead():
    assert _clock(SERVER - dt.timedelta(hours=2)).now() == SERVER - dt.timedelta(hours=2)


def test_a_send_is_stamped_with_the_servers_time_rounded_up_when_this_machine_runs_behind():
    stamp = _clock(SERVER - dt.timedelta(hours=2)).stamp()
    assert SERVER + dt.timedelta(seconds=1) <= stamp < SERVER + dt.timedelta(seconds=5)


def test_without_an_answer_both_are_this_machines_time():
    clock = ServerTime(object(), local=lambda: SERVER)
    assert (clock.now(), clock.stamp()) == (SERVER, SERVER)


def test_an_unreadable_date_is_ignored():
    clock = ServerTime(object(), local=lambda: SERVER)
    clock.observe(SimpleNamespace(headers={"date": "yesterday"}))
    assert clock.now() == SERVER
