"""A stop signal (SIGTERM, SIGINT) ends a command as an interruption whenever it comes.

Each case runs in a child Python process: the handlers are process-wide, and the test
runner's own must stay as they are.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.sync_support import REPO


def _child(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    """Run `body` in a child interpreter that imports this checkout, with a bound."""
    script = tmp_path / "child.py"
    script.write_text(textwrap.dedent(body))
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={"PYTHONPATH": f"{REPO / 'src'}:{tmp_path}", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_a_signal_that_comes_during_an_import_is_raised_once_the_import_has_ended(
    tmp_path: Path, name: str
) -> None:
    # Raised inside the import machinery, it could leave an import lock held (another
    # thread importing beside it waited for ever) or be swallowed there.
    (tmp_path / "slow_module.py").write_text(
        "import os, signal, time\n"
        f"os.kill(os.getpid(), signal.{name})\n"
        "time.sleep(0.3)\n"
        "COMPLETE = True\n"
    )
    done = _child(
        tmp_path,
        """
        from simplymeet.cli.entry import take_interrupts, take_terminations
        take_interrupts(); take_terminations()
        try:
            import slow_module
            import time
            time.sleep(5)
            print("not raised")
        except KeyboardInterrupt as exc:
            import sys
            print(type(exc).__name__, sys.modules["slow_module"].COMPLETE)
        """,
    )

    expected = "Terminated" if name == "SIGTERM" else "KeyboardInterrupt"
    assert done.stdout.split() == [expected, "True"], done.stderr


def test_a_sigterm_that_ends_a_duckdb_query_is_known_as_the_signal(tmp_path: Path) -> None:
    # DuckDB ends the query with an error of its own, whose chain no longer holds the signal.
    done = _child(
        tmp_path,
        """
        import os, signal, threading
        import duckdb
        from simplymeet.cli.entry import signal_inside, take_terminations
        take_terminations()
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        try:
            duckdb.connect().execute("select count(*) from range(10000000000) a")
        except BaseException as exc:
            print(type(exc).__name__, type(signal_inside(exc)).__name__)
        """,
    )

    _, inside = done.stdout.split()
    assert inside == "Terminated", done.stdout + done.stderr


def test_an_error_of_a_process_no_signal_stopped_is_no_interruption(tmp_path: Path) -> None:
    done = _child(
        tmp_path,
        """
        from simplymeet.cli.entry import signal_inside, take_terminations
        take_terminations()
        print(signal_inside(RuntimeError("Query interrupted")))
        """,
    )

    assert done.stdout.strip() == "None", done.stderr


def test_a_sigterm_that_ends_the_warehouse_check_before_the_first_reads_stops_the_command(
    tmp_path: Path,
) -> None:
    # The check before the first reads takes any failure for "a check would refuse the run";
    # a stop that ended its query was taken so, and the sync ran on to exit 0.
    done = _child(
        tmp_path,
        f"""
        import os, signal, threading
        import duckdb
        from simplymeet.cli.entry import take_terminations
        from simplymeet.config import load_settings
        from simplymeet.sync import first_reads, ownership
        take_terminations()
        duckdb.connect("w.duckdb").close()
        settings = load_settings("{REPO}/config.toml").with_overrides(
            "warehouse", duckdb_path="w.duckdb", pipelines_dir="pipelines"
        )
        def pipelines_of(con):  # a check slow enough for the signal to land in its query
            return con.execute("select count(*) from range(10000000000) a").fetchall()
        ownership.pipelines_of = pipelines_of
        threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
        try:
            print(first_reads.nothing_refuses(settings, ["events"], None, []))
        except BaseException as exc:
            print(type(exc).__name__)
        """,
    )

    assert done.stdout.strip() == "Terminated", done.stdout + done.stderr
