"""The response store: SQLAlchemy Core on SQLite (embedded default) or PostgreSQL (production)."""

from offramp.store.db import make_engine
from offramp.store.migrate import upgrade
from offramp.store.repository import CounterRow, Repository, StoredResponse

__all__ = ["CounterRow", "Repository", "StoredResponse", "make_engine", "upgrade"]
