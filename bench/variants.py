"""The variants single and bulk compare: one database each, same schema and data.

A variant is the app schema, optionally pgmodelnames installed, then
optionally a patch from bench/sql/variants/ (a FOREIGN KEY, or a change to
the installed trigger that isolates one of its costs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import db

if TYPE_CHECKING:
    from config import Config


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    installs_pgmodelnames: bool
    patch: str | None = None
    coltypes: tuple[str, ...] = ("uuid", "text")
    upgrade_args: tuple[str, ...] = ()


VARIANTS = {v.name: v for v in (
    Variant("base", "no trigger (the limit)", False),
    Variant("pmn", "pgmodelnames installed (sql/ as is)", True),
    Variant("nosp", "pgmodelnames + ALTER FUNCTION ... RESET search_path", True, "nosp.sql"),
    Variant("norx", "pgmodelnames, TEXT WHEN clause without the looks_like_uuid regex (attribution only, unsafe)",
            True, "norx.sql", coltypes=("text",)),
    # a TEXT column cannot reference a uuid key
    Variant("fk", "plain FOREIGN KEY messages.model_id -> llm_models(id), no pgmodelnames", False, "fk.sql",
            coltypes=("uuid",)),
    Variant("floor", "pgmodelnames' trigger and WHEN clause calling an empty plpgsql function "
            "(what any row trigger costs)", True, "floor.sql"),
    Variant("oldrx", "pgmodelnames with revision 0004's UUID-shape test in the WHEN clause (TEXT only)",
            True, "oldrx.sql", coltypes=("text",)),
    Variant("oldfloor", "floor behind revision 0004's UUID-shape test (TEXT only)", True, "oldfloor.sql",
            coltypes=("text",)),
    Variant("sweep", "pgmodelnames in sweep mode: no trigger on messages", True,
            upgrade_args=("--placeholders", "sweep")),
)}


def db_name(cfg: Config, variant: str, coltype: str) -> str:
    return f"{cfg.prefix}_{variant}_{coltype}"


def build(cfg: Config, variant: Variant, coltype: str) -> str:
    name = db_name(cfg, variant.name, coltype)
    db.create_app_db(cfg, name, coltype)
    if variant.installs_pgmodelnames:
        db.upgrade(cfg, name, *variant.upgrade_args)
    with db.connect(cfg, name) as c:
        if variant.patch:
            db.run_sql(c, f"variants/{variant.patch}")
        c.execute("VACUUM ANALYZE")
    return name


def build_all(cfg: Config) -> list[str]:
    """The databases of the chosen variants, each for the column types it applies to."""
    return [build(cfg, v, coltype)
            for coltype in ("uuid", "text")
            for v in VARIANTS.values() if cfg.wants(v.name) and coltype in v.coltypes]


def measured(cfg: Config, names: list[str]) -> list[str]:
    """The names a workload group lists that this run measures, in order."""
    return [n for n in names if cfg.wants(n)]
