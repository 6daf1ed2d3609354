"""A throwaway PostgreSQL server for the destination test, on 127.0.0.1 and a free port.

Uses $SIMPLYMEET_TEST_POSTGRES (a connection URL) when set; otherwise starts a private cluster
with Debian's binaries (installed by .ci/run) in a temp folder, as the `postgres` user when run
as root (PostgreSQL refuses to run as root), and stops it afterwards.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tests.system_packages import wait_for_system_packages

URL_ENV = "SIMPLYMEET_TEST_POSTGRES"
_START_ATTEMPTS = 5


def _binaries() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return os.path.dirname(found[-1]) if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def unavailable_reason() -> str | None:
    """Why no server can be had here, or None. Waits for `.ci/run`'s install of Debian's
    binaries: ask when a test runs, not at collection."""
    if os.environ.get(URL_ENV):
        return None
    wait_for_system_packages()
    if _binaries() is None:
        return "PostgreSQL binaries not installed (apt-get install postgresql)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to drop to the postgres user"
    return None


@contextmanager
def postgres_url() -> Iterator[str]:
    """A connection URL to a live, empty database."""
    if os.environ.get(URL_ENV):
        yield os.environ[URL_ENV]
        return
    bindir = _binaries()
    assert bindir is not None
    as_root = os.geteuid() == 0
    folder = tempfile.mkdtemp(prefix="simplymeet-pg-")
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    data = os.path.join(folder, "data")

    def run(*args: str) -> None:
        cmd = ["runuser", "-u", "postgres", "--", *args] if as_root else list(args)
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    run(f"{bindir}/initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
    log = os.path.join(folder, "server.log")
    # A free port can be taken before the server binds it (the suite's clients and emulators
    # draw from the same range): a start refused for that is tried again on another port.
    for attempt in range(1, _START_ATTEMPTS + 1):
        port = _free_port()
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        try:
            # -l: the server must not inherit our pipes, or waiting for pg_ctl never ends.
            run(f"{bindir}/pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start")
            break
        except subprocess.CalledProcessError:
            with open(log, encoding="utf-8", errors="replace") as server_log:
                taken = "Address already in use" in server_log.read()
            if not taken or attempt == _START_ATTEMPTS:
                raise
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        run(f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "sm")
        # dlt insists on a password; trust authentication ignores it.
        yield f"postgresql://postgres:unused@127.0.0.1:{port}/sm"
    finally:
        run(f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
