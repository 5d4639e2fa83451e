"""Exit codes and the one-line errors the CLI prints instead of tracebacks.

EXIT_CODES is the one table of exit codes: `--help` prints it and
docs/configuration.md documents it.
"""

from __future__ import annotations

OK = 0
PROBLEMS_FOUND = 1
USAGE = 2
CANNOT_CONNECT = 3
NOT_READY = 4
LOCK_TIMEOUT = 5
ENDPOINT_FAILED = 6
DATABASE_ERROR = 7
UNKNOWN_MODEL = 8
INTERRUPTED = 130

EXIT_CODES: dict[int, str] = {
    OK: "success (doctor: healthy)",
    PROBLEMS_FOUND: "doctor found problems",
    USAGE: "bad usage or input (options, URL, revision, name, a --map that cannot be applied, "
           "--assign without a terminal)",
    CANNOT_CONNECT: "cannot connect to the database (server down, wrong password, database missing)",
    NOT_READY: "database not ready (app tables/columns missing, wrong role, not installed, "
               "or a transaction pooler where a direct connection is needed)",
    LOCK_TIMEOUT: "a lock was not obtained in time (a long transaction or another migration holds it): retry later",
    ENDPOINT_FAILED: "backfill: an endpoint named with --endpoint failed (the answers of the others were applied; "
                     "a server found in llm_models that fails is reported with its fix and does not set this code)",
    DATABASE_ERROR: "other database error",
    UNKNOWN_MODEL: "rename: no llm_models row with that UUID",
    INTERRUPTED: "interrupted (Ctrl-C)",
}

# SQLSTATEs raised by pgmodelnames' own SQL.
PREFLIGHT_SQLSTATE = "PMN01"  # sql/preflight/*.sql: the app schema cannot take the package
WRONG_ROLE_SQLSTATE = "PMN02"  # sql/preflight/install.sql: another role must run the install
NOT_HERE_SQLSTATE = "PMN03"  # sql/0005_scale: not possible on this database (Citus, pg_cron, isolation)


class UserError(Exception):
    """An expected failure: printed as one line, mapped to an exit code."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


def exit_code_table() -> str:
    return "exit codes:\n" + "".join(f"  {code:<3} {text}\n" for code, text in EXIT_CODES.items())


# libpq's words for a bad connection option: a usage error, not a database one.
_USAGE_PHRASES = ("invalid connection option", "invalid integer value", "invalid value for parameter",
                  "invalid sslmode value", "invalid target_session_attrs", "invalid port number",
                  "invalid URI", "invalid percent-encoded", "invalid gssencmode", "invalid channel_binding",
                  "invalid load_balance_hosts", "invalid require_auth", "unrecognized value")


def from_database_error(exc: BaseException) -> UserError:
    """Map a psycopg/SQLAlchemy exception to a one-line UserError."""
    import psycopg
    from sqlalchemy import exc as sa_exc

    orig = exc.orig if isinstance(exc, sa_exc.DBAPIError) and exc.orig is not None else exc
    sqlstate = getattr(orig, "sqlstate", None)
    diag = getattr(orig, "diag", None)
    primary = (getattr(diag, "message_primary", None) or str(orig)).strip()
    line = one_line(primary)
    if sqlstate == PREFLIGHT_SQLSTATE:
        return UserError(f"the app schema cannot take pgmodelnames: {line}", NOT_READY)
    if sqlstate in (WRONG_ROLE_SQLSTATE, NOT_HERE_SQLSTATE):
        return UserError(line, NOT_READY)
    if sqlstate == "55P03":
        return UserError(
            f"lock not obtained in time ({line}); a long-running transaction holds the table: retry later",
            LOCK_TIMEOUT,
        )
    if sqlstate == "42501":
        return UserError(f"permission denied: {line} (run pgmodelnames as the owner of the app's tables)",
                         NOT_READY)
    if sqlstate is None and isinstance(orig, (psycopg.OperationalError, psycopg.ProgrammingError)):
        if any(phrase in line for phrase in _USAGE_PHRASES):
            return UserError(f"invalid connection option: {line}", USAGE)
        return UserError(f"cannot connect to the database: {_connection_reason(line)}", CANNOT_CONNECT)
    if sqlstate in ("28P01", "28000", "3D000", "08001", "08006", "57P03", "08004"):
        return UserError(f"cannot connect to the database: {_connection_reason(line)}", CANNOT_CONNECT)
    return UserError(f"database error: {line}", DATABASE_ERROR)


def one_line(text: str) -> str:
    """A multi-line message (libpq's, a server's) as one line of sentences:
    where a line ends without punctuation and the next one starts a new
    sentence ("Connection refused" / "Is the server running..."), a period
    goes between them instead of running them together; other line breaks
    (a sentence wrapped over two lines) become spaces."""
    lines = [" ".join(part.split()) for part in text.splitlines()]
    out = ""
    for line in (line for line in lines if line):
        if not out:
            out = line
        elif out[-1] not in ".!?:;," and line[0].isupper():
            out += ". " + line
        else:
            out += " " + line
    return out


def _connection_reason(message: str) -> str:
    # libpq repeats the whole attempt per address; the last clause is the reason.
    message = message.removeprefix("connection failed: ")
    return message.split(" failed: ")[-1] if " failed: " in message else message
