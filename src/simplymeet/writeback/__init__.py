"""Write-back: every mutating endpoint as a library function and a command, safe for bulk work.

Library first (commands in `cli.py` are thin over it):

    from simplymeet.writeback import event_cancel_list
    report = event_cancel_list(settings, client, sql="select id from events where …", reason="x")

- `targets.py`: rows from `--ids`, `--ids-file` (txt/csv/tsv/jsonl) or a read-only `--sql`;
- `plan.py`: every row validated with the contract's DTOs and checked against the warehouse
  before anything is sent; items already in the target state are skipped;
- `journal.py`: `writeback.jobs`, `writeback.runs`, `writeback.journal` in the warehouse file;
- `execute.py`: chunked list calls, bounded concurrency, resume, per-item outcomes;
- `refresh.py`: the touched rows re-read into the warehouse afterwards.
"""

from simplymeet.writeback.api import (
    Declined,
    Preview,
    execute_plan,
    plan_operation,
    preview,
    run_operation,
)
from simplymeet.writeback.execute import ItemOutcome, RunReport
from simplymeet.writeback.functions import *  # noqa: F403 - one function per endpoint
from simplymeet.writeback.functions import __all__ as _functions
from simplymeet.writeback.journal import SCHEMA as JOURNAL_SCHEMA
from simplymeet.writeback.operations import OPERATIONS, operation
from simplymeet.writeback.plan import InvalidRows, Plan
from simplymeet.writeback.targets import Targets

__all__ = [
    "JOURNAL_SCHEMA",
    "OPERATIONS",
    "Declined",
    "InvalidRows",
    "ItemOutcome",
    "Plan",
    "Preview",
    "RunReport",
    "Targets",
    "execute_plan",
    "operation",
    "plan_operation",
    "preview",
    "run_operation",
    *_functions,
]
