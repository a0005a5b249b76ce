"""Checks every store makes on a batch before storing anything of it."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping

import attrs

from trackconsent.errors import ConflictError, InvalidValueError
from trackconsent.model import ConsentEvent, ConsentState
from trackconsent.storage.base import check_batch_item

__all__ = ["check_state", "new_events"]


def check_state(state: object) -> ConsentState:
    """Return ``state`` if it is a `ConsentState`, else raise `InvalidValueError`."""
    if not isinstance(state, ConsentState):
        raise InvalidValueError("state", "not a ConsentState member", state)
    return state


def new_events(
    events: Iterable[ConsentEvent],
    stored: Callable[[list[str]], Mapping[str, ConsentEvent]],
) -> tuple[list[ConsentEvent], int]:
    """Split a batch into the events to store and a count of repeats.

    Args:
        events: The batch, in the order given.
        stored: Looks up, in one call, which of the given ids are stored
            already and returns those events by id.

    Returns:
        The events not stored yet, first occurrence kept, and how many of the
        batch were repeats of stored or earlier events.

    Raises:
        ConflictError: an id is repeated with different content.
        InvalidValueError: an item of the batch is not a `ConsentEvent`.
    """
    batch: dict[str, ConsentEvent] = {}
    repeats = 0
    # Typed as anything: the caller's batch is only trusted once checked here.
    items: Iterable[object] = events
    for position, item in enumerate(items):
        event = (
            item if isinstance(item, ConsentEvent) else check_batch_item(position, item)
        )
        earlier = batch.get(event.event_id)
        if earlier is None:
            batch[event.event_id] = event
        else:
            _check_same(earlier, event)
            repeats += 1
    existing = stored(list(batch))
    fresh = []
    for event_id, event in batch.items():
        known = existing.get(event_id)
        if known is None:
            fresh.append(event)
        else:
            _check_same(known, event)
            repeats += 1

    return fresh, repeats


# Everything an event says but when it was recorded, read without building an
# event: building one would run the model's checks, which a forged event with
# a known id may fail before it could be reported as a conflict.
_content = operator.attrgetter(
    *(field.name for field in attrs.fields(ConsentEvent) if field.name != "recorded_at")
)


def _check_same(known: ConsentEvent, event: ConsentEvent) -> None:
    # The same answer recorded again later is a repeat, not a conflict: the
    # first recording is kept.
    if _content(event) != _content(known):
        raise ConflictError(
            f"event_id: already stored with different content: {event.event_id!r}"
        )
