"""Running the emulator in a background thread, for tests and notebooks.

with start_emulator(events=500) as emu:
    httpx.get(f"{emu.base_url}/panel/api/event/", headers={"X-API-KEY": emu.api_key})
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from simplymeet.contract.endpoints import match_route
from simplymeet.emulator import account_handlers, event_handlers  # noqa: F401  (registers handlers)
from simplymeet.emulator.anomalies import AnomalySpec
from simplymeet.emulator.app import Secret
from simplymeet.emulator.drift import DriftSpec, DriftWriter
from simplymeet.emulator.faults import FaultSpec
from simplymeet.emulator.readings import ReadingSpec
from simplymeet.emulator.server import EmulatorServer, RequestLog, RequestRecord
from simplymeet.emulator.store import PutMode, RequestTimes, Store

_TIMEOUT_S = 15


class RunningEmulator:
    """An emulator serving on 127.0.0.1 from a background thread; a context manager."""

    def __init__(
        self,
        store: Store,
        api_key: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        faults: FaultSpec | str | None = None,
        drift: DriftSpec | str | None = None,
    ) -> None:
        self.store = store
        self._api_key = Secret(api_key)
        self._log = RequestLog()
        self._server = EmulatorServer(
            store,
            self._api_key,
            latency_ms=latency_ms,
            faults=FaultSpec.coerce(faults),
            log=self._log,
        )
        self._drift_spec = DriftSpec.coerce(drift)
        self._drift: DriftWriter | None = None
        self._drift_task: asyncio.Task | None = None
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="simplymeet-emulator", daemon=True
        )
        self._thread.start()
        try:
            self.port = self._call(self._server.start(host, port))
        except BaseException:
            self._shutdown_loop()
            raise
        self.host = host
        self.base_url = f"http://{host}:{self.port}"
        """e.g. http://127.0.0.1:54321 (paths start with /panel/api)."""
        self._stopped = False
        if self._drift_spec is not None:
            self.start_drift()

    # --- access ------------------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The key requests must send in X-API-KEY."""
        return self._api_key.reveal()

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far: (method, path, query, status); status 0 = no answer."""
        return self._log.snapshot()

    @property
    def connections_accepted(self) -> int:
        """TCP connections accepted so far (keep-alive reuses them)."""
        return self._server.connections_accepted

    def received(self, endpoint: str) -> int:
        """Requests to `endpoint` read so far, answered or not (counted before any latency)."""
        return self._server.received[endpoint]

    def reset_log(self) -> None:
        """Forget the requests logged so far."""
        self._log.clear()

    def count(
        self,
        endpoint: str | None = None,
        *,
        method: str | None = None,
        status: int | None = None,
        where: Callable[[RequestRecord], bool] | None = None,
    ) -> int:
        """How many logged requests match, e.g. `count("event_list")` or `count(status=429)`."""
        total = 0
        for record in self._log.snapshot():
            if method is not None and record.method != method.upper():
                continue
            if status is not None and record.status != status:
                continue
            if endpoint is not None:
                found = match_route(record.method, record.path)
                if found is None or found[0].name != endpoint:
                    continue
            if where is not None and not where(record):
                continue
            total += 1
        return total

    # --- faults and drift --------------------------------------------------------------------

    @property
    def faults(self) -> FaultSpec | None:
        """The fault spec in force."""
        injector = self._server.injector
        return injector.spec if injector else None

    @property
    def faults_injected(self) -> dict[str, int]:
        """Faults injected since the spec was last set, by kind."""
        injector = self._server.injector
        return dict(injector.injected) if injector else {}

    def set_faults(self, faults: FaultSpec | str | None) -> None:
        """Change the faults now (None: no faults); takes effect on the next request."""
        self._server.set_faults(FaultSpec.coerce(faults))

    @property
    def anomalies(self) -> AnomalySpec | None:
        """The rows served broken, if any (see `emulator/anomalies.py`)."""
        return self._server.anomalies

    def set_anomalies(self, anomalies: AnomalySpec | str | None) -> None:
        """Serve rows broken from the next request on (None: as the store has them)."""
        self._server.anomalies = AnomalySpec.coerce(anomalies)

    def set_request_times(self, reading: RequestTimes) -> None:
        """Read writes' request datetimes as UTC or as the event type's/host's wall time."""
        with self.store.lock:
            self.store.request_times = reading

    @property
    def readings(self) -> ReadingSpec:
        """How the loosely specified answers are given (see `emulator/readings.py`)."""
        return self.store.readings

    def set_readings(self, readings: ReadingSpec | str | None) -> None:
        """Answer the other way from the next request on (None: the emulator's own reading)."""
        store = self.store
        with store.lock:
            store.readings = ReadingSpec.coerce(readings)
            store.pages.clear()  # a kept page was answered under the reading before
            store.generation += 1  # and so was a kept selection of the event list

    def start_drift(self, drift: DriftSpec | str | None = None) -> None:
        """Start the background writer (with `drift`, or the spec given at start, or defaults)."""
        self.stop_drift()
        spec = DriftSpec.coerce(drift) or self._drift_spec or DriftSpec()
        self._drift = DriftWriter(self.store, spec)

        async def launch() -> asyncio.Task:
            return asyncio.get_running_loop().create_task(self._drift.run())  # type: ignore[union-attr]

        self._drift_task = self._call(launch())

    def stop_drift(self) -> dict[str, int]:
        """Stop the background writer; returns what it did, by kind."""
        task, self._drift_task = self._drift_task, None
        if task is not None:

            async def cancel() -> None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)

            self._call(cancel())
        return dict(self._drift.stats) if self._drift else {}

    @property
    def drift_stats(self) -> dict[str, int]:
        """Writes made by the drift writer so far, by kind."""
        return dict(self._drift.stats) if self._drift else {}

    # --- lifecycle ---------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop drift, close every connection, stop the thread. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        self.stop_drift()
        try:
            self._call(self._server.close())
        finally:
            self._shutdown_loop()

    def _shutdown_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(_TIMEOUT_S)
        if not self._thread.is_alive():
            self._loop.close()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(_TIMEOUT_S)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        store = self.store
        return f"RunningEmulator({self.base_url}, events={store.event_count}, seed={store.seed})"


def start_emulator(
    *,
    seed: int = 1,
    events: int = 2000,
    api_key: str = "test-key",
    port: int = 0,
    latency_ms: float = 0,
    faults: FaultSpec | str | None = None,
    anchor: dt.date | None = None,
    paid: bool = True,
    drift: DriftSpec | str | None = None,
    put_mode: PutMode = "merge",
    readings: ReadingSpec | str | None = None,
) -> RunningEmulator:
    """Seed a store and serve it on 127.0.0.1 from a background thread.

    `anchor` (default: today, UTC) is the date all seeded history ends at; same (seed, anchor,
    events) gives the same data. `faults` and `drift` accept a spec or its string form; drift
    given here starts at once. `paid=False` makes every call answer 403. `put_mode` says how a
    PUT body that leaves a field out is read (`store.PutMode`; `emu.store.put_mode` changes it).
    `readings` answers what the reference leaves loose the other way (`emulator/readings.py`).
    """
    store = Store(seed=seed, events=events, anchor=anchor, paid=paid, put_mode=put_mode)
    store.readings = ReadingSpec.coerce(readings)
    return RunningEmulator(
        store, api_key, port=port, latency_ms=latency_ms, faults=faults, drift=drift
    )
