"""Plain-text views of plans, previews and run reports: what the commands print.

Plain lines, not rich tables: request lines must come out exactly as sent (no wrapping), and
admins paste these into tickets and grep them.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from simplymeet.contract.endpoints import API_PREFIX
from simplymeet.writeback.api import Preview
from simplymeet.writeback.execute import ItemOutcome, RunReport
from simplymeet.writeback.plan import DETAIL, Item, Plan


def _values(item: Item, key: str | None) -> str:
    """An item's input values without its key (the target already names it)."""
    shown = {k: v for k, v in item.values.items() if k != key}
    return json.dumps(shown, ensure_ascii=False, default=str, separators=(", ", ": "))


def _reasons(reasons: Iterable[str]) -> str:
    counted = Counter(reason.split(DETAIL, 1)[0] for reason in reasons)
    return ", ".join(f"{reason}: {n:,}" for reason, n in counted.most_common())


def invalid_lines(plan: Plan, limit: int = 50) -> list[str]:
    """Every invalid row (up to `limit`), for the error output; one line when an option's
    value makes every row invalid, or when one row is."""
    if plan.option_problem is not None:
        return [f"error: {plan.option_problem}; nothing was sent"]
    if len(plan.invalid) == 1:
        return [f"error: {plan.invalid[0]}; nothing was sent"]
    lines = [f"{len(plan.invalid):,} invalid row(s); nothing was sent:"]
    lines += [f"  {problem}" for problem in plan.invalid[:limit]]
    if len(plan.invalid) > limit:
        lines.append(f"  … and {len(plan.invalid) - limit:,} more")
    return lines


def header(plan: Plan) -> str:
    spec = plan.spec
    sends = f"{spec.contract.method_text} {API_PREFIX}{spec.contract.path}"
    return f"{spec.cli_name} · {sends} · job {plan.job_id}"


def counts_line(preview: Preview) -> str:
    plan = preview.plan
    parts = [f"{plan.rows:,} row(s) read", f"{len(preview.to_send):,} to send"]
    if preview.to_check:
        parts.append(f"{len(preview.to_check):,} to check on the server first")
    if preview.done_before:
        parts.append(f"{len(preview.done_before):,} already done by an earlier run")
    if preview.held_back:
        parts.append(
            f"{len(preview.held_back):,} held back (another job already sent them; --resend)"
        )
    if plan.skipped:
        parts.append(f"{len(plan.skipped):,} skipped ({_reasons(s.reason for s in plan.skipped)})")
    parts.append(f"{len(preview.requests):,} request(s)")
    return " · ".join(parts)


def _skipped_sample(plan: Plan, sample: int) -> list[str]:
    """`skipped sample (5 of 262):` and the five rows: target, why, and where it was read."""
    if not plan.skipped:
        return []
    lines = [f"skipped sample ({min(sample, len(plan.skipped))} of {len(plan.skipped):,}):"]
    lines += [f"  {s.item.target}: {s.reason}  [{s.item.source}]" for s in plan.skipped[:sample]]
    return lines


def refresh_lines(report: RunReport) -> list[str]:
    """What became of the warehouse's refresh in a run that changed nothing upstream (or
    whose refresh did not end well)."""
    if report.refreshed and report.refresh_error:
        return [f"warehouse refreshed, but {report.refresh_error}"]
    if report.refreshed:
        # The targets an earlier run wrote were read again, so a warehouse that run left
        # behind (its refresh failed, or it was killed before the models were rebuilt)
        # catches up.
        return ["warehouse refreshed: the targets earlier runs wrote were read again"]
    if report.refresh_skipped:
        return [f"warehouse not refreshed: {report.refresh_skipped}"]
    if report.refresh_error:
        return [
            f"warehouse NOT refreshed ({report.refresh_error}); run `simplymeet sync` to see "
            "the changes"
        ]
    return []


def nothing_to_send_lines(preview: Preview, sample: int = 5) -> list[str]:
    """What a run prints when every item is already done (a re-run): no request goes out."""
    plan = preview.plan
    if plan.nothing_selected:  # no job either: nothing was journaled
        return [f"{plan.spec.cli_name}: nothing to do: {plan.nothing_selected}"]
    done = len(plan.skipped) + len(preview.done_before)
    lines = [header(plan), counts_line(preview)]
    lines += [f"warning: {w}" for w in plan.warnings]
    lines += _skipped_sample(plan, sample)
    lines.append(f"nothing to send: all {done:,} already done")
    return lines


def preview_lines(preview: Preview, sample: int = 5) -> list[str]:
    """The dry run: counts, a sample of items, then every request exactly as it would go out."""
    plan = preview.plan
    if plan.nothing_selected:
        return [f"{plan.spec.cli_name}: dry run: nothing to do: {plan.nothing_selected}"]
    lines = [header(plan), "dry run: nothing sent", counts_line(preview)]
    lines += [f"warning: {w}" for w in plan.warnings]
    pending = preview.to_check + preview.to_send
    if pending:
        lines.append(f"sample ({min(sample, len(pending))} of {len(pending):,}):")
        key = plan.spec.key
        lines += [f"  {i.target}  {_values(i, key)}  [{i.source}]" for i in pending[:sample]]
    lines += _skipped_sample(plan, sample)
    lines.append(f"requests ({len(preview.requests):,}):")
    lines += [f"  {request.line()}" for request in preview.requests]
    return lines


def confirm_text(preview: Preview) -> str:
    """The confirmation question of a destructive command, with how many rows it touches."""
    plan = preview.plan
    touched = len(preview.to_send) + len(preview.to_check)
    extra = []
    if plan.skipped:
        extra.append(f"{len(plan.skipped):,} skipped")
    if preview.done_before:
        extra.append(f"{len(preview.done_before):,} already done")
    more = f" ({', '.join(extra)})" if extra else ""
    return (
        f"{plan.spec.cli_name}: {touched:,} item(s) in {len(preview.requests):,} request(s)"
        f"{more}. Proceed?"
    )


def _outcome_line(outcome: ItemOutcome) -> str:
    """`event 5: HTTP 404: not found. Server said: …  [ids.csv line 3]`."""
    text = outcome.error or outcome.outcome
    if outcome.status:
        # The client's message starts with the method and URL; the target already says which.
        text = f"HTTP {outcome.status}: " + text.split(f"HTTP {outcome.status}: ", 1)[-1]
    if outcome.note:
        text += f" ({outcome.note})"
    return f"  {outcome.item.target}: {text}  [{outcome.item.source}]"


def failure_line(report: RunReport) -> str | None:
    """One `error: ...` line for stderr when the run did not end well (None when it did): a
    scheduler keeps stderr, and the summary on stdout may go nowhere."""
    name = report.plan.spec.cli_name
    if report.plan.account is not None:  # each account's run says so on its own line
        name += f" (account {report.plan.account})"
    refresh = f"; warehouse not refreshed: {report.refresh_error}" if report.refresh_error else ""
    if report.aborted:
        return f"error: {name}: stopped early: {report.aborted}{refresh}"
    left = [
        f"{label} {len(outcomes):,}"
        for label, outcomes in (
            ("failed", report.failed),
            ("unknown", report.unknown),
            ("held back", report.held),
        )
        if outcomes
    ]
    if left:
        return f"error: {name}: {', '.join(left)} (the summary on stdout names them){refresh}"
    if report.refresh_error:
        return f"error: {name}: warehouse not refreshed: {report.refresh_error}"
    return None


def summary_lines(report: RunReport) -> list[str]:
    """The end-of-run summary: counts, then each failure and unknown item, then results."""
    plan = report.plan
    lines = [f"{header(plan)} · run {report.run_id}"]
    lines += [f"warning: {w}" for w in plan.warnings]
    done_before = [o for o in report.succeeded if o.note and "earlier run" in o.note]
    skipped = len(plan.skipped) + len(report.skipped)
    parts = [
        f"succeeded {len(report.succeeded) - len(done_before):,}",
        f"failed {len(report.failed):,}",
        f"unknown {len(report.unknown):,}",
        f"skipped {skipped:,}",
    ]
    if report.held:
        parts.append(f"held back {len(report.held):,}")
    if done_before:
        parts.append(f"done by an earlier run {len(done_before):,}")
    read_back = sum(o.read_back for o in report.succeeded)
    if read_back:
        # Counted in "succeeded": said apart because the server's answer never came.
        parts.append(f"answer lost, found applied on the server {read_back:,}")
    parts.append(f"{report.requests:,} request(s), {report.retries:,} retries")
    parts.append(f"{report.duration_seconds:.1f} s")
    lines.append(" · ".join(parts))
    if plan.skipped or report.skipped:
        reasons = [s.reason for s in plan.skipped] + [o.note or "skipped" for o in report.skipped]
        lines.append(f"skipped: {_reasons(reasons)}")
    if report.requests == 0 and report.ok:
        lines.append(f"nothing sent: all {len(report.succeeded) + skipped:,} already done")
    if report.refreshed and not report.refresh_error and len(report.succeeded) > len(done_before):
        lines.append("warehouse refreshed: queries now see these changes")
    else:
        lines += refresh_lines(report)
    if report.aborted:
        lines.append(f"stopped early: {report.aborted}")
    if report.failed:
        lines.append(f"failed ({len(report.failed):,}); a re-run of the same command retries them:")
        lines += [_outcome_line(o) for o in report.failed]
    if report.unknown and report.server_failing:
        # Unknown because the server could not be read: a plain re-run checks them.
        lines.append(
            f"unknown ({len(report.unknown):,}): not checked; run the same command again once "
            "the server answers:"
        )
    elif report.unknown:
        lines.append(
            f"unknown ({len(report.unknown):,}): may have been applied; check them, "
            "then re-run with --retry-unknown to send them again (one the server may still "
            "be applying: a re-run after the time it names):"
        )
        lines += [_outcome_line(o) for o in report.unknown]
    if report.held:
        lines.append(
            f"held back ({len(report.held):,}): an earlier job already sent these; pass "
            "--resend to send them again:"
        )
        lines += [_outcome_line(o) for o in report.held]
    results = [o for o in report.succeeded if o.result]
    if results:
        lines.append("results:")
        lines += [f"  {o.item.target}: {json.dumps(o.result, ensure_ascii=False)}" for o in results]
    return lines
