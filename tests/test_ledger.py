"""Tests of status derivation and of the tamper-evident chain."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.strategies import event_lists, events
from trackconsent import (
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    InvalidValueError,
    Source,
)
from trackconsent.ledger import chain, consent_status, event_order_key, verify_chain
from trackconsent.testing import make_event


def test_the_event_that_happened_last_wins_not_the_last_to_arrive() -> None:
    """Given a form refusal and an older import arriving later, then refused."""
    refusal = make_event("a", Answer.REFUSED, 152, source=Source.PROFILE_UPDATE_FORM)
    old_import = make_event("a", Answer.GRANTED, 9, recorded_days=200)

    assert consent_status([refusal, old_import]).state is ConsentState.REFUSED


def test_no_events_means_never_asked() -> None:
    """Given no events, then the consent is unknown."""
    assert consent_status([]) == Consent.unknown()


def test_at_the_same_instant_a_refusal_beats_a_grant() -> None:
    """Given a grant and a refusal at the same instant in two zones, then refused."""
    grant = make_event("a", Answer.GRANTED, 5)
    paris = datetime.fromisoformat("2024-01-06T01:00:00+01:00")
    refusal = ConsentEvent.new(
        contact_id="a",
        answer=Answer.REFUSED,
        occurred_at=paris,
        recorded_at=paris,
        source=Source.OPERATOR,
    )
    assert paris == grant.occurred_at

    assert consent_status([grant, refusal]).state is ConsentState.REFUSED
    assert consent_status([refusal, grant]).state is ConsentState.REFUSED


@given(event_lists(), st.randoms(use_true_random=False))
def test_any_permutation_or_duplication_gives_the_same_status(
    events_: list[ConsentEvent], rnd: random.Random
) -> None:
    """Given events shuffled and repeated, then the status does not change."""
    shaken = events_ + rnd.sample(events_, k=len(events_) // 2)
    rnd.shuffle(shaken)

    assert consent_status(shaken) == consent_status(events_)


@given(event_lists(), events())
def test_an_event_older_than_the_one_in_force_never_changes_the_status(
    events_: list[ConsentEvent], extra: ConsentEvent
) -> None:
    """Given an event that sorts before the one in force, then status stays."""
    if not events_:
        return
    latest = max(events_, key=event_order_key)
    older = attrs.evolve(extra, occurred_at=latest.occurred_at.replace(year=1999))

    assert consent_status([*events_, older]) == consent_status(events_)


def _four() -> list[ConsentEvent]:
    return [make_event("a", Answer.GRANTED, day) for day in range(4)]


def test_an_intact_chain_verifies() -> None:
    """Given links made by chain(), then verify_chain finds nothing."""
    links = chain(_four())

    assert verify_chain("a", links, head=links[-1].digest) is None


def test_an_edited_event_is_named() -> None:
    """Given the third event's answer changed, then that event is named."""
    links = chain(_four())
    edited = attrs.evolve(links[2].event, answer=Answer.REFUSED)
    links[2] = attrs.evolve(links[2], event=edited)

    broken = verify_chain("a", links)

    assert broken is not None
    assert (broken.position, broken.event_id, broken.reason) == (
        2,
        edited.event_id,
        "edited",
    )


def test_a_removed_event_names_the_one_after_it() -> None:
    """Given the second link removed, then the link after the gap is named."""
    links = chain(_four())
    del links[1]

    broken = verify_chain("a", links)

    assert broken is not None
    assert broken.position == 1
    assert broken.reason == "removed or reordered before this event"
    assert "contact 'a', event #1" in str(broken)


def test_reordered_events_are_caught() -> None:
    """Given two links swapped, then the first out of place is named."""
    links = chain(_four())
    links[1], links[2] = links[2], links[1]

    broken = verify_chain("a", links)

    assert broken is not None
    assert broken.event_id == links[1].event.event_id


def test_a_removed_newest_event_is_caught_through_the_head() -> None:
    """Given the last link removed and the stored head kept, then a break."""
    links = chain(_four())
    head = links[-1].digest

    broken = verify_chain("a", links[:-1], head=head)

    assert broken is not None
    assert (broken.position, broken.event_id) == (3, None)
    assert broken.reason == "newest event removed"


def test_dates_in_other_zones_compare_as_instants() -> None:
    """Given a later wall clock in an earlier instant, then the instant decides."""
    tokyo = datetime.fromisoformat(
        "2024-03-01T08:00:00+09:00"
    )  # 23:00 UTC the day before
    london = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    a = ConsentEvent.new(
        contact_id="a",
        answer=Answer.GRANTED,
        occurred_at=tokyo,
        recorded_at=tokyo,
        source=Source.IMPORT,
    )
    b = attrs.evolve(
        a,
        event_id="other",
        answer=Answer.REFUSED,
        occurred_at=london,
        recorded_at=london,
    )

    assert consent_status([a, b]).state is ConsentState.REFUSED


@pytest.mark.parametrize(
    ("events", "rule"),
    [
        (None, "not an iterable"),
        ("ab", "not an iterable"),
        (make_event("a", Answer.GRANTED, 1), "not an iterable"),
        ([1], "item not a ConsentEvent"),
        ([make_event("a", Answer.GRANTED, 1), None], "item not a ConsentEvent"),
    ],
    ids=["None", "a string", "a single event", "a number", "None after an event"],
)
def test_consent_status_names_a_wrong_argument(events: object, rule: str) -> None:
    """Given consent_status called with something other than events, then
    InvalidValueError names the events argument.
    """
    with pytest.raises(InvalidValueError) as caught:
        consent_status(events)  # type: ignore[arg-type]

    assert (caught.value.path, caught.value.rule.startswith(rule)) == ("events", True)
