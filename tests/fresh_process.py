"""Code run in a fresh interpreter, for what the test process cannot show (which modules a
command imports, what a library call leaves behind in its process).

The code prints one JSON object as its last line of output; `probe` returns it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def probe(
    code: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> dict[str, Any]:
    """Run `code` with `args` in a fresh `python -c`; the JSON object it printed last."""
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
