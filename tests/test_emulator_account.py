"""Everything but events: event types, availability, tags, users, polls, policies, links."""

from __future__ import annotations

import datetime as dt

import pytest

from simplymeet.contract.endpoints import ENDPOINTS


def _future_monday() -> dt.date:
    today = dt.datetime.now(dt.UTC).date()
    return today + dt.timedelta(days=7 - today.weekday() + 7)


def _open_monday(client) -> dt.date:
    """A Monday from next week on that event type 1 offers hours on: the seeded account has
    days off near the date the emulator starts on, and a day off outranks a weekday rule."""
    first = _future_monday()
    for weeks in range(8):
        monday = first + dt.timedelta(weeks=weeks)
        if _availability(client, 1, monday).json()[0]["hours"]:
            return monday
    raise AssertionError("no Monday with hours in eight weeks")


# --- every endpoint --------------------------------------------------------------------------


def test_every_contract_endpoint_has_a_handler():
    from simplymeet.emulator.app import HANDLERS

    assert set(HANDLERS) == set(ENDPOINTS)


# --- event types -----------------------------------------------------------------------------


def test_event_type_list_is_a_page(emulator, emulator_http):
    body = emulator_http.get("/event-type", params={"onPage": 5}).json()
    total = len(emulator.store.list_dtos("event_types"))
    assert body["meta"] == {
        "pagesCount": -(-total // 5),
        "itemsPerPage": 5,
        "itemsCount": total,
        "currentPage": 1,
    }
    assert [et["id"] for et in body["items"]] == [1, 2, 3, 4, 5]


def test_event_types_cover_all_three_kinds(emulator_http):
    items = emulator_http.get("/event-type", params={"skipPagination": "true"}).json()["items"]
    assert {et["type"] for et in items} == {"regular", "round-robin", "collective"}
    assert {et["durationType"] for et in items} == {"fixed", "flexible"}


@pytest.mark.parametrize("kind", ["regular", "round-robin", "collective"])
def test_event_type_type_filter(emulator_http, kind):
    items = emulator_http.get(
        "/event-type", params={"filter[type]": kind, "skipPagination": "1"}
    ).json()["items"]
    assert items and {et["type"] for et in items} == {kind}


def test_event_type_ids_filter(emulator_http):
    items = emulator_http.get(
        "/event-type", params=[("filter[ids][]", "2"), ("filter[ids][]", "4")]
    ).json()["items"]
    assert [et["id"] for et in items] == [2, 4]


def test_event_type_for_current_user_filter(emulator_http):
    me = emulator_http.get("/current-user").json()["id"]
    items = emulator_http.get(
        "/event-type", params={"filter[forCurrentUser]": "true", "skipPagination": "1"}
    ).json()["items"]
    assert items
    assert all(me in [u["id"] for u in et["users"]] or et["user"]["id"] == me for et in items)


def test_event_type_manage_round_robin_filter(emulator_http):
    items = emulator_http.get(
        "/event-type", params={"filter[manageRoundRobin]": "1", "skipPagination": "1"}
    ).json()["items"]
    assert items and {et["type"] for et in items} == {"round-robin"}


def test_event_type_order_by_name_desc(emulator_http):
    items = emulator_http.get(
        "/event-type",
        params={"orderField": "name", "orderDirection": "desc", "skipPagination": "1"},
    ).json()["items"]
    names = [et["name"] for et in items]
    assert names == sorted(names, reverse=True)


def test_event_type_unknown_order_field_is_422(emulator_http):
    assert emulator_http.get("/event-type", params={"orderField": "bogus"}).status_code == 422


def test_event_type_get_and_404(emulator_http):
    assert emulator_http.get("/event-type/1").json()["id"] == 1
    assert emulator_http.get("/event-type/9999").status_code == 404


def test_paid_event_types_have_amount_and_currency(emulator_http):
    items = emulator_http.get("/event-type", params={"skipPagination": "1"}).json()["items"]
    paid = [et for et in items if et["amount"] is not None]
    assert paid and all(et["currency"] for et in paid)


# --- availability ----------------------------------------------------------------------------


def _availability(client, et_id: int, day: dt.date, **params):
    params = {"startDate": day.isoformat(), "endDate": day.isoformat(), **params}
    return client.get(f"/event-type/availability/{et_id}", params=params)


def test_availability_is_a_list_of_dates(emulator_http):
    start = _future_monday()
    params = {"startDate": start.isoformat(), "endDate": (start + dt.timedelta(days=6)).isoformat()}
    days = emulator_http.get("/event-type/availability/1", params=params).json()
    assert [d["date"] for d in days] == [
        (start + dt.timedelta(days=k)).isoformat() for k in range(7)
    ]
    assert any(d["available"] for d in days)


def test_saving_a_weekday_rule_changes_availability(emulator_http):
    monday = _open_monday(emulator_http)
    rule = {"config": {"weekday": "monday"}, "hourIntervals": [{"start": "13:00", "end": "15:00"}]}
    body = {"eventTypeIds": [1], "availabilityRules": [rule], "availabilityType": "weekday"}
    assert emulator_http.put("/availability-rule", json=body).status_code == 204
    et = emulator_http.get("/event-type/1").json()
    day = _availability(emulator_http, 1, monday).json()[0]
    starts = [h["start"] for h in day["hours"]]
    assert starts and starts[0] == "13:00"
    assert all("13:00" <= s < "15:00" for s in starts)
    assert et["timezone"]  # hours are in the event type's zone by default
    tuesday = _availability(emulator_http, 1, monday + dt.timedelta(days=1)).json()[0]
    assert tuesday["hours"] == [] and tuesday["available"] is False


def test_a_date_rule_without_hours_is_a_day_off(emulator_http):
    monday = _open_monday(emulator_http)
    before = _availability(emulator_http, 1, monday).json()[0]
    rule = {"config": {"date": monday.isoformat()}, "hourIntervals": []}
    body = {"eventTypeIds": [1], "availabilityRules": [rule], "availabilityType": "date"}
    assert emulator_http.put("/availability-rule", json=body).status_code == 204
    after = _availability(emulator_http, 1, monday).json()[0]
    assert before["hours"] and after["hours"] == []


def test_availability_in_another_timezone_shifts_hours(emulator_http):
    monday = _open_monday(emulator_http)
    rule = {"config": {"weekday": "monday"}, "hourIntervals": [{"start": "10:00", "end": "11:00"}]}
    emulator_http.put("/availability-rule", json={"eventTypeIds": [1], "availabilityRules": [rule]})
    tz = emulator_http.get("/event-type/1").json()["timezone"]
    local = _availability(emulator_http, 1, monday, timezone=tz).json()[0]["hours"][0]["start"]
    other = "Asia/Tokyo" if tz != "Asia/Tokyo" else "Europe/Paris"
    shifted = emulator_http.get(
        "/event-type/availability/1",
        params={
            "startDate": (monday - dt.timedelta(days=1)).isoformat(),
            "endDate": (monday + dt.timedelta(days=1)).isoformat(),
            "timezone": other,
        },
    ).json()
    assert local == "10:00"
    assert "10:00" not in [h["start"] for d in shifted for h in d["hours"]]


def test_booked_slot_is_unavailable(emulator, emulator_http):
    monday = _open_monday(emulator_http)
    rule = {"config": {"weekday": "monday"}, "hourIntervals": [{"start": "10:00", "end": "12:00"}]}
    emulator_http.put("/availability-rule", json={"eventTypeIds": [1], "availabilityRules": [rule]})
    et = emulator_http.get("/event-type/1").json()
    hours = _availability(emulator_http, 1, monday, timezone="UTC").json()[0]["hours"]
    first = hours[0]
    start = f"{monday.isoformat()} {first['start']}:00"
    body = {"scheduledAt": start, "eventType": 1, "invitee": {"fullName": "A B", "email": "a@b.co"}}
    assert emulator_http.post("/event", json=body).status_code == 200
    after = _availability(emulator_http, 1, monday, timezone="UTC").json()[0]["hours"]
    assert first["available"] is True and after[0]["available"] is False
    assert et["type"] == "regular"


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        (
            {"config": {"weekday": "funday"}, "hourIntervals": []},
            "availabilityRules.0.config.weekday",
        ),
        (
            {
                "config": {"weekday": "monday"},
                "hourIntervals": [{"start": "12:00", "end": "09:00"}],
            },
            "availabilityRules.0.hourIntervals.0",
        ),
        (
            {"config": {"date": "2024-02-30"}, "hourIntervals": []},
            "availabilityRules.0.config.date",
        ),
    ],
)
def test_invalid_availability_rules_are_422(emulator_http, rule, field):
    response = emulator_http.put(
        "/availability-rule", json={"eventTypeIds": [1], "availabilityRules": [rule]}
    )
    assert response.status_code == 422
    assert field in response.json()["errors"]


def test_availability_range_longer_than_62_days_is_422(emulator_http):
    params = {"startDate": "2030-01-01", "endDate": "2030-04-01"}
    assert emulator_http.get("/event-type/availability/1", params=params).status_code == 422


# --- tags ------------------------------------------------------------------------------------


def test_adding_a_tag_lists_it_and_filters_events_by_it(emulator, emulator_http):
    tagged_before = {
        row["eventTypeId"]
        for row in emulator.store.list_dtos("event_type_tag_links")
        if any(t["id"] == 3 for t in row["tags"])
    }
    et_id = next(
        et["id"] for et in emulator.store.list_dtos("event_types") if et["id"] not in tagged_before
    )
    before = emulator_http.get(
        "/event/", params={"filter[organizationTagList][]": 3, "filter[eventTypeList][]": et_id}
    ).json()
    assert before["meta"]["itemsCount"] == 0
    assert emulator_http.put(f"/event-type-tag/{et_id}/3").status_code == 204
    assert 3 in [t["id"] for t in emulator_http.get(f"/event-type-tag/{et_id}").json()]
    after = emulator_http.get(
        "/event/", params={"filter[organizationTagList][]": 3, "filter[eventTypeList][]": et_id}
    ).json()
    assert (
        after["meta"]["itemsCount"]
        == emulator_http.get("/event/", params={"filter[eventTypeList][]": et_id}).json()["meta"][
            "itemsCount"
        ]
    )


def test_removing_a_tag_unlists_it(emulator_http):
    emulator_http.put("/event-type-tag/1/4")
    assert emulator_http.delete("/event-type-tag/1/4").status_code == 204
    assert 4 not in [t["id"] for t in emulator_http.get("/event-type-tag/1").json()]
    assert emulator_http.delete("/event-type-tag/1/4").status_code == 404


def test_unknown_tag_or_event_type_is_404(emulator_http):
    assert emulator_http.put("/event-type-tag/1/999").status_code == 404
    assert emulator_http.put("/event-type-tag/999/1").status_code == 404
    assert emulator_http.get("/event-type-tag/999").status_code == 404


def test_user_event_type_tag_create_update_delete(emulator_http):
    created = emulator_http.post(
        "/user-event-type-tag", json={"name": "Deals", "color": "#000000"}
    ).json()
    assert created["name"] == "Deals" and created["user"]["id"]
    updated = emulator_http.put(
        f"/user-event-type-tag/{created['id']}", json={"name": "Big deals", "position": 9}
    ).json()
    assert (updated["name"], updated["position"]) == ("Big deals", 9)
    assert created["id"] in [t["id"] for t in emulator_http.get("/user-event-type-tag").json()]
    assert emulator_http.delete(f"/user-event-type-tag/{created['id']}").status_code == 204
    assert created["id"] not in [t["id"] for t in emulator_http.get("/user-event-type-tag").json()]
    assert emulator_http.delete(f"/user-event-type-tag/{created['id']}").status_code == 404


def test_a_type_s_tags_read_as_the_user_s_follow_a_user_tag_s_rename_and_delete(
    emulator, emulator_http
):
    emulator.set_readings("type_tags=user")
    try:
        tag = emulator_http.post("/user-event-type-tag", json={"name": "Deals"}).json()
        assert emulator_http.put(f"/event-type-tag/1/{tag['id']}").status_code == 204
        emulator_http.put(f"/user-event-type-tag/{tag['id']}", json={"name": "Big deals"})
        renamed = emulator_http.get("/event-type-tag/1").json()
        emulator_http.delete(f"/user-event-type-tag/{tag['id']}")
        left = emulator_http.get("/event-type-tag/1").json()
    finally:
        emulator.set_readings("")

    assert [(t["id"], t["name"], t["enabled"]) for t in renamed if t["id"] == tag["id"]] == [
        (tag["id"], "Big deals", True)
    ]
    assert tag["id"] not in [t["id"] for t in left]


def test_user_event_type_tag_without_name_is_422(emulator_http):
    response = emulator_http.post("/user-event-type-tag", json={"color": "#fff"})
    assert response.status_code == 422
    assert "name" in response.json()["errors"]


# --- users, ACL, integrations ----------------------------------------------------------------


def test_users_are_a_plain_array_of_hosts_in_several_timezones(emulator_http):
    users = emulator_http.get("/user").json()
    assert isinstance(users, list) and 8 <= len(users) <= 15
    assert len({u["timezone"] for u in users}) >= 3


def test_plain_arrays_honor_page_and_on_page_when_given(emulator_http):
    users = emulator_http.get("/user").json()
    page2 = emulator_http.get("/user", params={"page": 2, "onPage": 3}).json()
    assert [u["id"] for u in page2] == [u["id"] for u in users[3:6]]


def test_current_user_has_a_paid_subscription(emulator_http):
    me = emulator_http.get("/current-user").json()
    assert me["hasPaidSubscription"] is True and me["organization"]["id"]


def test_acl_and_integrations_shapes(emulator_http):
    acl = emulator_http.get("/acl").json()
    assert isinstance(acl, list) and {"resource", "attributes", "allowedAttributes"} <= set(acl[0])
    integrations = emulator_http.get("/integration").json()
    assert set(integrations) == {"user", "organization"}


# --- cancellation policies -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["organization", "user"])
def test_policy_update_creates_a_new_version_and_keeps_history(emulator, emulator_http, kind):
    before = emulator_http.get(f"/{kind}-cancellation-policy").json()
    updated = emulator_http.put(
        f"/{kind}-cancellation-policy", json={"period": 90, "label": "90 minutes"}
    ).json()
    assert updated["version"] == before["version"] + 1
    assert (updated["period"], updated["label"], updated["text"]) == (
        90,
        "90 minutes",
        before["text"],
    )
    assert updated["type"] == kind
    assert emulator_http.get(f"/{kind}-cancellation-policy").json() == updated
    history = [p for p in emulator.store.list_dtos("cancellation_policies") if p["type"] == kind]
    assert [p["version"] for p in history] == list(range(1, updated["version"] + 1))


def test_policy_with_negative_period_is_422(emulator_http):
    response = emulator_http.put("/organization-cancellation-policy", json={"period": -1})
    assert response.status_code == 422
    assert "period" in response.json()["errors"]


# --- how a PUT reads a body that leaves a field out (`Store.put_mode`) --------------------------


def test_a_policy_put_without_a_field_keeps_it_by_default(emulator_http):
    before = emulator_http.get("/organization-cancellation-policy").json()

    updated = emulator_http.put("/organization-cancellation-policy", json={"period": 90}).json()

    assert (updated["label"], updated["text"], updated["enabled"]) == (
        before["label"],
        before["text"],
        before["enabled"],
    )


def test_a_policy_put_without_a_field_nulls_it_on_a_server_that_replaces(emulator, emulator_http):
    emulator.store.put_mode = "replace"

    updated = emulator_http.put("/organization-cancellation-policy", json={"period": 90}).json()

    assert updated["period"] == 90
    assert (updated["label"], updated["text"], updated["enabled"]) == (None, None, None)
    assert updated["overwrite_personal"] is None


def test_a_put_without_a_field_is_refused_naming_it_on_a_strict_server(emulator, emulator_http):
    emulator.store.put_mode = "strict"
    before = emulator.store.policy("user").version

    response = emulator_http.put("/user-cancellation-policy", json={"period": 90, "text": "t"})

    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"enabled", "label", "overwritePersonal"}
    assert emulator.store.policy("user").version == before


def test_a_strict_server_accepts_a_put_without_the_fields_the_reference_calls_optional(
    emulator, emulator_http
):
    emulator.store.put_mode = "strict"

    # EditEventRequestDTO.id: "Ignore this field."
    response = emulator_http.put(
        "/event/3", json={"invitee": {"fullName": "Ada", "phoneNumber": None}, "answers": []}
    )

    assert response.status_code == 204, response.text


def test_a_user_tag_put_without_color_and_position_nulls_them_on_a_server_that_replaces(
    emulator, emulator_http
):
    emulator.store.put_mode = "replace"

    updated = emulator_http.put("/user-event-type-tag/1", json={"name": "Renamed"}).json()

    assert (updated["name"], updated["color"], updated["position"]) == ("Renamed", None, None)


# --- polls -----------------------------------------------------------------------------------


def test_poll_create_get_result_delete(emulator_http):
    body = {
        "eventTypeId": 2,
        "name": "Offsite",
        "duration": 45,
        "availability": [{"date": "2031-06-01 09:00:00"}, {"date": "2031-06-02 09:00:00"}],
    }
    poll = emulator_http.post("/poll", json=body).json()
    assert (
        poll["name"] == "Offsite"
        and poll["eventType"]["id"] == 2
        and len(poll["availability"]) == 2
    )
    slot = poll["availability"][1]["id"]
    vote = {"uuid": poll["uuid"], "availability": [slot], "email": "v@example.com", "comment": "ok"}
    assert emulator_http.post("/poll/poll-result", json=vote).status_code == 204
    fetched = emulator_http.get(f"/poll/{poll['id']}").json()
    assert fetched["availability"][1]["results"] == [{"email": "v@example.com", "comment": "ok"}]
    assert fetched["availability"][0]["results"] == []
    assert emulator_http.delete(f"/poll/{poll['id']}").status_code == 204
    assert emulator_http.get(f"/poll/{poll['id']}").status_code == 404


def test_a_poll_list_served_as_summaries_leaves_the_slots_to_the_poll_by_id(
    emulator, emulator_http
):
    emulator.set_readings("poll_list=summary")
    listed = emulator_http.get("/poll").json()
    whole = emulator_http.get(f"/poll/{listed[0]['id']}").json()
    assert listed and all("availability" not in poll for poll in listed)
    assert whole["availability"] and {**whole, "availability": None} == {
        **listed[0],
        "availability": None,
    }


def test_poll_create_with_an_iso_8601_slot_date_is_422_naming_the_slot(emulator_http):
    # PollAvailabilityRequestDTO gives the date no format: read as every request timestamp is.
    body = {
        "eventTypeId": 2,
        "name": "Offsite",
        "availability": [{"date": "2031-06-01 09:00:00"}, {"date": "2031-06-02T09:00:00+00:00"}],
    }
    response = emulator_http.post("/poll", json=body)
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["availability.1.date"]


def test_poll_result_for_a_slot_of_another_poll_is_422(emulator_http):
    polls = emulator_http.get("/poll").json()
    foreign = polls[1]["availability"][0]["id"]
    vote = {"uuid": polls[0]["uuid"], "availability": [foreign], "email": "v@example.com"}
    response = emulator_http.post("/poll/poll-result", json=vote)
    assert response.status_code == 422
    assert "availability.0" in response.json()["errors"]


def test_poll_list_is_a_plain_array_with_slots_and_results(emulator_http):
    polls = emulator_http.get("/poll").json()
    assert isinstance(polls, list) and polls
    assert all(p["availability"] for p in polls)
    assert any(s["results"] for p in polls for s in p["availability"])


def test_poll_list_pages_when_asked(emulator_http):
    polls = emulator_http.get("/poll").json()
    assert emulator_http.get("/poll", params={"onPage": 2, "page": 2}).json() == polls[2:4]


def test_poll_with_unknown_event_type_is_422(emulator_http):
    body = {"eventTypeId": 999, "name": "x", "availability": [{"date": "2031-06-01 09:00:00"}]}
    assert "eventTypeId" in emulator_http.post("/poll", json=body).json()["errors"]


# --- single-use links ------------------------------------------------------------------------


def test_single_use_link_has_code_and_url(emulator, emulator_http):
    link = emulator_http.post("/single-use-link/1").json()
    assert set(link) == {"code", "url"} and link["code"] in link["url"]
    assert emulator.store.list_dtos("single_use_links")[0]["code"] == link["code"]
    assert emulator_http.post("/single-use-link/999").status_code == 404
