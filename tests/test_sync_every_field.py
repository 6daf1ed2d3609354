"""Every field the reference documents lands in its column (issue 10, seen item 6).

Built from the contract, not from our table declarations: for every readable endpoint the sync
reads, a response is generated with every field of its DTO (nested DTOs and lists of DTOs
included) set to a distinctive value, served over real HTTP by a small loopback server, synced
by the real pipeline into DuckDB, and then every generated value is looked for in the column
that claims its path. A DTO field no column claims fails the test, as does a value that lands
changed (or NULL, as `overwrite_personal` did while the reader looked for `overwritePersonal`).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import types
import typing
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import duckdb
import pytest

from simplymeet import landing_schema as schema
from simplymeet.client import SimplyMeetClient
from simplymeet.config import load_settings
from simplymeet.contract import dtos as d
from simplymeet.contract.endpoints import match_route
from simplymeet.sync import SyncRequest, sync
from tests.loopback import QuietHandler, serving
from tests.sync_support import REPO

API_KEY = "every-field-key"

REFERENCES: set[tuple[type[d.ResponseDTO], str]] = {
    (d.EventDTO, "user"),
    (d.EventDTO, "eventType"),
    (d.EventTypeDTO, "user"),
    (d.UserDTO, "organization"),
    (d.ReschedulingDTO, "previousUser"),
    (d.PollDTO, "user"),
    (d.PollDTO, "eventType"),
    (d.UserEventTypeTagDTO, "user"),
}
"""Nested objects a table lands only by id: the whole object lands in its own table."""

REFERENCE_TABLES = {"events__users", "event_types__users"}
"""Child tables listing users by id (each user lands whole in `users`)."""

LISTS_LANDED_ELSEWHERE: dict[tuple[type[d.ResponseDTO], str], str] = {
    (d.EventDTO, "participants"): "events__participants",
    (d.EventDTO, "answers"): "events__answers",
    (d.EventDTO, "rescheduling"): "events__rescheduling",
    (d.EventDTO, "users"): "events__users",
    (d.EventTypeDTO, "users"): "event_types__users",
    (d.EventTypeDTO, "eventTypeDurations"): "event_types__durations",
    (d.EventTypeDTO, "eventTypeRequestLocationTypes"): "event_types__request_location_types",
    (d.EventTypeDTO, "questions"): "event_types__questions",
    (d.PollDTO, "availability"): "polls__availability",
    (d.PollAvailabilityDTO, "results"): "polls__availability__results",
    (d.EventTypeAvailabilityDTO, "hours"): "event_type_availability_slots",
}


# --- generating a response from a DTO ----------------------------------------------------------


def _column_types() -> dict[tuple[type, str], Any]:
    """Which DTO string fields hold timestamps or dates, as the landing schema types them."""
    kinds: dict[tuple[type, str], Any] = {}
    for table in _all_tables():
        if table.dto is None:
            continue
        for col in table.columns:
            if col.attached or col.type not in (schema.TIMESTAMP, schema.DATE):
                continue
            for path in col.paths:
                owner = table.dto
                for key in path[:-1]:
                    owner = _nested(owner, key)[0]
                kinds[(owner, path[-1])] = col.type
    return kinds


def _all_tables() -> list[schema.Table]:
    out = []
    for table in (*schema.ALL_TABLES, schema.POLL_RESULTS):
        out.append(table)
        out.extend(schema.child_tables(table))
    return out


def _nested(dto: type[d.ResponseDTO], name: str) -> tuple[type[d.ResponseDTO], ...]:
    return _dtos_in(dto.model_fields[name].annotation)


def _dtos_in(annotation: Any) -> tuple[type[d.ResponseDTO], ...]:
    if isinstance(annotation, type) and issubclass(annotation, d.ResponseDTO):
        return (annotation,)
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, list):
        return tuple(dto for arg in typing.get_args(annotation) for dto in _dtos_in(arg))
    return ()


def _is_list(annotation: Any) -> bool:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return any(typing.get_origin(a) is list for a in args)


class Generator:
    """Every field of a DTO set to a value no other field has."""

    def __init__(self) -> None:
        self._n = itertools.count(1001)
        self._kinds = _column_types()

    def dto(self, cls: type[d.ResponseDTO], depth: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, info in cls.model_fields.items():
            out[name] = self.value(cls, name, info.annotation, depth)
        return out

    def value(self, cls: type, name: str, annotation: Any, depth: int) -> Any:
        n = next(self._n)
        nested = _dtos_in(annotation)
        if nested:
            if depth > 3:
                return None
            if _is_list(annotation):
                return [self.dto(nested[0], depth + 1) for _ in range(2)]
            return self.dto(nested[0], depth + 1)
        kind = self._kinds.get((cls, name))
        if kind == schema.TIMESTAMP:
            moment = dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=n)
            return moment.isoformat()
        if kind == schema.DATE:
            return (dt.date(2025, 1, 1) + dt.timedelta(days=n % 300)).isoformat()
        args = {a for a in typing.get_args(annotation) if a is not type(None)} or {annotation}
        if bool in args:
            return n % 2 == 0
        if int in args:
            return n
        if float in args:
            return n + 0.25
        if str in args:
            return f"{name}-{n}"
        return [f"{name}-{n}", {"n": n}]  # list[Any], dict[str, Any] and unions of them


# --- serving it ------------------------------------------------------------------------------


class Responses:
    """One generated body per endpoint the sync reads."""

    def __init__(self) -> None:
        gen = Generator()
        self.event = gen.dto(d.EventDTO)
        self.event_type = gen.dto(d.EventTypeDTO)
        self.tag = gen.dto(d.EventTypeTagDTO)
        self.user = gen.dto(d.UserDTO)
        self.current_user = gen.dto(d.UserDTO)
        self.user_tag = gen.dto(d.UserEventTypeTagDTO)
        self.poll = gen.dto(d.PollDTO)
        self.acl = gen.dto(d.AclRuleDTO)
        self.integrations = gen.dto(d.IntegrationListDTO)
        self.org_policy = gen.dto(d.CancellationPolicyDTO)
        self.user_policy = gen.dto(d.CancellationPolicyDTO)
        self.availability = [gen.dto(d.EventTypeAvailabilityDTO) for _ in range(2)]

    def body(self, endpoint: str, page: int) -> Any:
        lists = {
            "event_list": [self.event],
            "event_type_list": [self.event_type],
            "event_type_tag_list": [self.tag],
            "user_list": [self.user],
            "user_event_type_tag_list": [self.user_tag],
            "poll_list": [self.poll],
            "acl_list": [self.acl],
        }
        if endpoint in lists:
            items = lists[endpoint] if page == 1 else []
            meta = {"pagesCount": 1, "itemsCount": 1, "itemsPerPage": 100, "currentPage": page}
            return {"items": items, "meta": meta}
        return {
            "event_get": self.event,
            "current_user_get": self.current_user,
            "integration_list": self.integrations,
            "organization_cancellation_policy_get": self.org_policy,
            "user_cancellation_policy_get": self.user_policy,
            "event_type_availability": self.availability,
        }[endpoint]


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, Responses]]:
    responses = Responses()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            found = match_route("GET", url.path)
            if found is None or self.headers.get("X-API-KEY") != API_KEY:
                self.send_error(404 if found is None else 401)
                return
            page = int(parse_qs(url.query).get("page", ["1"])[0])
            data = json.dumps(responses.body(found[0].name, page)).encode()
            self.reply(200, data, "application/json")

    with serving(Handler) as base_url:
        yield base_url, responses


@pytest.fixture(scope="module")
def landed(tmp_path_factory, served) -> tuple[duckdb.DuckDBPyConnection, Responses]:
    base_url, responses = served
    tmp_path = tmp_path_factory.mktemp("every_field")
    settings = load_settings(REPO / "config.toml")
    settings = settings.with_overrides(
        "warehouse",
        duckdb_path=str(tmp_path / "warehouse.duckdb"),
        pipelines_dir=str(tmp_path / "pipelines"),
        pipeline_name="every_field",
    )
    settings = settings.with_overrides("api", base_url=base_url, concurrency=2)
    settings = settings.with_overrides("sync", build_models=False)
    with SimplyMeetClient(base_url, api_key=API_KEY, concurrency=2) as client:
        summary = sync(settings, client, SyncRequest(build_models=False))
    assert summary.rejected_rows == 0
    assert summary.unknown_fields == {}
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)
    yield con, responses
    con.close()


# --- finding every value ---------------------------------------------------------------------


def _expected(value: Any, col: schema.Col) -> Any:
    if value is None:
        return None
    if col.json:
        return value
    if col.type == schema.TIMESTAMP:
        return dt.datetime.fromisoformat(value)
    if col.type == schema.DATE:
        return dt.date.fromisoformat(value[:10])
    if col.type == schema.MONEY:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    return value


def _landed_value(value: Any, col: schema.Col) -> Any:
    if col.json and value is not None:
        return json.loads(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    return value


def _claims(table: schema.Table) -> dict[tuple[str, ...], schema.Col]:
    return {path: col for col in table.columns if not col.attached for path in col.paths}


def _leaf_paths(table: schema.Table) -> Iterator[tuple[str, ...]]:
    """Every DTO path whose value must land in `table`, by the contract."""
    dto = table.dto
    assert dto is not None
    if table.name in REFERENCE_TABLES:
        yield ("id",)
        return
    for name, info in dto.model_fields.items():
        nested = _dtos_in(info.annotation)
        if not nested:
            yield (name,)
        elif _is_list(info.annotation):
            assert (dto, name) in LISTS_LANDED_ELSEWHERE, f"{dto.__name__}.{name} lands nowhere"
        elif (dto, name) in REFERENCES:
            yield (name, "id")
        else:
            for inner in nested[0].model_fields:
                yield (name, inner)


def _get(row: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = row
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _cases(r: Responses) -> list[tuple[str, list[dict[str, Any]]]]:
    """Each table, and the generated DTOs that must land in it."""
    slots = [hour for day in r.availability for hour in day["hours"]]
    results = [res for slot in r.poll["availability"] for res in slot["results"]]
    return [
        ("events", [r.event]),
        ("events__participants", r.event["participants"]),
        ("events__answers", r.event["answers"]),
        ("events__rescheduling", r.event["rescheduling"]),
        ("events__users", r.event["users"]),
        ("event_types", [r.event_type]),
        ("event_types__users", r.event_type["users"]),
        ("event_types__durations", r.event_type["eventTypeDurations"]),
        ("event_types__request_location_types", r.event_type["eventTypeRequestLocationTypes"]),
        ("event_types__questions", r.event_type["questions"]),
        ("event_type_tags", [r.tag]),
        ("user_event_type_tags", [r.user_tag]),
        ("users", [r.user]),
        ("current_user", [r.current_user]),
        ("organizations", [r.user["organization"]]),
        ("polls", [r.poll]),
        ("polls__availability", r.poll["availability"]),
        ("polls__availability__results", results),
        ("acl_rules", [r.acl]),
        ("cancellation_policies", [r.org_policy, r.user_policy]),
        ("event_type_availability_days", r.availability),
        ("event_type_availability_slots", slots),
    ]


TABLES_CHECKED = [name for name, _ in _cases(Responses())]


def test_every_table_cut_from_a_dto_is_checked():
    declared = {table.name for table in _all_tables() if table.dto is not None}
    assert declared == set(TABLES_CHECKED)


@pytest.mark.parametrize("name", TABLES_CHECKED)
def test_every_documented_field_lands_in_its_column(landed, name):
    con, responses = landed
    [dtos] = [dtos for table_name, dtos in _cases(responses) if table_name == name]
    table = schema.table_by_name(name)
    claims = _claims(table)
    unclaimed = [".".join(p) for p in _leaf_paths(table) if p not in claims]
    assert not unclaimed, f"{name}: no column reads {unclaimed}"
    for path in _leaf_paths(table):
        col = claims[path]
        got = con.execute(f'select "{col.name}" from raw."{name}"').fetchall()
        landed_values = sorted((_landed_value(v, col) for (v,) in got), key=repr)
        expected = sorted((_expected(_get(dto, path), col) for dto in dtos), key=repr)
        assert landed_values == expected, f"{name}.{col.name} (from {'.'.join(path)})"


def test_overwrite_personal_lands_in_either_spelling(landed):
    con, responses = landed
    got = dict(
        con.execute("select type, overwrite_personal from raw.cancellation_policies").fetchall()
    )
    assert got == {
        responses.org_policy["type"]: responses.org_policy["overwrite_personal"],
        responses.user_policy["type"]: responses.user_policy["overwrite_personal"],
    }
