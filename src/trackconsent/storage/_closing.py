"""A store used as a context manager closes itself on the way out."""

from __future__ import annotations

from types import TracebackType
from typing import Self

__all__ = ["ClosingStore"]


class ClosingStore:
    """Gives a store with a ``close`` method the ``with`` statement."""

    def close(self) -> None:
        """Release the store's resources; stores override this."""

    def __enter__(self) -> Self:
        """Return the store itself."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        self.close()
