"""Open the warehouse: a DuckDB connection or file, or a PostgreSQL server the sync loaded."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import duckdb

from simplymeet.duckdb_files import is_empty_file, refuse_another_kind_of_file
from simplymeet.duckdb_threads import one_thread, put_back_after
from simplymeet.models.destinations import DESTINATIONS
from simplymeet.models.errors import MissingCredentialsError, ModelError, WarehouseNotFoundError


@dataclass(frozen=True)
class PostgresWarehouse:
    """A PostgreSQL database given by connection URL (kept out of repr: it holds a password)."""

    url: str = field(repr=False)

    @classmethod
    def from_dlt_config(cls) -> PostgresWarehouse:
        """The credentials the sync's dlt pipeline uses (`destination.postgres.credentials`)."""
        from dlt.common.configuration.exceptions import ConfigurationException
        from dlt.common.configuration.resolve import resolve_configuration
        from dlt.destinations.impl.postgres.configuration import PostgresClientConfiguration

        try:
            config = resolve_configuration(
                PostgresClientConfiguration()._bind_dataset_name(dataset_name="raw"),
                sections=("destination", "postgres"),
            )
        except ConfigurationException as exc:
            raise MissingCredentialsError(
                "no PostgreSQL credentials: set destination.postgres.credentials "
                "(e.g. DESTINATION__POSTGRES__CREDENTIALS) as for the sync"
            ) from exc
        return cls(config.credentials.to_native_representation())


Warehouse = duckdb.DuckDBPyConnection | str | Path | PostgresWarehouse
"""A DuckDB connection, the path of a DuckDB file, or a PostgreSQL database."""


class Connection(Protocol):
    """What the runner needs of a connection; a DuckDB connection is one as it stands."""

    def execute(self, query: str, parameters: Sequence[Any] | None = None) -> Any: ...


class PostgresConnection:
    """A psycopg2 connection shaped like DuckDB's: `execute` returns a fetchable cursor.

    Autocommit is on so `begin`/`commit`/`rollback` statements mean what they say, as in DuckDB.
    """

    dialect = "postgres"

    def __init__(self, url: str) -> None:
        import psycopg2

        try:
            self._con = psycopg2.connect(url)
        except psycopg2.Error as exc:
            # psycopg2's message names host and port, never the password.
            raise ModelError(f"cannot connect to PostgreSQL: {exc}".strip()) from exc
        self._con.autocommit = True
        # The planner's row estimates for the models' lateral joins are off by orders of
        # magnitude, so JIT compiles for seconds a query that runs in milliseconds
        # (fct_events: 19 s with JIT, 0.6 s without, 300 events).
        self.execute("set jit = off")

    def execute(self, query: str, parameters: Sequence[Any] | None = None) -> Any:
        cursor = self._con.cursor()
        if parameters is None:
            cursor.execute(query)
        else:
            # Our own parameterized queries use DuckDB's `?`; psycopg2 wants `%s`.
            cursor.execute(query.replace("?", "%s"), list(parameters))
        return cursor

    def close(self) -> None:
        self._con.close()


def dialect_of(con: Any) -> str:
    """The sqlglot dialect of a connection this module opened (or a DuckDB one)."""
    return str(getattr(con, "dialect", "duckdb"))


def run_query(con: Any, sql: str, parameters: Sequence[Any] | None = None) -> Any:
    """Run one DuckDB-dialect query on a connection this module opened; its cursor.

    On another dialect sqlglot translates it first (positional `?` parameters included), so a
    reader of the models (report, alerts) keeps one spelling of each query.
    """
    dialect = dialect_of(con)
    if dialect != "duckdb":
        from simplymeet.models.translate import translate

        sql = translate(sql, dialect=dialect)
    return con.execute(sql, parameters)


def ensure_schema(con: Any, schema: str) -> None:
    """Create `schema` unless it exists. PostgreSQL asks for CREATE on the database even for
    `create schema if not exists` of a schema that is there: a role a DBA gave its schemas,
    and not the database, loaded every row and then failed every build."""
    found = con.execute(
        "select count(*) from information_schema.schemata "
        "where schema_name = ? and catalog_name = current_database()",
        [schema],
    ).fetchone()
    if not found or not found[0]:
        con.execute(f'create schema if not exists "{schema}"')


def missing_relation(exc: BaseException) -> bool:
    """Whether `exc` says a table or schema does not exist (the models are not built)."""
    if isinstance(exc, duckdb.CatalogException):
        return True
    # PostgreSQL's SQLSTATE for an undefined table and an undefined schema.
    return is_postgres_error(exc) and getattr(exc, "pgcode", None) in ("42P01", "3F000")


def missing_column(exc: BaseException) -> bool:
    """Whether `exc` says a column does not exist: models an earlier version built, read by
    this version's queries."""
    if isinstance(exc, duckdb.BinderException):
        return "not found" in str(exc) or "does not have a column" in str(exc)
    return is_postgres_error(exc) and getattr(exc, "pgcode", None) == "42703"


OLDER_MODELS = (
    "the models were built by an earlier version of simplymeet; run `simplymeet sync` (it "
    "brings the warehouse up to date and builds them again)"
)
"""What to say when `missing_column`: the user's next step."""


def is_postgres_error(exc: BaseException) -> bool:
    """Whether `exc` is the server rejecting SQL (psycopg2 may not be installed)."""
    try:
        import psycopg2
    except ImportError:
        return False
    return isinstance(exc, psycopg2.Error)


def warehouse_for(destination: str, duckdb_path: str | Path) -> Warehouse:
    """The warehouse a destination name means: the DuckDB file, or the configured server."""
    if destination == "duckdb":
        return duckdb_path
    if destination == "postgres":
        return PostgresWarehouse.from_dlt_config()
    raise ModelError(
        f"models are built on {' or '.join(DESTINATIONS)}, not {destination!r} "
        "(see sql/README.md for the other dialects)"
    )


@contextmanager
def connect(
    con_or_path: Warehouse, *, read_only: bool = False, must_exist: bool = True
) -> Iterator[Any]:
    """Yield a connection: the one given, or a new one to the file/server (closed afterwards)."""
    if isinstance(con_or_path, duckdb.DuckDBPyConnection):
        yield con_or_path
        return
    if isinstance(con_or_path, PostgresWarehouse):
        pg = PostgresConnection(con_or_path.url)
        try:
            yield pg
        finally:
            pg.close()
        return
    path = Path(con_or_path)
    if must_exist and str(path) != ":memory:" and not path.exists():
        raise WarehouseNotFoundError(f"no DuckDB warehouse at {path} (run `simplymeet sync` first)")
    if read_only and is_empty_file(path):
        raise WarehouseNotFoundError(
            f"{path} is an empty file, no DuckDB warehouse yet (run `simplymeet sync` first)"
        )
    refuse_another_kind_of_file(path)
    con = duckdb.connect(str(path), read_only=read_only)
    try:
        yield con
    finally:
        con.close()


SMALL_JOIN_ROWS = 16
"""A join on inequalities (`lead_time_minutes >= min and < max`) with a side this small is
planned as a nested loop. DuckDB's default (5) sorts both sides for a piecewise merge join
when the other side is 7 lead-time buckets: `time_to_cancel` at a million bookings 52 → 29 ms.
Equality joins are hash joins whatever the setting."""


@contextmanager
def nested_loops_for_small_joins(con: Any) -> Iterator[None]:
    """While the models build, plan inequality joins with a small side as nested loops; the
    connection's own setting is put back afterwards."""
    if dialect_of(con) != "duckdb":
        yield
        return
    found = con.execute("select current_setting('nested_loop_join_threshold')").fetchone()
    before = int(found[0]) if found else SMALL_JOIN_ROWS
    con.execute(f"set nested_loop_join_threshold = {max(before, SMALL_JOIN_ROWS)}")
    with put_back_after(con, f"set nested_loop_join_threshold = {before}"):
        yield


ROW_GROUP_ROWS = 122_880
"""DuckDB's unit of parallel work (rows in a row group): a table with fewer rows is read by
one thread whatever `threads` says."""


@contextmanager
def one_thread_for_small_tables(con: Any) -> Iterator[None]:
    """While the models build on a warehouse whose every table is under one row group, run
    DuckDB on one thread; the connection's own setting is put back afterwards.

    Such a build has nothing to split, and the idle threads' scheduling cost a 300-event
    build 15% more CPU for no less wall time (0.60 -> 0.51 CPU-s, 0.55 -> 0.53 s: bench/README.md,
    session 24). A larger warehouse keeps every thread.
    """
    if dialect_of(con) != "duckdb":
        yield
        return
    found = con.execute("select coalesce(max(estimated_size), 0) from duckdb_tables()").fetchone()
    if found is None or int(found[0]) >= ROW_GROUP_ROWS:
        yield
        return
    with one_thread(con):
        yield
