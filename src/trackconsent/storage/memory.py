"""A consent store held in memory, for tests and small hosts."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

from trackconsent.ledger import (
    GENESIS,
    ChainLink,
    event_order_key,
    link_digest,
    verify_chains,
)
from trackconsent.model import Answer, Consent, ConsentEvent, ConsentState
from trackconsent.storage._batch import check_state, new_events
from trackconsent.storage._closing import ClosingStore
from trackconsent.storage.base import (
    AppendResult,
    StatusMap,
    VerifyReport,
    check_batch,
    check_contact_id,
    check_contact_ids,
)

__all__ = ["MemoryStore"]

_STATE_OF = {Answer.GRANTED: ConsentState.GRANTED, Answer.REFUSED: ConsentState.REFUSED}


class MemoryStore(ClosingStore):
    """A `ConsentStore` in a process's memory. Thread safe; gone at exit."""

    def __init__(self) -> None:
        """Start empty."""
        self._lock = threading.Lock()
        self._events: dict[str, ConsentEvent] = {}
        self._links: dict[str, list[ChainLink]] = {}
        self._latest: dict[str, ConsentEvent] = {}
        self._heads: dict[str, str] = {}

    def append(self, events: Iterable[ConsentEvent]) -> AppendResult:
        """Store a batch atomically and idempotently (see `ConsentStore`)."""
        check_batch(events)
        with self._lock:
            fresh, repeats = new_events(events, self._stored)
            for event in fresh:
                self._add(event)

        return AppendResult(added=len(fresh), duplicates=repeats)

    def _stored(self, ids: list[str]) -> dict[str, ConsentEvent]:
        return {i: self._events[i] for i in ids if i in self._events}

    def _add(self, event: ConsentEvent) -> None:
        links = self._links.setdefault(event.contact_id, [])
        previous = links[-1].digest if links else GENESIS
        digest = link_digest(previous, event)
        links.append(ChainLink(event, previous, digest))
        self._heads[event.contact_id] = digest
        self._events[event.event_id] = event
        latest = self._latest.get(event.contact_id)
        if latest is None or event_order_key(event) > event_order_key(latest):
            self._latest[event.contact_id] = event

    def history(self, contact_id: str) -> list[ConsentEvent]:
        """Return the contact's events, newest first."""
        check_contact_id(contact_id)
        with self._lock:
            events = [link.event for link in self._links.get(contact_id, ())]
        return sorted(events, key=event_order_key, reverse=True)

    def iter_links(self, contact_id: str) -> Iterator[ChainLink]:
        """Yield the contact's chain links in append order."""
        check_contact_id(contact_id)
        with self._lock:
            links = list(self._links.get(contact_id, ()))
        return iter(links)

    def status(self, contact_id: str) -> Consent:
        """Return one contact's consent in force."""
        latest = self._latest.get(check_contact_id(contact_id))
        return Consent.unknown() if latest is None else Consent.of(latest)

    def status_many(self, contact_ids: Iterable[str]) -> StatusMap:
        """Return the consent of many contacts."""
        ids = dict.fromkeys(check_contact_ids(contact_ids))
        answers = {}
        for contact_id in ids:
            latest = self._latest.get(contact_id)
            if latest is not None:
                granted = latest.answer is Answer.GRANTED
                answers[contact_id] = (granted, latest.occurred_at)
        return StatusMap(ids, answers)

    def ids_in_state(self, contact_ids: Iterable[str], state: ConsentState) -> set[str]:
        """Return those of ``contact_ids`` whose consent in force is ``state``."""
        check_contact_ids(contact_ids)
        check_state(state)
        return {cid for cid in contact_ids if self._state(cid) is state}

    def _state(self, contact_id: str) -> ConsentState:
        latest = self._latest.get(contact_id)
        if latest is None:
            return ConsentState.UNKNOWN
        return _STATE_OF[latest.answer]

    def contact_ids(self) -> Iterator[str]:
        """Iterate every contact with at least one event."""
        with self._lock:
            return iter(list(self._links))

    def verify(self) -> VerifyReport:
        """Check every contact's hash chain."""
        with self._lock:
            chains = {cid: list(links) for cid, links in self._links.items()}
        breaks, events = verify_chains(chains.items(), self._heads)

        return VerifyReport(contacts=len(chains), events=events, breaks=tuple(breaks))

    def close(self) -> None:
        """Nothing to release."""
