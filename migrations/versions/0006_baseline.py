"""baseline: today's schema in one file (folds revisions 0001-0005 of pgmodelnames 0.1)

Revision ID: 0006
Revises:
The SQL lives in sql/0006_baseline/: schema.sql is every object at this
revision, read top-down. A database installed by revisions 0001-0005 is
upgraded by the same install (migrations/env.py maps those revisions to
base; legacy.sql reshapes what they left). The install is one transaction:
plan, lock, legacy, schema, record (sql/install/); the history pass follows
in a transaction of its own (env.py).
"""

from pgmodelnames.sqlfiles import migration_destination, run_in_migration

revision = "0006"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if migration_destination() not in (revision, None):
        return  # a later revision's install follows in this transaction, complete on its own
    run_in_migration("install/plan.sql", revision=revision)
    run_in_migration("install/lock.sql")
    run_in_migration("0006_baseline/legacy.sql")
    run_in_migration("0006_baseline/schema.sql")
    run_in_migration("install/record.sql")


def downgrade() -> None:
    run_in_migration("install/remove_plan.sql")
    run_in_migration("install/lock.sql")
    run_in_migration("0006_baseline/downgrade.sql")
