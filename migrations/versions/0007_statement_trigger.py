"""statement trigger: one set-based pass per INSERT where no foreign key needs the row first

Revision ID: 0007
Revises: 0006
The SQL lives in sql/0007_statement_trigger/: schema.sql is every object at
this revision, read top-down (today's schema). This revision's install is
complete on its own, from any state the install accepts (nothing installed,
0.1, 0006): plan, lock, 0006's legacy.sql, upgrade.sql (the column 0006
lacks), schema.sql, record; the history pass follows in a transaction of its
own (env.py). Down to 0006: downgrade.sql removes what 0006 lacks, then
0006's schema.sql puts its objects back; down to base, 0006's removal
follows instead.
"""

from pgmodelnames.sqlfiles import migration_destination, run_in_migration

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    run_in_migration("install/plan.sql", revision=revision)
    run_in_migration("install/lock.sql")
    run_in_migration("0006_baseline/legacy.sql")
    run_in_migration("0007_statement_trigger/upgrade.sql")
    run_in_migration("0007_statement_trigger/schema.sql")
    run_in_migration("install/record.sql")


def downgrade() -> None:
    run_in_migration("install/remove_plan.sql")
    run_in_migration("install/lock.sql")
    run_in_migration("0007_statement_trigger/downgrade.sql")
    if migration_destination() != "base":
        run_in_migration("install/plan.sql", revision=down_revision)
        run_in_migration("0006_baseline/schema.sql")
        run_in_migration("install/record.sql")
