"""Exit codes and the one-line errors the CLI prints instead of tracebacks."""

from __future__ import annotations

import re

OK = 0
PROBLEMS_FOUND = 1  # doctor found something to fix
USAGE = 2  # bad option or argument (argparse uses 2 as well)
CANNOT_CONNECT = 3  # server down, wrong password, database missing
NOT_READY = 4  # app tables/columns missing, or pgmodelnames not installed
LOCK_TIMEOUT = 5  # a lock was not obtained in time: a long transaction holds a table
ENDPOINT_FAILED = 6  # backfill: at least one vLLM endpoint failed
DATABASE_ERROR = 7  # any other error reported by PostgreSQL
UNKNOWN_MODEL = 8  # rename: no llm_models row with that UUID

# SQLSTATE raised by sql/preflight.sql when the app schema cannot take the package.
PREFLIGHT_SQLSTATE = "PMN01"


class UserError(Exception):
    """An expected failure: printed as one line, mapped to an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


_SECRET_IN_URL = re.compile(r"(://[^:/@\s]*:)[^@\s]*@")


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove passwords in URLs and any known secret from a message."""
    text = _SECRET_IN_URL.sub(r"\1***@", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def from_database_error(exc: BaseException) -> UserError:
    """Map a psycopg/SQLAlchemy exception to a one-line UserError."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    primary = (getattr(diag, "message_primary", None) or str(orig)).strip()
    line = " ".join(primary.split())
    if sqlstate == PREFLIGHT_SQLSTATE:
        return UserError(f"the app schema cannot take pgmodelnames: {line}", NOT_READY)
    if sqlstate == "55P03":
        return UserError(
            f"lock not obtained in time ({line}); a long-running transaction holds the table: retry later",
            LOCK_TIMEOUT,
        )
    if sqlstate is None and isinstance(orig, psycopg.OperationalError):
        return UserError(f"cannot connect to the database: {_connection_reason(line)}", CANNOT_CONNECT)
    if sqlstate in ("28P01", "28000", "3D000", "08001", "08006", "57P03"):
        return UserError(f"cannot connect to the database: {_connection_reason(line)}", CANNOT_CONNECT)
    return UserError(f"database error: {line}", DATABASE_ERROR)


def _connection_reason(message: str) -> str:
    # libpq repeats the whole attempt per address; the last clause is the reason.
    message = message.removeprefix("connection failed: ")
    return message.split(" failed: ")[-1] if " failed: " in message else message
