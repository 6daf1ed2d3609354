"""`simplymeet models build|test`: thin shells over `build_models` and `test_models`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from simplymeet.cli.gc_freeze import freeze_imported
from simplymeet.cli.options import (
    BadInput,
    OnceOptionsCommand,
    config_option,
    db_option,
    limit_option,
    settings_from,
)
from simplymeet.cli.options import dataset_option as checked_dataset_option
from simplymeet.models.destinations import DESTINATIONS
from simplymeet.models.errors import (
    MissingCredentialsError,
    ModelError,
    ModelsNotBuiltError,
    WarehouseNotFoundError,
)

if TYPE_CHECKING:
    from rich.console import Console

    from simplymeet.config import Settings
    from simplymeet.models.connection import Warehouse
    from simplymeet.models.datatests import TestFailure
    from simplymeet.models.runner import BuildResult

sql_dir_option = click.option(
    "--sql-dir",
    type=click.Path(file_okay=False, exists=True),
    default=None,
    help="Folder of SQL models (default: the project's sql/).",
)

destination_option = click.option(
    "--destination",
    type=click.Choice(DESTINATIONS),
    default=None,
    help="Warehouse of the models (default: [warehouse] destination); PostgreSQL "
    "credentials come from dlt's providers, as for the sync.",
)
dataset_option = checked_dataset_option(
    "Schema the sync loaded, read as `raw` (default: [warehouse] dataset)."
)


def chosen_warehouse(settings: Settings, destination: str | None) -> Warehouse:
    """The warehouse `--destination` names, else the settings' (`[warehouse] destination`)."""
    from simplymeet.models.connection import warehouse_for  # DuckDB only when a command runs

    return warehouse_for(
        destination or str(settings.get("warehouse", "destination")),
        settings.get("warehouse", "duckdb_path"),
    )


def command_error(exc: ModelError) -> click.ClickException:
    """A models error as the command's one line: a warehouse that is not there, or holds no
    models, is bad input (exit 2), anything else about the models a failure (exit 1)."""
    if isinstance(exc, WarehouseNotFoundError | ModelsNotBuiltError | MissingCredentialsError):
        return BadInput(str(exc))
    return click.ClickException(str(exc))


def _console() -> Console:
    from simplymeet.cli.console import make_console  # rich loads when a command prints

    return make_console(highlight=False, soft_wrap=False)


@click.group("models")
def models_group() -> None:
    """Build and test the SQL models (schema `analytics`) in the DuckDB file or PostgreSQL.

    Example: simplymeet models build && simplymeet models test
    """


@models_group.command("build", cls=OnceOptionsCommand)
@db_option
@config_option
@sql_dir_option
@destination_option
@dataset_option
def build_command(
    db_path: str | None,
    config_path: str | None,
    sql_dir: str | None,
    destination: str | None,
    dataset: str | None,
) -> None:
    """Create or replace every model, in the order their SQL references dictate.

    Example: simplymeet models build --db simplymeet.duckdb
    """
    from simplymeet.models.runner import build_models  # DuckDB: only when a command needs it

    freeze_imported()
    settings = settings_from(config_path, db_path)
    try:
        result = build_models(
            chosen_warehouse(settings, destination),
            sql_dir=sql_dir,
            settings=settings,
            dataset=dataset,
            dataset_must_exist=dataset is not None,
        )
    except ModelError as exc:
        raise command_error(exc) from exc
    print_build_result(result, _console())


def print_build_result(result: BuildResult, console: Console) -> None:
    """The models built, in order, as a table, and a one-line summary."""
    from rich.table import Table

    table = Table(title="Models built (schema analytics)", title_justify="left")
    table.add_column("#", justify="right", style="dim")
    table.add_column("model")
    table.add_column("materialized")
    table.add_column("rows", justify="right")
    table.add_column("seconds", justify="right")
    for number, model in enumerate(result.models, start=1):
        rows = "" if model.rows is None else f"{model.rows:,}"
        # "table (incremental)": only the rows whose inputs changed were recomputed
        kind = (
            f"{model.materialization} (incremental)" if model.incremental else model.materialization
        )
        table.add_row(str(number), model.name, kind, rows, f"{model.seconds:.2f}")
    console.print(table)
    if result.created_sources:
        console.print(
            f"created {len(result.created_sources)} empty raw table(s) not synced yet: "
            + ", ".join(result.created_sources)
        )
    console.print(f"built {len(result.models)} models in {result.seconds:.1f} s")


@models_group.command("test", cls=OnceOptionsCommand)
@db_option
@config_option
@sql_dir_option
@click.option("--select", "select", multiple=True, help="Only test this model (repeatable).")
@limit_option(20, "Offending rows shown per test.")
@destination_option
@dataset_option
@click.pass_context
def test_command(
    ctx: click.Context,
    db_path: str | None,
    config_path: str | None,
    sql_dir: str | None,
    select: tuple[str, ...],
    limit: int,
    destination: str | None,
    dataset: str | None,
) -> None:
    """Run the data tests declared beside the models; exit 1 showing offending rows.

    Example: simplymeet models test --select fct_events
    """
    from simplymeet.models.datatests import load_data_tests, test_models
    from simplymeet.models.project import load_project

    freeze_imported()
    settings = settings_from(config_path, db_path)
    try:
        project = load_project(sql_dir)
        _check_selected(select, project.names)
        tests = [t for t in load_data_tests(project) if not select or t.model in select]
        failures = test_models(
            chosen_warehouse(settings, destination),
            sql_dir=sql_dir,
            select=list(select) or None,
            limit=limit,
            dataset=dataset,
            settings=settings,
        )
    except ModelError as exc:
        raise command_error(exc) from exc
    except Exception as exc:
        from simplymeet.models.connection import OLDER_MODELS, missing_column, missing_relation

        if missing_relation(exc):  # the order of the steps, as `report` and `alerts` say
            raise BadInput(
                "the warehouse has no models to test; run `simplymeet models build` (or a "
                "sync without --no-models)"
            ) from exc
        if missing_column(exc):
            raise BadInput(OLDER_MODELS) from exc
        raise
    console = _console()
    for failure in failures:
        print_failure(failure, console)
    passed = len(tests) - len(failures)
    console.print(f"{passed} passed, {len(failures)} failed")
    if failures:
        ctx.exit(1)


def _check_selected(select: tuple[str, ...], names: list[str]) -> None:
    """BadInput (exit 2) naming the first of `select` no model has: a misspelt selection
    would otherwise test nothing and pass, in CI too."""
    import difflib

    for name in select:
        if name not in names:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise BadInput(f"--select {name}: no model has that name{hint}")


def print_failure(failure: TestFailure, console: Console) -> None:
    """One failed test: what it checks, how many rows offend, and the first of them."""
    console.print(
        f"[bold red]FAIL {failure.model}: {failure.test}[/] "
        f"({failure.failing_rows:,} offending rows)",
        markup=True,
    )
    if failure.description:
        console.print(f"  expected: {failure.description}", markup=False)
    from rich.table import Table

    table = Table()
    for column in failure.columns:
        table.add_column(column)
    for row in failure.rows:
        table.add_row(*(_cell(value) for value in row))
    console.print(table)


def _cell(value: Any) -> str:
    return "null" if value is None else str(value)
