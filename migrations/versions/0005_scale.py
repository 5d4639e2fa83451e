"""at scale: sweep mode (no trigger on messages, pg_cron), Citus detection, cheaper TEXT UUID-shape test

Revision ID: 0005
Revises: 0004
The SQL lives in sql/0005_scale/. Its downgrade returns to trigger mode,
removes sweep mode, then replays 0004's upgrade (idempotent), which restores
that revision's UUID-shape test, history pass and trigger.
"""

from pgmodelnames.sqlfiles import run_in_migration

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_in_migration("0005_scale/upgrade.sql")


def downgrade() -> None:
    run_in_migration("0005_scale/downgrade.sql")
    run_in_migration("0004_hardening/upgrade.sql")
