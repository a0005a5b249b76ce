"""Consent stores: the `ConsentStore` port and the adapters that ship with it."""

from trackconsent.storage.base import (
    AppendResult,
    ConsentStore,
    StatusMap,
    VerifyReport,
)
from trackconsent.storage.memory import MemoryStore
from trackconsent.storage.sqlite import SQLiteStore

__all__ = [
    "AppendResult",
    "ConsentStore",
    "MemoryStore",
    "SQLiteStore",
    "StatusMap",
    "VerifyReport",
]
