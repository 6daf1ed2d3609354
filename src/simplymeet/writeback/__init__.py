"""Write-back: every mutating endpoint as a library function and a command, safe for bulk work.

Library first; the `simplymeet <resource> <action>` commands (`cli.py`) are thin over it:

    from simplymeet.writeback import event_cancel_list
    report = event_cancel_list(settings, client, sql="select id from events where …", reason="x")
    report.ok, report.failed, report.counts()

Commands are named after the API path: `simplymeet event cancel-list` sends
`PUT /panel/api/event/cancel-list`, `simplymeet event-type-tag add` sends
`PUT /panel/api/event-type-tag/{eventTypeId}/{tagId}`. Each takes targets (`--ids`,
`--ids-file` txt/csv/tsv/jsonl, or `--sql` run read-only and sandboxed on the warehouse;
`--id-column` names the targets' column), one option per request field (a CSV or query
column of the same name gives a per-row value), `--dry-run`, `--yes` (destructive ones),
`--include-past` / `--include-future` (bookings on the surprising side of now), `--job`,
`--chunk-size` (list endpoints), `--concurrency`, `--retry-unknown` and `--no-refresh`.

A job, step by step:
1. `targets.py` reads the rows; `plan.py` validates every one with the contract's DTOs and
   checks ids against the warehouse. One bad row refuses the job: nothing is sent.
   Items already in the target state (or deleted upstream) are skipped and reported.
2. `journal.py` registers the job and the run in `writeback.jobs` / `writeback.runs`; every
   item is written `pending` to `writeback.journal` before its request goes out, and settled
   (succeeded, failed, unknown, skipped) with the HTTP status and error after.
3. `execute.py` sends list endpoints in chunks and per-item endpoints `concurrency` at a time,
   under the client's rate limit and retry policy, which never blindly repeats a write: after
   an ambiguous answer the targets are read back and only those not applied are sent again.
4. `refresh.py` re-reads the touched rows into the warehouse through the sync.

Resume: a job's id is `--job NAME`, or a hash of the operation and its items (target plus
payload), so the same command on the same input is the same job. A run of a job never sends
again an item an earlier run succeeded with; items an interrupted run left `pending` are
checked on the server first (applied: done; not applied: sent). A write whose outcome cannot
be checked stays `unknown` and is sent again only with `--retry-unknown`.
"""

from typing import TYPE_CHECKING

from simplymeet.lazy_exports import lazy_exports

if TYPE_CHECKING:  # re-exported names, for type checkers (__all__ is computed on first use)
    from simplymeet.writeback.api import (  # noqa: F401
        Declined,
        Preview,
        execute_plan,
        plan_operation,
        preview,
        run_operation,
    )
    from simplymeet.writeback.execute import ItemOutcome, RunReport  # noqa: F401
    from simplymeet.writeback.functions import *  # noqa: F403 - one function per endpoint
    from simplymeet.writeback.journal import SCHEMA as JOURNAL_SCHEMA  # noqa: F401
    from simplymeet.writeback.operations import OPERATIONS, operation  # noqa: F401
    from simplymeet.writeback.plan import InvalidRows, Plan  # noqa: F401
    from simplymeet.writeback.targets import Targets  # noqa: F401

# DuckDB loads on first use of a name, not on import of the package (the command line imports
# `writeback.operations` to build its commands). `__all__` is answered on first use too, as it
# includes every function of `writeback.functions`.
_EXPORTS = {
    "JOURNAL_SCHEMA": "simplymeet.writeback.journal:SCHEMA",
    "OPERATIONS": "simplymeet.writeback.operations",
    "Declined": "simplymeet.writeback.api",
    "InvalidRows": "simplymeet.writeback.plan",
    "ItemOutcome": "simplymeet.writeback.execute",
    "Plan": "simplymeet.writeback.plan",
    "Preview": "simplymeet.writeback.api",
    "RunReport": "simplymeet.writeback.execute",
    "Targets": "simplymeet.writeback.targets",
    "execute_plan": "simplymeet.writeback.api",
    "operation": "simplymeet.writeback.operations",
    "plan_operation": "simplymeet.writeback.api",
    "preview": "simplymeet.writeback.api",
    "run_operation": "simplymeet.writeback.api",
}
__getattr__ = lazy_exports(__name__, _EXPORTS, star=("simplymeet.writeback.functions",))
