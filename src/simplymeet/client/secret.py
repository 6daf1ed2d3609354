"""The API key, unprintable by construction, and the redaction of URLs before they are shown.

The key only leaves an `ApiKey` through `reveal()`, called in one place: the auth hook that
sets the `X-API-KEY` header. `repr`, `str`, f-strings and `%` formatting all give `***`, and
pickling or copying into another process is refused, so a key cannot end up in a log, an
exception message, a traceback's locals or a serialized task by accident.
"""

from __future__ import annotations

import hmac
import os
from typing import NoReturn
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from simplymeet.config import API_KEY_ENV

MASK = "***"

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

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str | ApiKey) -> None:
        if isinstance(value, ApiKey):
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

    @classmethod
    def from_env(cls, var: str = API_KEY_ENV) -> ApiKey | None:
        """The key from the environment, or None when the variable is unset or empty."""
        value = os.environ.get(var, "").strip()
        return cls(value) if value else None

    def reveal(self) -> str:
        """The key itself; call it only where the header is built."""
        return self._value

    def redact(self, text: str) -> str:
        """`text` with every occurrence of the key replaced by `***` (for server messages)."""
        return text.replace(self._value, MASK) if self._value in text else text

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
