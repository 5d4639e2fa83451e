"""Where the database is, which app schema to use, where the package's files are."""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pgmodelnames.errors import USAGE, UserError

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """migrations/ or sql/: inside the installed package, else the checkout root."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def normalize_url(url: str) -> str:
    """Accept postgres:// and postgresql:// (with or without a driver) and use psycopg 3."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise UserError("the database URL must look like postgresql://user@host:port/dbname", USAGE)
    base = scheme.split("+", 1)[0].lower()
    if base not in ("postgres", "postgresql"):
        raise UserError(f"unsupported database URL scheme {scheme!r}: use postgresql://", USAGE)
    return f"postgresql+psycopg://{rest}"


def url_from_alembic_ini(path: Path = Path("alembic.ini")) -> str | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return parser.get("alembic", "sqlalchemy.url", fallback="").strip() or None


def database_url(explicit: str | None) -> str | None:
    """--database-url, else DATABASE_URL, else sqlalchemy.url in ./alembic.ini."""
    url = explicit or os.environ.get("DATABASE_URL") or url_from_alembic_ini()
    return normalize_url(url) if url else None


def url_password(url: str | None) -> str:
    """The password in a URL, so that messages can be scrubbed of it."""
    if not url:
        return ""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).password or ""
    except Exception:
        return ""


_BAD_SCHEMA_CHARS = re.compile(r"[\"'\x00-\x1f]")


def app_schema(explicit: str | None) -> str | None:
    """--schema, else PGMODELNAMES_SCHEMA; None means "as installed, else public"."""
    schema = explicit or os.environ.get("PGMODELNAMES_SCHEMA") or None
    if schema is not None:
        validate_schema(schema)
    return schema


def validate_schema(schema: str) -> None:
    if not schema or len(schema) > 63 or _BAD_SCHEMA_CHARS.search(schema) or schema == "pgmodelnames":
        raise UserError(f"invalid app schema name {schema!r}", USAGE)


@dataclass(frozen=True)
class Settings:
    url: str | None
    schema: str | None

    @property
    def password(self) -> str:
        return url_password(self.url)


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL back in the form libpq (psycopg.connect) accepts."""
    return "postgresql://" + url.partition("://")[2]
