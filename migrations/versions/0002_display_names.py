"""model_display_names view, name guard and NOT NULL llm_models.name

Revision ID: 0002
Revises: 0001
The SQL lives in sql/0002_display_names/.
"""

from pgmodelnames.sqlfiles import run_in_migration

revision = "0002"
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_in_migration("0002_display_names/upgrade.sql")


def downgrade() -> None:
    run_in_migration("0002_display_names/downgrade.sql")
