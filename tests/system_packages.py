"""Debian packages a few tests need (Chromium, PostgreSQL's binaries), which `.ci/run`
installs while the suite already runs.

apt downloads and unpacks Chromium with its libraries and PostgreSQL: 17 s here with the
libraries already installed, more on a fresh machine, against ~15 s for the Python install and
lint. The suite does not wait for it before starting; only the tests that need those packages
do, when they start. So those tests look for the packages in a fixture, never at collection.
"""

from __future__ import annotations

import os
import time

READY_ENV = "TESTS_SYSTEM_PACKAGES_READY"
"""A file `.ci/run` creates once its package install has ended, whether or not it succeeded;
set only while such an install may still run."""

WAIT_S = 900.0
"""How long a test waits for the install before looking anyway (and skipping, naming what is
missing): a bound, not an expectation."""


def wait_for_system_packages(wait_s: float = WAIT_S) -> None:
    """Return once `.ci/run`'s install of Debian packages has ended; at once where none runs."""
    ready = os.environ.get(READY_ENV)
    if not ready:
        return
    deadline = time.monotonic() + wait_s
    while not os.path.exists(ready) and time.monotonic() < deadline:
        time.sleep(0.25)
