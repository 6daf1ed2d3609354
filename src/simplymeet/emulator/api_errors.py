"""Errors a handler raises to answer with an error status; the body comes from the contract."""

from __future__ import annotations

from pydantic import ValidationError

from simplymeet.contract.errors import error_body


class ApiError(Exception):
    """An error response: status, message and (on 422) field errors."""

    def __init__(
        self, status: int, message: str, errors: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors

    def body(self) -> dict:
        """The JSON body, shaped by `contract.errors.error_body`."""
        return error_body(self.status, self.message, self.errors)


class NotFound(ApiError):
    def __init__(self, what: str) -> None:
        super().__init__(404, f"{what} not found")


class Unprocessable(ApiError):
    """422 with field errors; `field` is a dotted path such as `filter.ids.0`."""

    def __init__(self, errors: dict[str, list[str]], message: str = "Validation failed") -> None:
        super().__init__(422, message, errors)

    @classmethod
    def one(cls, field: str, message: str) -> Unprocessable:
        return cls({field: [message]})


def field_errors(exc: ValidationError) -> dict[str, list[str]]:
    """Pydantic errors as {dotted.field.path: [messages]}."""
    out: dict[str, list[str]] = {}
    for err in exc.errors():
        path = ".".join(str(part) for part in err["loc"]) or "body"
        out.setdefault(path, []).append(err["msg"])
    return out
