"""The JSON a host's web services speak about tracking consent.

Four payloads, with camelCase keys:

- `ContactConsent`: ``{"contactId", "hasTrackingConsent", "dtTrackingConsent"}``,
  the two contact fields: true, false or null, and an ISO 8601 moment with
  its offset (null exactly when never asked).
- `ConsentEvent`: ``{"eventId", "contactId", "answer", "occurredAt",
  "recordedAt", "source", "evidence", "actor"}``.
- `Evidence`: ``{"formId", "messageId", "workflowId", "ip", "userAgent",
  "wordingVersion"}``, each optional.
- `ConsentHistory`: ``{"contactId", "events": [...]}``, one contact's events.

`structure` validates a payload completely and reports every broken rule at
once, each with its JSON path, as one `InvalidValuesError`::

    3 invalid values in ConsentHistory:
      $.events[2].occurredAt: not an ISO 8601 date-time with offset: '2024-13-01'
      $.events[4].answer: one of 'granted', 'refused': 'yes'
      $.colour: unknown key: 'blue'

No other exception comes out of `structure` or `loads`. A rule that spans two
fields (an answer needs its date; every event of a history belongs to its
contact) is checked once the fields themselves are valid.

Moments are RFC 3339 date-times with an offset (``Z`` or ``±hh:mm``, up to
six decimals of seconds). They are read in every spelling RFC 3339 allows:
``T`` and ``Z`` in either case, and a space in place of the ``T`` (section
5.6); they are written with ``T``. The JSON Schema shipped with the package
(`json_schema`) describes the same payloads and accepts what `structure`
accepts, except that it cannot say that a history's events belong to its
contact.

`loads` reads UTF-8 only (RFC 8259; a leading byte order mark is skipped) and
refuses an object that repeats a key, naming the key's JSON path: taking the
last value, as Python's ``json`` would, could silently turn a refusal sent
first into a grant.

An ``eventId`` is taken as sent: a host may give events ids of its own, so an
id is not checked against the event's content (`ConsentEvent.new` derives one
from the content when the host has none). A store recognises an id it holds
already: the same content is a repeat and is ignored, different content is a
`trackconsent.errors.ConflictError`, so a made-up id cannot replace an event.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Final, TypeVar

import attrs
import cattrs
from cattrs.errors import (
    ClassValidationError,
    ForbiddenExtraKeysError,
    IterableValidationError,
)
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from trackconsent.errors import FieldError, InvalidValueError, InvalidValuesError
from trackconsent.ledger import consent_status
from trackconsent.model import (
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Evidence,
    Source,
    require_aware,
)

__all__ = [
    "WIRE_CLASSES",
    "ConsentHistory",
    "ContactConsent",
    "dumps",
    "json_schema",
    "loads",
    "make_converter",
    "structure",
    "unstructure",
]

T = TypeVar("T")

_DATE_TIME = re.compile(
    r"(?!0000)\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"[Tt ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)",
    re.ASCII,
)
_MAX_DEPTH_RULE = "nested too deeply"
# No wire field holds a number; the bound keeps a huge one from reaching int().
_MAX_DIGITS: Final = 100


def _optional_moment(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        require_aware(attribute.name, value)


def _consent_of(flag: bool | None, at: datetime | None) -> Consent:
    if flag is None:
        return Consent(ConsentState.UNKNOWN, at)
    return Consent(ConsentState.GRANTED if flag else ConsentState.REFUSED, at)


@attrs.frozen
class ContactConsent:
    """One contact's two consent fields, as a web service sends or receives them.

    Attributes:
        contact_id: The contact.
        has_tracking_consent: True, False, or None when never asked.
        dt_tracking_consent: The moment of the answer in force (aware); None
            exactly when never asked.
    """

    contact_id: str = attrs.field(
        validator=attrs.fields(ConsentEvent).contact_id.validator
    )
    has_tracking_consent: bool | None = attrs.field()
    dt_tracking_consent: datetime | None = attrs.field(
        default=None, validator=_optional_moment
    )

    @has_tracking_consent.validator
    def _check_flag(self, _attribute: attrs.Attribute[Any], value: object) -> None:
        if value is not None and not isinstance(value, bool):
            raise InvalidValueError(
                "has_tracking_consent", "true, false or null", value
            )

    def __attrs_post_init__(self) -> None:
        """Check the pair through `Consent`, whose rule it is."""
        try:
            _consent_of(self.has_tracking_consent, self.dt_tracking_consent)
        except InvalidValueError as error:
            raise InvalidValueError(
                "dt_tracking_consent", error.rule, error.value
            ) from None

    @property
    def consent(self) -> Consent:
        """The consent the two fields state."""
        return _consent_of(self.has_tracking_consent, self.dt_tracking_consent)

    @classmethod
    def of(cls, contact_id: str, consent: Consent) -> ContactConsent:
        """The payload for a contact's consent in force."""
        return cls(contact_id, consent.has_tracking_consent, consent.at)

    def to_event(
        self,
        *,
        now: datetime,
        evidence: Evidence | None = None,
        actor: str | None = None,
    ) -> ConsentEvent:
        """The event recording an answer a web service received.

        The event happened at ``dtTrackingConsent`` when given, else at
        ``now``; its source is ``WEB_SERVICE``.

        Raises:
            InvalidValueError: ``hasTrackingConsent`` is null: an answer cannot
                be taken back to "never asked", only changed.
        """
        if self.has_tracking_consent is None:
            raise InvalidValueError(
                "hasTrackingConsent", "an update must be true or false", None
            )
        answer = Answer.GRANTED if self.has_tracking_consent else Answer.REFUSED
        return ConsentEvent.new(
            contact_id=self.contact_id,
            answer=answer,
            occurred_at=self.dt_tracking_consent or now,
            recorded_at=require_aware("now", now),
            source=Source.WEB_SERVICE,
            evidence=evidence,
            actor=actor,
        )


def _events(value: object) -> tuple[ConsentEvent, ...]:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise InvalidValueError("events", "not a list of events", value)
    return tuple(value)


@attrs.frozen
class ConsentHistory:
    """One contact's consent events, newest first when built by `of`.

    Attributes:
        contact_id: The contact.
        events: Their events; each must be the contact's.
    """

    contact_id: str = attrs.field(
        validator=attrs.fields(ConsentEvent).contact_id.validator
    )
    events: tuple[ConsentEvent, ...] = attrs.field(default=(), converter=_events)

    def __attrs_post_init__(self) -> None:
        """Refuse events of other contacts, naming every one."""
        errors = [
            FieldError(
                f"events[{index}].contact_id",
                "not the history's contact",
                event.contact_id,
            )
            for index, event in enumerate(self.events)
            if not isinstance(event, ConsentEvent)
            or event.contact_id != self.contact_id
        ]
        if errors:
            raise InvalidValuesError(errors, what="ConsentHistory")

    @classmethod
    def of(cls, contact_id: str, events: list[ConsentEvent]) -> ConsentHistory:
        """The payload for a contact's history as a store lists it, newest first."""
        return cls(contact_id, tuple(events))

    @property
    def consent(self) -> Consent:
        """The consent in force after these events."""
        return consent_status(self.events)


WIRE_CLASSES: Final = (Evidence, ConsentEvent, ContactConsent, ConsentHistory)
"""The classes `structure` and `unstructure` know."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


# Parsers: strict JSON types, one rule each. They raise with an empty path;
# the path is added from where cattrs reports the error.


def _string(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidValueError("", "not a string", value)
    return value


def _date_time(value: object) -> datetime:
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise InvalidValueError("", "not an ISO 8601 date-time with offset", value)
    try:
        # fromisoformat wants an upper-case T and Z; digits do not mind upper().
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise InvalidValueError("", "not a date on the calendar", value) from None


def _flag(value: object) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise InvalidValueError("", "true, false or null", value)
    return value


def _ip(value: object) -> str:
    # The schema's ipv6 format refuses a zone ("fe80::1%eth0"): so does the wire.
    text = _string(value)
    if "%" in text:
        raise InvalidValueError("", "not an IP address", value)
    return text


def _member(kind: type[Answer] | type[Source]) -> Callable[[object], object]:
    values = {member.value: member for member in kind}
    rule = "one of " + ", ".join(repr(value) for value in values)

    def parse(value: object) -> object:
        if not isinstance(value, str) or value not in values:
            raise InvalidValueError("", rule, value)
        return values[value]

    return parse


def _optional(parse: Callable[[object], T]) -> Callable[[object], T | None]:
    def parse_optional(value: object) -> T | None:
        return None if value is None else parse(value)

    return parse_optional


def _nested(converter: cattrs.Converter, kind: Any) -> Callable[[object], object]:
    def parse(value: object) -> object:
        return converter.structure(value, kind)

    return parse


def _event_list(converter: cattrs.Converter) -> Callable[[object], object]:
    def parse(value: object) -> object:
        if not isinstance(value, list):
            raise InvalidValueError("", "not a list", value)
        return converter.structure(value, tuple[ConsentEvent, ...])

    return parse


def _parsers(converter: cattrs.Converter) -> dict[Any, Callable[[object], object]]:
    return {
        str: _string,
        str | None: _optional(_string),
        datetime: _date_time,
        datetime | None: _optional(_date_time),
        bool | None: _flag,
        Answer: _member(Answer),
        Source: _member(Source),
        Evidence: _nested(converter, Evidence),
        tuple[ConsentEvent, ...]: _event_list(converter),
    }


def _attribute_hook(
    parse: Callable[[object], object], attribute: attrs.Attribute[Any]
) -> Callable[[object, object], object]:
    validator = attribute.validator

    def hook(value: object, _type: object) -> object:
        result = parse(value)
        if validator is not None:
            try:
                validator(None, attribute, result)
            except InvalidValueError as error:
                raise InvalidValueError("", error.rule, error.value) from None
        return result

    return hook


def _object_hook(
    generated: Callable[[Mapping[str, Any], Any], Any],
) -> Callable[[object, object], object]:
    def hook(value: object, kind: object) -> object:
        if not isinstance(value, Mapping):
            raise InvalidValueError("", "not an object", value)
        return generated(value, kind)

    return hook


def _register(converter: cattrs.Converter, cls: type) -> None:
    attrs.resolve_types(cls)
    parsers = _parsers(converter)
    fields = attrs.fields(cls)
    structure_overrides: dict[str, Any] = {}
    for attribute in fields:
        parse = _optional(_ip) if attribute.name == "ip" else parsers[attribute.type]
        structure_overrides[attribute.name] = override(
            rename=_camel(attribute.name), struct_hook=_attribute_hook(parse, attribute)
        )
    generated: Callable[..., Any] = make_dict_structure_fn(
        cls, converter, **structure_overrides
    )
    converter.register_structure_hook(cls, _object_hook(generated))
    renames: dict[str, Any] = {a.name: override(rename=_camel(a.name)) for a in fields}
    unstructure: Callable[..., Any] = make_dict_unstructure_fn(
        cls, converter, _cattrs_omit_if_default=cls is Evidence, **renames
    )
    converter.register_unstructure_hook(cls, unstructure)


def _write_moment(moment: datetime) -> str:
    # An offset with seconds has no RFC 3339 spelling; the same instant in UTC has.
    offset = moment.utcoffset()
    if offset is not None and offset.total_seconds() % 60:
        moment = moment.astimezone(UTC)
    return moment.isoformat()


def make_converter() -> cattrs.Converter:
    """Return a new converter for the wire payloads, strict and detailed.

    Unknown keys are refused; every broken rule is collected. Hosts that add
    their own classes should call this rather than change the shared one.
    """
    converter = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)
    converter.register_unstructure_hook(datetime, _write_moment)
    for cls in WIRE_CLASSES:
        _register(converter, cls)

    return converter


_CONVERTER: Final = make_converter()


def structure(data: object, cls: type[T]) -> T:
    """Build a wire class from decoded JSON, checking every rule.

    Args:
        data: The decoded JSON (dicts, lists, strings, numbers, booleans, None).
        cls: One of `WIRE_CLASSES`.

    Raises:
        InvalidValuesError: every broken rule, each with its JSON path
            (``$.events[2].occurredAt``).
    """
    if cls not in WIRE_CLASSES:
        raise InvalidValueError("cls", "not a wire class", cls)
    try:
        return _CONVERTER.structure(data, cls)
    except (ClassValidationError, IterableValidationError, InvalidValueError) as error:
        errors = list(_field_errors(error, "$", data))
        raise InvalidValuesError(errors, what=cls.__name__) from None


def unstructure(value: object) -> Any:
    """Turn a wire class into JSON-ready dicts, lists and strings."""
    if not isinstance(value, WIRE_CLASSES):
        raise InvalidValueError("value", "not a wire class", type(value).__name__)
    return _CONVERTER.unstructure(value)


def _refuse_constant(name: str) -> object:
    raise InvalidValueError("$", "not JSON", name)


def _integer(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > _MAX_DIGITS:
        raise InvalidValueError("$", "number too large", f"{digits} digits")
    return int(text)


class _RepeatedKeys(dict[str, Any]):
    """A decoded object whose text repeated keys; ``repeated`` lists their values."""

    repeated: dict[str, list[Any]]


def _object_reader(
    marked: list[_RepeatedKeys],
) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """An ``object_pairs_hook`` that marks objects repeating a key."""

    def read(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found = dict(pairs)
        if len(found) == len(pairs):
            return found
        values: dict[str, list[Any]] = {}
        for key, value in pairs:
            values.setdefault(key, []).append(value)
        repeated = _RepeatedKeys(found)
        repeated.repeated = {k: seen for k, seen in values.items() if len(seen) > 1}
        marked.append(repeated)

        return repeated

    return read


def _repeated_keys(data: object, path: str) -> Iterator[FieldError]:
    if isinstance(data, _RepeatedKeys):
        for key, values in data.repeated.items():
            yield FieldError(f"{path}.{key}", "key repeated", values)
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _repeated_keys(value, f"{path}.{key}")
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _repeated_keys(value, f"{path}[{index}]")


def _decode(text: str | bytes) -> object:
    """Decode JSON text, refusing repeated keys; raise InvalidValuesError."""
    if isinstance(text, bytes | bytearray):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            bad = error.object[error.start : error.end]
            raise InvalidValueError(
                "$", f"not UTF-8 at byte {error.start}", bad
            ) from None
    marked: list[_RepeatedKeys] = []
    data = json.loads(
        text,
        parse_constant=_refuse_constant,
        parse_int=_integer,
        object_pairs_hook=_object_reader(marked),
    )
    # Only a text that repeated a key is walked again, to name the paths.
    if marked:
        raise InvalidValuesError(list(_repeated_keys(data, "$")))

    return data


def loads(text: str | bytes, cls: type[T]) -> T:
    """Parse JSON text and `structure` it.

    Raises:
        InvalidValuesError: the text is not UTF-8 or not JSON (NaN and
            Infinity included), repeats a key within an object, holds a
            number too large to be a JSON number anyone reads, or the payload
            breaks rules.
    """
    try:
        data = _decode(text)
    except InvalidValuesError as error:
        raise InvalidValuesError(error.errors, what=cls.__name__) from None
    except InvalidValueError as error:
        raise InvalidValuesError([error.error], what=cls.__name__) from None
    except (ValueError, TypeError) as error:
        raise InvalidValuesError(
            [FieldError("$", "not JSON", str(error))], what=cls.__name__
        ) from None
    except RecursionError:
        raise InvalidValuesError(
            [FieldError("$", _MAX_DEPTH_RULE, "…")], what=cls.__name__
        ) from None

    return structure(data, cls)


def dumps(value: object) -> str:
    """Return the JSON text of a wire class."""
    return json.dumps(unstructure(value), ensure_ascii=False, separators=(",", ":"))


def json_schema(cls: type) -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of one wire class's payload."""
    if cls not in WIRE_CLASSES:
        raise InvalidValueError("cls", "not a wire class", cls)
    resource = resources.files("trackconsent") / "schemas" / "wire.schema.json"
    schema: dict[str, Any] = json.loads(resource.read_text(encoding="utf-8"))
    schema["$ref"] = "#/$defs/" + cls.__name__[0].lower() + cls.__name__[1:]

    return schema


# Error translation: cattrs groups errors by attribute and index, naming the
# attribute; the JSON path uses the key, and the value is looked up as we go.


def _field_errors(
    error: BaseException, path: str, data: object
) -> Iterator[FieldError]:
    if isinstance(error, ClassValidationError):
        yield from _class_errors(error, path, data)
    elif isinstance(error, IterableValidationError):
        yield from _item_errors(error, path, data)
    elif isinstance(error, ForbiddenExtraKeysError):
        for key in sorted(error.extra_fields):
            value = data.get(key) if isinstance(data, Mapping) else None
            yield FieldError(f"{path}.{key}", "unknown key", value)
    elif isinstance(error, InvalidValuesError):
        for item in error.errors:
            yield FieldError(_join(path, item.path), item.rule, item.value)
    elif isinstance(error, InvalidValueError):
        key = _camel(error.path)
        # A rule checked on construction holds the built value; show the JSON one.
        is_key = isinstance(data, Mapping) and key in data
        value = data[key] if is_key else error.value  # type: ignore[index]
        yield FieldError(_join(path, error.path), error.rule, value)
    elif isinstance(error, KeyError):
        yield FieldError(path, "required", None)
    else:
        yield FieldError(path, "invalid", data)


def _class_errors(
    error: ClassValidationError, path: str, data: object
) -> Iterator[FieldError]:
    with_notes, without = error.group_exceptions()
    for inner, note in with_notes:
        key = _camel(note.name)
        value = data.get(key) if isinstance(data, Mapping) else None
        yield from _field_errors(inner, f"{path}.{key}", value)
    for inner in without:
        yield from _field_errors(inner, path, data)


def _item_errors(
    error: IterableValidationError, path: str, data: object
) -> Iterator[FieldError]:
    with_notes, without = error.group_exceptions()
    for inner, note in with_notes:
        index = note.index
        value = (
            data[index] if isinstance(data, list) and isinstance(index, int) else None
        )
        yield from _field_errors(inner, f"{path}[{index}]", value)
    for inner in without:
        yield from _field_errors(inner, path, data)


def _join(path: str, relative: str) -> str:
    if not relative or relative == "$":
        return path
    parts = re.split(r"(\[\d+\]|\.)", relative)
    camel = "".join(
        part if part.startswith("[") or part == "." else _camel(part) for part in parts
    )
    return f"{path}{'' if camel.startswith('[') else '.'}{camel}"
