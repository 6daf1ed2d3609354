"""`simplymeet emulator serve`: run the emulator in the foreground (thin over the library)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os

import click

from simplymeet.cli.options import LazyHelpOption, OnceOptionsCommand, seed_options


def _finite(param: click.Parameter, value: float) -> float:
    """`value` when it is a number (`FloatRange` lets NaN through: it compares false)."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of milliseconds", param=param)
    return value


@click.group(name="emulator")
def emulator_group() -> None:
    """A local SimplyMeet API with seeded data, faults and drift.

    Example: SIMPLYMEET_API_KEY=dev-key simplymeet emulator serve --events 100000
    """


def _spec(kind: type, text: str | None) -> object:
    try:
        return kind.coerce(text)  # type: ignore[attr-defined]
    except (TypeError, ValueError) as exc:
        raise click.BadParameter(str(exc)) from exc


def _api_key_help() -> str:
    from simplymeet.config import API_KEY_ENV

    return f"Key clients must send in X-API-KEY (default: ${API_KEY_ENV})."


@emulator_group.command(cls=OnceOptionsCommand)
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port",
    default=8765,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free).",
)
@seed_options(2000, 1, "Number of seeded events.", "Seed of the generated data.")
@click.option(
    "--anchor",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Date seeded history ends at (default: today, UTC).",
)
@click.option(
    "--api-key",
    cls=LazyHelpOption,
    help_from=_api_key_help,
    default=None,
    show_default=False,
    help="Key clients must send in X-API-KEY (default: the API key's environment variable).",
)
@click.option("--unpaid", is_flag=True, help="Act as an account without a paid plan (403s).")
@click.option(
    "--latency-ms",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 60_000),
    callback=lambda ctx, param, value: _finite(param, value),
    help="Delay added to every request (0 to 60,000).",
)
@click.option(
    "--faults",
    default=None,
    metavar="SPEC",
    help="Fault spec, e.g. '429=0.05,500=0.02,drop=0.01,retry_after=1'.",
)
@click.option(
    "--drift",
    default=None,
    metavar="SPEC",
    help="Background writes, e.g. 'rate=50,insert=0.3,update=0.6,delete=0.1'.",
)
@click.option(
    "--anomalies",
    default=None,
    metavar="SPEC",
    help="Rows served broken, e.g. 'null_id=17,bad_timestamp=18,extra=loyaltyTier'.",
)
@click.option(
    "--put-mode",
    type=click.Choice(["merge", "replace", "strict"]),
    default="merge",
    show_default=True,
    help="A PUT body that leaves out a field: keep its value, null it, or refuse it (422; "
    "strict refuses such a POST body too).",
)
@click.option(
    "--readings",
    default=None,
    metavar="SPEC",
    help="Loose answers given the other way, e.g. 'integrations=array,policies=404'.",
)
@click.option(
    "--no-page-cache",
    is_flag=True,
    help="Render every event page afresh (the path before the page cache; for benchmarks).",
)
def serve(
    host: str,
    port: int,
    seed: int,
    events: int,
    anchor: dt.datetime | None,
    api_key: str | None,
    unpaid: bool,
    latency_ms: float,
    faults: str | None,
    drift: str | None,
    anomalies: str | None,
    put_mode: str,
    readings: str | None,
    no_page_cache: bool,
) -> None:
    """Serve the emulated API until interrupted.

    Example: simplymeet emulator serve --port 8765 --events 100000 --faults '500=0.01'
    """
    # The emulator (asyncio, numpy, h11, the seeded store) loads here, not at start.
    import asyncio

    from simplymeet.config import API_KEY_ENV
    from simplymeet.emulator import account_handlers, event_handlers  # noqa: F401  (registers)
    from simplymeet.emulator.anomalies import AnomalySpec
    from simplymeet.emulator.app import Secret
    from simplymeet.emulator.drift import DriftSpec, DriftWriter
    from simplymeet.emulator.faults import FaultSpec
    from simplymeet.emulator.readings import ReadingSpec
    from simplymeet.emulator.server import EmulatorServer
    from simplymeet.emulator.store import Store

    key = api_key or os.environ.get(API_KEY_ENV)
    if not key:
        raise click.UsageError(f"set {API_KEY_ENV} or pass --api-key")
    fault_spec = _spec(FaultSpec, faults)
    drift_spec = _spec(DriftSpec, drift)
    anomaly_spec = _spec(AnomalySpec, anomalies)
    reading_spec = _spec(ReadingSpec, readings) if readings else None
    started = dt.datetime.now()
    store = Store(
        seed=seed,
        events=events,
        anchor=anchor.date() if anchor else None,
        paid=not unpaid,
        page_cache=not no_page_cache,
        put_mode=put_mode,  # type: ignore[arg-type]
    )
    if reading_spec is not None:
        store.readings = reading_spec  # type: ignore[assignment]
    took = (dt.datetime.now() - started).total_seconds()
    server = EmulatorServer(store, Secret(key), latency_ms=latency_ms, faults=fault_spec)  # type: ignore[arg-type]
    server.anomalies = anomaly_spec  # type: ignore[assignment]

    async def main() -> None:
        try:
            bound = await server.start(host, port)
        except OSError as exc:
            # A host that does not resolve, a port taken: the options, not the emulator.
            why = exc.strerror or str(exc)
            raise click.UsageError(f"cannot listen on {host}:{port}: {why}") from None
        click.echo(
            f"SimplyMeet emulator on http://{host}:{bound}/panel/api "
            f"({events} events, seed {seed}, seeded in {took:.1f}s"
            f"{', faults ' + str(fault_spec) if fault_spec else ''}"
            f"{', drift ' + str(drift_spec) if drift_spec else ''}"
            f"{', anomalies ' + str(anomaly_spec) if anomaly_spec else ''}"
            f"{', PUT ' + put_mode if put_mode != 'merge' else ''}"
            f"{', readings ' + str(reading_spec) if reading_spec else ''}). Ctrl-C stops it."
        )
        tasks = []
        if drift_spec is not None:
            tasks.append(asyncio.create_task(DriftWriter(store, drift_spec).run()))  # type: ignore[arg-type]
        try:
            await server.serve_forever()
        finally:
            for task in tasks:
                task.cancel()
            await server.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
