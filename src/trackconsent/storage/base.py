"""The storage port: what every consent store promises.

A store keeps consent events and answers questions about them. Its contract,
which `trackconsent.testing.ConsentStoreContract` checks on any adapter:

- `ConsentStore.append` is atomic: a batch is stored whole or not at all. It is
  idempotent: an event whose id is already stored with the same content is
  skipped and counted as a duplicate. Content means everything but
  ``recorded_at``: the same answer recorded again later is a repeat, and the
  first recording is kept. The same id with different content is a
  `ConflictError`, and nothing of the batch is stored.
- `ConsentStore.history` lists one contact's events newest first, in the order
  of `trackconsent.ledger.event_order_key`, whatever the order of arrival.
- `ConsentStore.status_many` answers for many contacts in one batched pass and
  has an entry for every id asked, never-asked contacts included.
- `ConsentStore.contact_ids` iterates every contact with at least one event.
- `ConsentStore.verify` walks every contact's hash chain and reports breaks.
- Driver failures surface as `trackconsent.errors.StorageError`.
- A wrong argument is refused on entry with
  `trackconsent.errors.InvalidValueError` naming it: a single event or a
  string given to ``append``, an item of a batch that is not a
  `ConsentEvent`, a contact id that is not a string, a string given as
  ``status_many``'s ids (it would read as one id per character). An adapter
  checks with `check_batch` and `check_batch_item` (while it reads the batch),
  `check_contact_id` and `check_contact_ids`: cheap checks, once per call
  and once per event, never once per id of a batched look-up.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.ledger import ChainBreak
from trackconsent.model import Consent, ConsentEvent, ConsentState

__all__ = [
    "AppendResult",
    "ConsentStore",
    "StatusMap",
    "VerifyReport",
    "check_batch",
    "check_batch_item",
    "check_contact_id",
    "check_contact_ids",
]

_STATE_BY_GRANTED = (ConsentState.REFUSED, ConsentState.GRANTED)


@attrs.frozen
class AppendResult:
    """What one `ConsentStore.append` did.

    Attributes:
        added: Events stored by this call.
        duplicates: Events skipped because the same event was already stored.
    """

    added: int = 0
    duplicates: int = 0


@attrs.frozen
class VerifyReport:
    """The outcome of checking every contact's hash chain.

    Attributes:
        contacts: How many contacts were checked.
        events: How many events were checked.
        breaks: The first break of each broken chain.
    """

    contacts: int
    events: int
    breaks: tuple[ChainBreak, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every chain is intact."""
        return not self.breaks


class StatusMap(Mapping[str, Consent]):
    """The consent of each contact asked for, built when read.

    Stores return this from `ConsentStore.status_many`. It holds an entry for
    every id asked; contacts with no event read as `Consent.unknown`. Building
    a `Consent` for each of a million rows costs more than the query itself, so
    values are built on access, and `state` answers without building one.
    """

    __slots__ = ("_answers", "_ids")

    def __init__(
        self,
        ids: Iterable[str],
        answers: Mapping[str, tuple[bool, datetime | str]],
    ) -> None:
        """Wrap a store's answers.

        Args:
            ids: Every id asked for, repeats allowed.
            answers: For each contact with an answer in force: whether it was
                a grant, and when it was given (a datetime or ISO 8601 text).
        """
        self._ids: Collection[str] = (
            ids if isinstance(ids, dict | set | frozenset) else dict.fromkeys(ids)
        )
        self._answers = answers

    def __getitem__(self, contact_id: str) -> Consent:
        """Return the contact's consent; KeyError if it was not asked for."""
        found = self._answers.get(contact_id)
        if found is None:
            if contact_id in self._ids:
                return Consent.unknown()
            raise KeyError(contact_id)
        granted, at = found
        moment = datetime.fromisoformat(at) if isinstance(at, str) else at
        return Consent(_STATE_BY_GRANTED[granted], moment)

    def state(self, contact_id: str) -> ConsentState:
        """Return the contact's consent state without building a `Consent`."""
        found = self._answers.get(contact_id)
        if found is not None:
            return _STATE_BY_GRANTED[found[0]]
        if contact_id in self._ids:
            return ConsentState.UNKNOWN
        raise KeyError(contact_id)

    def __contains__(self, contact_id: object) -> bool:
        """True for every id that was asked for."""
        return contact_id in self._ids

    def __iter__(self) -> Iterator[str]:
        """Iterate the ids asked for."""
        return iter(self._ids)

    def __len__(self) -> int:
        """The number of distinct ids asked for."""
        return len(self._ids)

    def __repr__(self) -> str:
        """Summarise without listing contacts."""
        return f"<StatusMap of {len(self)} contacts>"


@runtime_checkable
class ConsentStore(Protocol):
    """Where consent events are kept. See the module docstring for the contract."""

    def append(self, events: Iterable[ConsentEvent]) -> AppendResult:
        """Store a batch of events atomically and idempotently.

        Raises:
            ConflictError: an id is already stored with different content, or
                repeated within the batch with different content.
            InvalidValueError: ``events`` is not an iterable of events (a
                single event included); nothing of the batch is stored.
            StorageError: the store failed; nothing of the batch is stored.
        """
        ...

    def history(self, contact_id: str) -> list[ConsentEvent]:
        """Return the contact's events, newest first; empty if none."""
        ...

    def status(self, contact_id: str) -> Consent:
        """Return one contact's consent in force."""
        ...

    def status_many(self, contact_ids: Iterable[str]) -> StatusMap:
        """Return the consent of many contacts in one batched pass."""
        ...

    def contact_ids(self) -> Iterator[str]:
        """Iterate every contact that has at least one event."""
        ...

    def verify(self) -> VerifyReport:
        """Check every contact's hash chain."""
        ...

    def close(self) -> None:
        """Release the store's resources. Closing twice is harmless."""
        ...

    def __enter__(self) -> Self:
        """Use the store as a context manager that closes it."""
        ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Close the store."""
        ...


def check_batch(events: object) -> Iterable[ConsentEvent]:
    """Return ``events`` if it can be a batch of events, else raise.

    The items are checked with `check_batch_item` as the batch is read: the
    batch may be a one-shot iterator.

    Raises:
        InvalidValueError: ``events`` is a single event, a string, or not
            iterable.
    """
    if isinstance(events, ConsentEvent):
        raise InvalidValueError(
            "events", "a single event, not a batch: pass [event]", events
        )
    if isinstance(events, str | bytes) or not isinstance(events, Iterable):
        raise InvalidValueError("events", "not an iterable of ConsentEvent", events)
    return events


def check_batch_item(position: int, item: object) -> ConsentEvent:
    """Return ``item`` if it is a `ConsentEvent`, else raise.

    Args:
        position: The item's zero-based position in the batch, for the message.
        item: The item read from the batch.

    Raises:
        InvalidValueError: ``item`` is not a `ConsentEvent`; the path is
            ``events[position]``.
    """
    if not isinstance(item, ConsentEvent):
        raise InvalidValueError(f"events[{position}]", "not a ConsentEvent", item)
    return item


def check_contact_id(contact_id: object) -> str:
    """Return ``contact_id`` if it is a string, else raise `InvalidValueError`."""
    if not isinstance(contact_id, str):
        raise InvalidValueError("contact_id", "not a string", contact_id)
    return contact_id


def check_contact_ids(contact_ids: object) -> Iterable[str]:
    """Return ``contact_ids`` if it can be a collection of ids, else raise.

    Only the container is checked, once: a million ids are not checked one by
    one on the hot path.

    Raises:
        InvalidValueError: ``contact_ids`` is a string (which would read as
            one id per character), or not iterable.
    """
    if isinstance(contact_ids, str | bytes) or not isinstance(contact_ids, Iterable):
        raise InvalidValueError(
            "contact_ids", "not an iterable of contact ids", contact_ids
        )
    return contact_ids
