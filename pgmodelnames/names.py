"""Python mirrors of the naming rules in sql/0001_schema (for code that runs
before pgmodelnames is installed, or on names that never reach the database)."""

from __future__ import annotations

import re
import uuid

# = pgmodelnames.looks_like_uuid(): hyphens optional at the canonical places.
_UUID_SHAPE = re.compile(r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE)


def looks_like_uuid(value: str) -> bool:
    return 32 <= len(value) <= 36 and _UUID_SHAPE.match(value) is not None


def placeholder_name(model_uuid: uuid.UUID, provider: str | None) -> str:
    """= pgmodelnames.placeholder_name()."""
    normalized = (provider or "").strip().lower()
    prefix = re.sub(r"[\x00-\x1f\x7f]", "", normalized)[:40] + " " if normalized else ""
    return f"Unknown {prefix}model {str(model_uuid)[:8]}"
