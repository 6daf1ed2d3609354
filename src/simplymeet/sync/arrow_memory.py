"""Which allocator Arrow uses while a sync runs.

pyarrow's bundled mimalloc keeps a heap per thread and holds on to what it freed: with eight
page-fetch threads parsing and cutting pages, a sync's resident memory climbed ~180 MB above
what the C library's allocator leaves (B4: 500 against 318 MB at the end of a 100,000-event
extract, 513 against 317 MB at 300,000), at the same speed. A sync therefore allocates from
the system pool, unless whoever runs it chose Arrow's pool themselves.
"""

from __future__ import annotations

import os

import pyarrow as pa

POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"
"""Arrow's own setting for its default pool; when it is set, the choice is left as it is."""


def use_system_allocator() -> None:
    """Make the C library's allocator pyarrow's default pool, for the rest of the process.

    Arrow buffers keep the pool they came from, so switching is safe at any time; it is not
    switched back after a sync, because the syncs of several accounts overlap in one process.
    """
    if os.environ.get(POOL_VARIABLE):
        return
    pa.set_memory_pool(pa.system_memory_pool())
