"""Text from the server and from people, as the terminal may print it: shown, never obeyed.

Light on purpose (no Rich): the command line imports it to print its one-line errors.
"""

from __future__ import annotations

import re

import click

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters but line feed and tab, and the direction overrides and isolates that a
terminal applying right-to-left order obeys (`12` read as `21` after U+202E)."""


def written_out(text: str) -> str:
    """`text` with every character `_CONTROLS` names written out (`\\x1b`, `\\u202e`)."""
    return _CONTROLS.sub(_written, text)


def _written(found: re.Match[str]) -> str:
    code = ord(found.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def echo(text: str, *, err: bool = False) -> None:
    """`click.echo` of `text` with its control characters written out (`written_out`)."""
    click.echo(written_out(text), err=err)
