"""Bounds a setting shares with the command-line option that overrides it (importable where
`simplymeet --help` is answered: no third-party module)."""

MAX_CONCURRENCY = 64
"""Requests in flight at once, at most: a thread and a connection each. Far past what any
API's rate limit lets through; a value in the thousands or millions (a typo, a pasted
number) would start that many threads and seem to hang."""

MAX_ROWS_SHOWN = 1_000_000
"""Rows a listing shows, at most (`models test --limit`, `writeback jobs --limit`): DuckDB
refuses a LIMIT past a 64-bit integer with a conversion error instead of a usage error."""

MAX_SEEDED_EVENTS = 10_000_000
"""Bookings the emulator seeds, at most (`demo --events`, `emulator serve --events`): ten
times the largest benchmark; trillions asked the machine for terabytes before anything."""

MAX_PERIOD_SECONDS = 366 * 86_400
"""The longest lag, cadence or settle period a setting names, at most: a year. Beyond, the
dates it is taken from fall off the calendar (or past a C integer) after the first requests
were sent, and the run failed naming no setting."""
