"""The version a cancellation policy lands under: one per revision of its content.

`cancellation_policies` is insert-only on (type, version), and the models take the policy in
force at a moment to be the version first seen last before it. The reference types
CancellationPolicyDTO's `version` as an int and says no more: a server may count the
policy's changes in it (the emulator does), serve it unchanged whatever changed, or leave it
out. So the version served is landed only when it names content not landed before; content
that changed under a version already landed (or without one) lands under a version of our
own, negative so that it never meets a served one. A policy put back to earlier content is a
new revision too: it came into force again when it was first seen again.

What was landed is read from the warehouse before the run (`landed`): the rows themselves,
so a warehouse synced before this rule, or restored from a backup, is judged by what it holds.

A policy the server no longer has (its GET answers 404: no policy in force) after a version
of it was landed lands as a version too (`removal`): disabled, with no period, label or
text, first seen by the run that found it gone. The models judge a cancellation by the
version in force, and a disabled version applies no policy, as an absent one does; without
it the last version served would stay in force for every later cancellation.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from simplymeet.landing_schema import BOOL, INT, TEXT
from simplymeet.sync import events as ev
from simplymeet.sync import tables as t
from simplymeet.sync.cleanup import existing_tables
from simplymeet.sync.values import coerce

if TYPE_CHECKING:
    from dlt.destinations.sql_client import SqlClientBase

Landed = dict[str, dict[str, Any]]
"""Per policy type (lower case): `versions` (version -> content fingerprint, as text keys)
and `latest` (the version first seen last)."""

_CONTENT = ("enabled", "period", "label", "text")
"""What a version of our own is derived from (as before versions were kept apart from the
served ones, so a policy served without a version lands under the version it landed under)."""

_TYPES = {"enabled": BOOL, "period": INT, "label": TEXT, "text": TEXT, "overwrite": BOOL}


def landed(client: SqlClientBase[Any], account: str) -> Landed:
    """The policy versions `account` has in the warehouse, oldest first seen first."""
    name = t.CANCELLATION_POLICIES.name
    if name not in existing_tables(client):
        return {}
    rows = client.execute_sql(
        "select type, version, enabled, period, label, text, overwrite_personal "
        f"from {client.make_qualified_table_name(name)} where {t.ACCOUNT} = %s "
        "order by first_seen_at nulls first, version",
        account,
    )
    out: Landed = {}
    for kind, version, enabled, period, label, text, overwrite in rows or []:
        kept = out.setdefault(str(kind).strip().lower(), {})
        content = {"enabled": enabled, "period": period, "label": label, "text": text}
        kept.setdefault("versions", {})[str(version)] = _fingerprint(
            {**content, "overwrite_personal": overwrite}
        )
        kept["latest"] = str(version)
    return out


REMOVED: dict[str, Any] = {
    "enabled": False,
    "period": None,
    "label": None,
    "text": None,
    "overwrite_personal": None,
}
"""The content a removed policy lands with (see the module docstring)."""


def removal(kept: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The content to land for a policy answered 404, given its type's record in `Landed`:
    `REMOVED`, or None when there is nothing to remove (no version landed, or the latest
    already says the policy is gone or disabled and empty)."""
    latest = (kept or {}).get("latest")
    if latest is None or kept is None or kept["versions"].get(latest) == _fingerprint(REMOVED):
        return None
    return dict(REMOVED)


def landed_version(kept: MutableMapping[str, Any], policy: Mapping[str, Any]) -> int:
    """The version `policy` (a CancellationPolicyDTO as served) lands under, recorded in
    `kept` (one policy type's record of `Landed`)."""
    versions: dict[str, str] = kept.setdefault("versions", {})
    content = _fingerprint(policy)
    latest = kept.get("latest")
    served = t.as_id(policy.get("version"))
    if served is not None and str(served) not in versions:
        version = served
    elif latest is not None and versions.get(latest) == content:
        version = int(latest)
    else:
        version = _own_version(policy, versions)
    versions[str(version)] = content
    kept["latest"] = str(version)
    return version


def _fingerprint(policy: Mapping[str, Any]) -> str:
    """The content as it lands (typed as the columns are: "60" and 60 are one period)."""
    values = {k: policy.get(k) for k in _CONTENT}
    values["overwrite"] = policy.get("overwrite_personal", policy.get("overwritePersonal"))
    typed = {k: None if v is None else _typed(v, _TYPES[k]) for k, v in values.items()}
    return ev.fingerprint(typed)


def _typed(value: Any, type_: Any) -> Any:
    """`value` as its column types it, or as served when no reading types it (a period of
    `30.7`: the quarantine sets that policy aside, its fingerprint must not stop the run)."""
    try:
        return coerce(value, type_)
    except ValueError:
        return value


def _own_version(policy: Mapping[str, Any], versions: Mapping[str, str]) -> int:
    """A negative version derived from the content, the first not landed yet."""
    content = {k: policy.get(k) for k in _CONTENT}
    for revision in itertools.count():
        salted = content if revision == 0 else {**content, "revision": revision}
        version = -int(ev.fingerprint(salted)[:7], 16)
        if str(version) not in versions:
            return version
    raise AssertionError("unreachable")  # itertools.count never ends
