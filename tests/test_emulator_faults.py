"""Faults are observable at the HTTP level, scoped, seeded, and changeable at runtime."""

from __future__ import annotations

import concurrent.futures
import gc
import socket
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest

from simplymeet.emulator import FaultSpec, start_emulator
from tests.emulator_support import api_http


@pytest.fixture
def http(emulator):
    # No pooling surprises: a dropped connection must not poison the next test request.
    with api_http(emulator, timeout=5) as client:
        yield client


def test_429_carries_retry_after(emulator, http):
    emulator.set_faults("429=1,retry_after=2")
    response = http.get("/event/")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["code"] == 429


def test_a_limit_answers_429_past_its_rate_with_retry_after(emulator, http):
    emulator.set_faults("limit=3,retry_after=2,endpoints=current_user_get")
    statuses = [http.get("/current-user").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert http.get("/current-user").headers["Retry-After"] == "2"


def test_a_request_sent_during_a_limits_hold_is_counted_early(emulator, http):
    emulator.set_faults("limit=3,retry_after=2,endpoints=current_user_get")
    for _ in range(4):
        http.get("/current-user")
    time.sleep(0.5)  # past the grace for requests already in flight, within the hold

    assert http.get("/current-user").status_code == 429
    assert emulator.faults_injected == {"429": 2, "early": 1}


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors(emulator, http, status):
    emulator.set_faults(f"{status}=1")
    response = http.get("/event/")
    assert response.status_code == status
    assert response.json()["code"] == status


def test_503_carries_retry_after(emulator, http):
    emulator.set_faults("503=1,retry_after=0")
    assert http.get("/event/").headers["Retry-After"] == "0"


def test_dropped_connection_sends_no_response(emulator, http):
    emulator.set_faults("drop=1")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/event/")
    assert emulator.requests[-1].status == 0


def test_truncated_body_is_cut_short_of_its_content_length(emulator, http):
    emulator.set_faults("truncate=1")
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/event/", params={"onPage": 5})


def test_truncation_is_visible_on_the_raw_socket(emulator):
    import socket

    emulator.set_faults("truncate=1")
    with socket.create_connection(("127.0.0.1", emulator.port), timeout=5) as sock:
        head = "GET /panel/api/event/?onPage=3 HTTP/1.1\r\nHost: x\r\n"
        sock.sendall(f"{head}X-API-KEY: {emulator.api_key}\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    assert 0 < len(body) < length


def test_stall_outlasts_the_client_timeout(emulator):
    emulator.set_faults("stall=1,stall_s=1")
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(
            f"{emulator.base_url}/panel/api/event/",
            headers={"X-API-KEY": emulator.api_key},
            timeout=0.2,
        )
    assert time.monotonic() - started < 1
    emulator.set_faults(None)
    assert (
        httpx.get(
            f"{emulator.base_url}/panel/api/current-user", headers={"X-API-KEY": emulator.api_key}
        ).status_code
        == 200
    )


def test_stall_then_close_closes_without_answer(emulator, http):
    emulator.set_faults("stall=1,stall_s=0.2,stall_then=close")
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        http.get("/event/")
    assert time.monotonic() - started >= 0.2


def test_stall_then_respond_answers_late(emulator, http):
    emulator.set_faults("stall=1,stall_s=0.2")
    started = time.monotonic()
    assert http.get("/current-user").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_latency_delays_every_request(emulator, http):
    emulator.set_faults("latency=150")
    started = time.monotonic()
    http.get("/current-user")
    assert time.monotonic() - started >= 0.15


def test_start_latency_applies_to_every_request():
    with start_emulator(events=5, latency_ms=120) as emu:
        started = time.monotonic()
        httpx.get(f"{emu.base_url}/panel/api/current-user", headers={"X-API-KEY": emu.api_key})
        assert time.monotonic() - started >= 0.12


def test_faults_scoped_to_an_endpoint_spare_the_others(emulator, http):
    emulator.set_faults("500=1,endpoints=event_list")
    assert http.get("/event/").status_code == 500
    assert http.get("/event/1").status_code == 200
    assert http.get("/event-type").status_code == 200


def test_faults_scoped_to_a_method_spare_the_others(emulator, http):
    emulator.set_faults(FaultSpec(rate_503=1.0, methods=frozenset({"PUT"})))
    assert http.get("/event/1").status_code == 200
    assert http.put("/event/notes/1", json={"notes": "x"}).status_code == 503


def test_max_faults_fails_the_first_requests_only(emulator, http):
    emulator.set_faults("500=1,max=2")
    assert [http.get("/current-user").status_code for _ in range(4)] == [500, 500, 200, 200]
    assert emulator.faults_injected == {"500": 2}


def test_5xx_fires_before_the_write_is_applied(emulator, http):
    emulator.set_faults("500=1,endpoints=event_notes")
    assert http.put("/event/notes/3", json={"notes": "never stored"}).status_code == 500
    assert emulator.store.event_dto(3)["notes"] != "never stored"


def test_fail_after_apply_creates_the_event_anyway(emulator, http):
    emulator.set_faults("500=1,after_apply=1,endpoints=event_create")
    body = {
        "scheduledAt": "2031-01-01 10:00:00",
        "eventType": 1,
        "invitee": {"fullName": "A B", "email": "a@b.co"},
    }
    assert http.post("/event", json=body).status_code == 500
    assert emulator.store.event_dto(2001)["invitee"]["email"] == "a@b.co"


def test_drop_after_apply_applies_the_write(emulator, http):
    emulator.set_faults("drop=1,after_apply=1,endpoints=event_cancel")
    with pytest.raises(httpx.RemoteProtocolError):
        http.put("/event/cancel/1", json={"reason": "x"})
    assert emulator.store.event_dto(1)["state"] == "canceled"


def _notes_later(emulator, notes: str, timeout: float = 5) -> bool:
    """Whether event 3's notes become `notes` within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emulator.store.event_dto(3)["notes"] == notes:
            return True
        time.sleep(0.05)
    return False


def test_a_504_applied_later_answers_first_and_applies_the_write_after(emulator, http):
    emulator.set_faults("504=1,apply_later=0.5,endpoints=event_notes")

    assert http.put("/event/notes/3", json={"notes": "landed late"}).status_code == 504
    assert emulator.store.event_dto(3)["notes"] != "landed late"  # not yet: the gateway's answer
    assert _notes_later(emulator, "landed late")
    assert emulator.count("event_notes") == 1


def test_a_drop_applied_later_applies_the_write_after_the_connection_is_gone(emulator, http):
    emulator.set_faults("drop=1,apply_later=0.3,endpoints=event_notes")

    with pytest.raises(httpx.RemoteProtocolError):
        http.put("/event/notes/3", json={"notes": "landed after the drop"})
    assert _notes_later(emulator, "landed after the drop")


def test_a_cut_answer_applied_later_is_a_504_cut_short_before_the_write_applies(emulator, http):
    emulator.set_faults("truncate=1,apply_later=0.5,endpoints=event_notes")

    with pytest.raises(httpx.RemoteProtocolError):
        http.put("/event/notes/3", json={"notes": "landed after the cut"})
    assert emulator.store.event_dto(3)["notes"] != "landed after the cut"
    assert _notes_later(emulator, "landed after the cut")
    assert [r.status for r in emulator.requests if r.method == "PUT"] == [504]


def test_a_429_applied_later_answers_first_and_applies_the_write_after(emulator, http):
    # A gateway's limiter answering on the way back while the backend works on.
    emulator.set_faults("429=1,apply_later=0.5,retry_after=2,endpoints=event_notes")

    answer = http.put("/event/notes/3", json={"notes": "limited, then landed"})
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "2")
    assert emulator.store.event_dto(3)["notes"] != "limited, then landed"
    assert _notes_later(emulator, "limited, then landed")


def test_a_write_answered_done_and_applied_later_is_not_done_until_then(emulator, http):
    # A backend that queues the write (a bulk job) and answers success at once.
    emulator.set_faults("unapplied=1,apply_later=0.5,endpoints=event_notes")

    assert http.put("/event/notes/3", json={"notes": "queued"}).status_code == 204
    assert emulator.store.event_dto(3)["notes"] != "queued"
    assert _notes_later(emulator, "queued")


def test_faults_can_be_turned_off_at_runtime(emulator, http):
    emulator.set_faults("500=1")
    assert http.get("/current-user").status_code == 500
    emulator.set_faults(None)
    assert http.get("/current-user").status_code == 200
    assert emulator.faults is None


def test_faults_given_at_start_apply_from_the_first_request():
    with start_emulator(events=5, faults="502=1") as emu:
        response = httpx.get(
            f"{emu.base_url}/panel/api/current-user", headers={"X-API-KEY": emu.api_key}
        )
        assert response.status_code == 502


def test_same_fault_seed_gives_the_same_sequence(emulator, http):
    def run() -> list[int]:
        emulator.set_faults("500=0.3,429=0.2,retry_after=0,seed=11")
        return [http.get("/current-user").status_code for _ in range(30)]

    first, second = run(), run()
    assert first == second
    assert {200, 429, 500} <= set(first)


def test_rates_approach_their_probabilities(emulator, http):
    emulator.set_faults("500=0.2,seed=3")
    statuses = [http.get("/current-user").status_code for _ in range(300)]
    assert 0.12 < statuses.count(500) / 300 < 0.28


def test_request_log_counts_requests_by_endpoint_and_status(emulator, http):
    emulator.reset_log()
    emulator.set_faults("429=1,max=1,retry_after=0")
    http.get("/event/", params={"page": 1})
    http.get("/event/", params={"page": 2})
    http.get("/event/3")
    assert emulator.count("event_list") == 2
    assert emulator.count(status=429) == 1
    assert [r.query for r in emulator.requests][:2] == ["page=1", "page=2"]


@pytest.mark.parametrize(
    "text",
    [
        "500=2",
        "500=0.6,502=0.6",
        "bogus=1",
        "endpoints=no_such_endpoint",
        "500",
        "504=1,apply_later=-1",
        "504=1,apply_later=1,after_apply=1",
    ],
)
def test_invalid_fault_specs_are_rejected(text):
    with pytest.raises(ValueError):
        FaultSpec.parse(text)


def test_fault_spec_parses_the_documented_example():
    spec = FaultSpec.parse(
        "latency=50,429=0.05,500=0.02,502=0.01,503=0.01,504=0.01,stall=0.01,drop=0.01,"
        "truncate=0.01,retry_after=1,stall_s=30"
    )
    assert (spec.latency_ms, spec.rate_429, spec.truncate, spec.stall_s) == (50, 0.05, 0.01, 30)
    assert FaultSpec.parse(str(spec)) == spec


def test_keep_alive_reuses_one_connection(emulator, http):
    before = emulator.connections_accepted
    for _ in range(10):
        http.get("/current-user")
    assert emulator.connections_accepted - before == 1


def test_concurrent_connections_are_served(emulator):
    def page(n: int) -> int:
        response = httpx.get(
            f"{emulator.base_url}/panel/api/event/",
            params={"page": n, "onPage": 100},
            headers={"X-API-KEY": emulator.api_key},
            timeout=10,
        )
        return len(response.json()["items"])

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        sizes = list(pool.map(page, range(1, 21)))
    assert sum(sizes) == 2000


def test_short_page_keeps_its_meta_but_not_all_its_items(emulator, http):
    emulator.set_faults("short=1,short_keep=0.6")
    page = http.get("/event/", params={"onPage": 100}).json()
    assert page["meta"]["itemsPerPage"] == 100
    assert page["meta"]["itemsCount"] == 2000
    assert len(page["items"]) == 60


def test_missing_page_has_meta_and_no_items(emulator, http):
    emulator.set_faults("missing=1")
    page = http.get("/event/", params={"onPage": 100, "page": 3}).json()
    assert page["meta"]["currentPage"] == 3
    assert page["items"] == []


def test_page_faults_scoped_to_a_page_number_spare_the_other_pages(emulator, http):
    emulator.set_faults("short=1,pages=2")
    lengths = [
        len(http.get("/event/", params={"onPage": 100, "page": n}).json()["items"])
        for n in (1, 2, 3)
    ]
    assert lengths == [100, 60, 100]


def test_faults_scoped_to_an_order_spare_other_orders_and_filtered_requests(emulator, http):
    emulator.set_faults("500=1,orders=updatedAt,endpoints=event_list")
    newest = {"orderField": "updatedAt", "orderDirection": "desc"}
    assert http.get("/event/", params=newest).status_code == 500
    assert http.get("/event/", params={**newest, "filter[state]": "canceled"}).status_code == 200
    assert http.get("/event/", params={"orderField": "id"}).status_code == 200


def test_a_page_cap_serves_fewer_rows_than_asked_and_says_so_in_the_meta(emulator, http):
    emulator.set_faults("page_cap=30,endpoints=event_list")
    page = http.get("/event/", params={"onPage": 100, "page": 2}).json()
    assert len(page["items"]) == 30
    assert page["meta"]["itemsPerPage"] == 30
    assert page["meta"]["pagesCount"] == 67  # 2,000 events, 30 a page
    assert [r.query for r in emulator.requests][-1] == "onPage=100&page=2"  # logged as asked


def test_a_hidden_row_is_missing_from_full_pages_that_are_not_the_last_only(emulator, http):
    emulator.set_faults("hide=1,endpoints=event_list")
    lengths = [
        len(http.get("/event/", params={"onPage": 100, "page": n}).json()["items"]) for n in (1, 20)
    ]
    by_id = http.get("/event/", params={"onPage": 5, "filter[ids][]": [1, 2, 3]}).json()
    assert lengths == [99, 100]  # page 20 of 2,000 at 100 a page is the last
    assert len(by_id["items"]) == 3  # a one-page answer keeps every row


def test_a_shifted_page_starts_a_row_later_and_ends_with_the_next_pages_first_row(emulator, http):
    emulator.set_faults("shift=1,pages=2,endpoints=event_list")
    ids = [
        [row["id"] for row in http.get("/event/", params={"onPage": 10, "page": n}).json()["items"]]
        for n in (1, 2)
    ]
    assert ids == [list(range(1, 11)), list(range(12, 22))]  # 11 is on no page


def test_a_shifted_page_of_a_plain_array_skips_a_row_too(emulator, http):
    emulator.set_faults("page_cap=2,shift=1,pages=2,endpoints=poll_list")
    ids = [
        [poll["id"] for poll in http.get("/poll", params={"page": n, "onPage": 100}).json()]
        for n in (1, 2)
    ]
    assert ids == [[1, 2], [4, 5]]


def test_a_phantom_row_is_an_item_more_than_the_meta_promises_under_an_id_no_read_serves(
    emulator, http
):
    emulator.set_faults("phantom=1,pages=2,endpoints=event_list")
    page = http.get("/event/", params={"onPage": 10, "page": 2}).json()
    ghost = page["items"][-1]["id"]
    assert (len(page["items"]), page["meta"]["itemsPerPage"]) == (11, 10)
    assert ghost not in range(1, 2001)
    assert http.get(f"/event/{ghost}").status_code == 404


def test_page_faults_leave_plain_array_lists_alone(emulator, http):
    emulator.set_faults("missing=1")
    users = http.get("/user").json()
    assert isinstance(users, list) and users


def test_stopping_with_connections_just_opened_leaves_nothing_to_die_with_the_loop(monkeypatch):
    # Connections accepted while the server closes start their task after it swept the
    # open ones; a task still pending when the loop closed failed in its `finally`.
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    for _ in range(5):
        emulator = start_emulator(events=10)
        address = urlsplit(emulator.base_url)
        sockets = [socket.create_connection((address.hostname, address.port)) for _ in range(30)]
        emulator.stop()
        for opened in sockets:
            opened.close()
        gc.collect()

    assert unraisable == []
