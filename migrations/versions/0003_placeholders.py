"""placeholder trigger on messages and placeholders for the history

Revision ID: 0003
Revises: 0002
The SQL lives in sql/0003_placeholders/.
"""

from pgmodelnames.sqlfiles import run_in_migration

revision = "0003"
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_in_migration("0003_placeholders/upgrade.sql")


def downgrade() -> None:
    run_in_migration("0003_placeholders/downgrade.sql")
