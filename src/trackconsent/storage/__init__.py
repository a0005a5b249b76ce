"""Consent stores: the `ConsentStore` port and the adapters that ship with it.

`PostgresStore` is loaded on first use, so that importing trackconsent does
not need psycopg; it needs the ``postgres`` extra. It is left out of
``__all__`` so that a star import works without psycopg.
"""

from typing import TYPE_CHECKING, Any

from trackconsent.storage.base import (
    AppendResult,
    ConsentStore,
    StatusMap,
    VerifyReport,
    check_batch,
    check_batch_item,
    check_contact_id,
    check_contact_ids,
)
from trackconsent.storage.memory import MemoryStore
from trackconsent.storage.sqlite import SQLiteStore

if TYPE_CHECKING:
    from trackconsent.storage.postgres import PostgresStore as PostgresStore

__all__ = [
    "AppendResult",
    "ConsentStore",
    "MemoryStore",
    "SQLiteStore",
    "StatusMap",
    "VerifyReport",
    "check_batch",
    "check_batch_item",
    "check_contact_id",
    "check_contact_ids",
]


def __getattr__(name: str) -> Any:
    """Load `PostgresStore` when first asked for."""
    if name == "PostgresStore":
        try:
            from trackconsent.storage.postgres import PostgresStore  # noqa: PLC0415
        except ModuleNotFoundError as error:
            raise ModuleNotFoundError(
                f"PostgresStore needs psycopg: pip install 'trackconsent[postgres]'"
                f" ({error})",
                name=error.name,
            ) from error
        return PostgresStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
