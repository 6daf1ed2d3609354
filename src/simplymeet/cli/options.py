"""Options spelled the same in every command, and the objects they build."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from simplymeet.cli.errors import EXIT_USAGE
from simplymeet.limits import MAX_ROWS_SHOWN, MAX_SEEDED_EVENTS

if TYPE_CHECKING:
    from simplymeet.client import SimplyMeetClient
    from simplymeet.client.secret import ApiKey
    from simplymeet.config import Settings

F = Callable[..., Any]


class BadInput(click.ClickException):
    """Input a command found unusable after parsing (a missing file, an unknown job): one
    line, exit 2, nothing done."""

    exit_code = EXIT_USAGE


class OnceOptionsCommand(click.Command):
    """A command that refuses an option given twice when only one value can count.

    Click keeps the last value of a repeated option without a word: `--ids 1 --ids 2` acted
    on event 2 alone, `--reason x --reason ""` sent an empty reason, and the admin believed
    both were done. Options that take several values (`multiple`), flags and counts repeat
    freely.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        given = args[: args.index("--")] if "--" in args else args
        # Completion parses loosely, and help asked for is shown whatever else is given.
        if not ctx.resilient_parsing and not set(ctx.help_option_names) & set(given):
            _, _, order = self.make_parser(ctx).parse_args(args=list(args))
            seen: set[str] = set()
            for param in order:
                # A `--x/--no-x` pair is one choice: given both ways, the last won too.
                once = (
                    isinstance(param, click.Option)
                    and not (param.multiple or param.count)
                    and (not param.is_flag or bool(param.secondary_opts))
                    and param.name is not None
                )
                if once and param.name in seen:
                    name = "/".join([max(param.opts, key=len), *param.secondary_opts])
                    raise click.UsageError(
                        f"{name} given more than once: give it once (only the last would count)",
                        ctx,
                    )
                if once and param.name is not None:
                    seen.add(param.name)
        return super().parse_args(ctx, args)


def config_option(func: F) -> F:
    """`--config PATH`: the settings file (default ./config.toml or $SIMPLYMEET_CONFIG)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="Settings file (default: ./config.toml, or $SIMPLYMEET_CONFIG).",
    )(func)


def db_option(func: F) -> F:
    """`--db PATH`: the DuckDB file (default from config.toml [warehouse] duckdb_path)."""
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=None,
        help="DuckDB file (default: [warehouse] duckdb_path in config.toml).",
    )(func)


def account_option(func: F) -> F:
    """`--account NAME` (repeatable): the configured account(s) a command acts on."""
    return click.option(
        "--account",
        "account_names",
        multiple=True,
        help="A configured [[accounts]] name; repeat for several (default: every account).",
    )(func)


def dataset_option(help: str) -> Callable[[F], F]:
    """`--dataset NAME`, checked as `[warehouse] dataset` is (exit 2 for a name dlt would
    rename and load beside the one named)."""

    def checked(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        from simplymeet.config import checked_dataset

        if value is None:
            return None
        try:
            return checked_dataset(value)
        except ValueError as exc:
            raise click.BadParameter(f"{value!r}: {exc}") from None

    return click.option("--dataset", default=None, callback=checked, help=help)


def seed_options(events: int, seed: int, events_help: str, seed_help: str) -> Callable[[F], F]:
    """`--events` and `--seed` of a command that seeds the emulator (`demo`, `emulator
    serve`), with their defaults: bounded before anything is seeded or replaced."""

    def decorate(func: F) -> F:
        func = click.option(
            "--seed", default=seed, show_default=True, type=click.IntRange(min=0), help=seed_help
        )(func)
        return click.option(
            "--events",
            default=events,
            show_default=True,
            type=click.IntRange(0, MAX_SEEDED_EVENTS),
            help=events_help,
        )(func)

    return decorate


def limit_option(default: int, help: str) -> Callable[[F], F]:
    """`--limit`: how many rows a listing shows, 1 to `MAX_ROWS_SHOWN`."""
    return click.option(
        "--limit",
        type=click.IntRange(1, MAX_ROWS_SHOWN),
        default=default,
        show_default=True,
        help=help,
    )


def base_url_option(func: F) -> F:
    """`--base-url URL`: the API's base URL (default from config.toml [api] base_url)."""
    return click.option(
        "--base-url", default=None, help="API base URL (default: [api] base_url in config.toml)."
    )(func)


def settings_from(
    config_path: str | None, db_path: str | None = None, base_url: str | None = None
) -> Settings:
    """Settings with the command-line overrides applied."""
    # pydantic-settings loads when a command runs, not when the command line starts.
    from simplymeet.config import load_settings

    settings = load_settings(config_path, flags=[("warehouse", "duckdb_path")] if db_path else [])
    settings = settings.with_overrides("warehouse", duckdb_path=db_path)
    return settings.with_overrides("api", base_url=base_url)


class LazyHelpOption(click.Option):
    """An option whose help is written when help is shown, by `help_from()`: for help that
    names a fact whose module is slow to import (`simplymeet --help` must start fast)."""

    def __init__(self, *args: Any, help_from: Callable[[], str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help_from = help_from

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self.help = self.help_from()
        return super().get_help_record(ctx)


def make_client(settings: Settings, api_key: str | ApiKey | None = None) -> SimplyMeetClient:
    """The API client `[api]` describes (`SimplyMeetClient.from_settings`)."""
    from simplymeet.client import SimplyMeetClient

    return SimplyMeetClient.from_settings(settings, api_key=api_key)
