"""Tests of the web-service JSON format, its converter and its JSON Schema."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from tests.strategies import (
    consent_histories,
    contact_consents,
    events,
    evidence,
    json_values,
    wire_payloads,
)
from trackconsent import (
    Answer,
    ConsentEvent,
    ConsentState,
    Evidence,
    InvalidValueError,
    InvalidValuesError,
    Source,
)
from trackconsent.capture import (
    WIRE_CLASSES,
    ConsentHistory,
    ContactConsent,
    dumps,
    json_schema,
    loads,
    structure,
    unstructure,
)

NOW = datetime(2024, 6, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
CHECKER = Draft202012Validator.FORMAT_CHECKER
VALIDATORS = {
    cls: Draft202012Validator(json_schema(cls), format_checker=CHECKER)
    for cls in WIRE_CLASSES
}
HISTORY_RULE = "not the history's contact"


def _event(**changes: Any) -> dict[str, Any]:
    event = {
        "eventId": "e1",
        "contactId": "c1",
        "answer": "refused",
        "occurredAt": "2024-05-01T10:00:00+02:00",
        "recordedAt": "2024-05-01T10:00:05Z",
        "source": "web_service",
        "evidence": {"ip": "192.0.2.1"},
        "actor": None,
    }
    event.update(changes)
    return event


def _errors(data: object, cls: type) -> list[tuple[str, str, object]]:
    with pytest.raises(InvalidValuesError) as caught:
        structure(data, cls)
    return [(e.path, e.rule, e.value) for e in caught.value.errors]


# The two fields.


def test_the_two_fields_round_trip_with_their_offset() -> None:
    """Given a refusal at +02:00, then the JSON says false and the moment with
    its offset, and reads back to the same consent.
    """
    payload = {
        "contactId": "c1",
        "hasTrackingConsent": False,
        "dtTrackingConsent": "2024-06-01T09:30:00+02:00",
    }

    fields = structure(payload, ContactConsent)

    assert fields.consent.state is ConsentState.REFUSED
    assert fields.dt_tracking_consent == NOW
    assert fields.dt_tracking_consent.utcoffset() == timedelta(hours=2)
    assert unstructure(fields) == payload


def test_never_asked_is_null_and_needs_no_date() -> None:
    """Given hasTrackingConsent null, then the contact was never asked."""
    fields = structure({"contactId": "c", "hasTrackingConsent": None}, ContactConsent)

    assert fields.consent.state is ConsentState.UNKNOWN
    assert unstructure(fields)["dtTrackingConsent"] is None


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (
            {"contactId": "c", "hasTrackingConsent": True},
            ("$.dtTrackingConsent", "required when an answer was given", None),
        ),
        (
            {
                "contactId": "c",
                "hasTrackingConsent": None,
                "dtTrackingConsent": "2024-01-01T00:00:00Z",
            },
            (
                "$.dtTrackingConsent",
                "must be empty when never asked",
                "2024-01-01T00:00:00Z",
            ),
        ),
        (
            {"contactId": "c", "hasTrackingConsent": "yes", "dtTrackingConsent": None},
            ("$.hasTrackingConsent", "true, false or null", "yes"),
        ),
        (
            {
                "contactId": "c",
                "hasTrackingConsent": True,
                "dtTrackingConsent": "2024-06-01T09:30:00",
            },
            (
                "$.dtTrackingConsent",
                "not an ISO 8601 date-time with offset",
                "2024-06-01T09:30:00",
            ),
        ),
    ],
)
def test_each_broken_field_rule_is_named_with_its_path(
    payload: dict[str, Any], expected: tuple[str, str, object]
) -> None:
    """Given a payload breaking one rule, then the error has its path and value."""
    assert _errors(payload, ContactConsent) == [expected]


def test_an_update_becomes_a_web_service_event() -> None:
    """Given a received refusal with its date, then the event happened then,
    with source web service; a null flag cannot be an update.
    """
    fields = structure(
        {
            "contactId": "c",
            "hasTrackingConsent": False,
            "dtTrackingConsent": "2024-05-01T00:00:00Z",
        },
        ContactConsent,
    )

    event = fields.to_event(
        now=NOW, evidence=Evidence(ip="192.0.2.9"), actor="api-key-3"
    )

    assert (event.answer, event.source, event.actor) == (
        Answer.REFUSED,
        Source.WEB_SERVICE,
        "api-key-3",
    )
    assert event.occurred_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert event.recorded_at == NOW
    with pytest.raises(InvalidValueError, match="hasTrackingConsent: an update must"):
        ContactConsent("c", None).to_event(now=NOW)


# Events and histories.


def test_every_error_of_a_history_is_reported_at_once_with_its_path() -> None:
    """Given a history with broken events and an unknown key, then one error
    lists each broken rule with its JSON path.
    """
    payload = {
        "contactId": "c1",
        "events": [
            _event(),
            _event(eventId="e2", evidence={"ip": "300.1.1.1", "colour": 1}),
            _event(eventId="e3", occurredAt="2024-13-01T00:00:00Z", answer="yes"),
            "not an event",
            {"eventId": "e5"},
        ],
        "colour": "blue",
    }

    errors = _errors(payload, ConsentHistory)

    assert errors == [
        ("$.events[1].evidence.ip", "not an IP address", "300.1.1.1"),
        ("$.events[1].evidence.colour", "unknown key", 1),
        ("$.events[2].answer", "one of 'granted', 'refused'", "yes"),
        (
            "$.events[2].occurredAt",
            "not an ISO 8601 date-time with offset",
            "2024-13-01T00:00:00Z",
        ),
        ("$.events[3]", "not an object", "not an event"),
        ("$.events[4].contactId", "required", None),
        ("$.events[4].answer", "required", None),
        ("$.events[4].occurredAt", "required", None),
        ("$.events[4].recordedAt", "required", None),
        ("$.events[4].source", "required", None),
        ("$.colour", "unknown key", "blue"),
    ]


def test_a_history_names_each_event_of_another_contact() -> None:
    """Given a history holding two events of other contacts, then both are named."""
    payload = {
        "contactId": "c1",
        "events": [_event(), _event(contactId="c2"), _event(contactId="c3")],
    }

    assert _errors(payload, ConsentHistory) == [
        ("$.events[1].contactId", HISTORY_RULE, "c2"),
        ("$.events[2].contactId", HISTORY_RULE, "c3"),
    ]


def test_a_calendar_date_that_does_not_exist_is_refused() -> None:
    """Given the 30th of February, then the converter refuses it, and so does
    the schema with format checking on.
    """
    payload = _event(occurredAt="2024-02-30T10:00:00Z")

    assert _errors(payload, ConsentEvent) == [
        ("$.occurredAt", "not a date on the calendar", "2024-02-30T10:00:00Z")
    ]
    assert not VALIDATORS[ConsentEvent].is_valid(payload)


def test_a_history_computes_the_consent_in_force() -> None:
    """Given a history of a grant then a later refusal, then its consent is refused."""
    history = structure(
        {
            "contactId": "c1",
            "events": [
                _event(
                    eventId="e1", answer="granted", occurredAt="2024-01-01T00:00:00Z"
                ),
                _event(
                    eventId="e2", answer="refused", occurredAt="2024-02-01T00:00:00Z"
                ),
            ],
        },
        ConsentHistory,
    )

    assert history.consent.state is ConsentState.REFUSED


def test_text_that_is_not_json_is_one_error() -> None:
    """Given text that is not JSON, NaN, or nesting past the parser's depth,
    then loads raises InvalidValuesError at the root.
    """
    for text in ("{", '{"contactId": NaN}', "[" * 100_000):
        with pytest.raises(InvalidValuesError) as caught:
            loads(text, ContactConsent)
        assert caught.value.errors[0].path == "$"


def test_only_wire_classes_are_structured() -> None:
    """Given a class that is not a wire class, then structure refuses it."""
    with pytest.raises(InvalidValueError, match="cls: not a wire class"):
        structure({}, dict)
    with pytest.raises(InvalidValueError, match="value: not a wire class"):
        unstructure({"a": 1})


def _json_with_a_repeat(data: object, target: tuple[object, ...], key: str) -> str:
    """JSON text of ``data`` whose object at ``target`` states ``key`` twice."""
    if isinstance(data, dict):
        pairs = [
            f"{json.dumps(k)}:{_json_with_a_repeat(v, target[1:], key)}"
            if target and target[0] == k
            else f"{json.dumps(k)}:{json.dumps(v)}"
            for k, v in data.items()
        ]
        if not target:
            pairs.insert(0, f'{json.dumps(key)}:"first"')
            if key not in data:
                pairs.append(f'{json.dumps(key)}:"second"')
        return "{" + ",".join(pairs) + "}"
    if isinstance(data, list) and target:
        items = [
            _json_with_a_repeat(v, target[1:], key) if i == target[0] else json.dumps(v)
            for i, v in enumerate(data)
        ]
        return "[" + ",".join(items) + "]"
    return json.dumps(data)


def _json_path(trail: tuple[object, ...]) -> str:
    return "$" + "".join(
        f"[{step}]" if isinstance(step, int) else f".{step}" for step in trail
    )


@given(payload=wire_payloads, data=st.data())
def test_an_object_repeating_a_key_is_refused_with_its_path(
    payload: object, data: st.DataObject
) -> None:
    """Given a valid payload's JSON in which one object states a key twice,
    then loads refuses it naming that key's JSON path, never keeping the last.
    """
    unstructured = unstructure(payload)
    objects = [
        trail for trail in _locations(unstructured) if _is_object(unstructured, trail)
    ]
    trail = data.draw(st.sampled_from(objects))
    key = data.draw(st.sampled_from(sorted(_at(unstructured, trail)) or ["extra"]))
    text = _json_with_a_repeat(unstructured, trail, key)

    with pytest.raises(InvalidValuesError) as caught:
        loads(text, type(payload))

    (error,) = caught.value.errors
    assert (error.path, error.rule) == (_json_path((*trail, key)), "key repeated")
    assert error.value[0] == "first"


def _at(data: Any, trail: tuple[object, ...]) -> Any:
    for step in trail:
        data = data[step]
    return data


def _is_object(data: object, trail: tuple[object, ...]) -> bool:
    found = _at(data, trail)
    return isinstance(found, dict)


def test_a_repeated_answer_is_refused_rather_than_read_as_the_last() -> None:
    """Given an event stating "refused" then "granted", then it is refused."""
    text = json.dumps(_event()).replace(
        '"answer": "refused"', '"answer": "refused", "answer": "granted"'
    )

    with pytest.raises(InvalidValuesError, match=r"\$\.answer: key repeated"):
        loads(text, ConsentEvent)


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)
    ).map(lambda moment: moment.replace(microsecond=0, tzinfo=UTC)),
    separator=st.sampled_from(["T", "t", " "]),
    zulu=st.sampled_from(["Z", "z", "+00:00"]),
)
def test_every_rfc3339_spelling_of_a_moment_is_read_by_both(
    moment: datetime, separator: str, zulu: str
) -> None:
    """Given a moment spelled with T, t or a space and with Z, z or +00:00,
    then the converter reads the same instant and the schema accepts it.
    """
    text = moment.isoformat(sep=separator).replace("+00:00", zulu)
    payload = {"contactId": "c", "hasTrackingConsent": True, "dtTrackingConsent": text}

    read = structure(payload, ContactConsent).dt_tracking_consent

    assert read == moment
    assert VALIDATORS[ContactConsent].is_valid(payload)


@given(
    year=st.integers(1, 9999),
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    separator=st.sampled_from(["T", " "]),
)
def test_the_schema_and_the_converter_agree_on_every_calendar_date(
    year: int, month: int, day: int, separator: str
) -> None:
    """Given any year, month and day up to 31, with either separator, then the
    schema accepts the date exactly when the converter does, leap years
    included.
    """
    text = f"{year:04d}-{month:02d}-{day:02d}{separator}12:00:00Z"
    payload = {"contactId": "c", "hasTrackingConsent": True, "dtTrackingConsent": text}

    try:
        structure(payload, ContactConsent)
    except InvalidValuesError:
        is_read = False
    else:
        is_read = True

    assert VALIDATORS[ContactConsent].is_valid(payload) is is_read


@given(text=st.binary(min_size=1, max_size=60).filter(lambda raw: not _is_utf8(raw)))
def test_bytes_that_are_not_utf8_are_refused_as_such(text: bytes) -> None:
    """Given bytes that are not UTF-8, then loads says so, with the offset,
    whatever encoding the bytes might suggest.
    """
    with pytest.raises(InvalidValuesError) as caught:
        loads(text, ContactConsent)

    (error,) = caught.value.errors
    assert error.rule.startswith("not UTF-8 at byte ")


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_bytes_that_look_like_utf16_are_refused_as_not_utf8() -> None:
    """Given bytes a JSON parser would guess to be UTF-16, then the message
    says they are not UTF-8, not which codec failed.
    """
    with pytest.raises(InvalidValuesError, match="not UTF-8 at byte 2"):
        loads(b"{\x00\xff\xfe", ContactConsent)


@given(digits=st.integers(101, 20_000), sign=st.sampled_from(["", "-"]))
def test_a_huge_number_is_refused_in_plain_words(digits: int, sign: str) -> None:
    """Given a number of more digits than any JSON reader takes, then loads
    refuses it as too large, without advice about interpreter settings.
    """
    text = '{"contactId":' + sign + "9" * digits + "}"

    with pytest.raises(InvalidValuesError) as caught:
        loads(text, ContactConsent)

    assert str(caught.value.errors[0]) == f"$: number too large: '{digits} digits'"


def test_an_event_id_is_taken_as_sent() -> None:
    """Given an event whose id was not derived from its content, then it is
    read with that id: hosts may give events ids of their own.
    """
    event = structure(_event(eventId="host-42"), ConsentEvent)

    assert event.event_id == "host-42"


# Round trips.


@given(payload=wire_payloads)
def test_every_wire_class_round_trips(payload: object) -> None:
    """Given any wire value, then structure(unstructure(x)) and loads(dumps(x))
    give it back, offsets included, and the schema accepts its JSON.
    """
    cls = type(payload)
    data = unstructure(payload)

    assert structure(data, cls) == payload
    assert loads(dumps(payload), cls) == payload
    assert dumps(loads(dumps(payload), cls)) == dumps(payload)
    assert VALIDATORS[cls].is_valid(json.loads(dumps(payload)))


@given(value=evidence)
def test_evidence_leaves_out_what_is_not_known(value: Evidence) -> None:
    """Given any evidence, then its JSON holds exactly the parts that are set."""
    keys = set(unstructure(value))

    assert len(keys) == len(value.as_dict())


@given(moment=st.datetimes(timezones=st.timezones()))
def test_any_aware_moment_is_written_as_rfc3339(moment: datetime) -> None:
    """Given any aware moment in any zone, then it is written in a form the
    converter and the schema accept, as the same instant.
    """
    fields = ContactConsent("c", True, moment)
    data = unstructure(fields)

    read = structure(data, ContactConsent).dt_tracking_consent

    assert VALIDATORS[ContactConsent].is_valid(data)
    assert read is not None
    # Moments in a DST fold never compare equal across zones: compare instants.
    assert read.timestamp() == moment.timestamp()
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() % 60 == 0:
        assert read.utcoffset() == offset, "a whole-minute offset is kept"


# Fuzzing and the schema.


@pytest.mark.parametrize("cls", WIRE_CLASSES, ids=lambda cls: cls.__name__)
@given(data=json_values)
def test_arbitrary_json_fails_only_with_invalid_values(cls: type, data: object) -> None:
    """Given arbitrary JSON, then structuring succeeds or raises InvalidValuesError,
    and never accepts what the schema refuses.
    """
    try:
        structure(data, cls)
    except InvalidValuesError as error:
        paths = [item.path for item in error.errors]
    else:
        paths = []
        assert VALIDATORS[cls].is_valid(data)

    assert all(path.startswith("$") for path in paths)


@given(text=st.text(max_size=200) | st.binary(max_size=100))
def test_arbitrary_text_fails_only_with_invalid_values(text: str | bytes) -> None:
    """Given arbitrary text or bytes, then loads raises only InvalidValuesError."""
    with contextlib.suppress(InvalidValuesError):
        loads(text, ContactConsent)


_TRICKY = st.sampled_from(
    [
        None,
        True,
        0,
        "",
        " ",
        "x",
        "x" * 1025,
        "granted",
        "opt_in_form",
        "2024-02-29T00:00:00Z",
        "2023-02-29T00:00:00Z",
        "2024-06-01T24:00:00Z",
        "2024-06-01t10:00:00z",
        "2024-06-01T10:00:00.1234567Z",
        "2024-06-01 10:00:00+02:00",
        "0000-01-01T00:00:00Z",
        "10.0.0.1",
        "010.0.0.1",
        "::1",
        "fe80::1%eth0",
        [],
        {},
    ]
)


def _locations(
    data: object, trail: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    found = [trail]
    if isinstance(data, dict):
        for key, value in data.items():
            found += _locations(value, (*trail, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _locations(value, (*trail, index))
    return found


@st.composite
def _mutated(draw: st.DrawFn, data: object) -> object:
    data = copy.deepcopy(data)
    trail = draw(st.sampled_from(_locations(data)))
    replacement = draw(_TRICKY | json_values)
    if not trail:
        return replacement
    *parents, last = trail
    container: Any = data
    for step in parents:
        container = container[step]
    action = draw(st.sampled_from(["replace", "delete", "add"]))
    if action == "delete" and isinstance(container, dict):
        del container[last]
    elif action == "add" and isinstance(container, dict):
        container[draw(st.sampled_from(["colour", "hasTrackingConsent", "ip"]))] = (
            replacement
        )
    else:
        container[last] = replacement
    return data


@given(payload=wire_payloads, data=st.data())
def test_the_schema_accepts_what_the_converter_accepts(
    payload: object, data: st.DataObject
) -> None:
    """Given a generated payload changed in one place, then the schema and the
    converter agree on whether it is valid, but for the one rule the schema
    cannot state (a history's events belong to its contact).
    """
    cls = type(payload)
    changed = data.draw(_mutated(unstructure(payload)))
    is_schema_valid = VALIDATORS[cls].is_valid(changed)

    try:
        structure(changed, cls)
    except InvalidValuesError as error:
        rules = {item.rule for item in error.errors}
    else:
        rules = set()

    if is_schema_valid:
        assert rules <= {HISTORY_RULE}, rules
    else:
        assert rules, "the converter accepted what the schema refuses"


def test_format_checking_is_on_in_these_tests() -> None:
    """Given the test requirements, then date-time and IP formats are checked."""
    assert {"date-time", "ipv4", "ipv6"} <= set(CHECKER.checkers)


@pytest.mark.skip(
    reason="The JSON Schema cannot state that a history's events belong to its"
    " contact: every event of a consentHistory must carry its contactId, and"
    " only the converter checks it"
)
def test_the_schema_refuses_a_history_holding_another_contacts_event() -> None:
    """Given a history holding another contact's event, then the schema refuses it."""
    payload = {"contactId": "c1", "events": [_event(contactId="c2")]}

    assert not VALIDATORS[ConsentHistory].is_valid(payload)


@given(history=consent_histories(), fields=contact_consents, event=events())
def test_the_schema_ships_inside_the_package(
    history: ConsentHistory, fields: ContactConsent, event: ConsentEvent
) -> None:
    """Given the installed package, then each class has a schema that accepts
    its payloads and names its definition.
    """
    for value in (history, fields, event):
        schema = json_schema(type(value))
        assert schema["$ref"].startswith("#/$defs/")
        assert VALIDATORS[type(value)].is_valid(unstructure(value))
