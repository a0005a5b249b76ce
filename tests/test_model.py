"""Tests of the value classes of the consent record."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from trackconsent.model import MAX_CLOCK_SKEW, require_text
from trackconsent.testing.strategies import (
    aware_datetimes,
    awkward_ids,
    refused_characters,
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


def _event(**changes: object) -> ConsentEvent:
    values: dict[str, object] = {
        "contact_id": "a",
        "answer": Answer.REFUSED,
        "occurred_at": NOW,
        "recorded_at": NOW,
        "source": Source.OPERATOR,
    }
    values.update(changes)
    return ConsentEvent.new(**values)  # type: ignore[arg-type]


@given(
    before=st.text(max_size=5),
    char=refused_characters,
    after=st.text(max_size=5),
    field=st.sampled_from(["contact_id", "actor"]),
)
def test_a_control_or_format_character_in_a_text_is_refused(
    before: str, char: str, after: str, field: str
) -> None:
    """Given a contact id or actor holding a control character, a format
    character such as U+202E, a line separator or a lone surrogate, then the
    event is refused naming the field and the character.
    """
    text = f"x{before}{char}{after}"

    with pytest.raises(InvalidValueError) as caught:
        _event(**{field: text})

    assert caught.value.path == field
    assert caught.value.rule.startswith("control or format character U+")
    assert caught.value.value == text


@pytest.mark.parametrize(
    ("make", "path"),
    [
        (lambda: Contact(id="a\x00b"), "id"),
        (lambda: Evidence(user_agent="Mozilla\r\nX-Injected: 1"), "user_agent"),
        (lambda: Evidence(form_id="form\u202egnp.exe"), "form_id"),
        (lambda: Evidence(wording_version="v1\u2028"), "wording_version"),
        (
            lambda: ConsentEvent(
                event_id="ev\x00",
                contact_id="a",
                answer=Answer.GRANTED,
                occurred_at=NOW,
                recorded_at=NOW,
                source=Source.OPERATOR,
            ),
            "event_id",
        ),
    ],
    ids=["contact id", "user agent", "form id", "wording version", "event id"],
)
def test_every_text_of_the_record_refuses_control_characters(
    make: object, path: str
) -> None:
    """Given a control or format character in any text of the record, then the
    error names that field.
    """
    with pytest.raises(InvalidValueError) as caught:
        make()  # type: ignore[operator]

    assert caught.value.path == path


@given(awkward_ids)
def test_awkward_but_printable_ids_are_accepted(contact_id: str) -> None:
    """Given ids with quotes, unusual spaces, combining marks or characters
    beyond the basic plane, then they are accepted unchanged.
    """
    assert require_text("contact_id", contact_id) == contact_id
    assert _event(contact_id=contact_id).contact_id == contact_id


@given(recorded=aware_datetimes, ahead=st.timedeltas(timedelta(0), MAX_CLOCK_SKEW))
def test_an_answer_a_little_ahead_of_the_recording_clock_is_accepted(
    recorded: datetime, ahead: timedelta
) -> None:
    """Given occurred_at after recorded_at by at most the clock skew allowed,
    then the event is accepted.
    """
    event = _event(occurred_at=recorded + ahead, recorded_at=recorded)

    assert event.occurred_at - event.recorded_at == ahead


@given(
    recorded=aware_datetimes,
    ahead=st.timedeltas(
        MAX_CLOCK_SKEW + timedelta(microseconds=1), timedelta(days=9000)
    ),
)
def test_an_answer_dated_after_its_recording_is_refused(
    recorded: datetime, ahead: timedelta
) -> None:
    """Given occurred_at later than recorded_at plus the clock skew allowed,
    then the event is refused, so a future date cannot lock the status.
    """
    with pytest.raises(InvalidValueError) as caught:
        _event(occurred_at=recorded + ahead, recorded_at=recorded)

    assert caught.value.path == "occurred_at"
    assert "later than recorded_at" in caught.value.rule
    assert caught.value.value == recorded + ahead


def test_the_tester_s_future_dated_refusal_is_refused() -> None:
    """Given an answer dated 2042 recorded in 2024, then it is refused."""
    with pytest.raises(InvalidValueError, match="occurred_at: later than"):
        _event(
            occurred_at=datetime(2042, 1, 1, tzinfo=UTC),
            recorded_at=datetime(2024, 1, 1, tzinfo=UTC),
        )


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("answer", "refused", "not an Answer member"),
        ("answer", None, "not an Answer member"),
        ("source", "import", "not a Source member"),
        ("evidence", "x", "not an Evidence"),
        ("contact_id", 5, "not a string"),
        ("occurred_at", "2024-01-01", "not a datetime"),
        ("actor", 7, "not a string"),
    ],
)
def test_new_names_a_wrong_type_before_computing_the_id(
    field: str, value: object, rule: str
) -> None:
    """Given ConsentEvent.new with a value of the wrong type, then
    InvalidValueError names the field, never an AttributeError.
    """
    with pytest.raises(InvalidValueError) as caught:
        _event(**{field: value})

    assert (caught.value.path, caught.value.rule) == (field, rule)


def test_enum_errors_use_the_right_article() -> None:
    """Given a wrong answer and a wrong state, then the messages read
    "an Answer" and "a ConsentState".
    """
    with pytest.raises(InvalidValueError, match="answer: not an Answer member"):
        _event(answer="granted")
    with pytest.raises(InvalidValueError, match="state: not a ConsentState member"):
        Consent("granted")  # type: ignore[arg-type]


def test_capture_enum_errors_use_the_right_article_too() -> None:
    """Given a form submission whose identification is a plain string, then the
    message reads "not an Identification member".
    """
    from trackconsent.capture.forms import Submission

    with pytest.raises(
        InvalidValueError, match="identified_by: not an Identification member"
    ):
        Submission("f", "verified")  # type: ignore[arg-type]
