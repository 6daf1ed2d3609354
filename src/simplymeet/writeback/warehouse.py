"""Read-only access to the synced warehouse: target queries and the facts validation needs.

Everything here opens DuckDB with `read_only=True`, so neither a target query nor a check can
change the warehouse; a query must also be a single SELECT (DuckDB's own parser says so).
Tables are read from the dlt dataset schema (`[warehouse] dataset`, `raw` by default), which is
also put on the search path so `--sql "select id from events"` works unqualified.

A target query (`--sql`) runs sandboxed: no file or network access beyond the warehouse
(`enable_external_access = false`: `read_csv('/etc/passwd')` and `read_csv('http://…')` are
refused), no extension installed or loaded on demand, and the configuration locked so the
query cannot lift any of it. A query that fails while running is reported by its error class
only: DuckDB's messages quote the values they choked on, and those are row content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import duckdb

from simplymeet.cli.errors import one_line
from simplymeet.contract.vocab import normalize_event_state
from simplymeet.duckdb_files import refuse_another_kind_of_file


class WarehouseError(ValueError):
    """The warehouse cannot answer: no file, no table, or a query that is not allowed."""


@contextmanager
def read_only(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only DuckDB connection to the warehouse file, closed on exit."""
    import duckdb  # here, not at the top: the command line imports this module to start

    file = Path(path)
    if not file.exists():
        raise WarehouseError(f"no warehouse at {file}: run `simplymeet sync` first (or pass --db)")
    try:
        refuse_another_kind_of_file(file)
        con = duckdb.connect(str(file), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open {file} read-only: {exc}") from exc
    try:
        # Small and polite: this runs beside syncs and other admins' queries.
        con.execute("set threads = 2")
        yield con
    finally:
        con.close()


def check_select(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but exactly one SELECT statement (a WITH, FROM-first or VALUES is one)."""
    import duckdb  # here, not at the top: the command line imports this module to start

    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise WarehouseError(f"--sql does not parse: {one_line(exc)}") from None
    if len(statements) != 1:
        raise WarehouseError(f"--sql must be one SELECT statement, got {len(statements)}")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        raise WarehouseError(f"--sql must be a SELECT statement, got {kind}")


SANDBOX: dict[str, bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}
"""DuckDB settings that keep a query inside the warehouse file: no other file, no network,
no extension (`simplymeet sql` sets them too, then locks the configuration)."""


# Errors about the query's text (a typo, an unknown column or table, a refused file): their
# messages quote the query, never the data, so they are shown in full.
def _query_errors() -> tuple[type[Exception], ...]:
    import duckdb

    return (
        duckdb.ParserException,
        duckdb.BinderException,
        duckdb.CatalogException,
        duckdb.PermissionException,
    )


@contextmanager
def sandboxed(path: str | Path, dataset: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for target queries: no access outside the warehouse file, no
    extension loading, the dataset on the search path, and the configuration locked."""
    import duckdb  # here, not at the top: the command line imports this module to start

    file = Path(path)
    if not file.exists():
        raise WarehouseError(f"no warehouse at {file}: run `simplymeet sync` first (or pass --db)")
    try:
        refuse_another_kind_of_file(file)
        con = duckdb.connect(str(file), read_only=True, config=dict(SANDBOX))
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open {file} read-only: {exc}") from exc
    try:
        con.execute("set threads = 2")
        con.execute(f"set search_path = '{_ident(dataset)},main'")
        con.execute("set lock_configuration = true")
        yield con
    finally:
        con.close()


def run_select(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of one target query (run it on a `sandboxed` connection)."""
    import duckdb  # here, not at the top: the command line imports this module to start

    check_select(con, sql)
    try:
        cursor = con.execute(sql)
        columns = [d[0] for d in cursor.description or []]
        return columns, cursor.fetchall()
    except _query_errors() as exc:
        raise WarehouseError(f"--sql failed: {one_line(exc)}") from None
    except duckdb.Error as exc:
        kind = type(exc).__name__.removesuffix("Exception")
        raise WarehouseError(
            f"--sql failed while running: {kind} error (details not shown: they may quote "
            "row content; run the query in DuckDB yourself to see them)"
        ) from None


def _ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise WarehouseError(f"not a plain identifier: {name!r}")
    return name


class WarehouseView:
    """The facts a plan checks items against, read from one read-only connection."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, dataset: str, account: str | None = None
    ) -> None:
        self.con = con
        self.dataset = _ident(dataset)
        self.account = account
        """Only this account's rows are facts about the targets (None: every row)."""
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ?",
            [self.dataset],
        ).fetchall()
        self.tables = {r[0] for r in rows}

    def table(self, name: str) -> str:
        """The qualified name of a dataset table; WarehouseError when it was never synced."""
        if name not in self.tables:
            raise WarehouseError(
                f"the warehouse has no table {self.dataset}.{name}: "
                "run `simplymeet sync` first so targets can be checked"
            )
        return f"{self.dataset}.{_ident(name)}"

    def rows_by(
        self, table: str, column: str, values: Iterable[Any], columns: Sequence[str]
    ) -> dict[Any, dict[str, Any]]:
        """`column` value -> row (as a dict of `columns`) for the values present in `table`."""
        wanted = sorted({v for v in values if v is not None}, key=str)
        if not wanted:
            return {}
        names = [column, *[c for c in columns if c != column]]
        select = ", ".join(_ident(c) for c in names)
        sql = (
            f"select {select} from {self.table(table)} where {_ident(column)} in (select unnest(?))"
        )
        rows = self._rows(sql, [wanted])
        return {row[0]: dict(zip(names, row, strict=True)) for row in rows}

    def _rows(self, sql: str, params: Sequence[Any] = (), *, tail: str = "") -> list[Any]:
        """Rows of `sql` (a select whose last clause is a `where`), this account's only.

        `tail` (an `order by ...`) follows the account condition. Two accounts may hold the
        same ids, links and names: a fact about the other account's row is not one about the
        target.
        """
        params = list(params)
        if self.account is not None:
            sql += " and account = ?"
            params.append(self.account)
        return self.con.execute(f"{sql} {tail}".rstrip(), params).fetchall()

    def journaled_deleted(self, operations: Sequence[str], ids: Iterable[int]) -> set[int]:
        """The `ids` a write-back job (of this account) sent a delete to with one of
        `operations`: done, or left open (failed, unknown, pending: a server may apply a
        delete after answering), so a refresh or a sync may have taken them out of the
        warehouse; a re-run of that job must still find them its targets, to check them on
        the server and say they are done."""
        wanted = sorted({int(i) for i in ids if isinstance(i, int)})
        if not wanted or not operations:
            return set()
        found = self.con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'writeback' and table_name = 'journal'"
        ).fetchone()
        if not found or not found[0]:
            return set()
        sql = (
            "select distinct target_id from writeback.journal "
            "where outcome in ('succeeded', 'failed', 'unknown', 'pending') "
            "and operation in (select unnest(?)) and target_id in (select unnest(?))"
        )
        params: list[Any] = [list(operations), wanted]
        if self.account is not None:
            # A job of an account ends in `@account` (api.plan_operation).
            sql += " and ends_with(job_id, ?)"
            params.append(f"@{self.account}")
        return {int(r[0]) for r in self.con.execute(sql, params).fetchall()}

    def event_rows(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        """Events by id with what skip checks read; `normalized_state` is added."""
        rows = self.rows_by(
            "events",
            "id",
            ids,
            (
                "state",
                "updated_at",
                "canceled_at",
                "deleted_at",
                "notes",
                "scheduled_at",
                "end_date",
                "duration",
                "event_type_id",
                "user_id",
            ),
        )
        for row in rows.values():
            row["normalized_state"] = normalize_event_state(
                row.get("state"), canceled_at=row.get("canceled_at")
            )
        return rows

    def booking_ids(self, bookers: Iterable[tuple[str, Any]]) -> dict[tuple[str, Any], set[int]]:
        """(invitee e-mail as given, event type id) -> ids of that invitee's bookings of it.

        E-mails match whatever their case; every pair asked for is in the answer.
        """
        wanted = {(email, type_id) for email, type_id in bookers}
        out: dict[tuple[str, Any], set[int]] = {pair: set() for pair in wanted}
        emails = sorted({email.lower() for email, _ in wanted if email})
        if not emails:
            return out
        rows = self._rows(
            f"select lower(invitee_email), event_type_id, id from {self.table('events')} "
            "where lower(invitee_email) in (select unnest(?))",
            [emails],
        )
        by_pair: dict[tuple[str, Any], set[int]] = {}
        for email, type_id, event_id in rows:
            by_pair.setdefault((email, type_id), set()).add(int(event_id))
        for email, type_id in wanted:
            out[(email, type_id)] = by_pair.get((email.lower(), type_id), set())
        return out

    def event_answers(self, ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
        """Each event's answers ({id, value}, by answer id); an event without any has none."""
        wanted = sorted({int(i) for i in ids})
        if not wanted or "events__answers" not in self.tables:
            return {}  # no synced event has had an answer: the table was never created
        rows = self._rows(
            f"select event_id, id, value from {self.table('events__answers')} "
            "where event_id in (select unnest(?))",
            [wanted],
            tail="order by event_id, id",
        )
        out: dict[int, list[dict[str, Any]]] = {}
        for event_id, answer_id, value in rows:
            out.setdefault(int(event_id), []).append({"id": int(answer_id), "value": value})
        return out

    def tag_links(self, event_type_ids: Iterable[int]) -> set[tuple[int, int]]:
        """(event_type_id, tag_id) pairs present in the warehouse."""
        wanted = sorted(set(event_type_ids))
        if not wanted:
            return set()
        rows = self._rows(
            f"select event_type_id, id from {self.table('event_type_tags')} "
            "where event_type_id in (select unnest(?))",
            [wanted],
        )
        return {(int(a), int(b)) for a, b in rows}

    def user_tags(self, *, own: bool = False) -> dict[int, dict[str, Any]]:
        """User event type tags by id; with `own`, only the API key's user's (and those served
        without a user), where the warehouse knows that user: what a create would make."""
        table = self.table("user_event_type_tags")
        sql = f"select id, name, color, position from {table} where true"
        owner = self.current_user_id() if own else None
        if owner is not None:
            sql = f"{sql} and (user_id is null or user_id = ?)"
        rows = self._rows(sql, [] if owner is None else [owner])
        return {
            int(r[0]): {"id": r[0], "name": r[1], "color": r[2], "position": r[3]} for r in rows
        }

    def current_user_id(self) -> int | None:
        """The API key's user's id, as the last sync landed it (None: not synced)."""
        if "current_user" not in self.tables:
            return None
        rows = self._rows(f"select id from {self.table('current_user')} where true")
        return int(rows[0][0]) if len(rows) == 1 and rows[0][0] is not None else None

    def poll_ids(self) -> dict[tuple[str, int | None], set[int]]:
        """(name, event type id) -> ids of the polls of that name and event type."""
        if "polls" not in self.tables:
            return {}
        out: dict[tuple[str, int | None], set[int]] = {}
        for poll_id, name, type_id in self._rows(
            f"select id, name, event_type_id from {self.table('polls')} where true"
        ):
            out.setdefault((str(name), type_id), set()).add(int(poll_id))
        return out

    def polls_by_uuid(self) -> dict[str, dict[str, Any]]:
        """Polls by uuid, each with its availability slot ids and who voted on each slot."""
        polls = self._rows(f"select id, uuid from {self.table('polls')} where uuid is not null")
        slots = self._rows(
            f"select poll_id, id from {self.table('polls__availability')} where true"
        )
        # By poll and slot: slot ids may be numbered within each poll.
        votes: dict[tuple[int, int], set[str]] = {}
        if "polls__availability__results" in self.tables:
            for poll_id, slot_id, email in self._rows(
                f"select poll_id, availability_id, lower(email) from "
                f"{self.table('polls__availability__results')} "
                "where email is not null and poll_id is not null"
            ):
                votes.setdefault((int(poll_id), int(slot_id)), set()).add(email)
        out: dict[str, dict[str, Any]] = {}
        by_id: dict[int, dict[str, Any]] = {}
        for poll_id, uuid in polls:
            by_id[int(poll_id)] = out[str(uuid)] = {"id": int(poll_id), "slots": {}}
        for poll_id, slot_id in slots:
            poll = by_id.get(int(poll_id))
            if poll is not None:
                key = (int(poll_id), int(slot_id))
                poll["slots"][int(slot_id)] = votes.get(key, set())
        return out

    def event_type_choices(self, ids: Iterable[Any]) -> dict[int, dict[str, set[Any]]]:
        """Per event type of `ids` in the warehouse: the ids of its `durations` and the uuids
        of its `questions` (what a booking of it may name)."""
        wanted = sorted({int(i) for i in ids if i is not None})
        if not wanted:
            return {}
        known = self._rows(
            f"select id from {self.table('event_types')} where id in (select unnest(?))",
            [wanted],
        )
        out: dict[int, dict[str, set[Any]]] = {
            int(i): {"durations": set(), "questions": set()} for (i,) in known
        }
        for table, column, key in (
            ("event_types__durations", "id", "durations"),
            ("event_types__questions", "uuid", "questions"),
        ):
            if table not in self.tables:
                continue
            for type_id, value in self._rows(
                f"select event_type_id, {_ident(column)} from {self.table(table)} "
                "where event_type_id in (select unnest(?))",
                [wanted],
            ):
                if value is not None and int(type_id) in out:
                    out[int(type_id)][key].add(value if key == "questions" else int(value))
        return out

    def latest_policy(self, kind: str) -> dict[str, Any] | None:
        """The newest version of the organization's or user's cancellation policy."""
        rows = self._rows(
            f"select enabled, period, label, text, overwrite_personal, version "
            f"from {self.table('cancellation_policies')} where lower(trim(type)) = ?",
            [kind],
            # The last first seen is in force (as the models read it): a version of our own
            # for content changed under a served one is negative (sync/policy_versions.py).
            tail="order by first_seen_at desc nulls last, version desc limit 1",
        )
        if not rows:
            return None
        row = rows[0]
        keys = ("enabled", "period", "label", "text", "overwrite_personal", "version")
        return dict(zip(keys, row, strict=True))


def same_instant(a: Any, b: Any) -> bool:
    """Whether a warehouse timestamp and a `Y-m-d H:i:s` (UTC) string are the same second."""
    if a is None or b is None:
        return False
    if isinstance(a, dt.datetime):
        if a.tzinfo is None:
            a = a.replace(tzinfo=dt.UTC)
        a = a.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(a) == str(b)
