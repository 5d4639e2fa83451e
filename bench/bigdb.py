"""The big database of workloads 4-6: built once as a template, each upgrade
round runs on a fresh copy of it, analytics and doctor on an upgraded copy."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import db
from report import log

if TYPE_CHECKING:
    from config import Config


def template(cfg: Config) -> str:
    return f"{cfg.prefix}_big_tpl"


def copy(cfg: Config) -> str:
    return f"{cfg.prefix}_big_run"


def build(cfg: Config) -> None:
    name = template(cfg)
    log(f"\n== building {name}: {cfg.big_rows:,} messages, {db.N_ORPHANS} orphaned vllm model ids ==")
    t0 = time.perf_counter()
    db.create_app_db(cfg, name, "uuid")
    with db.connect(cfg, name) as c:
        db.run_sql(c, "big_messages.sql", rows=cfg.big_rows, n_models=db.N_MODELS, n_orphans=db.N_ORPHANS,
                   content=db.CONTENT)
        c.execute("VACUUM (FREEZE, ANALYZE)")
        size = c.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]
    log(f"   built in {time.perf_counter() - t0:.0f} s, {size}")


def prepare(cfg: Config) -> list[str]:
    """Build the template unless --reuse-big finds one; the databases to drop at the end."""
    if not (cfg.reuse_big and db.exists(cfg, template(cfg))):
        build(cfg)
    return [template(cfg), copy(cfg)]


def fresh_copy(cfg: Config) -> str:
    name = copy(cfg)
    db.create_db(cfg, name, template=template(cfg))
    return name


def upgraded_copy(cfg: Config) -> str:
    """The copy the upgrade workload left, else a new one, upgraded."""
    name = copy(cfg)
    if db.exists(cfg, name):
        with db.connect(cfg, name) as c:
            if c.execute("SELECT to_regclass('pgmodelnames.alembic_version')").fetchone()[0]:
                return name
    fresh_copy(cfg)
    db.upgrade(cfg, name)
    return name
