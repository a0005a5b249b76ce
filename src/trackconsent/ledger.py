"""Deriving a contact's consent from its events, and proving the history intact.

The status is the answer of the event that *happened* last. Arrival order never
decides: an old import recorded after a fresh form answer does not override it.

Tie rule: when several events happened at the same instant (compared in UTC), a
refusal beats a grant (the privacy-protective reading), and among events with
the same answer the greatest ``event_id`` wins. The rule is total, so the result
never depends on the order the events are given in, and repeating an event
changes nothing.

Tamper evidence: a contact's events, in the order the store appended them, form
a hash chain. Each link stores the digest of the link before it and its own
digest, ``sha256(previous digest + canonical form of the event)``. `verify_chain`
walks the links and names the first one that was edited, or that follows a
removed or reordered one; a store also keeps the newest digest per contact
(the head), so removing the newest event is caught too.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Final

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.model import Answer, Consent, ConsentEvent, Evidence

__all__ = [
    "GENESIS",
    "ChainBreak",
    "ChainLink",
    "canonical_event",
    "chain",
    "consent_status",
    "event_order_key",
    "evidence_json",
    "link_digest",
    "verify_chain",
    "verify_chains",
]

# One encoder for every call: json.dumps with options builds a new one each time,
# which costs more than the encoding itself on the append path.
_canonical_json: Final = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, sort_keys=True
).encode

GENESIS: Final = "0" * 64
"""The digest a contact's first link points back to."""


def event_order_key(event: ConsentEvent) -> tuple[datetime, int, str]:
    """Sort key of the tie rule: later wins, then refusal, then greater id."""
    return (event.occurred_at, event.answer is Answer.REFUSED, event.event_id)


def consent_status(events: Iterable[ConsentEvent]) -> Consent:
    """Return the consent in force after ``events``.

    Args:
        events: One contact's events, in any order, repeats allowed.

    Returns:
        The consent of the event that happened last (see the module's tie rule),
        or `Consent.unknown` when there is none.

    Raises:
        InvalidValueError: ``events`` is not an iterable of events.
    """
    if isinstance(events, ConsentEvent | str | bytes) or not isinstance(
        events, Iterable
    ):
        raise InvalidValueError("events", "not an iterable of ConsentEvent", events)
    latest = max(events, key=_checked_order_key, default=None)
    if latest is None:
        return Consent.unknown()
    return Consent.of(latest)


def _checked_order_key(event: object) -> tuple[datetime, int, str]:
    if not isinstance(event, ConsentEvent):
        raise InvalidValueError("events", "item not a ConsentEvent", event)
    return event_order_key(event)


def canonical_event(event: ConsentEvent) -> bytes:
    """Return the bytes a link digest covers: every field of the event."""
    payload = [
        event.event_id,
        event.contact_id,
        event.answer.value,
        event.occurred_at.isoformat(),
        event.recorded_at.isoformat(),
        event.source.value,
        event.evidence.as_dict(),
        event.actor,
    ]
    return _canonical_json(payload).encode()


def evidence_json(evidence: Evidence) -> str:
    """Return the evidence as compact JSON with sorted keys, as stores keep it."""
    parts = evidence.as_dict()
    return _canonical_json(parts) if parts else "{}"


def link_digest(previous: str, event: ConsentEvent) -> str:
    """Return the digest of the link holding ``event`` after ``previous``."""
    digest = hashlib.sha256(previous.encode("ascii"))
    digest.update(canonical_event(event))
    return digest.hexdigest()


@attrs.frozen
class ChainLink:
    """One event in a contact's chain, with the digest before it and its own."""

    event: ConsentEvent
    previous: str
    digest: str


def chain(events: Iterable[ConsentEvent], head: str = GENESIS) -> list[ChainLink]:
    """Link ``events`` in the given order after ``head``."""
    links = []
    for event in events:
        digest = link_digest(head, event)
        links.append(ChainLink(event, head, digest))
        head = digest
    return links


@attrs.frozen
class ChainBreak:
    """Where a contact's history stops being provably intact.

    Attributes:
        contact_id: The contact whose chain is broken.
        position: Zero-based position in append order of the first bad link.
        event_id: The event at that position, or None when the newest event
            was removed and nothing stands there.
        reason: ``edited``, ``removed or reordered before this event``, or
            ``newest event removed``.
    """

    contact_id: str
    position: int
    event_id: str | None
    reason: str

    def __str__(self) -> str:
        """Say which contact, which position, which event and why."""
        return (
            f"contact {self.contact_id!r}, event #{self.position}"
            f" ({self.event_id or 'missing'}): {self.reason}"
        )


def verify_chain(
    contact_id: str, links: Iterable[ChainLink], head: str | None = None
) -> ChainBreak | None:
    """Check one contact's links, in append order.

    Args:
        contact_id: The contact the links belong to.
        links: The stored links, in the order they were appended.
        head: The newest digest the store recorded for the contact, if it
            keeps one; it reveals a removed newest event.

    Returns:
        The first break, or None when the chain is intact.
    """
    expected = GENESIS
    position = -1
    for position, link in enumerate(links):
        event_id = link.event.event_id
        if link.previous != expected:
            reason = "removed or reordered before this event"
            return ChainBreak(contact_id, position, event_id, reason)
        if link_digest(expected, link.event) != link.digest:
            return ChainBreak(contact_id, position, event_id, "edited")
        expected = link.digest
    if head is not None and head != expected:
        return ChainBreak(contact_id, position + 1, None, "newest event removed")
    return None


def verify_chains(
    chains: Iterable[tuple[str, Sequence[ChainLink]]], heads: Mapping[str, str]
) -> tuple[list[ChainBreak], int]:
    """Check many contacts' chains, each against its stored head.

    Args:
        chains: Each contact's id and links in append order.
        heads: The newest digest stored per contact; a contact missing here
            has an empty head, so any link it has is reported.

    Returns:
        The first break of each broken chain, and how many links were checked.
    """
    breaks = []
    events = 0
    for contact_id, links in chains:
        events += len(links)
        found = verify_chain(contact_id, links, heads.get(contact_id, ""))
        if found is not None:
            breaks.append(found)

    return breaks, events
