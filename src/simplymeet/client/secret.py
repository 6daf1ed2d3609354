"""The API key, unprintable by construction, and the redaction of URLs before they are shown.

The key only leaves an `ApiKey` through `reveal()`, called in one place: the auth hook that
sets the `X-API-KEY` header. `repr`, `str`, f-strings and `%` formatting all give `***`, and
pickling or copying into another process is refused, so a key cannot end up in a log, an
exception message, a traceback's locals or a serialized task by accident.
"""

from __future__ import annotations

import hmac
import os
import re
from functools import cache
from typing import NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from simplymeet.config import API_KEY_ENV

MASK = "***"
DEFAULT_SOURCE = f"{API_KEY_ENV} (or api_key in .simplymeet/secrets.toml)"
"""Where a key comes from unless its reader says otherwise (an account's own key does)."""
SCRUBBED_LENGTH = 12
"""The shortest key `ApiKey.scrub` searches response bodies for (see there)."""
SHARED_RUN = 8
"""Characters in a row a word of a server's message may share with the key before it is
masked: a key cut short, or the part of it a server quoted, still gives most of it away."""
_WORD = re.compile(r"[^\s\"'<>()\[\]{},;:=&?]+")
"""A run of characters a key can be part of, as a server message quotes it."""

# Query parameter names whose values are blanked in every URL we print (the API key travels
# in a header, but a caller may still paste a URL that carries a token).
_SECRET_PARAMS = frozenset(
    {"api_key", "apikey", "key", "x-api-key", "token", "access_token", "secret", "password"}
)


class ApiKey:
    """A SimplyMeet API key that prints as `***`; `reveal()` gives the value for the header.

    >>> key = ApiKey("s3cr3t")
    >>> key, str(key), f"{key}"
    (ApiKey('***'), '***', '***')
    """

    __slots__ = ("_source", "_value")
    _value: str
    _source: str

    def __init__(self, value: str | ApiKey, source: str | None = None) -> None:
        if isinstance(value, ApiKey):
            source = source or value.source
            value = value.reveal()
        if not isinstance(value, str):
            raise TypeError("an API key must be a string")
        value = value.strip()
        if not value:
            raise ValueError("the API key is empty")
        # A header value cannot carry line breaks or non-ASCII; refusing them here also
        # keeps a mis-pasted key from producing an error message that echoes it.
        if not value.isascii() or any(ch in value for ch in "\r\n\0"):
            raise ValueError("the API key contains characters a header cannot carry")
        object.__setattr__(self, "_value", value)
        object.__setattr__(self, "_source", source or DEFAULT_SOURCE)

    @property
    def source(self) -> str:
        """Where the key was read, as a refusal of it names it: never the key, nor a name a
        key may have been pasted as."""
        return self._source

    @classmethod
    def from_env(cls, var: str = API_KEY_ENV) -> ApiKey | None:
        """The key from the environment, or None when the variable is unset or empty."""
        value = os.environ.get(var, "").strip()
        return cls(value) if value else None

    def reveal(self) -> str:
        """The key itself; call it only where the header is built."""
        return self._value

    def redact(self, text: str) -> str:
        """`text` with the key masked as `***` (for server messages): see `redact`.

        >>> ApiKey("sk-Live-0123456789").redact("bad key SK-LIVE-0123456789; sk-Live-01234")
        'bad key ***; ***'
        """
        return redact(text, self._value)

    def scrub(self, content: bytes) -> bytes:
        """`content` (a response body) with the key masked as `***` wherever it occurs: in
        any letter case, and with any character but a letter or digit written as JSON
        escapes it (`\\u002B`, PHP's `\\/`) or as a URL percent-encodes it (a webhook URL
        holding the key), and with letters and digits `\\u`-escaped too (an encoder that
        escapes every character). A server that echoes the key in a record (a user's field,
        a failure's message) would otherwise carry it into the warehouse, the journal and the
        output. The pattern runs only where the body holds the key's longest run of letters
        and digits in any letter case, or a letter or digit written as an escape, which no
        ordinary encoder writes.

        A key shorter than `SCRUBBED_LENGTH` is left alone: its characters occur in
        ordinary data (a test's key `x` would turn every e-mail's x into `***`), and no
        issued key is that short.

        >>> ApiKey("sk-Live-0123456789").scrub(b'{"note": "sk-live-0123456789"}')
        b'{"note": "***"}'
        >>> ApiKey("sk/Live+0123456789").scrub(b'{"url": "https://x.test/?k=sk%2FLive%2B0123456789"}')
        b'{"url": "https://x.test/?k=***"}'
        >>> ApiKey("x").scrub(b'{"email": "ann@x.test"}')
        b'{"email": "ann@x.test"}'
        """
        if len(self._value) < SCRUBBED_LENGTH:
            return content
        anchor, pattern = _scrub_plan(self._value)
        # Searched in any letter case as the body lies, and escapes only where a backslash
        # is: on a 790 KB page of events 0.4 ms, against 1.5 ms to lower-case the body and
        # search it twice.
        escaped = b"\\" in content and _ESCAPED_LETTER_OR_DIGIT.search(content)
        if not (escaped or anchor.search(content)):
            return content
        return pattern.sub(MASK.encode(), content)

    def __repr__(self) -> str:
        return f"ApiKey('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiKey):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((ApiKey, self._value))

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("ApiKey is immutable")

    def __reduce__(self) -> NoReturn:
        raise TypeError("an ApiKey cannot be pickled; pass it by environment instead")

    def __copy__(self) -> ApiKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> ApiKey:
        return self


def redact(text: str, secret: str) -> str:
    """`text` with `secret` masked as `***`: in any letter case, and any word sharing
    `SHARED_RUN` characters in a row with it (a server that echoes a key lower-cased, cut
    short, or as part of a longer token; a value pasted into the wrong setting, quoted back).
    Any text: a key a header could not carry is still masked in the error that refuses it.

    >>> redact("got 'sk_live_“0123456789'", "sk_live_“0123456789")
    "got '***'"
    """
    if not text or not secret:
        return text
    key = secret.lower()
    run = min(SHARED_RUN, len(key))
    lowered = text.lower()
    if key in lowered:
        text = re.sub(re.escape(secret), MASK, text, flags=re.IGNORECASE)
        lowered = text.lower()
    if not any(lowered[i : i + run] in key for i in range(len(lowered) - run + 1)):
        return text

    def mask(word: re.Match[str]) -> str:
        found = word.group(0).lower()
        shared = any(found[i : i + run] in key for i in range(len(found) - run + 1))
        return MASK if shared else word.group(0)

    return _WORD.sub(mask, text)


_ESCAPED_LETTER_OR_DIGIT = re.compile(rb"\\u00(?:3[0-9]|[4-7][0-9a-f])", re.IGNORECASE)
"""A JSON escape of an ASCII letter or digit (or of a punctuation mark between them), in
either case: no ordinary encoder writes one (HTML-safe ones escape `<>&'`, below these)."""


@cache
def _scrub_plan(value: str) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """For `ApiKey.scrub`: the key's longest run of letters and digits and a pattern of every
    form of the key a body may carry, each in any letter case."""
    runs = re.findall(r"[A-Za-z0-9]+", value)
    run = max(runs, key=len) if runs else ""
    return re.compile(re.escape(run.encode()), re.IGNORECASE), re.compile(
        b"".join(_forms_of(char) for char in value), re.IGNORECASE
    )


def _forms_of(char: str) -> bytes:
    """A pattern of the ways a body may write one character of the key: as it is, JSON-escaped
    (`\\u002B`; PHP's `\\/`), or, for a character a URL cannot hold, percent-encoded, once
    or twice (a URL in another URL's query), its `%` and hex digits JSON-escaped or not."""
    if char.isalnum():
        return _as_is_or_escaped(char)
    forms = {
        _as_is_or_escaped(char),
        b"".join(_percent_encoded(byte) for byte in char.encode()),
    }
    if char in '"\\/':
        forms.add(re.escape(b"\\" + char.encode()))  # JSON's short escapes; PHP writes \/
    return b"(?:" + b"|".join(sorted(forms)) + b")"


def _as_is_or_escaped(char: str) -> bytes:
    """`char` as it is or as a JSON `\\uXXXX` escape (a letter's in either case)."""
    escapes = {rb"\\u%04x" % ord(form) for form in {char, char.lower(), char.upper()}}
    return b"(?:" + b"|".join(sorted({re.escape(char.encode()), *escapes})) + b")"


def _percent_encoded(byte: int) -> bytes:
    """One byte percent-encoded (`%2F`), or encoded twice (`%252F`)."""
    percent = _as_is_or_escaped("%")
    digits = b"".join(_as_is_or_escaped(digit) for digit in f"{byte:02X}")
    return percent + b"(?:" + _as_is_or_escaped("2") + _as_is_or_escaped("5") + b")?" + digits


def redact_url(url: str) -> str:
    """The URL with user info and secret-looking query values replaced by `***`.

    >>> redact_url("https://u:p@host/panel/api/event/?page=2&token=abc")
    'https://***@host/panel/api/event/?page=2&token=%2A%2A%2A'
    """
    parts = urlsplit(str(url))
    netloc = parts.netloc
    if "@" in netloc:
        netloc = MASK + "@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_PARAMS for k, _ in pairs):
            query = urlencode([(k, MASK if k.lower() in _SECRET_PARAMS else v) for k, v in pairs])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
