"""Tests of the value classes of the consent record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given

from tests.strategies import consents, events
from trackconsent import (
    FIELD_DATE,
    FIELD_FLAG,
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Contact,
    Evidence,
    InvalidValueError,
    Source,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)


def test_a_naive_datetime_is_refused_naming_the_field() -> None:
    """Given a naive occurred_at, then the error names field, rule and value."""
    with pytest.raises(InvalidValueError) as caught:
        ConsentEvent.new(
            contact_id="a",
            answer=Answer.GRANTED,
            occurred_at=datetime(2024, 1, 1),
            recorded_at=NOW,
            source=Source.IMPORT,
        )

    assert caught.value.path == "occurred_at"
    assert "time zone required" in str(caught.value)
    assert "2024" in str(caught.value)


def test_errors_are_also_value_errors() -> None:
    """Given an empty contact id, then the error is a ValueError too."""
    with pytest.raises(ValueError, match="id: must not be empty: ''"):
        Contact(id="")


def test_an_ip_that_is_not_an_address_is_refused() -> None:
    """Given evidence with a malformed IP, then the ip field is named."""
    with pytest.raises(
        InvalidValueError, match=r"ip: not an IP address: '300\.1\.1\.1'"
    ):
        Evidence(ip="300.1.1.1")


def test_a_source_must_be_a_source_member() -> None:
    """Given a plain string as source, then it is refused."""
    with pytest.raises(InvalidValueError, match="source: not a Source member"):
        ConsentEvent(
            event_id="e",
            contact_id="a",
            answer=Answer.GRANTED,
            occurred_at=NOW,
            recorded_at=NOW,
            source="import",  # type: ignore[arg-type]
        )


def test_the_two_fields_are_true_false_or_empty() -> None:
    """Given each state, then hasTrackingConsent is True, False or None."""
    assert Consent(ConsentState.GRANTED, NOW).as_fields() == {
        FIELD_FLAG: True,
        FIELD_DATE: NOW,
    }
    assert Consent(ConsentState.REFUSED, NOW).has_tracking_consent is False
    assert Consent.unknown().as_fields() == {FIELD_FLAG: None, FIELD_DATE: None}


def test_a_status_needs_a_moment_and_never_asked_has_none() -> None:
    """Given an answer without a moment, or never asked with one, then refused."""
    with pytest.raises(InvalidValueError, match="at: required"):
        Consent(ConsentState.GRANTED)
    with pytest.raises(InvalidValueError, match="at: must be empty"):
        Consent(ConsentState.UNKNOWN, NOW)


def test_the_same_answer_recorded_twice_gets_the_same_id() -> None:
    """Given one answer recorded at two moments, then the derived ids agree."""
    first = ConsentEvent.new(
        contact_id="a",
        answer=Answer.REFUSED,
        occurred_at=NOW,
        recorded_at=NOW,
        source=Source.WEB_SERVICE,
    )
    retry = attrs.evolve(first, recorded_at=NOW + timedelta(minutes=5))
    again = ConsentEvent.new(
        contact_id="a",
        answer=Answer.REFUSED,
        occurred_at=NOW,
        recorded_at=retry.recorded_at,
        source=Source.WEB_SERVICE,
    )

    assert again.event_id == first.event_id


def test_contact_fields_are_copied() -> None:
    """Given a fields dict changed afterwards, then the contact keeps its copy."""
    fields = {"city": "Lyon"}
    contact = Contact(id="a", fields=fields)
    fields["city"] = "Paris"

    assert contact.fields == {"city": "Lyon"}


@given(events())
def test_events_round_trip_through_attrs(event: ConsentEvent) -> None:
    """Given any event, then rebuilding it from its fields gives an equal event."""
    rebuilt = ConsentEvent(**attrs.asdict(event, recurse=False))

    assert rebuilt == event
    assert hash(rebuilt) == hash(event)


@given(consents())
def test_consents_round_trip_through_their_fields(consent: Consent) -> None:
    """Given any consent, then its two fields rebuild the same consent."""
    flag = consent.has_tracking_consent
    state = {
        True: ConsentState.GRANTED,
        False: ConsentState.REFUSED,
        None: ConsentState.UNKNOWN,
    }[flag]

    assert Consent(state, consent.dt_tracking_consent) == consent
