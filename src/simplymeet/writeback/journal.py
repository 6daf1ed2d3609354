"""The write-back journal: every write recorded in the warehouse, before and after it is sent.

Tables live in their own schema, `writeback`, in the warehouse's DuckDB file, out of the way of
the dlt dataset (dlt never reads or drops them; a full refresh of the sync keeps them):

    writeback.jobs     one row per job: job_id, operation, command, selection, items, times
    writeback.runs     one row per run of a job: counts, finished_at, refreshed_at, refresh_error
    writeback.journal  one row per item per attempt: job_id, run_id, operation (the endpoint
                       called), item_key, target (what a person reads), target_id (the id
                       the item was selected by), request_id (items sent in one request share
                       it), method, path, payload (the JSON body; for a list request the
                       item's share of it), outcome, http_status, error, attempts, result,
                       started_at, finished_at, baseline (the target before the write, for
                       writes that reach invitees: see baseline.py)

`simplymeet writeback jobs` lists jobs; `simplymeet writeback show JOB --outcome failed` lists a
job's items by their latest outcome. Re-running the same command retries what failed.

Outcomes: `pending` (written just before the request goes out), `succeeded`, `failed` (the
server refused, or kept failing; nothing was applied as far as we can tell: a re-run sends it
again, a write that e-mails people once it has read the target back), `unknown` (a write that
may or may not have been applied and cannot be read back: a re-run does not send it again
unless told to) and `skipped` (no request was needed). A process killed mid-request leaves
`pending` rows behind: the next run of the job finds them and checks the server before
deciding. So does the next run of another job writing the same target (`earlier_jobs_of`): the
same command run on a changed input is another job. A booking is matched with another job's by
its invitee's e-mail, event type and start (`booking_identities`), a notification or an
invitation by its target whatever its payload (`notified_before`), and an entry's `started_at`
is when its request went out: a write that e-mails people, left `pending` or `unknown`, is not
sent again until `[writeback] settle_seconds` after it (`ItemHistory.open_since`).

The API key never reaches this module: payloads are request bodies, errors are the client's
redacted messages.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from simplymeet.config import ConfigError
from simplymeet.duckdb_files import is_empty_file, refuse_another_kind_of_file
from simplymeet.schemas import JOURNAL_SCHEMA
from simplymeet.writeback.baseline import booking_identities
from simplymeet.writeback.plan import Item, Plan, Request, Skipped

SCHEMA = JOURNAL_SCHEMA
Outcome = Literal["pending", "succeeded", "failed", "unknown", "skipped", "held"]
"""`held` is a run's outcome only (a notification another job already sent, `--resend` not
given): it is journaled as a `skipped` without a request, which is no history."""

_DDL = f"""
create schema if not exists {SCHEMA};
create sequence if not exists {SCHEMA}.journal_seq;
create table if not exists {SCHEMA}.jobs (
    job_id varchar not null,
    operation varchar not null,
    command varchar not null,
    selection varchar,
    items integer,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create table if not exists {SCHEMA}.runs (
    run_id varchar not null,
    job_id varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    requests integer,
    succeeded integer,
    failed integer,
    unknown integer,
    skipped integer,
    refreshed_at timestamptz,
    refresh_error varchar
);
create table if not exists {SCHEMA}.journal (
    entry_id bigint not null default nextval('{SCHEMA}.journal_seq'),
    job_id varchar not null,
    run_id varchar not null,
    operation varchar not null,
    item_key varchar not null,
    target varchar not null,
    target_id bigint,
    request_id varchar,
    method varchar,
    path varchar,
    payload json,
    outcome varchar not null,
    http_status integer,
    error varchar,
    attempts integer,
    result json,
    started_at timestamptz not null,
    finished_at timestamptz
);
alter table {SCHEMA}.journal add column if not exists baseline json;
alter table {SCHEMA}.runs add column if not exists request_timeout_s double;
alter table {SCHEMA}.runs add column if not exists retry_span_s double;
"""
# No primary keys on purpose: DuckDB checks index constraints eagerly on UPDATE, and every
# journal row is updated once; ids are unique by construction (sequence, uuid4).

_COLUMNS = (
    "job_id",
    "run_id",
    "operation",
    "item_key",
    "target",
    "target_id",
    "request_id",
    "method",
    "path",
    "payload",
    "outcome",
    "http_status",
    "error",
    "attempts",
    "result",
    "started_at",
    "finished_at",
    "baseline",
)


class JournalError(RuntimeError):
    """The journal cannot be opened or does not match the job (e.g. --job reused)."""


class JobNameTaken(JournalError, ConfigError):
    """`--job` names a job of another operation: an option to change (exit 2), nothing sent."""


@dataclass
class ItemHistory:
    """What earlier runs of a job did with one item."""

    succeeded: bool = False
    """Done: written, or a write the server answered was already so (a confirmed skip)."""
    written: bool = False
    """Done by a write of this job (not found already so)."""
    last: Outcome | None = None
    last_error: str | None = None
    pending_entries: list[int] = field(default_factory=list)
    """Entries left `pending` by a run that died mid-request."""
    pending_since: dt.datetime | None = None
    """When the last of them was begun (just before its request went out)."""
    latest_entry: int | None = None
    """The newest journal entry of the item (entries are numbered in the order written)."""
    sent_at: dt.datetime | None = None
    """When the newest request answered as done was begun."""
    sent_before: bool = False
    """A request carried it (whatever its answer): a write that e-mails people is read back
    before it is sent again, even after a failure (`execute.Executor._sent_and_failed`)."""
    sent_unrefused: bool = False
    """A request carried it that the server did not refuse outright (`refusal`): what the
    job's sends did is not known to be nothing."""
    open_since: dt.datetime | None = None
    """When the settle period of the newest request whose fate is still open (`pending`: the
    run died with it; `unknown`: its answer was lost) began: when it was begun, or later when
    another item of that request was seen applied since (a server working through a list
    request one invitee at a time). The server may apply it up to `[writeback]
    settle_seconds` after that (a write that e-mails people is not sent again before then)."""
    open_requests: set[str] = field(default_factory=set)
    """The requests whose fate is still open that carried the item."""


@dataclass
class EarlierJob:
    """What another job writing the same target left it in (`Journal.earlier_jobs`).

    A job's id hashes its items, so a re-run on a slightly different input (a row added after
    a kill) is another job: what the first one left pending, unknown, or succeeded without
    the warehouse seeing it must still be checked before it is sent again."""

    job_id: str
    item_key: str
    """The earlier job's item: the same write as ours when the keys are equal."""
    target: str
    history: ItemHistory
    reflected: bool
    """A run of that job refreshed the warehouse after the item's latest entry: the plan
    already saw what it did."""
    baseline: Any
    """The target before that job first sent it (`baseline.py`), or None."""
    identities: frozenset[str] = frozenset()
    """A booking's identities (`booking_identities`): a create matches it by them."""

    def same_write(self, item: Item) -> bool:
        """Whether the earlier job's item is the same write as `item`: equal keys, or the same
        booking (invitee e-mail, event type and start) whatever the row's other details."""
        if self.item_key == item.key:
            return True
        return bool(self.identities & set(booking_identities(item.body)))

    @property
    def unsettled(self) -> bool:
        """Whether the target must be checked on the server before our write is sent: left
        pending (the run died mid-request) or unknown, or done without the warehouse
        knowing (its run was killed before refreshing, or ran with --no-refresh)."""
        history = self.history
        if history.pending_entries or history.last == "unknown":
            return True
        return history.last in ("succeeded", "skipped") and not self.reflected


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), default=str)


def item_payload(request: Request, item: Item) -> dict[str, Any] | None:
    """The part of a request's body that concerns `item` (a list request: just its id)."""
    body = request.body
    if body is None or len(request.items) == 1:
        return body
    shared = {k: v for k, v in body.items() if not isinstance(v, list)}
    lists = {k: [item.target_id] for k, v in body.items() if isinstance(v, list)}
    return {**shared, **lists}


class Journal:
    """The journal tables in one DuckDB file, through one read-write connection.

    Thread-safe (one lock around the connection): per-item requests run on worker threads.
    A sync or a model build of this process may run while it is open (their connections
    share its database); another process cannot open the file until it is closed.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        refuse_another_kind_of_file(self.path)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise JournalError(
                f"cannot open {self.path} to write the journal ({exc}); "
                "is a sync or another write-back running on it?"
            ) from exc
        self._lock = threading.Lock()
        self._con.execute(_DDL)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._con is not None:
                self._con.close()
                self._con = None  # type: ignore[assignment]

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement and fetch its rows, all under the lock (one shared connection)."""
        with self._lock:
            cursor = self._con.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    # --- jobs and runs ------------------------------------------------------------------------

    def in_flight_bounds(self, job_id: str) -> tuple[float, float] | None:
        """The longest request timeout and retry span of the runs that left this job's items
        `pending` (how long their requests may stay with the server), or None."""
        row = self._execute(
            f"select max(r.request_timeout_s), max(r.retry_span_s) from {SCHEMA}.journal j "
            f"join {SCHEMA}.runs r on r.run_id = j.run_id "
            "where j.job_id = ? and j.outcome = 'pending'",
            [job_id],
        )
        if not row or row[0][0] is None:
            return None
        return float(row[0][0]), float(row[0][1] or 0.0)

    def start_run(self, plan: Plan, *, selection: str, in_flight: tuple[float, float]) -> str:
        """Register the job (first run) and a new run of it; return the run id.

        `in_flight` is the run's client's request timeout and retry span (seconds): how long
        a request it began may stay with the server (read back by `in_flight_bounds`)."""
        spec = plan.spec
        now = _now()
        with self._lock:
            found = self._con.execute(
                f"select operation from {SCHEMA}.jobs where job_id = ?", [plan.job_id]
            ).fetchone()
            if found is not None and found[0] != spec.endpoint:
                raise JobNameTaken(
                    f"job {plan.job_id!r} is a {found[0]} job, not {spec.endpoint}: "
                    "choose another --job name"
                )
            if found is None:
                self._con.execute(
                    f"insert into {SCHEMA}.jobs values (?, ?, ?, ?, ?, ?, ?)",
                    [
                        plan.job_id,
                        spec.endpoint,
                        spec.cli_name,
                        selection,
                        len(plan.items) + len(plan.skipped),
                        now,
                        now,
                    ],
                )
            else:
                # The job's items are those of every run: a named job's input may change.
                keys = [i.key for i in plan.items] + [s.item.key for s in plan.skipped]
                self._con.execute(
                    f"""update {SCHEMA}.jobs set updated_at = ?, items = (
                        select count(*) from (
                            select item_key from {SCHEMA}.journal where job_id = ?
                            union select unnest(?::varchar[])
                        )
                    ) where job_id = ?""",
                    [now, plan.job_id, keys, plan.job_id],
                )
            run_id = uuid.uuid4().hex[:16]
            self._con.execute(
                f"insert into {SCHEMA}.runs (run_id, job_id, started_at, request_timeout_s, "
                "retry_span_s) values (?, ?, ?, ?, ?)",
                [run_id, plan.job_id, now, *in_flight],
            )
        return run_id

    def finish_run(self, run_id: str, counts: dict[str, int]) -> None:
        """Record a run's totals."""
        self._execute(
            f"update {SCHEMA}.runs set finished_at = ?, requests = ?, succeeded = ?, "
            "failed = ?, unknown = ?, skipped = ? where run_id = ?",
            [
                _now(),
                counts.get("requests", 0),
                counts.get("succeeded", 0),
                counts.get("failed", 0),
                counts.get("unknown", 0),
                counts.get("skipped", 0),
                run_id,
            ],
        )

    def mark_refreshed(self, run_id: str, error: str | None = None) -> None:
        """Record that the warehouse was refreshed after the run (or why it was not).

        Stamped no earlier than the run's entries: a send is stamped up to a second ahead
        (the server's whole-second `Date`, rounded up), and a refresh that took less than
        that would otherwise read as older than the writes it read back (`reflected`)."""
        self._execute(
            f"""update {SCHEMA}.runs set refresh_error = ?, refreshed_at = case
                when ? then null else greatest(?::timestamptz, (
                    select max(coalesce(j.finished_at, j.started_at)) from {SCHEMA}.journal j
                    where j.run_id = ?)) end
            where run_id = ?""",
            [error, error is not None, _now(), run_id, run_id],
        )

    # --- what earlier runs did ----------------------------------------------------------------

    def history(self, job_id: str) -> dict[str, ItemHistory]:
        """Each item key of a job with what earlier runs did to it."""
        return history_of(self._execute, job_id)

    def earlier_jobs(
        self,
        job_id: str,
        operations: Sequence[str],
        items: Sequence[Item],
        account: str | None = None,
    ) -> list[EarlierJob]:
        """What other jobs of `operations` did to the targets of `items` (one query)."""
        return earlier_jobs_of(self._execute, job_id, operations, items, account)

    def record_settled(
        self,
        job_id: str,
        run_id: str,
        operation: str,
        items: Sequence[Item],
        outcome: Outcome,
        note: str,
    ) -> None:
        """Journal items settled without a request (checked on the server after an earlier
        job's write), so later runs and jobs find how they were settled."""
        now = _now()
        rows = [
            (
                job_id,
                run_id,
                operation,
                item.key,
                item.target,
                item.target_id,
                None,
                None,
                None,
                _json(item.body),
                outcome,
                None,
                note,
                None,
                None,
                now,
                now,
                _json(item.baseline),
            )
            for item in items
        ]
        self._insert(rows)

    def baselines(self, job_id: str) -> dict[str, Any]:
        """Each item's target as it was before the job first sent it (`baseline.py`)."""
        rows = self._execute(
            f"select item_key, arg_min(baseline, entry_id) from {SCHEMA}.journal "
            "where job_id = ? and baseline is not null group by item_key",
            [job_id],
        )
        return {key: json.loads(baseline) for key, baseline in rows}

    def results(self, job_id: str) -> list[Any]:
        """What the job's succeeded requests kept from their answers (created ids, ...)."""
        rows = self._execute(
            f"select distinct result from {SCHEMA}.journal "
            "where job_id = ? and outcome = 'succeeded' and result is not null",
            [job_id],
        )
        return [json.loads(result) for (result,) in rows]

    # --- one request --------------------------------------------------------------------------

    def begin(
        self, job_id: str, run_id: str, request: Request, sent: dt.datetime | None = None
    ) -> str:
        """Write the request's items as `pending` and return its request id (before sending).
        `sent` is the send's time as the settle period reads it (default: this machine's)."""
        request_id = uuid.uuid4().hex[:16]
        now = sent or _now()
        rows = [
            (
                job_id,
                run_id,
                request.endpoint,
                item.key,
                item.target,
                item.target_id,
                request_id,
                request.method,
                request.path,
                _json(item_payload(request, item)),
                "pending",
                None,
                None,
                None,
                None,
                now,
                None,
                _json(item.baseline),
            )
            for item in request.items
        ]
        self._insert(rows)
        return request_id

    def finish(
        self,
        request_id: str,
        outcome: Outcome,
        *,
        items: Iterable[Item] | None = None,
        status: int | None = None,
        error: str | None = None,
        attempts: int | None = None,
        result: Any = None,
    ) -> None:
        """Record the outcome of a request, for all its items or only `items`."""
        sql = (
            f"update {SCHEMA}.journal set outcome = ?, http_status = ?, error = ?, "
            # A send is stamped up to a second ahead of this clock (`ServerTime.stamp`).
            "attempts = ?, result = ?, finished_at = greatest(?, started_at) where request_id = ?"
        )
        params: list[Any] = [outcome, status, error, attempts, _json(result), _now(), request_id]
        if items is not None:
            keys = [i.key for i in items]
            if not keys:
                return
            sql += " and item_key in (select unnest(?))"
            params.append(keys)
        self._execute(sql, params)

    def record_skipped(
        self, job_id: str, run_id: str, operation: str, skipped: Sequence[Skipped]
    ) -> None:
        """Journal items that needed no request, with the reason."""
        now = _now()
        rows = [
            (
                job_id,
                run_id,
                operation,
                s.item.key,
                s.item.target,
                s.item.target_id,
                None,
                None,
                None,
                _json(s.item.body),
                "skipped",
                None,
                s.reason,
                None,
                None,
                now,
                now,
                None,
            )
            for s in skipped
        ]
        self._insert(rows)

    def resolve(self, entries: Sequence[int], outcome: Outcome, note: str) -> None:
        """Settle entries a killed run left `pending`, once the server has been checked."""
        if not entries:
            return
        self._execute(
            f"update {SCHEMA}.journal set outcome = ?, error = ?, "
            "finished_at = greatest(?, started_at) where entry_id in (select unnest(?))",
            [outcome, note, _now(), list(entries)],
        )

    def _insert(self, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        columns = ", ".join(_COLUMNS)
        row_marks = "(" + ", ".join("?" for _ in _COLUMNS) + ")"
        # One multi-row INSERT: DuckDB's executemany runs a statement per row (B6 measured
        # 127 ms per 100-row chunk against 14 ms), and writers queue behind this lock.
        values = ", ".join(row_marks for _ in rows)
        params = [value for row in rows for value in row]
        with self._lock:
            self._con.execute(f"insert into {SCHEMA}.journal ({columns}) values {values}", params)


def split_by_history(
    items: Sequence[Item], history: dict[str, ItemHistory]
) -> tuple[list[Item], list[Item], list[Item]]:
    """(done before, to check on the server first, to send) for a job's items.

    Done: an earlier run succeeded. To check: an earlier run left it pending (it died
    mid-request) or unknown. To send: never tried, or failed cleanly.
    """
    done: list[Item] = []
    check: list[Item] = []
    send: list[Item] = []
    for item in items:
        past = history.get(item.key)
        if past is None or (past.last == "failed" and not past.pending_entries):
            send.append(item)
        elif past.succeeded:
            done.append(item)
        else:
            check.append(item)
    return done, check, send


def history_of(query: Any, job_id: str) -> dict[str, ItemHistory]:
    """A job's item histories; `query(sql, params)` returns rows (the dry-run reads read-only).

    Skips decided by the plan are not history (the warehouse may be behind); a skip the
    server confirmed (a request answered "already so") counts as done.
    """
    rows = query(
        f"select j.item_key, j.entry_id, j.outcome, j.error, j.started_at, j.request_id, "
        f"{_PROGRESS}, j.http_status from {SCHEMA}.journal j "
        "where j.job_id = ? and not (j.outcome = 'skipped' and j.request_id is null) "
        "order by j.entry_id",
        [job_id],
    )
    out: dict[str, ItemHistory] = {}
    for key, entry_id, outcome, error, started_at, request_id, progress, status in rows:
        item = out.setdefault(key, ItemHistory())
        _fold(item, entry_id, outcome, error, started_at, request_id, progress)
        if request_id is not None and not (outcome == "failed" and refusal(status)):
            item.sent_unrefused = True
    return out


def refusal(status: int | None) -> bool:
    """Whether an answer of `status` is the server refusing the write outright, having applied
    nothing: a 4xx but a 408 (a timeout) or a 429 (a server may count a quota after the work)."""
    return status is not None and 400 <= status < 500 and status not in (408, 429)


_PROGRESS = f"""
case when j.request_id is not null and j.outcome in ('pending', 'unknown') then (
    select max(coalesce(s.finished_at, s.started_at)) from {SCHEMA}.journal s
    where s.job_id = j.job_id and s.outcome = 'succeeded'
        and coalesce(s.finished_at, s.started_at) >= j.started_at
        and s.item_key in (
            select m.item_key from {SCHEMA}.journal m where m.request_id = j.request_id
        )
) end"""
"""For an entry of a request whose fate is open: when another item of that request was last
recorded applied since it was begun (in its own answer's read-back or a later run's check)."""


def _fold(
    item: ItemHistory,
    entry_id: Any,
    outcome: Outcome,
    error: str | None,
    started_at: Any,
    request_id: str | None = None,
    progress: Any = None,
) -> None:
    """Add one journal entry (in entry order) to an item's history; `request_id` is the
    request's that carried it (None for an item settled without one), `progress` when
    another item of that request was last seen applied (`_PROGRESS`)."""
    sent = request_id is not None
    item.last, item.last_error = outcome, error
    item.latest_entry = int(entry_id)
    item.sent_before = item.sent_before or sent
    if outcome in ("succeeded", "skipped"):
        item.succeeded = True
        item.written = item.written or outcome == "succeeded"
        item.open_since = None
        item.open_requests.clear()
        if sent:
            item.sent_at = started_at
    elif outcome == "pending":
        item.pending_entries.append(int(entry_id))
        item.pending_since = started_at
    if request_id is not None and outcome in ("pending", "unknown"):
        item.open_requests.add(request_id)
        since = started_at if progress is None else max(started_at, progress)
        item.open_since = since if item.open_since is None else max(item.open_since, since)


def earlier_jobs_of(
    query: Any,
    job_id: str,
    operations: Sequence[str],
    items: Sequence[Item],
    account: str | None = None,
    *,
    baseline: str = "j.baseline",
) -> list[EarlierJob]:
    """What jobs other than `job_id` did with the targets of `items`, through `operations`
    (the endpoints that make the same change: a list endpoint and its per-item one).

    A target is matched by what a person reads (`event 5`), so a write of other values to it
    is found too; a booking or another creation has no target before it is made, and is
    matched by its item key (the same row) or, a booking, by its invitee's e-mail, event type
    and start (`booking_identities`: the same booking asked with another detail changed).
    With `account`, only that account's jobs (their ids end in `@account`). One query,
    whatever the number of items. `baseline`: the SQL of the baseline column (`null` for a
    journal written before baselines were kept).
    """
    keys = sorted({item.key for item in items})
    targets = sorted({item.target for item in items if not item.key.startswith("new#")})
    wanted = {
        i for item in items if item.key.startswith("new#") for i in booking_identities(item.body)
    }
    emails = sorted({i.split(", event type ", 1)[0].removeprefix("booking of ") for i in wanted})
    if not keys:
        return []
    rows = query(
        f"""
        select j.job_id, j.item_key, j.target, j.entry_id, j.outcome, j.error, j.started_at,
            coalesce(j.finished_at, j.started_at), {baseline},
            (select max(done.refreshed_at) from {SCHEMA}.runs done
                where done.job_id = j.job_id and done.refresh_error is null),
            j.request_id,
            case when j.item_key like 'new#%' then j.payload end,
            {_PROGRESS}
        from {SCHEMA}.journal j
        where j.job_id <> ? and j.operation in (select unnest(?))
            and (j.item_key in (select unnest(?)) or j.target in (select unnest(?))
                or (j.item_key like 'new#%' and lower(trim(
                    json_extract_string(j.payload, '$.invitee.email'))) in (select unnest(?))))
            and not (j.outcome = 'skipped' and j.request_id is null)
        order by j.entry_id
        """,
        [job_id, list(operations), keys, targets, emails],
    )
    found: dict[tuple[str, str], EarlierJob] = {}
    for (
        other,
        key,
        target,
        entry_id,
        outcome,
        error,
        started_at,
        settled_at,
        baseline,
        refreshed_at,
        request_id,
        payload,
        progress,
    ) in rows:
        if account is not None and not str(other).endswith(f"@{account}"):
            continue
        job = found.get((other, key))
        if job is None:
            identities = frozenset(booking_identities(json.loads(payload) if payload else None))
            job = found[(other, key)] = EarlierJob(
                other, key, target, ItemHistory(), False, None, identities
            )
        _fold(job.history, entry_id, outcome, error, started_at, request_id, progress)
        job.reflected = refreshed_at is not None and refreshed_at >= settled_at
        if job.baseline is None and baseline is not None:
            job.baseline = json.loads(baseline)
    return list(found.values())


def latest_earlier(
    items: Sequence[Item],
    history: dict[str, ItemHistory],
    earlier: Sequence[EarlierJob],
    *,
    resend: bool = False,
) -> dict[str, EarlierJob]:
    """Item key -> the earlier job's record of its target that must be checked on the server
    first: the newest one of any other job, when it is newer than the item's own history and
    left the target unsettled (`EarlierJob.unsettled`). With `resend` (asked to notify again),
    another job's answered send holds nothing back: only the ones left unanswered count."""
    newest: dict[str, EarlierJob] = {}
    for job in earlier:
        for name in (job.item_key, job.target, *job.identities):
            if _entry(job) > _entry(newest.get(name)):
                newest[name] = job
    out: dict[str, EarlierJob] = {}
    for item in items:
        chosen = newest.get(item.key)
        names = booking_identities(item.body) if item.key.startswith("new#") else (item.target,)
        for name in names:
            other = newest.get(name)
            if other is not None and _entry(other) > _entry(chosen):
                chosen = other
        if chosen is None or not chosen.unsettled or (resend and chosen.history.succeeded):
            continue
        own = history.get(item.key)
        if own is not None and (own.latest_entry or 0) > _entry(chosen):
            continue  # this job wrote the target since: its own history says what to do
        out[item.key] = chosen
    return out


def notified_before(
    items: Sequence[Item], history: dict[str, ItemHistory], earlier: Sequence[EarlierJob]
) -> dict[str, EarlierJob]:
    """Item key -> the newest other job that sent the item's target this write (any payload:
    a notification or an invitation e-mails the same people) and saw it answered as done,
    when that is newer than the item's own history. For writes that cannot be read back,
    whatever the warehouse has seen since: nothing on the server tells they were sent."""
    newest: dict[str, EarlierJob] = {}
    for job in earlier:
        if job.history.succeeded and _entry(job) > _entry(newest.get(job.target)):
            newest[job.target] = job
    out: dict[str, EarlierJob] = {}
    for item in items:
        sent = newest.get(item.target)
        if sent is None or sent.history.sent_at is None:
            continue
        own = history.get(item.key)
        if own is not None and (own.latest_entry or 0) > _entry(sent):
            continue
        out[item.key] = sent
    return out


def _entry(job: EarlierJob | None) -> int:
    return -1 if job is None else job.history.latest_entry or 0


@contextmanager
def _read_only(db_path: str | Path) -> Iterator[duckdb.DuckDBPyConnection | None]:
    """A read-only connection when the file has a journal, else None."""
    path = Path(db_path)
    if not path.exists() or is_empty_file(path):
        yield None
        return
    refuse_another_kind_of_file(path)
    con = duckdb.connect(str(path), read_only=True)
    try:
        found = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = 'journal'",
            [SCHEMA],
        ).fetchone()
        yield con if found and found[0] else None
    finally:
        con.close()


def read_job(
    db_path: str | Path,
    job_id: str,
    operations: Sequence[str],
    unsettled: Callable[[dict[str, ItemHistory]], Sequence[Item]],
    account: str | None = None,
) -> tuple[dict[str, ItemHistory], list[EarlierJob]]:
    """A job's item histories (`history_of`) and, for the items `unsettled` picks from them,
    `earlier_jobs_of`, through one read-only connection; ({}, []) when there is no journal
    yet."""
    with _read_only(db_path) as con:
        if con is None:
            return {}, []

        def query(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
            return con.execute(sql, params).fetchall()

        history = history_of(query, job_id)
        # A journal an earlier version wrote, not opened for writing since: no baselines yet.
        baseline = "j.baseline" if _has_column(con, "journal", "baseline") else "null"
        earlier = earlier_jobs_of(
            query, job_id, operations, unsettled(history), account, baseline=baseline
        )
        return history, earlier


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    found = con.execute(
        "select count(*) from information_schema.columns "
        "where table_schema = ? and table_name = ? and column_name = ?",
        [SCHEMA, table, column],
    ).fetchone()
    return bool(found and found[0])


def list_jobs(db_path: str | Path, limit: int = 50) -> list[dict[str, Any]]:
    """The newest jobs with each item's latest outcome counted (read-only); `not_sent`: the
    items no run has journaled yet (a run stopped or killed before it reached them), and
    `last_run_unfinished`: the latest run never finished (killed, or still going)."""
    with _read_only(db_path) as con:
        if con is None:
            return []
        cursor = con.execute(
            f"""
            with latest as (
                select job_id, item_key, arg_max(outcome, entry_id) as outcome
                from {SCHEMA}.journal group by all
            ),
            last_runs as (
                select job_id, arg_max(finished_at is null, started_at) as last_run_unfinished
                from {SCHEMA}.runs group by all
            )
            select
                jobs.job_id,
                jobs.command,
                jobs.items,
                jobs.created_at,
                jobs.updated_at,
                count(*) filter (where outcome = 'succeeded') as succeeded,
                count(*) filter (where outcome = 'failed') as failed,
                count(*) filter (where outcome = 'unknown') as unknown,
                count(*) filter (where outcome = 'pending') as pending,
                count(*) filter (where outcome = 'skipped') as skipped,
                greatest(any_value(jobs.items) - count(outcome), 0) as not_sent,
                coalesce(any_value(last_runs.last_run_unfinished), false) as last_run_unfinished,
            from {SCHEMA}.jobs as jobs
            left join latest using (job_id)
            left join last_runs using (job_id)
            group by all
            order by jobs.updated_at desc
            limit ?
            """,
            [limit],
        )
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def has_job(db_path: str | Path, job_id: str) -> bool:
    """Whether the warehouse's journal knows job `job_id` (False when there is no journal)."""
    with _read_only(db_path) as con:
        if con is None:
            return False
        found = con.execute(f"select count(*) from {SCHEMA}.jobs where job_id = ?", [job_id])
        return bool(found.fetchone()[0])  # type: ignore[index]


def job_unsent(db_path: str | Path, job_id: str) -> tuple[int, int]:
    """(items no run of `job_id` has journaled yet, the job's items)."""
    with _read_only(db_path) as con:
        if con is None:
            return 0, 0
        row = con.execute(
            f"""select coalesce(jobs.items, 0), (
                    select count(distinct item_key) from {SCHEMA}.journal j
                    where j.job_id = jobs.job_id
                ) from {SCHEMA}.jobs as jobs where jobs.job_id = ?""",
            [job_id],
        ).fetchone()
    if row is None:
        return 0, 0
    items, journaled = int(row[0]), int(row[1])
    return max(items - journaled, 0), items


def job_items(db_path: str | Path, job_id: str, outcome: str | None = None) -> list[dict[str, Any]]:
    """Each item of a job with its latest journal entry, optionally of one outcome only."""
    with _read_only(db_path) as con:
        if con is None:
            return []
        cursor = con.execute(
            f"""
            select target, target_id, outcome, http_status, error, operation, finished_at
            from {SCHEMA}.journal
            where job_id = ?
            qualify row_number() over (partition by item_key order by entry_id desc) = 1
                and (? is null or outcome = ?)
            order by entry_id
            """,
            [job_id, outcome, outcome],
        )
        names = [d[0] for d in cursor.description or []]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def unrefreshed_run(con: Any, job_id: str) -> str | None:
    """The latest run of `job_id` when a write of the job succeeded after its last refresh
    that ended well (a run killed before its refresh finished, one whose refresh failed, one
    run with `--no-refresh`); None otherwise. `con` is a read-only warehouse connection."""
    found = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = ? and table_name = 'runs'",
        [SCHEMA],
    ).fetchone()
    if not found or not found[0]:
        return None
    row = con.execute(
        f"""select (select run_id from {SCHEMA}.runs where job_id = ?
                order by started_at desc limit 1)
            where exists (
                select 1 from {SCHEMA}.journal j
                where j.job_id = ? and j.outcome = 'succeeded'
                    and coalesce(j.finished_at, j.started_at) > coalesce((
                        select max(r.refreshed_at) from {SCHEMA}.runs r
                        where r.job_id = ? and r.refresh_error is null
                    ), '-infinity'::timestamptz))""",
        [job_id, job_id, job_id],
    ).fetchone()
    return str(row[0]) if row and row[0] is not None else None


@contextmanager
def open_journal(path: str | Path) -> Iterator[Journal]:
    """The journal of the warehouse at `path`, closed on exit."""
    journal = Journal(path)
    try:
        yield journal
    finally:
        journal.close()
