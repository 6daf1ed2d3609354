"""Bulk jobs: chunked list calls, skipping what is already done, resuming a killed job."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable

from simplymeet.contract.endpoints import match_route
from tests.writeback_fixtures import (  # noqa: F401 - fixtures
    Synced,
    synced_fixture,
    synced_template_fixture,
)


def _ids_csv(ids: list[int]) -> str:
    return ",".join(map(str, ids))


def test_bulk_cancel_of_1000_selected_by_sql_sends_one_list_request_per_chunk(
    synced: Synced,
) -> None:
    sql = "select id from events where state = 'active' order by id limit 1000"
    chunk = 64

    result = synced.cli(
        "event", "cancel-list", "--sql", sql, "--chunk-size", str(chunk), "--reason", "bulk",
        "--yes", "--include-past",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "in the past, included by --include-past" in result.output
    assert synced.emulator.count("event_cancel_list") == math.ceil(1000 / chunk)
    assert synced.emulator.count(method="PUT") == math.ceil(1000 / chunk)
    canceled = synced.scalar(
        "select count(*) from events where state = 'canceled' and cancellation_reason = 'bulk'"
    )
    assert canceled == 1000
    assert "succeeded 1,000" in result.output


def test_targets_already_in_the_target_state_are_skipped_and_reported(synced: Synced) -> None:
    canceled = synced.ids("state = 'canceled'", 3)
    active = synced.upcoming(2)

    result = synced.cli("event", "cancel", "--ids", _ids_csv(canceled + active), "--yes")

    assert result.exit_code == 0, result.output
    sent = {int(r.path.rsplit("/", 1)[1]) for r in synced.emulator.requests if r.method == "PUT"}
    assert sent == set(active)
    assert "skipped 3" in result.output and "already canceled: 3" in result.output


def test_rerun_of_a_finished_job_sends_nothing_again(synced: Synced) -> None:
    ids = _ids_csv(synced.ids("state = 'active'", 4))
    first = synced.cli("event", "no-show-list", "--ids", ids, "--yes", "--no-refresh")
    assert first.exit_code == 0, first.output
    synced.emulator.reset_log()

    again = synced.cli("event", "no-show-list", "--ids", ids, "--yes", "--no-refresh")

    assert again.exit_code == 0, again.output
    assert synced.emulator.count(method="PUT") == 0
    assert "done by an earlier run 4" in again.output


def test_a_rerun_with_everything_done_before_does_not_say_it_changed_the_warehouse(
    synced: Synced,
) -> None:
    ids = _ids_csv(synced.ids("state = 'active'", 2))
    first = synced.cli("event", "no-show-list", "--ids", ids, "--yes", "--no-refresh")
    assert first.exit_code == 0, first.output

    again = synced.cli("event", "no-show-list", "--ids", ids, "--yes")

    assert again.exit_code == 0, again.output
    assert "queries now see these changes" not in again.output
    assert "warehouse refreshed: the targets earlier runs wrote were read again" in again.output


def test_summary_says_how_many_answers_were_lost_and_found_applied(synced: Synced) -> None:
    ids = synced.upcoming(3)
    synced.emulator.set_faults("drop=1,after_apply=1,seed=1,endpoints=event_cancel")

    result = synced.cli("event", "cancel", "--ids", _ids_csv(ids), "--yes", "--no-refresh")

    assert result.exit_code == 0, result.output
    assert "succeeded 3" in result.output
    assert "answer lost, found applied on the server 3" in result.output


def test_killed_bulk_job_rerun_sends_no_item_twice(synced: Synced) -> None:
    synced.api_timeout_seconds = 1.0  # the re-run waits that long for requests left in flight
    ids = synced.ids("state = 'active'", 40)
    emulator = synced.emulator
    # Slow writes down so the job is surely mid-way when it is killed.
    emulator.set_faults("latency=60,endpoints=event_no_show")
    args = ["event", "no-show", "--ids", _ids_csv(ids), "--yes", "--concurrency", "2"]
    _kill_once(synced, args, lambda: emulator.count("event_no_show") >= 10)
    _wait_until_quiet(synced)
    first_run = emulator.count("event_no_show")
    assert first_run < len(ids), "the job finished before it was killed"
    emulator.set_faults(None)

    rerun = synced.cli(*args)

    assert rerun.exit_code == 0, rerun.output
    sent = Counter(
        match_route(r.method, r.path)[1]["id"]  # type: ignore[index]
        for r in emulator.requests
        if r.method == "PUT"
    )
    assert sorted(sent) == sorted(ids)
    assert max(sent.values()) == 1, {i: n for i, n in sent.items() if n > 1}
    assert all(emulator.store.event_dto(i)["state"] == "no_show" for i in ids)
    journaled = synced.query(
        "select count(distinct item_key), count(*) filter (where outcome = 'pending') "
        "from writeback.journal where outcome in ('succeeded', 'pending')"
    )
    assert journaled == [(len(ids), 0)]
    assert synced.scalar(
        f"select count(*) from events where state = 'no_show' and id in ({_ids_csv(ids)})"
    ) == len(ids)


def test_a_rerun_right_after_a_kill_waits_for_the_request_left_with_the_server_before_resending(
    synced: Synced,
) -> None:
    # The server applies a reschedule seconds after it reads it, whatever became of its
    # client: a re-run that checked at once would find it "not applied" and send it again.
    synced.api_timeout_seconds = 3.0
    ids = synced.upcoming(4)
    before = _reschedulings(synced, ids)
    args = _reschedule_killed_mid_request(synced, ids, latency_ms=1500)

    rerun = synced.cli(*args)

    assert rerun.exit_code == 0, rerun.output
    assert synced.emulator.received("event_reschedule") == len(ids)
    assert _reschedulings(synced, ids) == {i: n + 1 for i, n in before.items()}


def test_a_rerun_with_a_shorter_timeout_waits_as_long_as_the_killed_run_would_have(
    synced: Synced,
) -> None:
    synced.api_timeout_seconds = 4.0  # the killed run's
    ids = synced.upcoming(2)
    before = _reschedulings(synced, ids)
    args = _reschedule_killed_mid_request(synced, ids, latency_ms=3500)
    synced.api_timeout_seconds = 1.0  # the re-run's: its own would not wait for the server

    rerun = synced.cli(*args)

    assert rerun.exit_code == 0, rerun.output
    assert synced.emulator.received("event_reschedule") == len(ids)
    assert _reschedulings(synced, ids) == {i: n + 1 for i, n in before.items()}


def test_a_rerun_with_other_input_after_a_kill_sends_no_reschedule_twice(
    synced: Synced,
) -> None:
    # The operator adds a forgotten row and runs the command again: another input is another
    # job, yet the moves the killed one left with the server must not be sent again.
    synced.api_timeout_seconds = 3.0
    *ids, forgotten = synced.upcoming(4)
    before = _reschedulings(synced, [*ids, forgotten])
    args = _reschedule_killed_mid_request(synced, ids, latency_ms=1500)
    synced.emulator.set_faults(None)
    args[args.index("--ids") + 1] = _ids_csv([*ids, forgotten])

    rerun = synced.cli(*args)

    assert rerun.exit_code == 0, rerun.output
    assert synced.emulator.received("event_reschedule") == len(ids) + 1
    assert _reschedulings(synced, [*ids, forgotten]) == {i: n + 1 for i, n in before.items()}
    assert f"done by an earlier run {len(ids)}" in rerun.output


def test_a_rerun_moving_a_killed_jobs_target_elsewhere_sends_it_after_the_first_move_landed(
    synced: Synced,
) -> None:
    # Sent at once, the new move would land before the killed run's, which would win.
    synced.api_timeout_seconds = 4.0
    [event_id] = synced.upcoming(1)
    args = _reschedule_killed_mid_request(synced, [event_id], latency_ms=3000)
    synced.emulator.set_faults(None)
    args[args.index("--start") + 1] = "2031-09-02 11:00:00"

    rerun = synced.cli(*args)
    _wait_until_answered(synced, "event_reschedule", 2)  # the killed run's move too

    assert rerun.exit_code == 0, rerun.output
    assert synced.emulator.received("event_reschedule") == 2
    assert synced.event(event_id)["scheduledAt"].startswith("2031-09-02T11:00:00")  # type: ignore[index]


def test_a_job_over_more_targets_sends_no_move_an_unrefreshed_earlier_job_made(
    synced: Synced,
) -> None:
    # The warehouse never saw the first job's moves (--no-refresh): the second job's plan
    # cannot skip them as already done, so the server is asked first.
    ids = synced.upcoming(3)
    move = ["event", "reschedule", "--start", "2031-09-03 10:00:00", "--no-refresh", "--ids"]
    first = synced.cli(*move, _ids_csv(ids[:2]))
    assert first.exit_code == 0, first.output

    second = synced.cli(*move, _ids_csv(ids))

    assert second.exit_code == 0, second.output
    assert synced.writes_per_event("event_reschedule") == {i: 1 for i in ids}
    assert "done by an earlier run 2" in second.output


def test_a_notification_an_unrefreshed_earlier_job_resent_is_not_resent_by_a_larger_job(
    synced: Synced,
) -> None:
    # A resent notification cannot be read back: whether the invitee already got it again
    # is unknown, and unknown is never sent without --retry-unknown.
    ids = synced.upcoming(2)
    resend = ["event", "resend-notification", "--no-refresh", "--ids"]
    first = synced.cli(*resend, str(ids[0]))
    assert first.exit_code == 0, first.output

    second = synced.cli(*resend, _ids_csv(ids))

    assert second.exit_code == 6, second.output
    assert synced.writes_per_event("event_resend_notification") == {i: 1 for i in ids}
    assert f"event {ids[0]}: job event_resend_notification-" in second.output


def _reschedulings(s: Synced, ids: list[int]) -> dict[int, int]:
    """How many times the server shows each event rescheduled."""
    return {i: len(s.event(i)["rescheduling"]) for i in ids}  # type: ignore[index]


def _reschedule_killed_mid_request(s: Synced, ids: list[int], *, latency_ms: int) -> list[str]:
    """`event reschedule` of `ids`, killed once the server read every request (it answers
    each `latency_ms` later); the command's arguments, to run it again."""
    s.emulator.set_faults(f"latency={latency_ms},endpoints=event_reschedule")
    args = [
        "event", "reschedule", "--ids", _ids_csv(ids), "--start", "2031-09-01 10:00:00",
        "--concurrency", str(len(ids)), "--no-refresh",
    ]  # fmt: skip
    _kill_once(s, args, lambda: s.emulator.received("event_reschedule") >= len(ids))
    return args


def _kill_once(s: Synced, args: list[str], reached: Callable[[], bool]) -> None:
    """Run `simplymeet ARGS` in a real process and SIGKILL it once `reached()` holds."""
    child = subprocess.Popen(
        [sys.executable, "-m", "simplymeet.cli.main", *args],
        env=s.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not reached():
            assert child.poll() is None, child.stderr.read().decode()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the job never got going"
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(10)


def _wait_until_answered(s: Synced, endpoint: str, count: int) -> None:
    """Wait (bounded) until `count` requests to `endpoint` were answered or dropped."""
    deadline = time.monotonic() + 10
    while s.emulator.count(endpoint) < count and time.monotonic() < deadline:
        time.sleep(0.05)


def _wait_until_quiet(s: Synced) -> None:
    """Requests the killed process left in flight are answered (and logged) within latency."""
    last, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        now = len(s.emulator.requests)
        if now != last:
            last, stable_since = now, time.monotonic()
        elif time.monotonic() - stable_since > 0.3:
            return
        time.sleep(0.02)
