"""The emulator's auth: X-API-KEY, 401 for a missing or wrong key, 403 without a paid plan."""

from __future__ import annotations

import httpx

from simplymeet.emulator import start_emulator


def test_missing_api_key_is_401(emulator):
    response = httpx.get(f"{emulator.base_url}/panel/api/event/")
    assert response.status_code == 401
    assert response.json()["code"] == 401


def test_wrong_api_key_is_401(emulator):
    response = httpx.get(
        f"{emulator.base_url}/panel/api/event/", headers={"X-API-KEY": "not-the-key"}
    )
    assert response.status_code == 401


def test_right_api_key_is_200(emulator_http):
    assert emulator_http.get("/current-user").status_code == 200


def test_api_key_header_name_is_case_insensitive(emulator):
    response = httpx.get(
        f"{emulator.base_url}/panel/api/current-user", headers={"x-api-key": emulator.api_key}
    )
    assert response.status_code == 200


def test_account_without_paid_plan_is_403_on_every_endpoint():
    with start_emulator(events=10, paid=False) as emu:
        headers = {"X-API-KEY": emu.api_key}
        for path in ("/event/", "/current-user", "/event-type", "/poll"):
            response = httpx.get(f"{emu.base_url}/panel/api{path}", headers=headers)
            assert response.status_code == 403, path
        assert "paid" in response.json()["message"]


def test_unknown_path_is_404(emulator_http):
    assert emulator_http.get("/no-such-thing").status_code == 404


def test_api_key_is_not_in_the_repr(emulator):
    assert emulator.api_key not in repr(emulator)
    assert emulator.api_key not in repr(emulator._api_key)
