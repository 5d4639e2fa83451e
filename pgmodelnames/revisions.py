"""The revisions this pgmodelnames knows, without asking Alembic (the doctor
and the CLI need them on every run; tests/test_schema.py holds them equal to
migrations/versions/)."""

HEAD = "0007"
# The revisions before it that a database may be at: upgraded, or a target.
EARLIER = ("0006",)
# pgmodelnames 0.1, folded into the baseline 0006: still recognised in a
# database, upgraded by the baseline's install, never a target.
LEGACY = ("0001", "0002", "0003", "0004", "0005")
