"""The write-back's command groups as `simplymeet --help` lists them, without building them.

Each resource's commands are built from the contract's DTOs (pydantic models): importing them
is most of `simplymeet --help`'s start. The top-level help needs only each group's name and
one line, so those are kept here and the commands are built the first time a group is used.
"""

from __future__ import annotations

from typing import Any

import click

GROUPS: tuple[str, ...] = (
    "event",
    "availability-rule",
    "organization-cancellation-policy",
    "user-cancellation-policy",
    "event-type-tag",
    "user-event-type-tag",
    "poll",
    "poll-result",
    "single-use-link",
)
"""Every `OperationSpec.group` of `operations.OPERATIONS`, in its order (a test holds them
equal)."""


def short_help(group: str) -> str:
    """The line `simplymeet --help` shows for `group`."""
    return f"Write {group.replace('-', ' ')} changes back to SimplyMeet."


class _LazyGroup(click.Group):
    """Stands in for the resource group named `name` until it is used."""

    def __init__(self, name: str) -> None:
        super().__init__(name, short_help=short_help(name))

    @property
    def help(self) -> str | None:
        """The built group's (naming an example from the operations)."""
        return self._built().help

    @help.setter
    def help(self, value: str | None) -> None:
        # click sets it while constructing; the built group's is the one shown.
        pass

    def _built(self) -> click.Group:
        from simplymeet.writeback.cli import writeback_commands

        return next(group for group in writeback_commands if group.name == self.name)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        # The context is the built group's, so click invokes, completes and prints its help.
        return self._built().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._built().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._built().get_command(ctx, cmd_name)


def lazy_groups() -> list[click.Group]:
    """One stand-in per resource group, for `simplymeet.cli.main` to register."""
    return [_LazyGroup(name) for name in GROUPS]
