"""Checks every store makes on a batch before storing anything of it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import attrs

from trackconsent.errors import ConflictError
from trackconsent.model import ConsentEvent

__all__ = ["new_events"]


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
    """
    batch: dict[str, ConsentEvent] = {}
    repeats = 0
    for event in events:
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


def _check_same(known: ConsentEvent, event: ConsentEvent) -> None:
    # The same answer recorded again later is a repeat, not a conflict: the
    # first recording is kept.
    if attrs.evolve(event, recorded_at=known.recorded_at) != known:
        raise ConflictError(
            f"event_id: already stored with different content: {event.event_id!r}"
        )
