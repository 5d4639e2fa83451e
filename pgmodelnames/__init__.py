"""pgmodelnames: readable, distinct model names for LLM chat analytics, inside PostgreSQL."""

__version__ = "0.1.0"
