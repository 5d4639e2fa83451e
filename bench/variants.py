"""The variants single, bulk and placeholder compare: one database each, same schema and data.

A variant is the app schema, optionally a patch applied before pgmodelnames
is installed (a FOREIGN KEY, which makes pgmodelnames pick the row-level
trigger), optionally pgmodelnames installed, then optionally a patch from
bench/sql/variants/ (a FOREIGN KEY, a forced trigger shape, or a change to
the installed trigger that isolates one of its costs).

The attribution variants (default=False) answer questions earlier revisions
asked; a run measures them only when --variants names them (--quick runs
every variant, so that each patch is proven to apply)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import db
from report import log

if TYPE_CHECKING:
    from collections.abc import Iterable

    from config import Config


@dataclass(frozen=True)
class Variant:
    name: str
    what: str
    installs_pgmodelnames: bool
    patch: str | None = None
    coltypes: tuple[str, ...] = ("uuid", "text")
    upgrade_args: tuple[str, ...] = ()
    before: str | None = None          # patch applied before pgmodelnames is installed
    shape: str | None = None           # the trigger shape the variant must end up with (checked)
    default: bool = True               # measured unless --variants says otherwise


VARIANTS = {v.name: v for v in (
    Variant("base", "no trigger (the limit)", False),
    Variant("pmn", "pgmodelnames installed (sql/ as is): the statement-level trigger, since the bench "
            "schema has no FOREIGN KEY", True, shape="statement"),
    Variant("row", "pgmodelnames with the row-level trigger forced: set_trigger_shape('row')", True, "row.sql",
            shape="row"),
    # a TEXT column cannot reference a uuid key
    Variant("fk", "plain FOREIGN KEY messages.model_id -> llm_models(id), no pgmodelnames", False, "fk.sql",
            coltypes=("uuid",)),
    Variant("pmnfk", "FOREIGN KEY added first, then pgmodelnames, which picks the row-level trigger by itself",
            True, coltypes=("uuid",), before="fk.sql", shape="row"),
    Variant("floor", "the row-level trigger and WHEN clause calling an empty plpgsql function "
            "(what any row trigger costs)", True, "floor.sql", shape="row"),
    Variant("stmtfloor", "the statement-level trigger (with its transition table) calling an empty plpgsql "
            "function (what any statement trigger with a transition table costs)", True, "stmtfloor.sql",
            shape="statement"),
    Variant("sweep", "pgmodelnames in sweep mode: no trigger on messages", True,
            upgrade_args=("--placeholders", "sweep")),
    # attribution variants of revisions 0004-0005
    Variant("nosp", "pmn + ALTER FUNCTION ... RESET search_path on the trigger functions of both shapes", True,
            "nosp.sql", shape="statement", default=False),
    Variant("norx", "the row-level trigger, TEXT WHEN clause without the UUID-shape test (attribution only, "
            "unsafe)", True, "norx.sql", coltypes=("text",), shape="row", default=False),
    Variant("oldrx", "the row-level trigger with revision 0004's UUID-shape test in the WHEN clause (TEXT only)",
            True, "oldrx.sql", coltypes=("text",), shape="row", default=False),
    Variant("oldfloor", "floor behind revision 0004's UUID-shape test (TEXT only)", True, "oldfloor.sql",
            coltypes=("text",), shape="row", default=False),
)}
DEFAULT = tuple(v.name for v in VARIANTS.values() if v.default)


def db_name(cfg: Config, variant: str, coltype: str) -> str:
    return f"{cfg.prefix}_{variant}_{coltype}"


def build(cfg: Config, variant: Variant, coltype: str) -> str:
    name = db_name(cfg, variant.name, coltype)
    db.create_app_db(cfg, name, coltype)
    if variant.before:
        with db.connect(cfg, name) as c:
            db.run_sql(c, f"variants/{variant.before}")
    if variant.installs_pgmodelnames:
        db.upgrade(cfg, name, *variant.upgrade_args)
    with db.connect(cfg, name) as c:
        if variant.patch:
            db.run_sql(c, f"variants/{variant.patch}")
        if variant.shape:
            shape, reason = c.execute(db.sql_file("trigger_shape.sql")).fetchone()
            log(f"   {name}: trigger shape {shape} ({reason})")
            if shape != variant.shape:
                raise SystemExit(f"variant {variant.name} ({coltype}) has the {shape} trigger, "
                                 f"not the {variant.shape} one: {reason}")
        c.execute("VACUUM ANALYZE")
    return name


def build_all(cfg: Config, needed: Iterable[tuple[str, str]]) -> list[str]:
    """The databases of the chosen variants the chosen workloads measure, as (variant, column type)."""
    needed = set(needed)
    return [build(cfg, v, coltype)
            for coltype in ("uuid", "text")
            for v in VARIANTS.values()
            if cfg.wants(v.name) and coltype in v.coltypes and (v.name, coltype) in needed]


def measured(cfg: Config, names: list[str]) -> list[str]:
    """The names a workload group lists that this run measures, in order."""
    return [n for n in names if cfg.wants(n)]
