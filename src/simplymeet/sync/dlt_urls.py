"""dlt's connection URLs without SQLAlchemy, for a sync into DuckDB.

dlt parses the DuckDB path as a connection URL (and renders it again for its step info) with
SQLAlchemy's `URL` when SQLAlchemy is installed, which imports all of SQLAlchemy: 0.15 s of
every `simplymeet sync` on the last build machine, 0.4 s on a slower one (bench/README.md),
for a path. dlt ships its own port of that class (`sql_alchemy_shims`) for when SQLAlchemy is
absent; a DuckDB sync has dlt use it, for the rest of the process. The port renders the same
URLs, except that it writes a non-ASCII character as it is where SQLAlchemy percent-encodes
it (the same URL to libpq and DuckDB; tests/test_sync_dlt_urls.py). Destinations that hand
the URL to SQLAlchemy itself (dlt's `sqlalchemy` destination) never come here.
"""

from __future__ import annotations

import sys
import types

_COMPAT = "dlt.common.libs.sql_alchemy_compat"


def parse_urls_without_sqlalchemy() -> None:
    """Have dlt parse and render connection URLs with its own port of SQLAlchemy's `URL`.

    Nothing changes once SQLAlchemy or dlt's choice between the two is imported: the process
    has paid for it, and another part of it may rely on SQLAlchemy's own class.
    """
    if _COMPAT in sys.modules or "sqlalchemy" in sys.modules:
        return
    from dlt.common.libs import sql_alchemy_shims

    compat = types.ModuleType(_COMPAT, "dlt's URL helpers, from its SQLAlchemy-free port.")
    compat.URL = sql_alchemy_shims.URL  # type: ignore[attr-defined]
    compat.make_url = sql_alchemy_shims.make_url  # type: ignore[attr-defined]
    sys.modules[_COMPAT] = compat
