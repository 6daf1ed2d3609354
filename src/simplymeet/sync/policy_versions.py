"""The version a cancellation policy lands under: one per revision of its content.

`cancellation_policies` is insert-only on (type, version), and the models take the policy in
force at a moment to be the version first seen last before it. The reference types
CancellationPolicyDTO's `version` as an int and says no more: a server may count the
policy's changes in it (the emulator does), serve it unchanged whatever changed, or leave it
out. So the version served is landed only when it names content not landed before; content
that changed under a version already landed (or without one) lands under a version of our
own, negative so that it never meets a served one. A policy put back to earlier content is a
new revision too: it came into force again when it was first seen again.

The source state keeps, per policy type, the content fingerprint of every version landed and
which was landed last; it is committed with the load, as dlt commits every state.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, MutableMapping
from typing import Any

from simplymeet.sync import events as ev
from simplymeet.sync import tables as t

STATE_KEY = "policy_versions"

_CONTENT = ("enabled", "period", "label", "text")
"""What a version of our own is derived from (as before versions were kept in the state, so
a policy served without a version still lands under the version it landed under then)."""


def kept_versions() -> MutableMapping[str, Any]:
    """The versions landed so far, per policy type, in the state of the source being
    extracted."""
    import dlt

    kept: MutableMapping[str, Any] = dlt.current.source_state().setdefault(STATE_KEY, {})
    return kept


def landed_version(kept: MutableMapping[str, Any], policy: Mapping[str, Any]) -> int:
    """The version `policy` (a CancellationPolicyDTO as served) lands under, recorded in
    `kept` (one policy type's record)."""
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
    overwrite = policy.get("overwrite_personal", policy.get("overwritePersonal"))
    return ev.fingerprint({**{k: policy.get(k) for k in _CONTENT}, "overwrite": overwrite})


def _own_version(policy: Mapping[str, Any], versions: Mapping[str, str]) -> int:
    """A negative version derived from the content, the first not landed yet."""
    content = {k: policy.get(k) for k in _CONTENT}
    for revision in itertools.count():
        salted = content if revision == 0 else {**content, "revision": revision}
        version = -int(ev.fingerprint(salted)[:7], 16)
        if str(version) not in versions:
            return version
    raise AssertionError("unreachable")  # itertools.count never ends
