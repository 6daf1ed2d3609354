"""README.md, followed as a newcomer would: every command it gives works as typed.

The commands are read from README's ```bash blocks and run with `bash -c` in a copy of the
repository's tracked files (what a fresh clone holds), with `.venv` linked to the venv running
these tests (CI's own: installing a second one would double CI's time). Only the two installs
are not re-run: `pip install -e` from the copy would point the shared venv at it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from simplymeet.emulator import start_emulator
from simplymeet.sync.ownership import pipelines_in

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"

pytestmark = pytest.mark.skipif(
    sys.prefix == sys.base_prefix, reason="README's commands run from a venv (.venv)"
)


def readme_commands() -> list[str]:
    """Every command line of README's bash blocks, continuation lines joined."""
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.DOTALL)
    commands: list[str] = []
    for block in blocks:
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                commands.append(re.sub(r"\s+#.*$", "", line))
    return commands


def command(predicate: Callable[[str], bool], what: str) -> str:
    """The one README command `predicate` picks; fails naming `what` when README lost it."""
    found = [line for line in readme_commands() if predicate(line)]
    assert len(found) == 1, f"README should give exactly one command to {what}; found {found}"
    return found[0]


def fresh_clone(destination: Path) -> Path:
    """The tracked files of the working tree (a clone's content), and `.venv` -> this venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, timeout=60
    )
    for name in listed.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    (destination / ".venv").symlink_to(Path(sys.prefix), target_is_directory=True)
    return destination


class Shell:
    """Runs README lines as typed in the clone, with a clean environment."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
        self.env.pop("VIRTUAL_ENV", None)
        # A venv's bin on PATH would hide a README line that only works with the venv active.
        bin_dir = str(Path(sys.prefix) / "bin")
        self.env["PATH"] = os.pathsep.join(
            p for p in self.env.get("PATH", "").split(os.pathsep) if p != bin_dir
        )

    def run(self, line: str, **env: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            ["bash", "-c", line],
            cwd=self.folder,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=240,
        )
        assert done.returncode == 0, f"`{line}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        return done


def test_readme_from_a_fresh_clone_every_command_works_as_typed(tmp_path):
    clone = fresh_clone(tmp_path / "simplymeet-sync")
    shell = Shell(clone)

    # Install and demo: the install ran when this venv was made; the demo runs as typed.
    install = command(lambda c: c.startswith("python3 -m venv .venv"), "install and demo")
    *setup, demo = install.split(" && ")
    assert setup == ["python3 -m venv .venv", '.venv/bin/python -m pip install -e ".[dev]"']
    out = shell.run(demo).stdout
    assert "SimplyMeet headline metrics" in out
    assert pipelines_in(clone / "simplymeet-demo.duckdb") == {"simplymeet_demo"}

    # What the demo's last lines say, as README repeats them.
    sql = command(lambda c: "simplymeet sql --db simplymeet-demo.duckdb" in c, "query the demo")
    assert sql.removeprefix(".venv/bin/") in out
    assert "no_show_rate" in shell.run(sql).stdout
    report = command(lambda c: "report --db simplymeet-demo.duckdb" in c, "write the report")
    assert report.removeprefix(".venv/bin/") in out
    assert "wrote report.html" in shell.run(report).stdout
    info = command(lambda c: "simplymeet_demo info" in c, "inspect the demo's pipeline")
    assert info.removeprefix(".venv/bin/") in out
    assert "Found pipeline simplymeet_demo" in shell.run(info).stdout

    # A real sync against a second emulator, in the same folder, beside the demo.
    sync = command(lambda c: "simplymeet sync --base-url http://127.0.0.1:8765" in c, "sync")
    with start_emulator(seed=3, events=1500, api_key="dev") as emulator:
        port = emulator.base_url.rsplit(":", 1)[1]
        out = shell.run(sync.replace(":8765", f":{port}")).stdout
        assert "models built" in out
        assert pipelines_in(clone / "simplymeet.duckdb") == {"simplymeet"}
        assert pipelines_in(clone / "simplymeet-demo.duckdb") == {"simplymeet_demo"}

        info = command(lambda c: c.endswith(" simplymeet info"), "inspect the sync's pipeline")
        assert info.removeprefix(".venv/bin/") in out
        assert "Found pipeline simplymeet" in shell.run(info).stdout

        query = command(
            lambda c: c.startswith(".venv/bin/simplymeet sql") and "--db" not in c, "query"
        )
        assert "no_show_rate" in shell.run(query).stdout

        script = command(lambda c: "pipelines/simplymeet_pipeline.py" in c, "run the script")
        out = shell.run(
            script, SIMPLYMEET_API_KEY="dev", SIMPLYMEET_API__BASE_URL=emulator.base_url
        ).stdout
        assert re.search(r"^events: 1,?500 rows", out, flags=re.MULTILINE), out

    # The notebook, headless, from the project folder.
    extra = command(lambda c: '".[notebook]"' in c, "install Jupyter")
    assert extra == '.venv/bin/python -m pip install -e ".[notebook]"'
    notebook_extra = tomllib.loads((clone / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["notebook"]
    assert {re.split(r"[<>=]", d)[0] for d in notebook_extra} >= {"jupyterlab", "nbconvert"}
    notebook = command(lambda c: "nbconvert" in c, "run the notebook")
    shell.run(notebook)
    assert "No-show rate" in (clone / "notebooks" / "report.html").read_text()
