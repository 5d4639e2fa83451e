"""pgmodelnames schema: settings, bookkeeping, naming rules

Revision ID: 0001
Revises: 
The SQL lives in sql/0001_schema/.
"""

from pgmodelnames.sqlfiles import run_in_migration

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_in_migration("0001_schema/upgrade.sql")


def downgrade() -> None:
    run_in_migration("0001_schema/downgrade.sql")
