"""Running a plan: resume from the journal, send the requests, record each item's outcome.

A write is never sent twice blindly, whatever its verb: a cancel, a no-show, a reschedule, an
invitation or a resent notification e-mails people, and a POST creates. The client resends a
write only when the server certainly did not act on it (see `client.retry`); everything else
comes back here, where the target's state is read before anything goes out again.

Order of a run:
1. Items an earlier run of the job already succeeded with are not sent again.
2. Items an earlier run left `pending` (it died mid-request) or `unknown` are checked on the
   server when the operation can be checked: applied ones count as done, the others are sent.
   So are items of a write that e-mails people that an earlier run sent and saw fail: a
   server may apply a write it answered as failed.
   Uncheckable ones (resend notification, invite participants, availability rules, links)
   stay `unknown` unless `retry_unknown`; a write that e-mails people shown not applied
   stays `unknown` until `settle_seconds` have passed since its send. Targets another job
   left pending, unknown, or done without the warehouse seeing it are checked the same way
   (`_checked_after_other_jobs`): the same command on a changed input is another job.
   Before any check, the requests those runs left with the server are waited out.
3. Requests run `concurrency` at a time (list endpoints: one chunk per request). Every request's
   items are journaled `pending` before it goes out and settled after.

When a request fails (after the client's own retries):
- a 4xx means the server refused it and applied nothing; items that the server shows already
  in the target state are skipped ("already canceled upstream"), and for a refused list chunk
  the rest are sent again one per request, so one bad id does not sink 99 (of a write that
  e-mails people or creates, not those the read-back could not read: a server working
  through a list may apply some ids before it refuses the list at a bad one);
- a connection never made applied nothing: `failed`, and a re-run sends them;
- a 429 is a refusal before processing, as a rule; a server may still count a quota after the
  work, or a gateway's limiter answer on the way back. The client does not resend a write
  answered 429 during a run (`RetryPolicy.resend_writes_on_429`): once the server's
  Retry-After has passed (the client holds every request until then), the items are read
  back, applied ones succeeded, the others sent again, up to the client's `max_retries`
  times, then `failed`; a write that e-mails people or creates is read back once more, a
  margin later, before it is sent again. A list found partly applied was at work on the
  server all the same, and is ambiguous (below). A write that cannot be read back (a
  resent notification, an invitation, a single-use link, an availability rule) is
  `unknown` after a 429: not sent again;
- a 5xx, a timeout, a dropped connection, a body cut short or a 2xx that is no API answer may
  hide an applied write (ambiguous): the items
  are read back (a list chunk's by `filter[ids]`); applied ones succeeded, the ones not yet in
  the target state are read again once the write can no longer land (the server may still be
  at it: a gateway answers 504 while the API works on) and then sent again (a list chunk:
  only those ids), up to the client's `max_retries` times, and the ones that cannot be read
  back are `unknown`: not sent again;
- for a write that e-mails people or creates (`OperationSpec.never_twice`: a second poll,
  tag or vote is as lasting as a second e-mail), "not yet" is not enough: the server may
  apply it minutes later, or still be working through a list chunk.
  The items are read again while the reads show progress (`_watch`), and the ones still as
  before are sent again only once `settle_seconds` have passed since the send and the last
  progress; before then they are `unknown`, and a re-run after then checks them again (from
  the journaled send time, `ItemHistory.open_since`: after a kill too);
- a notification or an invitation (`OperationSpec.notifies`) another job already sent to the
  target is held back (`held`, exit 6) unless `resend`;
- an auth error stops the run: no further request can succeed with that key;
- so do `FAILING_IN_A_ROW` requests in a row failing on the server's side (5xx, timeouts,
  dropped connections, 429 past the retries) with nothing done in between: a server that
  keeps failing would otherwise hold a bulk job for hours (an ambiguous failure waits out the
  in-flight window before its read-back), and what is left is sent by a re-run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from simplymeet.client import AuthError, SimplyMeetError, TransportError
from simplymeet.client.http import watch_responses
from simplymeet.client.retry import RetryPolicy
from simplymeet.config import ApiSettings, WritebackSettings
from simplymeet.sync.checks import IncompleteScanError
from simplymeet.writeback.answers import answer_problem, empty_where_unsaid, says_failed
from simplymeet.writeback.baseline import (
    BOOKINGS,
    booking_identities,
    bookings_made,
    with_known_bookings,
)
from simplymeet.writeback.journal import (
    EarlierJob,
    ItemHistory,
    Journal,
    Outcome,
    latest_earlier,
    notified_before,
    refusal,
    split_by_history,
)
from simplymeet.writeback.operations import OPERATIONS, same_change
from simplymeet.writeback.plan import GONE_UPSTREAM, Item, Plan, Request
from simplymeet.writeback.server_current import Refused, judged_on_server, refilled_from_server
from simplymeet.writeback.server_time import ServerTime
from simplymeet.writeback.verify import CREATIONS, OUTAGES, Verdicts, check_applied

if TYPE_CHECKING:
    from simplymeet.client import ApiClient
    from simplymeet.writeback.spec import OperationSpec

log = logging.getLogger("simplymeet.writeback")


@dataclass
class ItemOutcome:
    """What happened to one item in this run."""

    item: Item
    outcome: Outcome
    status: int | None = None
    error: str | None = None
    result: Any = None
    note: str | None = None
    """How it was settled when not simply sent: "done by an earlier run", "checked on server"."""
    read_back: bool = False
    """Its answer was lost and the server, read back, showed it applied."""


ALREADY_SO = "already so on the server"
"""The note of an item the server refused as already in the target state (the warehouse
was behind it)."""


@dataclass
class RunReport:
    """The outcome of a run, per item, plus what it cost."""

    plan: Plan
    run_id: str | None
    outcomes: list[ItemOutcome] = field(default_factory=list)
    requests: int = 0
    """Write requests sent in this run (the client's retries of one request count once)."""
    retries: int = 0
    resent: int = 0
    """Items sent again after an ambiguous answer, once the server showed them not applied."""
    aborted: str | None = None
    """Why the run stopped early (an auth error, a server failing every request), or None."""
    server_failing: bool = False
    """The run stopped because the server failed `FAILING_IN_A_ROW` requests in a row."""
    duration_seconds: float = 0.0
    refreshed: bool = False
    refresh_error: str | None = None
    refresh_exit: int | None = None
    """The exit code the refresh's error calls for (`cli.errors.exit_code_for`)."""
    refresh_skipped: str | None = None
    """Why the warehouse was not refreshed although asked to (nothing succeeded or may have
    been applied)."""
    dry_run: bool = False
    preview: Any = None
    """What the run was planned to send (`api.Preview`), when run through `run_operation`."""

    def by(self, outcome: Outcome) -> list[ItemOutcome]:
        return [o for o in self.outcomes if o.outcome == outcome]

    @property
    def succeeded(self) -> list[ItemOutcome]:
        return self.by("succeeded")

    @property
    def failed(self) -> list[ItemOutcome]:
        return self.by("failed")

    @property
    def unknown(self) -> list[ItemOutcome]:
        return self.by("unknown")

    @property
    def skipped(self) -> list[ItemOutcome]:
        return self.by("skipped")

    @property
    def held(self) -> list[ItemOutcome]:
        """Notifications or invitations not sent: another job already sent them (`--resend`)."""
        return self.by("held")

    @property
    def ok(self) -> bool:
        """True when nothing failed, nothing is unknown or held back, and the run was not cut
        short."""
        return not self.failed and not self.unknown and not self.held and self.aborted is None

    def counts(self) -> dict[str, int]:
        out = {k: len(self.by(k)) for k in ("succeeded", "failed", "unknown")}  # type: ignore[arg-type]
        out["skipped"] = len(self.skipped) + len(self.plan.skipped)
        out["requests"] = self.requests
        return out


class _Status:
    """The HTTP status of the last response on each thread (the client returns only bodies)."""

    def __init__(self, client: Any) -> None:
        self._local = threading.local()
        self._remove = watch_responses(client, self._record)
        self.installed = self._remove is not None

    def _record(self, response: Any) -> None:
        self._local.status = response.status_code

    def uninstall(self) -> None:
        if self._remove is not None:
            self._remove()

    def take(self) -> int | None:
        status = getattr(self._local, "status", None)
        self._local.status = None
        return status


class Executor:
    """Runs one plan against the API, journaling as it goes."""

    def __init__(
        self,
        plan: Plan,
        client: ApiClient,
        journal: Journal,
        *,
        concurrency: int = 8,
        retry_unknown: bool = False,
        resend: bool = False,
        settle_seconds: float | None = None,
        selection: str = "",
        on_progress: Callable[[int], None] | None = None,
    ) -> None:
        self.plan = plan
        self.spec = plan.spec
        self.client = client
        self.journal = journal
        self.concurrency = max(1, concurrency)
        self.retry_unknown = retry_unknown
        self.resend = resend
        """Send a notification or an invitation to targets another job already sent it to."""
        self.settle_seconds = DEFAULT_SETTLE_S if settle_seconds is None else settle_seconds
        """`[writeback] settle_seconds`: how long after an ambiguous send of a write that
        e-mails people the server may still apply it (`_may_resend`)."""
        self.selection = selection
        self.on_progress = on_progress or (lambda _n: None)
        self._lock = threading.Lock()
        self._time = ServerTime(client)
        """Now and send times for the settle period, as no clock running ahead shortens it."""
        self._probe_lock = threading.Lock()
        self._time_asked = False
        self._abort: str | None = None
        self._failing = 0
        """Requests in a row the server failed (none answered in between)."""
        self._server_gave_out = False
        """The run stopped at `FAILING_IN_A_ROW` (requests still in flight may answer after)."""
        self._status = _Status(client)
        policy = getattr(client, "retry", None)
        self.max_resends = policy.max_retries if isinstance(policy, RetryPolicy) else 3
        """How often an item found not applied after an ambiguous answer is sent again."""
        self.run_id = ""
        self.report = RunReport(plan, run_id=None)
        self._made: set[int] = set()
        """What this job made (bookings, polls: its answers named them, or a read-back found
        them for an item): not signs that another item's was made."""

    # --- the run ------------------------------------------------------------------------------

    def run(self) -> RunReport:
        """Resume, send, settle; returns the report (the journal has every detail)."""
        started = time.monotonic()
        retries_before = self.client.stats.retries
        plan, journal = self.plan, self.journal
        run_id = journal.start_run(
            plan, selection=self.selection, in_flight=in_flight_bounds(self.client)
        )
        self.run_id = self.report.run_id = run_id
        try:
            history = journal.history(plan.job_id)
            self._done_not_skipped(history)
            journal.record_skipped(plan.job_id, run_id, self.spec.endpoint, plan.skipped)
            for result in journal.results(plan.job_id):
                self._made.update(bookings_made(result))
            earlier = journal.earlier_jobs(
                plan.job_id, same_change(self.spec), plan.items, plan.account
            )
            to_send = self._resume(history, earlier)
            with _read_back_after_429(self.client):
                self._send_all(plan.requests(to_send))
        finally:
            self._status.uninstall()
        self.report.aborted = self._abort
        self.report.server_failing = self._server_gave_out
        self.report.retries = self.client.stats.retries - retries_before
        self.report.duration_seconds = time.monotonic() - started
        journal.finish_run(run_id, self.report.counts())
        return self.report

    def _done_not_skipped(self, history: dict[str, ItemHistory]) -> None:
        """Take out of the plan's skips the items an earlier run of this job did: a target
        in the state asked for because this job put it there (its refresh loaded it) is done,
        not found so (the journal would otherwise tell that the job did not write it)."""
        skipped = self.plan.skipped
        done = [s for s in skipped if (past := history.get(s.item.key)) and past.written]
        if not done:
            return
        settled = {id(s) for s in done}
        skipped[:] = [s for s in skipped if id(s) not in settled]
        for s in done:
            self._settle(s.item, "succeeded", note="done by an earlier run of this job")

    def _resume(
        self, history: dict[str, ItemHistory], earlier: Sequence[EarlierJob] = ()
    ) -> list[Item]:
        """The items to send in this run, settling what earlier runs (of this job, and of
        other jobs writing the same targets) left behind."""
        done, to_check, to_send = split_by_history(self.plan.items, history)
        for item in done:
            if history[item.key].written:
                self._settle(item, "succeeded", note="done by an earlier run of this job")
            else:
                self._settle(item, "skipped", note=f"{ALREADY_SO} (an earlier run of this job)")
        if self.spec.notifies:
            to_send = self._held_back(to_send, history, earlier)
        crossed = latest_earlier(
            [*to_check, *to_send], history, earlier, resend=self.spec.notifies and self.resend
        )
        after_others = [i for i in to_send if i.key in crossed]
        to_send = [i for i in to_send if i.key not in crossed]
        resent = self._sent_and_failed(to_send, history)
        to_check += resent
        to_send = [i for i in to_send if i.key not in {r.key for r in resent}]
        if to_check or after_others:
            # Read back against what the earlier send carried: its filled values were the
            # server's then, not the warehouse's.
            to_check = refilled_from_server(self.plan, to_check, self.client)
            pending = [(history[i.key].pending_since, self.plan.job_id) for i in to_check]
            pending += [(job.history.pending_since, job.job_id) for job in crossed.values()]
            self._wait_out_interrupted(pending)
            to_send += self._checked_after_this_job(to_check, history)
            to_send += self._checked_after_other_jobs(after_others, crossed)
        # Checked items too: one shown not applied (or sent with --retry-unknown) may have
        # been canceled upstream since, or be the target of another command's send.
        return self._judged_on_server(self._after_other_writes(to_send))

    def _sent_and_failed(self, items: list[Item], history: dict[str, ItemHistory]) -> list[Item]:
        """Of `items` (to send), those of a write that e-mails people or creates (a POST),
        and can be read back, that an earlier run of this job sent and saw fail: read back
        before they are sent again (`_checked_after_this_job`). A server may apply a write it
        answered as failed or read back as not done (a bulk job queued behind a front end's
        error, a vote recorded seconds after its 200), and a journal written before a 2xx read
        back as not done was held as `unknown` holds such items as `failed`: sent blind, each
        would e-mail its invitee twice, or make a second poll, tag or vote."""
        if not self.spec.never_twice or self.spec.verify is None:
            return []
        return [i for i in items if (past := history.get(i.key)) is not None and past.sent_before]

    def _after_other_writes(self, items: list[Item]) -> list[Item]:
        """Of `items` of a write that e-mails people, those no other job's send to their
        target may still land on (a cancel answered 504 an hour ago, say: a reschedule sent
        now would move the booking and e-mail its invitee, then the cancel lands). The others
        are held (`_hold`) until every such send's `settle_seconds` have passed; a re-run then
        judges them afresh on the server (`_judged_on_server`).

        Jobs of this very change count too: `latest_earlier` passes over another job's send
        once this job has journaled the target since, and a hold is such an entry, so a re-run
        of a held command would otherwise send at once what the hold waited for."""
        if not self.spec.reaches_invitees or not items:
            return items
        others = sorted(s.endpoint for s in OPERATIONS.values() if s.reaches_invitees)
        # Every unsettled send counts, not only the newest job's: a newer job settled on the
        # target says nothing of an older send still in flight.
        open_until: dict[str, tuple[dt.datetime, EarlierJob]] = {}
        for job in self.journal.earlier_jobs(self.plan.job_id, others, items, self.plan.account):
            until = self._may_resend(job.history.open_since) if job.unsettled else None
            if until is None:
                continue
            for name in (job.target, *job.identities):
                if name not in open_until or open_until[name][0] < until:
                    open_until[name] = (until, job)
        out = []
        for item in items:
            names = booking_identities(item.body) if item.key.startswith("new#") else (item.target,)
            held = [open_until[name] for name in names if name in open_until]
            if not held:
                out.append(item)
                continue
            until, job = max(held, key=lambda pair: pair[0])
            why = f"job {job.job_id} sent a write to it with no sure answer"
            self._hold(item, why, until)
        return out

    def _hold(self, item: Item, why: str, until: dt.datetime) -> None:
        """Settle `item` as not sent while another job's send to its target may still land:
        journaled `failed` (never sent, so a re-run sends it fresh, judged again then)."""
        note = (
            f"held: the server may still be applying it; not sent before "
            f"{until:%Y-%m-%d %H:%M:%S} UTC ([writeback] settle_seconds after that send), a "
            "re-run then sends it if it is still needed"
        )
        self._record(item, "failed", f"{why}; {note}")
        self._settle(item, "failed", error=why, note=note)

    def _judged_on_server(self, items: list[Item]) -> list[Item]:
        """Of `items` (about to be sent: for the first time, or again after a refusal or a
        read-back), those to send as the server has their targets now
        (`server_current.judged_on_server`); the others
        settled: skipped (nothing to do), or failed (on the wrong side of now there). Where
        the targets cannot be read, none is sent (failed: a re-run sends them): a write that
        e-mails people is not sent on the warehouse's word alone."""
        try:
            judged = judged_on_server(self.plan, items, self.client, self._time.now())
        except (SimplyMeetError, IncompleteScanError) as exc:
            votes = self.spec.verify is not None and self.spec.verify.fetch == "poll_votes"
            what = "polls" if votes or self.spec.endpoint == "poll_create" else "bookings"
            error = f"not sent: the {what} could not be read to check them first ({exc})"
            if isinstance(exc, AuthError):
                with self._lock:
                    self._abort = self._abort or str(exc)
            elif isinstance(exc, OUTAGES):
                # Unreachable, failing or limiting after the client's retries, or answering
                # what is no list (a gateway's page): an outage (exit 5, worth a retry), not
                # items the server refused.
                self._gave_out(f"the {what} could not be read ({exc})")
            for item in items:
                self._record(item, "failed", f"{error}; a re-run sends it")
                status = getattr(exc, "status", None)
                self._settle(item, "failed", status, error, note="a re-run sends it")
            return []
        to_send = []
        for item in judged:
            if isinstance(item, Item):
                to_send.append(item)
            elif isinstance(item, Refused):
                self._record(item.item, "failed", item.reason)
                self._settle(item.item, "failed", error=item.reason)
            else:
                self._record(item.item, "skipped", item.reason)
                self._settle(item.item, "skipped", note=item.reason)
        if len(to_send) < len(items):
            log.warning(
                "%d item(s) not sent as the server has them now (done, or changed since the "
                "last sync)",
                len(items) - len(to_send),
            )
        return to_send

    def _held_back(
        self,
        items: list[Item],
        history: dict[str, ItemHistory],
        earlier: Sequence[EarlierJob],
    ) -> list[Item]:
        """Items of a write that e-mails people and cannot be read back (a resent
        notification, an invitation) whose target another job already sent it to and saw
        answered, whatever the payload: held back (journaled as a skip, so `--resend` later
        sends them), unless `--resend`. The rest, to send (or to check first: `_resume`)."""
        if self.resend:
            return items
        sent = notified_before(items, history, earlier)
        for item in [i for i in items if i.key in sent]:
            job = sent[item.key]
            when = job.history.sent_at
            at = f" at {when:%Y-%m-%d %H:%M} UTC" if isinstance(when, dt.datetime) else ""
            error = f"job {job.job_id} already sent it{at}"
            self.journal.record_settled(
                self.plan.job_id, self.run_id, self.spec.endpoint, [item], "skipped",
                f"held back: {error}",
            )  # fmt: skip
            self._settle(item, "held", error=error, note=_RESEND)
        return [i for i in items if i.key not in sent]

    def _may_resend(self, sent: dt.datetime | None) -> dt.datetime | None:
        """None when a target read back as not applied may be sent again; else when it may
        (`settle_seconds` after its ambiguous send `sent`, for a write that e-mails people or
        creates: the server may still be working on it)."""
        if sent is None or not self.spec.never_twice:
            return None
        until = sent + dt.timedelta(seconds=self.settle_seconds)
        return until if self._time.now() < until else None

    def _checked_after_this_job(
        self, to_check: list[Item], history: dict[str, ItemHistory]
    ) -> list[Item]:
        """Items an earlier run of this job left pending or unknown (or sent and saw fail,
        `_sent_and_failed`), checked on the server: those to send (shown not applied, or
        unknown with `retry_unknown`); the rest settled."""
        if not to_check:
            return []
        # Compared with the target as it was before the first send, not as the warehouse has
        # it now: a sync since may hold what that send did (baseline.py).
        journaled = self.journal.baselines(self.plan.job_id)
        to_check = [replace(i, baseline=journaled.get(i.key)) for i in to_check]
        verdicts = self._check(to_check)
        if verdicts.outage is not None:
            self._gave_out(
                f"what an earlier run left open could not be checked ({verdicts.outage})"
            )
        # A request some of whose items were applied since its last check: the server is
        # still working through it, and the rest's settle period starts again now.
        progressed = {
            request
            for item in to_check
            if verdicts.get(item.key) is True
            for request in history[item.key].open_requests
        }
        to_send: list[Item] = []
        for item in to_check:
            past = history[item.key]
            verdict = verdicts.get(item.key)
            if verdict is True and past.sent_before and not past.sent_unrefused:
                # Every send of this job was refused (applied nothing): another hand did it.
                note = f"{ALREADY_SO} (this job's sends were refused)"
                self._record(item, "skipped", note)
                self._settle(item, "skipped", note=note)
                continue
            if verdict is True:
                note = "took effect in an earlier run (checked on the server)"
                if past.pending_entries:
                    self.journal.resolve(past.pending_entries, "succeeded", note)
                else:
                    # Left unknown or failed: journaled done, so no later run reads it again.
                    self._record(item, "succeeded", note)
                self._settle(item, "succeeded", note=note)
                continue
            if item.key in verdicts.gone and not self.spec.marks_deleted:
                self._skip_gone(item, past.pending_entries)
                continue
            since = past.open_since
            if since is not None and past.open_requests & progressed:
                since = max(since, self._time.stamp())
            not_before = self._may_resend(since) if verdict is False else None
            if not_before is not None:
                note = _settling(not_before)
                self.journal.resolve(past.pending_entries, "unknown", f"not applied yet; {note}")
                self._settle(item, "unknown", error=_NOT_YET, note=note)
                continue
            if verdict is False:
                self.journal.resolve(
                    past.pending_entries, "failed", "interrupted before it took effect (checked)"
                )
                to_send.append(item)
                continue
            why = verdicts.why.get(item.key)
            self.journal.resolve(
                past.pending_entries,
                "unknown",
                f"interrupted mid-request; {why}"
                if why
                else "interrupted mid-request; could not check",
            )
            if verdicts.outage is not None:
                # Not a fate the server left unclear: one nobody could read. A plain re-run
                # once it answers checks it; --retry-unknown would send it blind.
                self._settle(
                    item,
                    "unknown",
                    error=f"not checked: {verdicts.outage}",
                    note="run the same command again once the server answers",
                )
            elif self.retry_unknown:
                to_send.append(item)
            else:
                self._settle(
                    item,
                    "unknown",
                    error=why or past.last_error or "an earlier run may have applied it",
                    note="not sent again: check it, then re-run with --retry-unknown if needed",
                )
        return to_send

    def _checked_after_other_jobs(
        self, items: list[Item], crossed: dict[str, EarlierJob]
    ) -> list[Item]:
        """Items whose target another job left unsettled (`EarlierJob.unsettled`), checked on
        the server: those to send; the rest settled and journaled in this job.

        The same write (equal item keys: the job was run again on a changed input, which
        hashes to another job id) is treated as a resumed item: applied, it is done; shown
        as before that job's send, it is sent; anything else is unknown. Another write to the
        target is sent unless the server already shows it done, or, for a write that e-mails
        people, while the other job's send may still land (`settle_seconds`): a cancel with
        another reason is one more e-mail to the invitee all the same."""
        if not items:
            return []
        # A notification or an invitation to the target is the same e-mail whatever the payload.
        same = {i.key for i in items if crossed[i.key].same_write(i) or self.spec.notifies}
        checked = [
            replace(i, baseline=crossed[i.key].baseline)
            if i.key in same and crossed[i.key].baseline is not None
            else i
            for i in items
        ]
        verdicts = self._check(checked)
        to_send: list[Item] = []
        for item in checked:
            job = crossed[item.key]
            verdict = verdicts.get(item.key)
            mine = f"(checked by job {self.plan.job_id})"
            if item.key in verdicts.gone and not self.spec.marks_deleted:
                self._skip_gone(item, job.history.pending_entries if item.key in same else [])
            elif verdict is True:
                note = f"took effect in an earlier run of job {job.job_id} (checked on the server)"
                if item.key in same:
                    self.journal.resolve(
                        job.history.pending_entries, "succeeded", f"took effect {mine}"
                    )
                self._record(item, "succeeded", note)
                self._settle(item, "succeeded", note=note)
            elif (
                item.key not in same
                and verdict is False
                and (wait := self._may_resend(job.history.open_since))
            ):
                self._hold(item, _other_not_yet(job), wait)
            elif item.key not in same:
                to_send.append(item)
            elif verdict is False and (wait := self._may_resend(job.history.open_since)):
                note = _settling(wait)
                self.journal.resolve(
                    job.history.pending_entries, "unknown", f"not applied yet {mine}; {note}"
                )
                self._record(item, "unknown", f"{_NOT_YET}; {note}")
                self._settle(item, "unknown", error=_NOT_YET, note=note)
            elif verdict is False:
                self.journal.resolve(
                    job.history.pending_entries,
                    "failed",
                    f"interrupted before it took effect {mine}",
                )
                to_send.append(item)
            else:
                why = verdicts.why.get(item.key)
                self.journal.resolve(
                    job.history.pending_entries, "unknown", f"{why or 'could not check'} {mine}"
                )
                if self.retry_unknown:
                    to_send.append(item)
                    continue
                error = why or _left_by(job)
                note = "not sent: check it, then re-run with --retry-unknown if needed"
                self._record(item, "unknown", f"{error}; {note}")
                self._settle(item, "unknown", error=error, note=note)
        return to_send

    def _skip_gone(self, item: Item, pending_entries: Sequence[str]) -> None:
        """Settle an item whose event the server shows deleted upstream: nothing to send it
        to, and the 404 has the refresh mark it deleted (left unknown, it never would be)."""
        if pending_entries:
            self.journal.resolve(pending_entries, "skipped", GONE_UPSTREAM)
        else:
            self._record(item, "skipped", GONE_UPSTREAM)
        self._settle(item, "skipped", 404, note=GONE_UPSTREAM)

    def _record(self, item: Item, outcome: Outcome, note: str) -> None:
        """Journal an item settled without a request in this run."""
        self.journal.record_settled(
            self.plan.job_id, self.run_id, self.spec.endpoint, [item], outcome, note
        )

    def _wait_out_interrupted(self, pending: Sequence[tuple[dt.datetime | None, str]]) -> None:
        """Wait until the requests interrupted runs left pending can no longer land.

        `pending` holds, per item, when its request was begun (None: none pending) and by
        which job. A run killed mid-request leaves its request with the server, which may
        apply it seconds later: checked at once, the target shows "not applied" and the write
        would be sent twice (a second booking, a second reschedule e-mail). So the check waits
        until the client that sent it would have given up on its answer (`in_flight_until`)."""
        begun: dict[str, dt.datetime] = {}
        for since, job_id in pending:
            if since is not None:
                begun[job_id] = max(since, begun.get(job_id, since))
        if not begun:
            return
        mine = in_flight_bounds(self.client)
        deadline: dt.datetime | None = None
        for job_id, last in begun.items():
            # The killed run's client may have waited longer than this one would; a run
            # journaled before runs kept their bounds: the configuration's default.
            journaled = self.journal.in_flight_bounds(job_id) or (DEFAULT_TIMEOUT_S, 0.0)
            timeout, span = max(mine[0], journaled[0]), max(mine[1], journaled[1])
            until = in_flight_until(last, timeout, span)
            deadline = until if deadline is None else max(deadline, until)
        assert deadline is not None
        wait = (deadline - self._time.now()).total_seconds()
        if wait > 0:
            count = sum(since is not None for since, _ in pending)
            log.warning(
                "an interrupted run may still have %d request(s) with the server: waiting "
                "%.0f s for them to land before checking whether they took effect",
                count,
                wait,
            )
            time.sleep(wait)

    def _send_all(self, requests: Sequence[Request]) -> None:
        """Run requests `concurrency` at a time; follow-ups (per-item retries) join the queue."""
        queue = deque(requests)
        if not queue:
            return
        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="simplymeet-write") as pool:
            running: set[Future[list[Request]]] = set()
            while queue or running:
                while queue and len(running) < self.concurrency and self._abort is None:
                    running.add(pool.submit(self._send, queue.popleft()))
                if not running:
                    break
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    # Follow-ups first: a chunk's re-send should not wait behind the batch.
                    queue.extendleft(reversed(future.result()))
        for request in queue:  # left over after an abort: never sent
            for item in request.items:
                self._settle(item, "failed", error=f"not sent: {self._abort}")

    # --- one request --------------------------------------------------------------------------

    def _learn_server_time(self) -> None:
        """Read the server's clock (one GET) before the first send of a write that e-mails
        people, if no answer has shown it yet: the send's journaled time must not be this
        machine's alone, or a clock behind ends a later run's settle period early."""
        if not self.spec.reaches_invitees or self._time_asked or self._time.seen:
            return
        with self._probe_lock:
            if self._time_asked:
                return
            # Unanswered, this machine's clock it is; the send itself still goes.
            with contextlib.suppress(SimplyMeetError):
                self.client.call("current_user_get")
            self._time_asked = True

    def _send(self, request: Request) -> list[Request]:
        """Send one request and settle its items; returns follow-up requests, if any."""
        if request.resend:
            time.sleep(self._backoff(request.resend))
        self._learn_server_time()
        sent = self._time.stamp()
        request_id = self.journal.begin(self.plan.job_id, self.run_id, request, sent)
        with self._lock:
            self.report.requests += 1
            self.report.resent += len(request.items) if request.resend else 0
        self._status.take()
        try:
            body = self.client.call(
                request.endpoint, path_params=request.path_params, body=request.body, raw=True
            )
        except SimplyMeetError as error:
            return self._failed(request, request_id, error, sent)
        self._server_worked()
        status = self._status.take() if self._status.installed else None
        result = self.spec.result(body) if self.spec.result is not None else None
        items = list(request.items)
        # Checked before its answer's bookings join the job's: they are this item's own.
        claimed: dict[str, list[int]] = {}
        undone = self._not_done_after_success(request, body, claimed)
        with self._lock:
            self._made.update(bookings_made(result))
        done = [item for item in items if item.key not in undone]
        if len(done) == 1 and not bookings_made(result) and claimed.get(done[0].key):
            # An answer naming nothing (a 204 to a booking): what the read-back found it made
            # is journaled as its result, so a later run of the job knows them as this item's
            # and not as another row's booking "not as asked".
            result = {BOOKINGS: sorted(claimed[done[0].key])}
        if done:
            self.journal.finish(request_id, "succeeded", items=done, status=status, result=result)
        for item in done:
            self._settle(item, "succeeded", status=status, result=result)
        for outcome in ("failed", "unknown"):
            left = [item for item in items if undone.get(item.key, ("",))[0] == outcome]
            for item in left:
                note = undone[item.key][1]
                self.journal.finish(request_id, outcome, items=[item], status=status, error=note)
                self._settle(item, outcome, status, note)
        for item in items:
            if undone.get(item.key, ("",))[0] == "skipped":
                # Answered for with the rest of a list, yet its event reads as gone: no
                # write of this run did anything to it. Settled as the event's own GET
                # answered (404), so the refresh marks it deleted.
                self.journal.finish(request_id, "skipped", items=[item], error=GONE_UPSTREAM)
                self._settle(item, "skipped", 404, note=GONE_UPSTREAM)
        return []

    def _server_worked(self) -> None:
        """A request answered, refused (the item at fault, not the server) or found applied
        after all: the count of failures in a row starts again."""
        with self._lock:
            self._failing = 0

    def _server_failed(self, error: SimplyMeetError) -> None:
        """A request the server did not carry out; the run stops at `FAILING_IN_A_ROW` in a
        row."""
        with self._lock:
            self._failing += 1
            if self._failing >= FAILING_IN_A_ROW and self._abort is None:
                self._server_gave_out = True
                self._abort = (
                    f"the server failed {self._failing} requests in a row (last: {error}); "
                    "nothing more was sent: run the same command again once it answers"
                )

    def _not_done_after_success(
        self, request: Request, body: Any, claimed: dict[str, list[int]]
    ) -> dict[str, tuple[Outcome, str]]:
        """The items a 2xx did not prove done, with their outcome ("failed" or "unknown"; or
        "skipped" for one whose event the read-back finds deleted upstream) and why, as the
        answer and the server show them (`answers.py`).

        Checked where the answer does not prove every item: a list request (a server may
        apply some ids and answer for all), or a body that is not what the reference promises
        (`answer_problem`: one that says it failed, one where an empty one is promised, one
        that is not the DTO, a booking answered for fewer starts than asked). Read back where
        the operation can be: shown not done, a write that e-mails people is unknown (the
        server may still apply it, even one whose body says it failed: a re-run checks it
        again once `settle_seconds` have passed), and any other write failed (a re-run sends
        it); neither shown done nor proven not done after such a body, it is unknown, and so
        is a move or a booking shown at another start than asked, after any 2xx. A write
        that cannot be read back is unknown after such a body, or failed when the body says
        it failed. `claimed` gets, per item read back, the objects the read found it made."""
        spec = self.spec
        items = list(request.items)
        problem = answer_problem(request.endpoint, body, [item.values for item in items])
        if spec.verify is None:
            if problem is None or empty_where_unsaid(request.endpoint, body):
                return {}
            if says_failed(body) is not None and not spec.never_twice:
                return {item.key: ("failed", f"{problem}: a re-run sends it") for item in items}
            note = f"{problem}, and it cannot be read back: {_RETRY}"
            return {item.key: ("unknown", note) for item in items}
        # A list request of one id too: a server acting on part of a list may act on none.
        # Any other write that can be read back too: answered done and not done, it would be
        # journaled done, and no re-run would send it (one read back a request).
        if problem is None and not spec.is_list and not _read_back_after_success(spec):
            return {}
        verdicts = self._check(items)
        claimed.update(verdicts.claimed)
        listed = spec.is_list and request.endpoint == spec.endpoint
        out: dict[str, tuple[Outcome, str]] = {}
        for item in items:
            verdict = verdicts.get(item.key)
            if item.key in verdicts.gone and not spec.marks_deleted:
                out[item.key] = ("skipped", GONE_UPSTREAM)
            elif verdict is False and spec.never_twice:
                # A server may apply a write a moment after answering for it (a queue, a bulk
                # job working through a list, a replica read, a front end that gave up on a
                # backend still at work and said it failed): sent again now, it could e-mail
                # its invitee twice, or make a second poll, tag, vote or booking.
                why = f"{problem}, and" if problem else "answered as done, and"
                out[item.key] = (
                    "unknown",
                    f"{why} the server shows it not done yet (checked): a re-run checks it "
                    "again and sends it once settle_seconds have passed",
                )
            elif verdict is False:
                why = problem or "answered as done"
                out[item.key] = (
                    "failed",
                    f"{why}, and the server shows it not done (checked): a re-run sends it",
                )
            elif verdict is None and problem is not None:
                why = verdicts.why.get(item.key) or "the server could not be read back"
                out[item.key] = ("unknown", f"{problem}; {why}: {_RETRY}")
            elif verdict is None and verdicts.error is not None and listed:
                # Answered for, not shown done: a server may answer for a whole list and
                # apply part of it. (One item's own 2xx stands where it cannot be read back.)
                out[item.key] = (
                    "unknown",
                    f"answered as done, and reading it back failed ({verdicts.error}): "
                    f"{_CHECKED_AGAIN}",
                )
            elif verdict is None and item.key in verdicts.elsewhere:
                # Moved or booked at another start (read in another timezone): the answer
                # proves a write, not this one, and sending it again would e-mail twice. (A
                # state word we do not know after a 2xx is the server's word for done.)
                out[item.key] = ("unknown", f"answered as done, and {verdicts.why[item.key]}")
        return out

    def _failed(
        self, request: Request, request_id: str, error: SimplyMeetError, sent: dt.datetime
    ) -> list[Request]:
        items = list(request.items)
        message, status = str(error), error.status
        if isinstance(error, AuthError):
            with self._lock:
                self._abort = self._abort or message
            self._finish(request_id, items, "failed", error)
            for item in items:
                self._settle(item, "failed", status, message)
            return []
        if _refused(error):
            self._server_worked()
            return self._refused(request, request_id, error)
        if error.status == 429:
            return self._rate_limited(request, request_id, error, sent)
        if _not_applied(error):
            # Nothing reached the server: a re-run sends it.
            self._server_failed(error)
            if getattr(self.client, "server_unreachable", False):
                # No request of the run ever reached it: the API is unreachable (exit 5).
                self._gave_out(f"the server could not be reached ({error})")
            self._finish(request_id, items, "failed", error)
            for item in items:
                self._settle(item, "failed", status, message)
            return []
        return self._ambiguous(request, request_id, error, sent)

    def _gave_out(self, why: str) -> None:
        """Stop sending: the server is out of reach or failing (exit 5), for `why`."""
        with self._lock:
            if self._abort is None:
                self._server_gave_out = True
                self._abort = (
                    f"{why}; nothing more was sent: run the same command again once it answers"
                )

    def _rate_limited(
        self, request: Request, request_id: str, error: SimplyMeetError, sent: dt.datetime
    ) -> list[Request]:
        """A 429: read the items back (the client holds the read until the server's
        Retry-After has passed) before any is sent again; see the module docstring. A request
        found partly applied was at work on the server all the same (a gateway's limiter
        answering on the way back): it is as ambiguous as a 5xx."""
        items = list(request.items)
        message, status = str(error), error.status
        last = request.resend >= self.max_resends
        if self.spec.verify is None:
            # Not sent again: the server may have done it (a second e-mail, a second link,
            # a rule added twice), as after any other answer that leaves it in doubt.
            self._server_failed(error)
            note = f"answered 429 and it cannot be read back: {_ADVICE}"
            self._finish(request_id, items, "unknown", error, note=note)
            for item in items:
                self._settle(item, "unknown", status, message, note=note)
            return []
        checked = self._check(items)
        shown = {checked[item.key] for item in items}
        if False in shown and self.spec.never_twice:
            # A limiter may answer while the request still travels on to the API (a queue
            # behind it): what e-mails people or creates is read once more, a margin later,
            # before anything is sent again. (Not a whole in-flight window, as after a 5xx: a
            # limiter refusing every request would hold each for the client's timeout.)
            undone = [item for item in items if checked[item.key] is False]
            log.warning(
                "%s; reading %d item(s) back again in %.0f s before sending them again",
                error,
                len(undone),
                IN_FLIGHT_MARGIN_S,
            )
            time.sleep(IN_FLIGHT_MARGIN_S)
            self._check_again(undone, checked)
            shown = {checked[item.key] for item in items}
        if True in shown and False in shown:
            # The rest may be applied a moment later (a list worked through one id at a
            # time): sent again now, a cancel would e-mail its invitee twice.
            return self._ambiguous(request, request_id, error, sent, checked=checked)
        verdicts, why_of = {item.key: checked[item.key] for item in items}, checked.why
        again: list[Item] = []
        for item in items:
            verdict = verdicts[item.key]
            if verdict is True:
                note = "took effect though answered 429 (checked on the server)"
                self._applied(request_id, item, error, note)
            elif verdict is False and not last:
                again.append(item)
            elif verdict is False:
                sends = request.resend + 1
                self._not_sent_again(
                    request_id, item, error, f"still rate limited after {sends} sends"
                )
            else:
                why = why_of.get(item.key)
                self._finish(request_id, [item], "unknown", error, note=why or _UNKNOWN)
                self._settle(item, "unknown", status, message, note=f"{why or _UNKNOWN}; {_RETRY}")
        if any(v is True for v in verdicts.values()):
            self._server_worked()
        elif last:
            # Past the resends: the server failed this request (`FAILING_IN_A_ROW`).
            self._server_failed(error)
        note = "answered 429, and not applied (checked where it can be); sent again"
        return self._send_again(request, request_id, again, error, note)

    def _refused(self, request: Request, request_id: str, error: SimplyMeetError) -> list[Request]:
        """A 4xx: nothing was applied. Tell the items already so from the ones to isolate."""
        items = list(request.items)
        message, status = str(error), error.status
        verdicts = check_applied(self.spec, self.client, items)
        follow: list[Item] = []
        for item in items:
            if verdicts[item.key] is True:
                # Refused, yet in the target state: it already was (the warehouse was behind).
                self._finish(request_id, [item], "skipped", error)
                self._settle(item, "skipped", status, message, note=ALREADY_SO)
            elif self.spec.never_twice and _unread(verdicts, item):
                # Unread, it may be among the ids a server applied before it refused the
                # list (one working through it and failing at a bad id): not sent again.
                why = verdicts.why.get(item.key) or verdicts.outage or _UNKNOWN
                note = f"the chunk was refused, and reading it back failed ({why}): "
                note += _CHECKED_AGAIN
                self._finish(request_id, [item], "unknown", error, note=note)
                self._settle(item, "unknown", status, message, note=note)
            elif request.endpoint == self.spec.endpoint and self.spec.item_endpoint is not None:
                # A list request refused, even for one id: the server may read the list body
                # another way (DeleteEventListRequestDTO is both "an array" and `ids`).
                follow.append(item)
            else:
                self._finish(request_id, [item], "failed", error)
                self._settle(item, "failed", status, message)
        if follow:
            note = "the chunk was refused; its items are sent again one per request"
            self._finish(request_id, follow, "failed", error, note=note)
            return self.plan.item_requests(follow)
        return []

    def _ambiguous(
        self,
        request: Request,
        request_id: str,
        error: SimplyMeetError,
        sent: dt.datetime,
        *,
        checked: Verdicts | None = None,
    ) -> list[Request]:
        """The write may have been applied, and the server may still be applying it: read
        each item back before sending it again.

        Every answer that reached the server and is neither a refusal nor a 429 lands here:
        a 5xx (a gateway that gave up on a backend still at work), a timeout (only the client
        no longer waiting), a dropped connection (it may have carried the whole request), a
        body cut short (a 504's as likely as a 200's: its status is lost with it), a 2xx that
        is no API answer (a front end that queued the write); a 429 whose request the
        read-back (`checked`) shows partly applied. Read back at once, the target may show
        the write not done yet, and it would be sent twice."""
        items = list(request.items)
        message, status = str(error), error.status
        answered = time.monotonic()
        verdicts = checked if checked is not None else self._check(items)
        undone = [item for item in items if verdicts[item.key] is False]
        not_before: dt.datetime | None = None
        if undone and self.spec.never_twice:
            not_before = self._watch(undone, verdicts, answered, sent)
        elif undone:
            # What shows done now is done; the rest is read again once the write can no
            # longer land.
            self._wait_in_flight(answered, len(undone), message)
            self._check_again(undone, verdicts)
        if any(verdicts[item.key] is True for item in items):
            self._server_worked()
        else:
            self._server_failed(error)
        again: list[Item] = []
        for item in items:
            verdict = verdicts[item.key]
            if verdict is True:
                note = "took effect (checked on the server after the error)"
                self._applied(request_id, item, error, note)
            elif verdict is False and not_before is not None:
                note = _settling(not_before)
                self._finish(request_id, [item], "unknown", error, note=f"not applied yet; {note}")
                self._settle(item, "unknown", status, f"{_NOT_YET}: {message}", note=note)
            elif verdict is False and request.resend < self.max_resends:
                again.append(item)
            elif verdict is False:
                sends = request.resend + 1
                self._not_sent_again(
                    request_id, item, error, f"did not take effect (checked) after {sends} sends"
                )
            else:
                why = verdicts.why.get(item.key)
                self._finish(request_id, [item], "unknown", error, note=why or _UNKNOWN)
                advice = _ADVICE if why is None else f"{why}; {_RETRY}"
                self._settle(item, "unknown", status, message, note=advice)
        note = "did not take effect (checked on the server); sent again"
        return self._send_again(request, request_id, again, error, note)

    def _wait_in_flight(self, answered: float, items: int, why: str) -> None:
        """Wait until a request answered at `answered` (monotonic) can no longer be in flight:
        as long as the client waits for an answer, from when this one came."""
        timeout = float(getattr(self.client, "timeout", DEFAULT_TIMEOUT_S))
        wait = answered + timeout + IN_FLIGHT_MARGIN_S - time.monotonic()
        if wait > 0:
            log.warning(
                "%s; waiting %.0f s for the server to finish before reading %d item(s) back",
                why,
                wait,
                items,
            )
            time.sleep(wait)

    def _not_sent_again(
        self, request_id: str, item: Item, error: SimplyMeetError, note: str
    ) -> None:
        """An item not applied after the resends a run allows: failed (a re-run sends it)."""
        self._finish(request_id, [item], "failed", error, note=note)
        self._settle(item, "failed", error.status, str(error), note=note)

    def _applied(self, request_id: str, item: Item, error: SimplyMeetError, note: str) -> None:
        """An item a failed request applied after all, as a read-back found it."""
        self._finish(request_id, [item], "succeeded", error, note=note)
        self._settle(item, "succeeded", error.status, note=note, read_back=True)

    def _send_again(
        self,
        request: Request,
        request_id: str,
        items: list[Item],
        error: SimplyMeetError,
        note: str,
    ) -> list[Request]:
        """The request(s) sending `items` again, journaled failed for this send."""
        if not items:
            return []
        self._finish(request_id, items, "failed", error, note=note)
        return self._resend(request, items)

    def _check(self, items: list[Item]) -> Verdicts:
        """`check_applied` of items whose baselines count what the job made, the objects a
        read-back found made for an item joining what the job made."""
        verdicts = check_applied(self.spec, self.client, self._with_made(items))
        with self._lock:
            for ids in verdicts.claimed.values():
                self._made.update(ids)
        return verdicts

    def _watch(
        self, undone: list[Item], verdicts: Verdicts, answered: float, sent: dt.datetime
    ) -> dt.datetime | None:
        """Read back the items of an ambiguous write that e-mails people or creates
        (`OperationSpec.never_twice`) until the server is seen to be done with it; `verdicts`
        gets what the reads found. Returns None when the ones still not applied may be sent
        again, else when they may.

        A server may work through a list request for longer than any client waits (a cancel
        e-mails each invitee), or apply a write minutes after a gateway answered 504: a
        target read back as not applied may be applied a moment later, and a resend would
        e-mail its invitee twice. So: read once the request can no longer be in flight (the
        client's timeout after the answer), then again every `timeout` seconds while a read
        shows progress (more items applied than the read before). Items still as before may
        be sent again only once `settle_seconds` have passed since the send and since the last
        progress; the run does not wait that long: they are left unknown, and a re-run after
        then checks them again (the send time is journaled)."""
        timeout = float(getattr(self.client, "timeout", DEFAULT_TIMEOUT_S))
        settle = dt.timedelta(seconds=self.settle_seconds)
        quiet_since = sent
        read_at = answered + timeout + IN_FLIGHT_MARGIN_S
        pending = list(undone)
        while pending:
            now = self._time.now()
            wait = read_at - time.monotonic()
            if wait <= 0 and now >= quiet_since + settle:
                return None
            if wait > 0:
                log.warning(
                    "no sure answer for %d item(s) that e-mail people or create; waiting "
                    "%.0f s for the server to finish before reading them back",
                    len(pending),
                    wait,
                )
                time.sleep(wait)
            later = self._check_again(pending, verdicts)
            still = [item for item in pending if later[item.key] is False]
            progressed = len(still) < len(pending)
            pending = still
            if progressed:
                quiet_since = self._time.stamp()
            elif time.monotonic() >= read_at:
                # Quiet since the read before: wait no longer in this run.
                break
            read_at = time.monotonic() + max(1.0, min(timeout, self.settle_seconds))
        if not pending:
            return None
        until = quiet_since + settle
        return until if self._time.now() < until else None

    def _check_again(self, items: list[Item], verdicts: Verdicts) -> Verdicts:
        """Read `items` back again, `verdicts` taking what this read found; returns it."""
        later = self._check(items)
        verdicts.update(later)
        verdicts.why.update(later.why)
        return later

    def _with_made(self, items: list[Item]) -> list[Item]:
        """Items whose booking baseline counts the bookings other items of the job made."""
        with self._lock:
            made = set(self._made)
        return [replace(i, baseline=with_known_bookings(i.baseline, made)) for i in items]

    def _resend(self, request: Request, items: list[Item]) -> list[Request]:
        """The request(s) that send `items` again: a list chunk keeps only their ids."""
        if self.spec.is_list and request.endpoint == self.spec.endpoint:
            fresh = self.plan.requests(items)
        else:
            fresh = [replace(request, items=tuple(items))]
        return [replace(r, resend=request.resend + 1) for r in fresh]

    def _backoff(self, resend: int) -> float:
        policy = getattr(self.client, "retry", None)
        return policy.backoff(resend) if isinstance(policy, RetryPolicy) else 0.0

    def _finish(
        self,
        request_id: str,
        items: Sequence[Item],
        outcome: Outcome,
        error: SimplyMeetError,
        *,
        note: str | None = None,
    ) -> None:
        text = str(error) if note is None else f"{note}: {error}"
        self.journal.finish(
            request_id,
            outcome,
            items=items,
            status=error.status,
            error=text,
            attempts=error.attempts,
        )

    def _settle(
        self,
        item: Item,
        outcome: Outcome,
        status: int | None = None,
        error: str | None = None,
        *,
        result: Any = None,
        note: str | None = None,
        read_back: bool = False,
    ) -> None:
        settled = ItemOutcome(item, outcome, status, error, result, note, read_back)
        with self._lock:
            self.report.outcomes.append(settled)
        self.on_progress(1)


DEFAULT_TIMEOUT_S = float(ApiSettings.model_fields["timeout_seconds"].default)
"""`[api] timeout_seconds` unless configured."""
FAILING_IN_A_ROW = 8
"""Requests in a row the server may fail before a run stops sending: twice what one chunk
takes (a send and three re-sends), so one bad chunk alone never stops a run."""

DEFAULT_SETTLE_S = float(WritebackSettings.model_fields["settle_seconds"].default)
"""`[writeback] settle_seconds` unless configured."""
IN_FLIGHT_MARGIN_S = 2.0
"""Beyond the client's timeout: the clocks of a journal entry and of its send differ a bit."""


def in_flight_bounds(client: Any) -> tuple[float, float]:
    """A client's request timeout and retry span: how long after a write began its last
    attempt may go out (only writes certainly not applied are retried: a connection never
    made, a 429), and how long that attempt is then waited for."""
    timeout = float(getattr(client, "timeout", DEFAULT_TIMEOUT_S))
    policy = getattr(client, "retry", None)
    span = 0.0
    if isinstance(policy, RetryPolicy):
        span = policy.max_retries * (max(policy.max_delay, policy.max_retry_after) + timeout)
    return timeout, span


def in_flight_until(begun: dt.datetime, timeout: float, span: float) -> dt.datetime:
    """When a write begun at `begun` can no longer be in flight: its last attempt went out
    before the run died, so before now, and no later than `span` after `begun`; it was
    answered, or given up on, within `timeout` (`in_flight_bounds`)."""
    sent_by = min(dt.datetime.now(dt.UTC), begun + dt.timedelta(seconds=span))
    return sent_by + dt.timedelta(seconds=timeout + IN_FLIGHT_MARGIN_S)


_NOT_YET = "no sure answer, and not applied yet when read back"
_RESEND = "not sent again: pass --resend to notify it again"


def _settling(until: dt.datetime) -> str:
    """What becomes of an item not applied yet while the server may still be applying it."""
    return (
        "the server may still be applying it: not sent again before "
        f"{until:%Y-%m-%d %H:%M:%S} UTC ([writeback] settle_seconds after the send); a re-run "
        "then sends it if the server still shows it as before"
    )


_UNKNOWN = "the answer was lost and the server cannot be asked whether it took effect"
_RETRY = "check it; a re-run sends it only with --retry-unknown"
_ADVICE = f"may have been applied: {_RETRY}"
_CHECKED_AGAIN = "a re-run checks it on the server and sends it only if it is not applied"


def _refused(error: SimplyMeetError) -> bool:
    """A 4xx (not 408, not 429): the server refused the write and applied nothing.

    The client resends a write only after answers that applied nothing (a connection never
    made, a 429), so a 4xx on a later attempt is as certain as on the first.
    """
    return refusal(error.status)


def _unread(verdicts: Verdicts, item: Item) -> bool:
    """Whether a read-back left `item` undecided for want of a reading: the read failed, or
    the target reads neither as before nor as asked (not a target the server shows gone)."""
    if verdicts.get(item.key) is not None or item.key in verdicts.gone:
        return False
    return verdicts.error is not None or item.key in verdicts.why


def _other_not_yet(job: EarlierJob) -> str:
    """Why a write to a target another job's unsettled send may still change is held back."""
    return (
        f"job {job.job_id} sent a write to it with no sure answer, not applied yet when read back"
    )


def _left_by(job: EarlierJob) -> str:
    """What another job did with a write that cannot be told done or not, for the report."""
    if job.history.pending_entries:
        return f"job {job.job_id} was cut off while sending it: it may have been applied"
    if job.history.last == "unknown":
        return f"job {job.job_id} left it unknown: it may have been applied"
    return f"job {job.job_id} sent it already (the warehouse was not refreshed since)"


@contextlib.contextmanager
def _read_back_after_429(client: Any) -> Iterator[None]:
    """Within this block, `client` does not send a write answered 429 again: the executor
    reads its target back first (`Executor._rate_limited`)."""
    policy = getattr(client, "retry", None)
    if not isinstance(policy, RetryPolicy):
        yield
        return
    client.retry = replace(policy, resend_writes_on_429=False)
    try:
        yield
    finally:
        client.retry = policy


def _not_applied(error: SimplyMeetError) -> bool:
    """Certainly not applied: nothing reached the server."""
    return isinstance(error, TransportError) and not error.reached_server


def _read_back_after_success(spec: OperationSpec) -> bool:
    """Whether a clean 2xx to one item of `spec` is read back all the same: a write that
    changes a record that can be read (not one that creates it, whose answer is the record
    made). A server may answer 204 and apply nothing."""
    verify = spec.verify
    return verify is not None and verify.fetch not in CREATIONS
