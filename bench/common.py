"""Shared helpers of the benchmarks: an emulator process, measured child processes, tables.

Every benchmark measures its contestants side by side in one run, against one emulator that
runs in its own process (an in-process emulator would share the GIL and the CPU counters with
the code under test). Each contestant runs in a fresh child process too, so its CPU seconds and
peak RSS are its own, and one contestant's imports or caches never help the next.

    with emulator_process(events=20_000, latency_ms=250) as emu:
        floor = run_child("b1_full_sync:run_floor", base_url=emu.base_url, api_key=emu.api_key)
    print_table("B1", ["contestant", "wall s"], [["floor", f"{floor.wall_s:.1f}"]])

The child protocol: `python bench/common.py child MODULE:FUNC ARGS_JSON OUT_JSON` imports the
heavy libraries first (so import time is not counted for anyone), snapshots rusage and the
clock, calls `FUNC(**ARGS)` and writes its result with wall time, CPU seconds (process and its
children) and peak RSS to OUT_JSON.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import resource
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from simplymeet.client.client import tls_context
from simplymeet.client.transport import PooledTransport
from simplymeet.config import Settings, load_settings

# What a user runs has bytecode: `pip install` compiles what it installs, and Python writes
# the rest on first import. A machine that sets PYTHONDONTWRITEBYTECODE (as these do) with a
# venv `uv` installed (no .pyc) would make every timed process compile dlt, pyarrow and the
# rest from source: a 1M incremental `simplymeet sync` took 4.4-4.9 s that way against
# 3.4-3.6 s compiled, same machine and minutes (B12 hides it: its imports overlap the first
# requests' 250 ms). Dropped here, every process a benchmark starts writes what it compiles,
# and the untimed first run of each benchmark leaves the bytecode for the timed ones.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
# As long as an issued key: the client searches every body for a key of 12 characters or
# more (`ApiKey.scrub`, ~0.5 ms of a 790 KB page), and a shorter one would leave that out.
API_KEY = "bench-key-4f9c2a7e1d3b8c6a"
HOST = "127.0.0.1"
PRELOAD = ("httpx", "orjson", "pyarrow", "duckdb", "dlt", "simplymeet.sync", "simplymeet.client")
"""Imported by every child before its clock starts: nobody is charged for importing dlt."""
FORK_PRELOAD = (
    *PRELOAD, "common", "urllib3", "requests", "sqlalchemy", "pandas", "pyarrow.compute",
    "pyarrow.json", "pyarrow.parquet", "dlt.common.libs.pyarrow",
    "dlt.common.libs.sql_alchemy_compat", "dlt.sources.helpers.requests",
    "dlt.destinations.impl.duckdb.duck", "dlt.destinations.impl.duckdb.sql_client",
    "dlt.sources.rest_api", "simplymeet.sync.runner", "simplymeet.models", "simplymeet.writeback",
    "simplymeet.emulator.cli",
)  # fmt: skip
"""What the fork server imports (BENCH_FORK_CHILDREN=1): PRELOAD, and what the contestants
import lazily (a sync imports pandas, SQLAlchemy and requests through pyarrow and dlt: ~1 s
of CPU each time) and the emulator, so a run of many tiny contestants pays for them once."""


# --- the emulator in its own process ----------------------------------------------------------


@dataclass
class EmulatorProcess:
    """A `python -m simplymeet.emulator serve` child serving on loopback."""

    process: subprocess.Popen[bytes] | ForkedProcess
    port: int
    events: int
    latency_ms: float
    api_key: str = API_KEY
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        """e.g. http://127.0.0.1:54321 (API paths start with /panel/api)."""
        return f"http://{HOST}:{self.port}"

    @property
    def api_url(self) -> str:
        """The API root, e.g. http://127.0.0.1:54321/panel/api."""
        return f"{self.base_url}/panel/api"

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory of the emulator process in MB."""
        return proc_rss_mb(self.process.pid)

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the emulator process has used so far."""
        return process_cpu_seconds(self.process.pid)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM), and kill it if it does not stop within `timeout`."""
        if self.process.poll() is not None:
            return
        # Not SIGINT: a shell starts background jobs with SIGINT ignored, and the emulator
        # inherits that; each stop then waited out the whole timeout (10 s an emulator, most
        # of the benchmarks' smoke test under xdist).
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def emulator_process(
    events: int,
    latency_ms: float = 0.0,
    *,
    seed: int = 1,
    ready_timeout: float | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[EmulatorProcess]:
    """Start an emulator process on a free loopback port, wait until it answers, stop it after.

    Readiness is a real API call (`GET /current-user`) answered 200, polled until
    `ready_timeout` (default: 30 s plus 60 s per million events, for seeding). `extra_args`
    go to `emulator serve` as they are (e.g. `--no-page-cache`).
    """
    timeout = ready_timeout if ready_timeout is not None else 30.0 + 60.0 * events / 1e6
    log = Path(tempfile.mkstemp(prefix="bench-emulator-", suffix=".log")[1])
    port = free_port()
    command = [
        sys.executable, "-m", "simplymeet.emulator", "serve",
        "--host", HOST, "--port", str(port), "--seed", str(seed), "--events", str(events),
        "--latency-ms", str(latency_ms), "--api-key", API_KEY, *extra_args,
    ]  # fmt: skip
    process: subprocess.Popen[bytes] | ForkedProcess
    if os.environ.get(FORK_ENV) == "1":
        process = fork({"argv": command[3:], "log": str(log)})
    else:
        with log.open("wb") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env=_child_env(), cwd=REPO
            )
    emulator = EmulatorProcess(process, port, events, latency_ms, log_path=log)
    try:
        deadline = time.monotonic() + timeout
        with httpx.Client(
            headers={"X-API-KEY": API_KEY}, timeout=10 + latency_ms / 1000, verify=tls_context()
        ) as http:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"emulator exited early:\n{_tail(log)}")
                try:
                    if http.get(f"{emulator.api_url}/current-user").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"emulator not ready after {timeout:.0f} s:\n{_tail(log)}")
                time.sleep(0.1)
        yield emulator
    finally:
        emulator.stop()
        log.unlink(missing_ok=True)


# --- measured children ------------------------------------------------------------------------


@dataclass
class ChildResult:
    """What one contestant did in its own process: its figures and its own result dict."""

    wall_s: float
    """Wall time of the measured call (imports of PRELOAD excluded)."""
    cpu_s: float
    """User + system CPU seconds of the call, the child's own and its child processes'."""
    peak_rss_mb: float
    """Peak resident memory of the child process over its life (imports included)."""
    baseline_rss_mb: float
    """Resident memory when the clock started (interpreter and PRELOAD imported)."""
    children_peak_rss_mb: float
    """Largest peak RSS of any process the child started and waited for (dlt workers)."""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def growth_mb(self) -> float:
        """How far the peak rose above the baseline: the memory the work itself needed."""
        return self.peak_rss_mb - self.baseline_rss_mb


FORK_ENV = "BENCH_FORK_CHILDREN"
"""With `BENCH_FORK_CHILDREN=1` in the environment, every contestant and every emulator is
forked from a process that imported FORK_PRELOAD once, instead of starting a fresh interpreter
that imports them again (`BENCH_FORK_SERVER` names the socket of one already running, which
several runs can share; otherwise the first fork starts one for this run).

The server runs nothing but imports, so no contestant's work helps the next; but the lazy
imports of FORK_PRELOAD are then on nobody's clock, and peak RSS starts from the server's
pages: the figures are not those of a fresh process, and README.md's were taken without it.
It is for runs where imports are most of the cost and figures are not the point:
`tests/test_bench_smoke.py` runs each benchmark at a tiny size this way.
"""
SERVER_ENV = "BENCH_FORK_SERVER"
"""The socket of a running fork server (`start_fork_server`) for BENCH_FORK_CHILDREN=1 to use."""


def run_child(
    target: str, *, timeout: float = 300.0, env: dict[str, str] | None = None, **kwargs: Any
) -> ChildResult:
    """Run `target` ("module:function" in bench/) with `kwargs` in a fresh, measured process.

    The function must return a JSON-serialisable dict. `env` adds environment variables
    (e.g. dlt configuration) for that child only. Raises with the child's output on failure.
    The process is forked from a preloaded one when `BENCH_FORK_CHILDREN=1` (see FORK_ENV).
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "child.log"
        args_json = json.dumps(kwargs, default=str)
        try:
            if os.environ.get(FORK_ENV) == "1":
                request = {"target": target, "args": args_json, "out": str(out)}
                forked = fork({**request, "log": str(log), "env": env or {}})
                try:
                    code = forked.wait(timeout)
                except subprocess.TimeoutExpired:
                    forked.kill()
                    forked.wait(60)
                    raise
            else:
                code = _spawn(target, args_json, out, log, env, timeout)
        except subprocess.TimeoutExpired:
            message = f"{target} took longer than {timeout:.0f} s:\n{_tail(log)}"
            raise RuntimeError(message) from None
        if code != 0 or not out.exists():
            raise RuntimeError(f"{target} failed (exit {code}):\n{_tail(log)}")
        raw = json.loads(out.read_text())
    return ChildResult(**raw)


def _spawn(
    target: str, args_json: str, out: Path, log: Path, env: dict[str, str] | None, timeout: float
) -> int:
    """`run_child` in a fresh interpreter; its exit code."""
    command = [sys.executable, str(BENCH_DIR / "common.py"), "child", target, args_json, str(out)]
    with log.open("wb") as sink:
        done = subprocess.run(
            command, stdout=sink, stderr=subprocess.STDOUT, env=_child_env(env),
            cwd=REPO, timeout=timeout, check=False,
        )  # fmt: skip
    return done.returncode


# --- the fork server (BENCH_FORK_CHILDREN=1) --------------------------------------------------


class ForkedProcess:
    """A process the fork server forked for us, with the part of `subprocess.Popen` we use.

    The server is its parent: it reports the exit code on our connection, and kills the
    process if we hang up first.
    """

    def __init__(self, connection: socket.socket) -> None:
        self.pid = 0
        self.returncode: int | None = None
        self._connection = connection
        self._pending = b""

    def poll(self) -> int | None:
        """The exit code, or None while it runs."""
        if self.returncode is None:
            self._exited(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit code; TimeoutExpired after `timeout` seconds (None: no limit)."""
        if self.returncode is None and not self._exited(timeout):
            raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0.0)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, sig: int) -> None:
        """Signal the process (nothing if it has ended)."""
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL."""
        self.send_signal(signal.SIGKILL)

    def _exited(self, timeout: float | None) -> bool:
        reply = self._reply(timeout)
        if reply is None:
            return False
        self.returncode = int(reply["status"])
        self._connection.close()
        return True

    def _reply(self, timeout: float | None) -> dict[str, Any] | None:
        """The server's next line on our connection, or None after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not select.select([self._connection], [], [], left)[0]:
                return None
            chunk = self._connection.recv(65536)
            if not chunk:
                raise RuntimeError(f"the fork server hung up on pid {self.pid}")
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return dict(json.loads(line))


def fork(request: dict[str, Any]) -> ForkedProcess:
    """Have the fork server start `request`: a contestant (`target`, `args`, `out`) or an
    emulator (`argv` of `python -m simplymeet.emulator`), with its output in `log`."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(os.environ.get(SERVER_ENV) or _own_fork_server())
    connection.sendall(json.dumps(request).encode() + b"\n")
    forked = ForkedProcess(connection)
    reply = forked._reply(300.0)  # a server just started may still be importing
    if reply is None:
        raise RuntimeError("the fork server did not answer")
    forked.pid = int(reply["pid"])
    return forked


def start_fork_server(address: str) -> subprocess.Popen[bytes]:
    """Start a fork server listening on the Unix socket `address`.

    It serves until its stdin closes: `stop_fork_server` closes it and reaps the server,
    which reaps every process it forked (their CPU time is counted for the caller then).
    """
    command = [sys.executable, str(BENCH_DIR / "common.py"), "forkserver", address]
    server = subprocess.Popen(command, stdin=subprocess.PIPE, env=_child_env(), cwd=REPO)
    deadline = time.monotonic() + 60.0
    while not os.path.exists(address):
        if server.poll() is not None or time.monotonic() > deadline:
            stop_fork_server(server)
            raise RuntimeError(f"the fork server did not listen on {address}")
        time.sleep(0.02)
    return server


def stop_fork_server(server: subprocess.Popen[bytes]) -> None:
    """End a server of `start_fork_server` (its running processes are killed) and reap it."""
    if server.stdin is not None:
        server.stdin.close()
    try:
        server.wait(60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


_OWN_SERVER: list[str] = []


def _own_fork_server() -> str:
    """The socket of this run's own fork server, started on first use, ended at exit."""
    if not _OWN_SERVER:
        folder = tempfile.mkdtemp(prefix="bench-fork-")
        server = start_fork_server(os.path.join(folder, "socket"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        atexit.register(stop_fork_server, server)
        _OWN_SERVER.append(os.path.join(folder, "socket"))
    return _OWN_SERVER[0]


def _fork_server_main(address: str) -> None:
    """The server: import FORK_PRELOAD, then fork a process per request, until stdin closes.

    Each connection carries one request line; the server answers the pid at once and the
    exit code when the process ends. A connection that hangs up first has its process killed.
    """
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(64)
    sys.path.insert(0, str(BENCH_DIR))
    for name in FORK_PRELOAD:
        importlib.import_module(name)
    # What every child inherits is never walked by the children's collections (nor copied by
    # them, as a collection's bookkeeping would touch each page): `simplymeet` freezes the same
    # imports in its own process (`cli.gc_freeze`).
    gc.freeze()
    reading: dict[socket.socket, bytes] = {}
    running: dict[int, socket.socket | None] = {}
    while True:
        waiting_on = [c for c in running.values() if c is not None]
        ready = select.select([0, listener, *reading, *waiting_on], [], [], 0.05)[0]
        if 0 in ready and not os.read(0, 4096):
            break
        if listener in ready:
            reading[listener.accept()[0]] = b""
        for connection in [c for c in ready if c in reading]:
            chunk = connection.recv(65536)
            reading[connection] += chunk
            if not chunk or b"\n" in reading[connection]:
                line = reading.pop(connection).partition(b"\n")[0]
                if not chunk:
                    connection.close()
                    continue
                pid = os.fork()
                if pid == 0:
                    _forked_child(json.loads(line), [listener, *reading, *waiting_on, connection])
                connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
                running[pid] = connection
        for connection in [c for c in ready if c in waiting_on]:
            if not connection.recv(4096):  # the caller is gone: so is its process
                pid = next(p for p, c in running.items() if c is connection)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                connection.close()
                running[pid] = None
        while running:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            ended = running.pop(pid, None)
            if ended is not None:
                reply = json.dumps({"status": os.waitstatus_to_exitcode(status)}).encode()
                with contextlib.suppress(OSError):
                    ended.sendall(reply + b"\n")
                ended.close()
    for pid in running:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)


def _forked_child(request: dict[str, Any], inherited: list[socket.socket]) -> None:
    """A forked process: output to its log, its extra environment, then its work; never returns."""
    code = 1
    try:
        for connection in inherited:  # the server's, not this process's
            connection.close()
        log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.environ.update(request.get("env", {}))
        if "argv" in request:
            from simplymeet.emulator.cli import emulator_group

            emulator_group.main(args=request["argv"], prog_name="python -m simplymeet.emulator")
        else:
            _child_main(request["target"], request["args"], request["out"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _child_main(target: str, args_json: str, out_path: str) -> None:
    """The child side of `run_child`."""
    sys.path.insert(0, str(BENCH_DIR))
    for name in PRELOAD:
        importlib.import_module(name)
    module_name, _, func_name = target.partition(":")
    func = getattr(importlib.import_module(module_name), func_name)
    kwargs = json.loads(args_json)
    baseline = proc_rss_mb(os.getpid())[0]
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    data = func(**kwargs)
    wall = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    result = ChildResult(
        wall_s=wall,
        cpu_s=cpu,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        baseline_rss_mb=baseline,
        children_peak_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        data=data or {},
    )
    Path(out_path).write_text(json.dumps(result.__dict__, default=str))


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def proc_rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of process `pid` in MB, from /proc (Linux)."""
    current = peak = 0.0
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return current, peak


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (Linux /proc); NaN once it is
    gone (reaped), so a figure never hides the failure that ended it."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    # A developer's SIMPLYMEET_* settings must not leak into a benchmark's configuration.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIMPLYMEET_")}
    env.update(
        PYTHONUNBUFFERED="1",
        RUNTIME__DLTHUB_TELEMETRY="false",
        PYTHONPATH=os.pathsep.join(
            [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
        ),
    )
    env.update(extra or {})
    return env


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


# --- settings for a sync into a scratch warehouse ---------------------------------------------


def sync_settings(
    workdir: str | Path,
    base_url: str,
    *,
    concurrency: int = 8,
    pipeline_name: str = "bench",
    page_size: int = 100,
) -> Settings:
    """Settings that sync the emulator at `base_url` into `workdir/warehouse.duckdb`.

    config.toml as shipped, with the warehouse in `workdir`, models off, and the API pointed
    at the emulator (same shape as tests/sync_support.py).
    """
    folder = Path(workdir)
    settings = load_settings(REPO / "config.toml")
    settings = settings.with_overrides(
        "warehouse",
        duckdb_path=str(folder / "warehouse.duckdb"),
        pipelines_dir=str(folder / "pipelines"),
        pipeline_name=pipeline_name,
    )
    settings = settings.with_overrides(
        "api", base_url=base_url, concurrency=concurrency, page_size=page_size
    )
    return settings.with_overrides("sync", build_models=False)


def config_file(workdir: Path, base_url: str, *, concurrency: int, **warehouse: str) -> Path:
    """`workdir/config.toml`: config.toml as shipped, pointed at the emulator at `base_url`,
    with `warehouse` overriding keys of its [warehouse] table; for `simplymeet` run as typed."""
    import tomlkit

    doc = tomlkit.parse((REPO / "config.toml").read_text())
    doc["api"]["base_url"] = base_url  # type: ignore[index]
    doc["api"]["allow_insecure_http"] = True  # type: ignore[index]
    doc["api"]["concurrency"] = concurrency  # type: ignore[index]
    for key, value in warehouse.items():
        doc["warehouse"][key] = value  # type: ignore[index]
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "config.toml"
    path.write_text(tomlkit.dumps(doc))
    return path


class CountingTransport(httpx.BaseTransport):
    """An httpx transport that counts what goes over the wire: requests by method and page size.

    Passed to `SimplyMeetClient(transport=...)`; it wraps the transport the client would
    otherwise build for itself, with as many connections, so nothing else changes.
    """

    def __init__(self, concurrency: int) -> None:
        self._lock = threading.Lock()
        self._inner = PooledTransport(concurrency, tls_context())
        self.requests = 0
        self.by_method: dict[str, int] = {}
        self.event_pages = 0
        """Event-list requests for a page of rows (onPage > 1)."""
        self.event_probes = 0
        """Event-list requests for one row (onPage=1): the sync's before/after probes."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Count (pages are fetched from several threads), then send through the real transport."""
        event_list = request.method == "GET" and request.url.path.rstrip("/").endswith(
            "/panel/api/event"
        )
        with self._lock:
            self.requests += 1
            self.by_method[request.method] = self.by_method.get(request.method, 0) + 1
            if event_list and request.url.params.get("onPage") == "1":
                self.event_probes += 1
            elif event_list:
                self.event_pages += 1
        return self._inner.handle_request(request)

    def close(self) -> None:
        """Close the pooled connections."""
        self._inner.close()


def run_simplymeet_sync(
    workdir: str,
    base_url: str,
    api_key: str,
    *,
    concurrency: int = 8,
    resources: Sequence[str] | None = None,
    pipeline_name: str = "bench",
    reconcile: bool | None = None,
) -> dict[str, Any]:
    """One `simplymeet sync` (what `simplymeet.sync.sync` runs, models off) and its figures.

    Returns the summary's counts, the requests seen on the wire, and the seconds spent in
    each stage the runner reports (`extracting`, `normalizing`, `loading`; `loading` runs to
    the end: load, child-table pruning, row counts and the `_sync_runs` row, which is also
    timed on its own as `record run`).
    """
    from simplymeet.client import SimplyMeetClient
    from simplymeet.sync import SyncApi, SyncRequest, run_sync, runner
    from simplymeet.sync.arrow_pandas import convert_without_pandas

    # As the command does before its sync: pyarrow's first conversion would import pandas,
    # 0.2-0.45 CPU-s that `simplymeet sync` never pays (a no-op where pandas is imported).
    convert_without_pandas()
    settings = sync_settings(
        workdir, base_url, concurrency=concurrency, pipeline_name=pipeline_name
    )
    stages: dict[str, float] = {}
    stages_cpu: dict[str, float] = {}
    current = ["setup", time.perf_counter(), _cpu_seconds()]

    def on_stage(name: str) -> None:
        now, cpu = time.perf_counter(), _cpu_seconds()
        stage = str(current[0])
        stages[stage] = stages.get(stage, 0.0) + now - float(current[1])
        stages_cpu[stage] = stages_cpu.get(stage, 0.0) + cpu - float(current[2])
        current[:] = [name, now, cpu]

    record_run = runner._record_run

    def timed_record_run(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            record_run(*args, **kwargs)
        finally:
            stages["record run"] = time.perf_counter() - started

    runner._record_run = timed_record_run  # measurement only: the call itself is unchanged
    transport = CountingTransport(concurrency)
    with SimplyMeetClient(
        base_url,
        api_key=api_key,
        concurrency=concurrency,
        timeout=float(settings.get("api", "timeout_seconds")),
        transport=transport,
    ) as client:
        api = SyncApi(client, concurrency=concurrency)
        request = SyncRequest(
            resources=list(resources) if resources else None,
            build_models=False,
            reconcile=reconcile,
        )
        summary = run_sync(settings, api, request, on_stage=on_stage)
        on_stage("done")
        stats = client.stats.as_dict()
    return {
        "requests": transport.requests,
        "event_list_requests": transport.event_pages + transport.event_probes,
        "event_pages": transport.event_pages,
        "event_probes": transport.event_probes,
        "summary_event_pages": summary.event_pages,
        "bytes_received": stats["bytes_received"],
        "rows": {t.name: t.rows_after for t in summary.tables},
        "loaded": {t.name: t.loaded for t in summary.tables},
        "duration_s": summary.duration_seconds,
        "stages": stages,
        "stages_cpu": stages_cpu,
        "event_pages_reread": summary.event_pages_reread,
        "scan_window_from": summary.scan_window_from,
        "deleted_found": summary.deleted_found,
    }


# --- tables -----------------------------------------------------------------------------------


def ratio(value: float, base: float) -> str:
    """`value / base` as e.g. `1.23×` (or `—` when the base is zero)."""
    return f"{value / base:.2f}×" if base else "—"


def fmt(value: float, digits: int = 1) -> str:
    """A number with thousands separators and `digits` decimals."""
    return f"{value:,.{digits}f}"


def print_table(
    title: str,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    notes: Sequence[str] = (),
) -> None:
    """Print a table (rich, as the rest of the project) and notes under it.

    With BENCH_MARKDOWN=1 in the environment the table is printed again as Markdown, ready
    for bench/README.md.
    """
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for index, name in enumerate(columns):
        table.add_column(name, justify="left" if index == 0 else "right")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    console = Console(width=160)
    console.print(table)
    for note in notes:
        console.print(f"  {note}", highlight=False, soft_wrap=True)
    if os.environ.get("BENCH_MARKDOWN"):
        print()
        print("| " + " | ".join(columns) + " |")
        print("|" + "|".join("---" if i == 0 else "---:" for i in range(len(columns))) + "|")
        for row in rows:
            print("| " + " | ".join(str(cell) for cell in row) + " |")
        print()


def print_header(text: str) -> None:
    """One line saying what is about to be measured, so a long run shows progress."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def machine_line(when: str = "start") -> str:
    """Cores and load average now, printed with every table: figures depend on them."""
    load = os.getloadavg()
    return f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} at {when} of run"


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "child":
        _child_main(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == "forkserver":
        _fork_server_main(sys.argv[2])
    else:
        sys.exit(
            "usage: common.py child MODULE:FUNC ARGS_JSON OUT_JSON | common.py forkserver SOCKET"
            " (used by run_child)"
        )
