"""hardening: pinned search_path everywhere, quiet lost races, stated deny-all policies

Revision ID: 0004
Revises: 0003
The SQL lives in sql/0004_hardening/. Its downgrade replays 0003's upgrade
(idempotent), which restores that revision's trigger functions.
"""

from pgmodelnames.sqlfiles import run_in_migration

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_in_migration("0004_hardening/upgrade.sql")


def downgrade() -> None:
    run_in_migration("0004_hardening/downgrade.sql")
    run_in_migration("0003_placeholders/upgrade.sql")
