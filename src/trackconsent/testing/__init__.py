"""The contract every `ConsentStore` adapter must keep, as a pytest test class.

A host that writes its own store subclasses `ConsentStoreContract` in one of
its test modules and says how to make an empty store::

    from trackconsent.testing import ConsentStoreContract

    class TestMyStore(ConsentStoreContract):
        def make_store(self):
            return MyStore(dsn=...)

pytest then runs every contract test on it. Tests that need to damage stored
data (to prove verification catches it) call the tamper hooks; an adapter
that does not implement them has those tests skipped.

This module needs pytest and hypothesis: install ``trackconsent[test]``.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trackconsent.errors import ConflictError, InvalidValueError
from trackconsent.ledger import consent_status
from trackconsent.model import (
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Evidence,
    Source,
)
from trackconsent.storage.base import ConsentStore
from trackconsent.testing.strategies import answers, awkward_ids, event_lists

__all__ = ["ConsentStoreContract", "make_event"]

_T0 = datetime(2024, 1, 1, tzinfo=UTC)
_PROPERTY = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        # The same inherited test runs once per adapter class, by design.
        HealthCheck.differing_executors,
    ],
)


def make_event(
    contact_id: str,
    answer: Answer,
    days: float,
    *,
    source: Source = Source.OPERATOR,
    recorded_days: float | None = None,
    evidence: Evidence | None = None,
) -> ConsentEvent:
    """Build an event ``days`` after 2024-01-01 UTC, for tests."""
    occurred = _T0 + timedelta(days=days)
    recorded = _T0 + timedelta(days=days if recorded_days is None else recorded_days)
    return ConsentEvent.new(
        contact_id=contact_id,
        answer=answer,
        occurred_at=occurred,
        recorded_at=recorded,
        source=source,
        evidence=evidence,
    )


class ConsentStoreContract:
    """Tests every `ConsentStore` must pass. Subclass and define `make_store`."""

    def make_store(self) -> ConsentStore:
        """Return a new, empty store."""
        raise NotImplementedError

    def edit_stored_event(self, store: ConsentStore, event_id: str) -> None:
        """Change a stored event's answer behind the store's back."""
        pytest.skip("adapter does not implement edit_stored_event")

    def delete_stored_event(self, store: ConsentStore, event_id: str) -> None:
        """Delete a stored event behind the store's back."""
        pytest.skip("adapter does not implement delete_stored_event")

    @pytest.fixture
    def store(self) -> Iterator[ConsentStore]:
        """An empty store, closed after the test."""
        store = self.make_store()
        yield store
        store.close()

    def test_an_empty_store_knows_no_one(self, store: ConsentStore) -> None:
        """Given no events, then every contact is never asked and has no history."""
        assert store.history("nobody") == []
        assert store.status("nobody") == Consent.unknown()
        assert list(store.contact_ids()) == []
        assert store.verify().ok

    def test_history_is_newest_first_whatever_the_arrival_order(
        self, store: ConsentStore
    ) -> None:
        """Given events appended out of order, then history is newest first."""
        late = make_event("a", Answer.REFUSED, 150)
        early = make_event("a", Answer.GRANTED, 10)
        store.append([late])
        store.append([early])

        assert store.history("a") == [late, early]
        assert store.status("a") == Consent(ConsentState.REFUSED, late.occurred_at)

    def test_an_old_event_arriving_late_does_not_change_the_status(
        self, store: ConsentStore
    ) -> None:
        """Given a refusal, when an older grant arrives, then the refusal stands."""
        refusal = make_event(
            "a", Answer.REFUSED, 152, source=Source.PROFILE_UPDATE_FORM
        )
        old_import = make_event("a", Answer.GRANTED, 9, source=Source.IMPORT)
        store.append([refusal])
        store.append([old_import])

        assert store.status("a").state is ConsentState.REFUSED
        assert {e.event_id for e in store.history("a")} == {
            refusal.event_id,
            old_import.event_id,
        }

    def test_appending_the_same_event_twice_stores_it_once(
        self, store: ConsentStore
    ) -> None:
        """Given an event stored, when it is appended again, then it counts once."""
        event = make_event("a", Answer.GRANTED, 1)

        first = store.append([event, event])
        second = store.append([event])

        assert (first.added, first.duplicates) == (1, 1)
        assert (second.added, second.duplicates) == (0, 1)
        assert store.history("a") == [event]

    def test_the_same_answer_recorded_again_later_is_a_repeat(
        self, store: ConsentStore
    ) -> None:
        """Given an event, when it is recorded again a day later, then the first
        recording is kept and the repeat counts as a duplicate.
        """
        event = make_event("a", Answer.REFUSED, 1)
        again = make_event("a", Answer.REFUSED, 1, recorded_days=2)
        assert again.event_id == event.event_id

        store.append([event])
        result = store.append([again])

        assert (result.added, result.duplicates) == (0, 1)
        assert store.history("a")[0].recorded_at == event.recorded_at

    def test_a_conflicting_event_rejects_the_whole_batch(
        self, store: ConsentStore
    ) -> None:
        """Given a stored event, when a batch reuses its id with other content,
        then nothing of that batch is stored.
        """
        stored = make_event("a", Answer.GRANTED, 1)
        store.append([stored])
        other = make_event("b", Answer.REFUSED, 2)
        forged = ConsentEvent(
            event_id=stored.event_id,
            contact_id="a",
            answer=Answer.REFUSED,
            occurred_at=stored.occurred_at,
            recorded_at=stored.recorded_at,
            source=stored.source,
        )

        with pytest.raises(ConflictError, match="event_id"):
            store.append([other, forged])

        assert store.history("b") == []
        assert store.history("a") == [stored]

    def test_a_batch_that_fails_midway_stores_nothing(
        self, store: ConsentStore
    ) -> None:
        """Given a batch whose iterator fails after some events, then none is kept."""

        def failing() -> Iterator[ConsentEvent]:
            yield make_event("a", Answer.GRANTED, 1)
            yield make_event("b", Answer.GRANTED, 1)
            raise RuntimeError("source broke")

        with pytest.raises(RuntimeError, match="source broke"):
            store.append(failing())

        assert list(store.contact_ids()) == []

    def test_status_many_answers_for_every_id_asked(self, store: ConsentStore) -> None:
        """Given some contacts with answers, then status_many covers every id."""
        store.append(
            [make_event("a", Answer.GRANTED, 1), make_event("b", Answer.REFUSED, 2)]
        )

        found = store.status_many(["a", "b", "never", "a"])

        assert set(found) == {"a", "b", "never"}
        assert found["a"].state is ConsentState.GRANTED
        assert found["b"].has_tracking_consent is False
        assert found["never"] == Consent.unknown()
        assert found.state("b") is ConsentState.REFUSED
        with pytest.raises(KeyError):
            found["not asked"]

    def test_status_many_of_many_ids(self, store: ConsentStore) -> None:
        """Given thousands of contacts, then one call answers for all of them."""
        events = [
            make_event(f"c{n}", Answer(("granted", "refused")[n % 2]), n / 100)
            for n in range(5000)
        ]
        store.append(events)

        found = store.status_many(f"c{n}" for n in range(6000))

        assert len(found) == 6000
        assert Counter(found.state(f"c{n}") for n in range(6000)) == {
            ConsentState.GRANTED: 2500,
            ConsentState.REFUSED: 2500,
            ConsentState.UNKNOWN: 1000,
        }

    def test_dt_tracking_consent_keeps_its_offset(self, store: ConsentStore) -> None:
        """Given an answer at +02:00, then the stored moment is the same instant."""
        event = make_event("a", Answer.GRANTED, 3)
        paris = ConsentEvent.new(
            contact_id="p",
            answer=Answer.GRANTED,
            occurred_at=event.occurred_at.astimezone(
                datetime.fromisoformat("2024-01-01T00:00+02:00").tzinfo
            ),
            recorded_at=event.recorded_at,
            source=Source.WEB_SERVICE,
        )
        store.append([paris])

        at = store.status("p").dt_tracking_consent
        assert at == event.occurred_at
        assert at is not None
        assert at.utcoffset() == timedelta(hours=2)

    def test_contact_ids_lists_each_contact_once(self, store: ConsentStore) -> None:
        """Given several events per contact, then each contact is listed once."""
        store.append([make_event(c, Answer.GRANTED, d) for c in "abc" for d in (1, 2)])

        assert sorted(store.contact_ids()) == ["a", "b", "c"]

    def test_an_intact_history_verifies(self, store: ConsentStore) -> None:
        """Given events appended in several batches, then verify finds no break."""
        for day in range(5):
            store.append(
                [make_event("a", Answer(("granted", "refused")[day % 2]), day)]
            )

        report = store.verify()

        assert report.ok
        assert (report.contacts, report.events) == (1, 5)

    def test_an_edited_event_is_named_by_verify(self, store: ConsentStore) -> None:
        """Given an event edited in storage, then verify names that event."""
        events = [make_event("a", Answer.GRANTED, day) for day in range(4)]
        store.append(events)

        self.edit_stored_event(store, events[2].event_id)
        report = store.verify()

        assert not report.ok
        (broken,) = report.breaks
        assert (broken.event_id, broken.position) == (events[2].event_id, 2)
        assert broken.reason == "edited"

    def test_a_removed_event_is_named_by_verify(self, store: ConsentStore) -> None:
        """Given an event deleted from storage, then verify names the one after."""
        events = [make_event("a", Answer.GRANTED, day) for day in range(4)]
        store.append(events)

        self.delete_stored_event(store, events[1].event_id)
        report = store.verify()

        (broken,) = report.breaks
        assert broken.event_id == events[2].event_id
        assert "removed" in broken.reason

    def test_removing_the_newest_event_is_caught(self, store: ConsentStore) -> None:
        """Given the newest link deleted, then verify reports a missing event."""
        events = [make_event("a", Answer.GRANTED, day) for day in range(3)]
        store.append(events)

        self.delete_stored_event(store, events[-1].event_id)

        (broken,) = store.verify().breaks
        assert broken.reason == "newest event removed"

    @_PROPERTY
    @given(batches=st.lists(event_lists(12), max_size=4))
    def test_status_equals_the_status_computed_from_the_events(
        self, batches: list[list[ConsentEvent]]
    ) -> None:
        """Given any batches, then each status is consent_status of the events."""
        with self.make_store() as store:
            for batch in batches:
                store.append(batch)
            everything = [event for batch in batches for event in batch]
            contacts = {event.contact_id for event in everything}

            found = store.status_many(contacts)

            for contact in contacts:
                mine = [e for e in everything if e.contact_id == contact]
                assert found[contact] == consent_status(mine)
                assert store.status(contact) == consent_status(mine)
            assert store.verify().ok

    @_PROPERTY
    @given(events=event_lists(15), seed=st.integers(0, 2**32))
    def test_stored_events_come_back_unchanged_in_any_arrival_order(
        self, events: list[ConsentEvent], seed: int
    ) -> None:
        """Given events appended in a shuffled order with repeats, then history
        holds each event once, unchanged, and status ignores the order.
        """
        shuffled = events + events[: len(events) // 2]
        random.Random(seed).shuffle(shuffled)
        with self.make_store() as store:
            for event in shuffled:
                store.append([event])

            for contact in {e.contact_id for e in events}:
                mine = {e for e in events if e.contact_id == contact}
                history = store.history(contact)
                assert len(history) == len(mine)
                assert set(history) == mine
                assert store.status(contact) == consent_status(mine)

    @_PROPERTY
    @given(
        ids=st.lists(awkward_ids, min_size=1, max_size=6, unique=True),
        picks=st.lists(st.tuples(st.integers(0, 5), answers, st.integers(0, 9))),
    )
    def test_status_and_history_agree_for_every_id_the_model_accepts(
        self, ids: list[str], picks: list[tuple[int, Answer, int]]
    ) -> None:
        """Given events of contacts with awkward ids (quotes, unusual spaces,
        characters beyond the basic plane, the longest allowed), then status,
        status_many, history and contact_ids all find each contact.
        """
        events = [
            make_event(ids[n % len(ids)], answer, day) for n, answer, day in picks
        ]
        with self.make_store() as store:
            store.append(events)
            found = store.status_many(ids)

            for contact in ids:
                mine = {e for e in events if e.contact_id == contact}
                assert set(store.history(contact)) == mine
                assert store.status(contact) == consent_status(mine)
                assert found[contact] == consent_status(mine)
            assert set(store.contact_ids()) == {e.contact_id for e in events}
            assert store.verify().ok

    @pytest.mark.parametrize(
        ("batch", "path"),
        [
            (["not an event"], "events[0]"),
            ([None], "events[0]"),
            (None, "events"),
            ("ab", "events"),
            (make_event("a", Answer.GRANTED, 1), "events"),
        ],
        ids=["a string item", "a None item", "None", "a string", "a single event"],
    )
    def test_append_refuses_what_is_not_a_batch_of_events(
        self, store: ConsentStore, batch: object, path: str
    ) -> None:
        """Given append called with something other than an iterable of events,
        then InvalidValueError names the argument and nothing is stored.
        """
        with pytest.raises(InvalidValueError) as caught:
            store.append(batch)  # type: ignore[arg-type]

        assert caught.value.path == path
        assert list(store.contact_ids()) == []

    def test_a_bad_item_late_in_a_batch_stores_nothing(
        self, store: ConsentStore
    ) -> None:
        """Given a batch whose third item is not an event, then the error names
        its position and none of the batch is stored.
        """
        good = [make_event("a", Answer.GRANTED, 1), make_event("b", Answer.REFUSED, 1)]

        with pytest.raises(InvalidValueError, match=r"events\[2\]: not a Consent"):
            store.append([*good, {"contact_id": "c"}])  # type: ignore[list-item]

        assert list(store.contact_ids()) == []

    @pytest.mark.parametrize("contact_id", [None, 3, b"a", ["a"]], ids=repr)
    def test_a_contact_id_that_is_not_a_string_is_refused(
        self, store: ConsentStore, contact_id: object
    ) -> None:
        """Given status or history asked with an id that is not a string, then
        InvalidValueError names contact_id.
        """
        with pytest.raises(InvalidValueError, match="contact_id: not a string"):
            store.status(contact_id)  # type: ignore[arg-type]
        with pytest.raises(InvalidValueError, match="contact_id: not a string"):
            store.history(contact_id)  # type: ignore[arg-type]

    @pytest.mark.parametrize("contact_ids", ["abc", b"abc", None, 3], ids=repr)
    def test_status_many_refuses_a_string_or_a_non_iterable(
        self, store: ConsentStore, contact_ids: object
    ) -> None:
        """Given status_many asked with a string (which would read as one id per
        character) or no iterable at all, then InvalidValueError names it.
        """
        with pytest.raises(InvalidValueError, match="contact_ids: not an iterable"):
            store.status_many(contact_ids)  # type: ignore[arg-type]
