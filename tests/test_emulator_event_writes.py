"""Event writes have their side effects, bump updatedAt, and fail with 404/422 as documented."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from simplymeet.contract.dates import parse_api_datetime


def _first(emulator, state: str, skip: int = 0) -> int:
    store = emulator.store
    found = [i for i in store.all_event_ids()[:400] if store.event_dto(i)["state"] == state]
    return found[skip]


def _updated(emulator, event_id: int):
    return parse_api_datetime(emulator.store.event_dto(event_id)["updatedAt"])


def _max_seeded_updated(emulator):
    store = emulator.store
    return max(parse_api_datetime(store.event_dto(i)["updatedAt"]) for i in store.all_event_ids())


def test_cancel_sets_state_canceled_at_cancellation_and_updated_at(emulator, emulator_http):
    event_id = _first(emulator, "active")
    latest_seeded = _max_seeded_updated(emulator)
    response = emulator_http.put(f"/event/cancel/{event_id}", json={"reason": "Budget cut"})
    assert response.status_code == 204
    event = emulator_http.get(f"/event/{event_id}").json()
    assert event["state"] == "canceled"
    assert event["canceledAt"] is not None
    assert event["cancellation"]["canceler"] == "host"
    assert event["cancellation"]["reason"] == "Budget cut"
    assert isinstance(event["cancellation"]["id"], int)
    assert parse_api_datetime(event["updatedAt"]) > latest_seeded
    assert event["updatedAt"] == event["canceledAt"]


def test_cancel_of_a_canceled_event_is_422(emulator, emulator_http):
    event_id = _first(emulator, "canceled")
    response = emulator_http.put(f"/event/cancel/{event_id}", json={})
    assert response.status_code == 422
    assert "already canceled" in response.json()["errors"]["id"][0]


def test_cancel_without_body_is_accepted(emulator, emulator_http):
    event_id = _first(emulator, "active")
    assert emulator_http.put(f"/event/cancel/{event_id}").status_code == 204
    assert emulator.store.event_dto(event_id)["cancellation"]["reason"] is None


def test_cancel_list_cancels_every_id(emulator, emulator_http):
    ids = [_first(emulator, "active", k) for k in range(3)]
    assert (
        emulator_http.put("/event/cancel-list", json={"ids": ids, "reason": "r"}).status_code == 204
    )
    assert {emulator.store.event_dto(i)["state"] for i in ids} == {"canceled"}


def test_cancel_list_with_an_unknown_id_is_404_and_cancels_nothing(emulator, emulator_http):
    event_id = _first(emulator, "active")
    response = emulator_http.put("/event/cancel-list", json={"ids": [event_id, 999_999]})
    assert response.status_code == 404
    assert "999999" in response.json()["message"]
    assert emulator.store.event_dto(event_id)["state"] == "active"


def test_cancel_list_with_a_canceled_event_is_422_naming_its_index(emulator, emulator_http):
    ids = [_first(emulator, "active"), _first(emulator, "canceled")]
    response = emulator_http.put("/event/cancel-list", json={"ids": ids})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["ids.1"]
    assert emulator.store.event_dto(ids[0])["state"] == "active"


def test_empty_id_list_is_422(emulator_http):
    response = emulator_http.put("/event/cancel-list", json={"ids": []})
    assert response.status_code == 422
    assert "ids" in response.json()["errors"]


def test_reschedule_appends_history_and_moves_the_event(emulator, emulator_http):
    event_id = _first(emulator, "active")
    before = emulator.store.event_dto(event_id)
    body = {
        "start": "2031-03-04 10:00:00",
        "end": "2031-03-04 10:45:00",
        "eventTypeId": before["eventType"]["id"],
    }
    response = emulator_http.put(f"/event/reschedule/{event_id}", json=body)
    assert response.status_code == 204
    after = emulator.store.event_dto(event_id)
    assert after["scheduledAt"] == "2031-03-04T10:00:00+00:00"
    assert after["endDate"] == "2031-03-04T10:45:00+00:00"
    assert after["user"]["id"] == before["user"]["id"]  # same type, no userId: same host
    assert len(after["rescheduling"]) == len(before["rescheduling"]) + 1
    last = after["rescheduling"][-1]
    assert last["previouslyScheduledAt"] == before["scheduledAt"]
    assert last["previousUser"]["id"] == before["user"]["id"]
    assert after["updatedAt"] > before["updatedAt"]


def test_reschedule_can_change_event_type_and_user(emulator, emulator_http):
    event_id = _first(emulator, "active")
    body = {
        "start": "2031-03-04 10:00:00",
        "end": "2031-03-04 11:30:00",
        "eventTypeId": 2,
        "userId": 3,
    }
    assert emulator_http.put(f"/event/reschedule/{event_id}", json=body).status_code == 204
    after = emulator.store.event_dto(event_id)
    assert (after["eventType"]["id"], after["user"]["id"], after["duration"]) == (2, 3, 90)


@pytest.mark.parametrize("missing", ["end", "eventTypeId"])
def test_reschedule_without_end_or_event_type_is_422_naming_it(emulator, emulator_http, missing):
    event_id = _first(emulator, "active")
    body = {"start": "2031-03-04 10:00:00", "end": "2031-03-04 10:30:00", "eventTypeId": 1}
    del body[missing]
    before = emulator.store.event_dto(event_id)
    response = emulator_http.put(f"/event/reschedule/{event_id}", json=body)
    assert response.status_code == 422
    assert missing in response.json()["errors"]
    assert emulator.store.event_dto(event_id)["scheduledAt"] == before["scheduledAt"]


def test_reschedule_onto_an_event_type_deleted_since_is_404_and_the_event_stays(
    emulator, emulator_http
):
    event_id = _first(emulator, "active")
    event_type = emulator.store.event_dto(event_id)["eventType"]["id"]
    emulator.store.delete_event_type(event_type)
    body = {"start": "2031-03-04 10:00:00", "end": "2031-03-04 10:30:00", "eventTypeId": event_type}

    response = emulator_http.put(f"/event/reschedule/{event_id}", json=body)

    assert response.status_code == 404
    assert emulator_http.get(f"/event/{event_id}").status_code == 200


def test_reschedule_with_a_bad_date_is_422_on_start(emulator, emulator_http):
    body = {"start": "2031-03-04T10:00", "end": "2031-03-04 10:30:00", "eventTypeId": 1}
    response = emulator_http.put("/event/reschedule/1", json=body)
    assert response.status_code == 422
    assert "start" in response.json()["errors"]


def test_reschedule_end_before_start_is_422(emulator, emulator_http):
    event_id = _first(emulator, "active")
    body = {"start": "2031-03-04 10:00:00", "end": "2031-03-04 09:00:00", "eventTypeId": 1}
    response = emulator_http.put(f"/event/reschedule/{event_id}", json=body)
    assert response.status_code == 422
    assert "end" in response.json()["errors"]


def test_no_show_sets_state(emulator, emulator_http):
    event_id = _first(emulator, "active")
    assert emulator_http.put(f"/event/no-show/{event_id}").status_code == 204
    assert emulator.store.event_dto(event_id)["state"] == "no_show"


def test_no_show_list_sets_state_on_all(emulator, emulator_http):
    ids = [_first(emulator, "active", k) for k in range(2)]
    assert emulator_http.put("/event/no-show-list", json={"ids": ids}).status_code == 204
    assert {emulator.store.event_dto(i)["state"] for i in ids} == {"no_show"}


def test_no_show_of_a_canceled_event_is_422(emulator, emulator_http):
    assert emulator_http.put(f"/event/no-show/{_first(emulator, 'canceled')}").status_code == 422


def test_notes_are_replaced(emulator, emulator_http):
    before = emulator.store.event_dto(5)
    assert (
        emulator_http.put("/event/notes/5", json={"notes": "Call back on Monday"}).status_code
        == 204
    )
    after = emulator.store.event_dto(5)
    assert after["notes"] == "Call back on Monday"
    assert after["updatedAt"] > before["updatedAt"]


def test_notes_without_notes_field_is_422(emulator_http):
    response = emulator_http.put("/event/notes/5", json={})
    assert response.status_code == 422
    assert "notes" in response.json()["errors"]


def test_invite_participants_adds_them_with_created_at(emulator, emulator_http):
    before = emulator.store.event_dto(6)["participants"]
    body = {"emails": ["a@example.com", "b@example.com"], "message": "Join us"}
    assert emulator_http.post("/event/invite-participants/6", json=body).status_code == 204
    after = emulator.store.event_dto(6)["participants"]
    assert [p["email"] for p in after[len(before) :]] == ["a@example.com", "b@example.com"]
    assert all(p["createdAt"] and p["id"] for p in after)
    assert len({p["id"] for p in after}) == len(after)


def test_invite_participants_with_a_bad_email_is_422(emulator_http):
    response = emulator_http.post("/event/invite-participants/6", json={"emails": ["nope"]})
    assert response.status_code == 422
    assert "emails" in response.json()["errors"]


def test_edit_changes_invitee_and_answers(emulator, emulator_http):
    event_id = next(
        i for i in emulator.store.all_event_ids() if emulator.store.event_dto(i)["answers"]
    )
    answer_id = emulator.store.event_dto(event_id)["answers"][0]["id"]
    body = {
        "invitee": {"fullName": "Renamed Person", "phoneNumber": "+1 555 0100"},
        "answers": [{"id": answer_id, "value": "New answer"}],
    }
    assert emulator_http.put(f"/event/{event_id}", json=body).status_code == 204
    after = emulator.store.event_dto(event_id)
    assert after["invitee"]["fullName"] == "Renamed Person"
    assert after["invitee"]["phoneNumber"] == "+1 555 0100"
    assert after["answers"][0]["value"] == "New answer"


def test_an_edit_nulls_what_its_body_leaves_out_on_a_server_that_replaces(emulator, emulator_http):
    emulator.store.put_mode = "replace"
    event_id = next(
        i for i in emulator.store.all_event_ids() if emulator.store.event_dto(i)["answers"]
    )

    response = emulator_http.put(f"/event/{event_id}", json={"invitee": {"fullName": "Ada L"}})

    assert response.status_code == 204
    after = emulator.store.event_dto(event_id)
    assert (after["invitee"]["fullName"], after["invitee"]["phoneNumber"]) == ("Ada L", None)
    assert {a["value"] for a in after["answers"]} == {None}


def test_edited_invitee_is_found_by_the_invitee_filter(emulator, emulator_http):
    emulator_http.get("/event/", params={"filter[invitee]": "x"})  # builds the search column first
    assert (
        emulator_http.put("/event/9", json={"invitee": {"fullName": "Quintessa Zyx"}}).status_code
        == 204
    )
    items = emulator_http.get("/event/", params={"filter[invitee]": "quintessa zyx"}).json()[
        "items"
    ]
    assert [e["id"] for e in items] == [9]


def test_edit_with_an_unknown_answer_id_is_422(emulator_http):
    response = emulator_http.put("/event/3", json={"answers": [{"id": 1, "value": "x"}]})
    assert response.status_code == 422
    assert "answers.0.id" in response.json()["errors"]


def test_resend_notification_bumps_sent_email_reminder(emulator, emulator_http):
    before = emulator.store.event_dto(8)
    assert emulator_http.put("/event/resend-notification/8").status_code == 204
    after = emulator.store.event_dto(8)
    assert after["sentEmailReminder"] == before["sentEmailReminder"] + 1
    assert after["updatedAt"] > before["updatedAt"]


def test_delete_removes_the_event_from_get_and_list(emulator, emulator_http):
    assert emulator_http.delete("/event/10").status_code == 204
    assert emulator_http.get("/event/10").status_code == 404
    assert emulator_http.get("/event/", params={"filter[ids]": "10"}).json()["items"] == []
    assert emulator_http.get("/event/").json()["meta"]["itemsCount"] == 1999
    assert 10 not in emulator.store.all_event_ids()
    assert 10 in emulator.store.all_event_ids(include_deleted=True)
    assert emulator.store.event_dto(10) is None


def test_a_delete_a_server_keeps_listed_is_an_update_to_the_state_deleted(emulator, emulator_http):
    emulator.set_readings("deleted_events=listed")
    latest_seeded = _max_seeded_updated(emulator)

    assert emulator_http.delete("/event/10").status_code == 204

    listed = emulator_http.get("/event/", params={"filter[ids]": "10"}).json()["items"]
    assert [(e["id"], e["state"]) for e in listed] == [(10, "deleted")]
    assert parse_api_datetime(listed[0]["updatedAt"]) > latest_seeded
    assert emulator_http.get("/event/10").json() == listed[0]
    assert emulator_http.get("/event/").json()["meta"]["itemsCount"] == 2000


def test_a_deleted_event_a_server_keeps_listed_is_in_no_state_a_filter_asks_for(
    emulator, emulator_http
):
    emulator.set_readings("deleted_events=listed")
    state = emulator.store.event_dto(10)["state"]
    before = emulator_http.get("/event/", params={"filter[state]": state}).json()["meta"]

    emulator_http.delete("/event/10")

    after = emulator_http.get("/event/", params={"filter[state]": state}).json()["meta"]
    assert after["itemsCount"] == before["itemsCount"] - 1


def test_delete_list_removes_every_id(emulator, emulator_http):
    response = emulator_http.request("DELETE", "/event/delete-list", json={"ids": [11, 12]})
    assert response.status_code == 204
    assert emulator.store.deleted_event_ids() == [11, 12]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/event/{id}", None),
        ("PUT", "/event/{id}", {"invitee": {"fullName": "x"}}),
        ("DELETE", "/event/{id}", None),
        ("PUT", "/event/cancel/{id}", {}),
        ("PUT", "/event/notes/{id}", {"notes": "x"}),
        ("POST", "/event/invite-participants/{id}", {"emails": ["a@b.co"]}),
        ("PUT", "/event/no-show/{id}", None),
        (
            "PUT",
            "/event/reschedule/{id}",
            {"start": "2031-01-01 10:00:00", "end": "2031-01-01 10:30:00", "eventTypeId": 1},
        ),
        ("PUT", "/event/resend-notification/{id}", None),
    ],
)
def test_every_event_write_to_a_deleted_event_is_404(emulator_http, method, path, body):
    assert emulator_http.delete("/event/20").status_code == 204
    response = emulator_http.request(method, path.format(id=20), json=body)
    assert response.status_code == 404


def test_unknown_event_is_404(emulator_http):
    assert emulator_http.get("/event/999999").status_code == 404


def test_create_returns_the_event_dto_with_a_new_id(emulator, emulator_http):
    et = emulator.store.list_dtos("event_types")[0]
    question = et["questions"][0]
    body = {
        "scheduledAt": "2031-05-06 14:00:00",
        "eventType": et["id"],
        "invitee": {
            "fullName": "Ada Lovelace",
            "email": "ada@example.com",
            "timezone": "Europe/London",
        },
        "answers": [{"question": question["uuid"], "value": "Analytical Engines"}],
        "participants": [{"email": "charles@example.com"}],
    }
    response = emulator_http.post("/event", json=body)
    assert response.status_code == 200
    event = response.json()
    assert event["id"] == 2001
    assert event["state"] == "active"
    assert event["scheduledAt"] == "2031-05-06T14:00:00+00:00"
    assert event["invitee"]["email"] == "ada@example.com"
    assert event["answers"][0]["value"] == "Analytical Engines"
    assert event["participants"][0]["email"] == "charles@example.com"
    assert event["createdAt"] == event["updatedAt"]
    assert emulator_http.get("/event/2001").json() == event
    assert emulator.store.event_dto(2001) == event


def test_create_with_multiple_scheduled_at_returns_related_events(emulator_http):
    body = {
        "multipleScheduledAt": ["2031-05-06 14:00:00", "2031-05-07 14:00:00"],
        "eventType": 1,
        "invitee": {"fullName": "Ada Lovelace", "email": "ada@example.com"},
    }
    events = emulator_http.post("/event", json=body).json()
    assert [e["id"] for e in events] == [2001, 2002]
    assert events[0]["relatedEventIds"] == [2002]


def test_create_with_unknown_event_type_is_422(emulator_http):
    body = {
        "scheduledAt": "2031-05-06 14:00:00",
        "eventType": 999,
        "invitee": {"fullName": "A", "email": "a@b.co"},
    }
    response = emulator_http.post("/event", json=body)
    assert response.status_code == 422
    assert "eventType" in response.json()["errors"]


def test_create_with_invalid_body_reports_nested_field_paths(emulator_http):
    body = {"scheduledAt": "tomorrow", "eventType": "x", "invitee": {"email": "not-an-email"}}
    errors = emulator_http.post("/event", json=body).json()["errors"]
    assert {"scheduledAt", "eventType", "invitee.email"} <= set(errors)


def test_malformed_json_is_400(emulator_http):
    response = emulator_http.put(
        "/event/notes/5", content=b"{notes:", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_created_event_is_listed_newest_by_updated_at(emulator_http):
    body = {
        "scheduledAt": "2031-05-06 14:00:00",
        "eventType": 1,
        "invitee": {"fullName": "A B", "email": "a@b.co"},
    }
    created = emulator_http.post("/event", json=body).json()
    top = emulator_http.get(
        "/event/", params={"orderField": "updatedAt", "orderDirection": "desc", "onPage": 1}
    ).json()
    assert top["items"][0]["id"] == created["id"]


def test_two_writes_in_the_same_second_keep_their_order(emulator, emulator_http):
    emulator_http.put("/event/notes/30", json={"notes": "first"})
    emulator_http.put("/event/notes/20", json={"notes": "second"})
    top = emulator_http.get(
        "/event/", params={"orderField": "updatedAt", "orderDirection": "desc", "onPage": 2}
    ).json()
    assert [e["id"] for e in top["items"]] == [20, 30]
    assert emulator.store.event_dto(20)["updatedAt"] >= emulator.store.event_dto(30)["updatedAt"]


def test_id_list_bodies_may_be_a_bare_array(emulator, emulator_http):
    response = emulator_http.request("DELETE", "/event/delete-list", json=[13, 14])
    assert response.status_code == 204
    assert emulator.store.deleted_event_ids() == [13, 14]


def test_an_emulator_bug_answers_500_and_keeps_serving(emulator, emulator_http, monkeypatch):
    from simplymeet.emulator import app

    def broken(call):
        raise RuntimeError("boom")

    monkeypatch.setitem(app.HANDLERS, "acl_list", broken)
    assert emulator_http.get("/acl").status_code == 500
    assert emulator_http.get("/current-user").status_code == 200


def test_a_server_reading_request_times_as_the_event_types_wall_time_books_at_that_local_time(
    emulator, emulator_http
):
    emulator.set_request_times("event_type")
    body = {
        "scheduledAt": "2031-06-05 10:00:00",
        "eventType": 1,  # Europe/Paris: UTC+2 in June
        "invitee": {"fullName": "A B", "email": "a@b.co"},
    }
    created = emulator_http.post("/event", json=body).json()
    assert created["scheduledAt"] == "2031-06-05T08:00:00+00:00"


def test_a_server_reading_request_times_as_the_hosts_wall_time_moves_to_that_local_time(
    emulator, emulator_http
):
    event_id = _first(emulator, "active")
    before = emulator.store.event_dto(event_id)
    zone = emulator.store.host_by_id(before["user"]["id"]).timezone
    emulator.set_request_times("host")
    body = {
        "start": "2031-06-05 10:00:00",
        "end": "2031-06-05 10:30:00",
        "eventTypeId": before["eventType"]["id"],
    }
    assert emulator_http.put(f"/event/reschedule/{event_id}", json=body).status_code == 204
    local = dt.datetime(2031, 6, 5, 10, tzinfo=ZoneInfo(zone))
    after = emulator.store.event_dto(event_id)
    assert parse_api_datetime(after["scheduledAt"]) == local
