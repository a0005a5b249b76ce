"""Value classes of the consent record.

Every class here is a frozen attrs class validated on construction: a wrong
value raises `trackconsent.errors.InvalidValueError` naming the field, the rule
and the value. Datetimes must be time zone aware.
"""

from __future__ import annotations

import enum
import hashlib
import ipaddress
import json
import unicodedata
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from trackconsent.errors import InvalidValueError

__all__ = [
    "FIELD_DATE",
    "FIELD_FLAG",
    "MAX_CLOCK_SKEW",
    "Answer",
    "Channel",
    "Channels",
    "Consent",
    "ConsentEvent",
    "ConsentState",
    "Contact",
    "Evidence",
    "Source",
    "content_id",
    "content_ids",
    "require_aware",
    "require_text",
]

FIELD_FLAG: Final = "hasTrackingConsent"
"""Name of the contact field holding true, false or empty (never asked)."""

FIELD_DATE: Final = "dtTrackingConsent"
"""Name of the contact field holding the moment of the answer in force."""

MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
"""How far ``occurred_at`` may lie after ``recorded_at``: the clock skew allowed
between the machine that saw the answer and the one that records it. An event
dated later than that is refused, since an answer from the future would stay
in force over every real answer until its date."""

_MAX_TEXT = 1024

# Event ids hash this compact JSON; one encoder serves every call.
_ID_JSON: Final = json.JSONEncoder(separators=(",", ":")).encode

# Unicode categories refused in texts: control characters (NUL, tab, line
# feed, escape ...), invisible format characters (bidirectional overrides,
# zero-width joiners), lone surrogates, and line and paragraph separators.
# Drivers truncate or refuse some of them and all of them hide what an id
# really is when it is shown or logged.
_REFUSED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


class Answer(enum.Enum):
    """What a contact said when asked about tracking."""

    GRANTED = "granted"
    REFUSED = "refused"


class ConsentState(enum.Enum):
    """A contact's tracking consent: granted, refused, or never asked."""

    GRANTED = "granted"
    REFUSED = "refused"
    UNKNOWN = "unknown"


class Source(enum.Enum):
    """Through what an answer reached the platform."""

    TRACKING_OPT_OUT_FORM = "tracking_opt_out_form"
    UNSUBSCRIBE_FORM = "unsubscribe_form"
    OPT_IN_FORM = "opt_in_form"
    PROFILE_UPDATE_FORM = "profile_update_form"
    IMPORT = "import"
    WEB_SERVICE = "web_service"
    WORKFLOW = "workflow"
    COOKIE_BANNER = "cookie_banner"
    VISIT_TRACKER_SCRIPT = "visit_tracker_script"
    OPERATOR = "operator"


class Channel(enum.Enum):
    """A channel a message is sent through."""

    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"


def require_aware(field: str, value: object) -> datetime:
    """Return ``value`` if it is a time zone aware datetime, else raise.

    Args:
        field: The field name used in the error message.
        value: The value to check.

    Raises:
        InvalidValueError: ``value`` is not a datetime, or it is naive.
    """
    if not isinstance(value, datetime):
        raise InvalidValueError(field, "not a datetime", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValueError(field, "naive datetime, time zone required", value)
    return value


def _aware(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_aware(attribute.name, value)


def _optional_aware(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        require_aware(attribute.name, value)


def require_text(field: str, value: object) -> str:
    """Return ``value`` if it is a valid text of the consent record, else raise.

    A valid text is a string, not blank, of at most 1024 characters, without
    control characters, format characters (such as U+202E, which reverses the
    text shown), lone surrogates, or line and paragraph separators.

    Args:
        field: The field name used in the error message.
        value: The value to check.

    Raises:
        InvalidValueError: ``value`` breaks one of the rules above.
    """
    if not isinstance(value, str):
        raise InvalidValueError(field, "not a string", value)
    if not value.strip():
        raise InvalidValueError(field, "must not be empty", value)
    if len(value) > _MAX_TEXT:
        raise InvalidValueError(field, f"longer than {_MAX_TEXT} characters", value)
    # isprintable is one C loop that is true for nearly every text; only the
    # rare text holding a space other than U+0020 or an unassigned character
    # is looked at character by character.
    if not value.isprintable():
        for char in value:
            if unicodedata.category(char) in _REFUSED_CATEGORIES:
                rule = f"control or format character U+{ord(char):04X}"
                raise InvalidValueError(field, rule, value)
    return value


def _text(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    require_text(attribute.name, value)


def _optional_text(
    instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None:
        _text(instance, attribute, value)


def _enum_member(kind: type[enum.Enum]) -> Any:
    rule = f"not {_article(kind.__name__)} member"

    def check(
        _instance: object, attribute: attrs.Attribute[Any], value: object
    ) -> None:
        if not isinstance(value, kind):
            raise InvalidValueError(attribute.name, rule, value)

    return check


def _instance_of(kind: type) -> Any:
    rule = f"not {_article(kind.__name__)}"

    def check(
        _instance: object, attribute: attrs.Attribute[Any], value: object
    ) -> None:
        if not isinstance(value, kind):
            raise InvalidValueError(attribute.name, rule, value)

    return check


def _article(name: str) -> str:
    """``a Source``, ``an Answer``: the name with its indefinite article."""
    return f"an {name}" if name[0] in "AEIOUaeiou" else f"a {name}"


def _ip(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    try:
        ipaddress.ip_address(value)  # type: ignore[arg-type]
    except ValueError:
        raise InvalidValueError(attribute.name, "not an IP address", value) from None


@attrs.frozen
class Evidence:
    """Proof attached to a consent event. Every part is optional.

    Attributes:
        form_id: The form the answer was given on.
        message_id: The message whose link or form carried the answer.
        workflow_id: The workflow whose action set the answer.
        ip: The IP address the answer came from, as the host passed it.
        user_agent: The browser's user agent, as the host passed it.
        wording_version: A version or hash of the wording the person saw.
    """

    form_id: str | None = attrs.field(default=None, validator=_optional_text)
    message_id: str | None = attrs.field(default=None, validator=_optional_text)
    workflow_id: str | None = attrs.field(default=None, validator=_optional_text)
    ip: str | None = attrs.field(default=None, validator=_ip)
    user_agent: str | None = attrs.field(default=None, validator=_optional_text)
    wording_version: str | None = attrs.field(default=None, validator=_optional_text)

    def as_dict(self) -> dict[str, str]:
        """Return the parts that are set, by field name, in field order."""
        # Called for every event stored: reading the slots directly is several
        # times faster than attrs.asdict.
        parts = {}
        for name in _EVIDENCE_PARTS:
            value = getattr(self, name)
            if value is not None:
                parts[name] = value
        return parts


_EVIDENCE_PARTS: Final = tuple(field.name for field in attrs.fields(Evidence))


def _check_not_ahead(event: ConsentEvent) -> None:
    if event.occurred_at - event.recorded_at > MAX_CLOCK_SKEW:
        raise InvalidValueError(
            "occurred_at",
            f"later than recorded_at {event.recorded_at.isoformat()}"
            f" by more than {MAX_CLOCK_SKEW}",
            event.occurred_at,
        )


@attrs.frozen
class ConsentEvent:
    """One recorded answer. Events are appended, never edited or deleted.

    Two events with the same ``event_id`` are the same event: a store keeps the
    first and ignores the repeat. `ConsentEvent.new` derives the id from the
    content, so a retried webhook or a re-imported row is recognised.

    An answer cannot be recorded before it is given: ``occurred_at`` may lie
    after ``recorded_at`` by `MAX_CLOCK_SKEW` (five minutes) at most, to allow
    for clocks that disagree a little. A later date is refused, since an answer
    dated in the future would outrank every real answer until that date.

    Attributes:
        event_id: Stable identifier of the event.
        contact_id: The contact who answered.
        answer: Granted or refused.
        occurred_at: When the person answered (aware).
        recorded_at: When the platform recorded it (aware).
        source: Through what the answer came.
        evidence: Proof of the answer.
        actor: Who recorded it: a user of the platform, a job, an API client.
    """

    event_id: str = attrs.field(validator=_text)
    contact_id: str = attrs.field(validator=_text)
    answer: Answer = attrs.field(validator=_enum_member(Answer))
    occurred_at: datetime = attrs.field(validator=_aware)
    recorded_at: datetime = attrs.field(validator=_aware)
    source: Source = attrs.field(validator=_enum_member(Source))
    evidence: Evidence = attrs.field(factory=Evidence, validator=_instance_of(Evidence))
    actor: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        """Check the two moments against each other, once both are valid."""
        _check_not_ahead(self)

    @classmethod
    def new(
        cls,
        *,
        contact_id: str,
        answer: Answer,
        occurred_at: datetime,
        recorded_at: datetime,
        source: Source,
        evidence: Evidence | None = None,
        actor: str | None = None,
    ) -> ConsentEvent:
        """Build an event whose id is derived from what it says.

        The id covers contact, answer, moment, source, evidence and actor, but
        not ``recorded_at``: the same answer recorded twice gets the same id.

        Raises:
            InvalidValueError: a value breaks its field's rule; the id is only
                computed from values that passed.
        """
        evidence = evidence if evidence is not None else Evidence()
        # content_id reads these values' attributes: check them first, with
        # the fields' own validators, so a wrong type gets the house's error.
        values = (contact_id, answer, occurred_at, source, evidence, actor)
        for field, value in zip(_ID_FIELDS, values, strict=True):
            field.validator(None, field, value)
        event_id = content_id(contact_id, answer, occurred_at, source, evidence, actor)
        return cls(
            event_id=event_id,
            contact_id=contact_id,
            answer=answer,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            source=source,
            evidence=evidence,
            actor=actor,
        )


_ID_FIELDS: Final = tuple(
    getattr(attrs.fields(ConsentEvent), name)
    for name in ("contact_id", "answer", "occurred_at", "source", "evidence", "actor")
)


def content_id(
    contact_id: str,
    answer: Answer,
    occurred_at: datetime,
    source: Source,
    evidence: Evidence,
    actor: str | None,
) -> str:
    """Return the content-derived id `ConsentEvent.new` gives an event."""
    return content_ids(source, evidence, actor)(contact_id, answer, occurred_at)


def content_ids(
    source: Source, evidence: Evidence, actor: str | None
) -> Callable[[str, Answer, datetime], str]:
    """Return a function giving `content_id` for events that share the rest.

    The id is the SHA-256 of a JSON list of the event's parts. An import gives
    a million events the same source, evidence and actor, so their part of
    the JSON is encoded once here, and each call encodes only the three parts
    that vary.
    """
    shared = _ID_JSON([source.value, sorted(evidence.as_dict().items()), actor])
    tail = "," + shared[1:]

    def of(contact_id: str, answer: Answer, occurred_at: datetime) -> str:
        head = _ID_JSON([contact_id, answer.value, occurred_at.isoformat()])[:-1]
        return "ev_" + hashlib.sha256((head + tail).encode()).hexdigest()[:32]

    return of


def _consent_shape(instance: Consent, _attribute: object, at: datetime | None) -> None:
    if instance.state is ConsentState.UNKNOWN:
        if at is not None:
            raise InvalidValueError("at", "must be empty when never asked", at)
        return
    if at is None:
        raise InvalidValueError("at", "required when an answer was given", at)
    require_aware("at", at)


@attrs.frozen
class Consent:
    """A contact's tracking consent and the moment of the answer in force.

    A status always has an event behind it: ``at`` is set for granted and
    refused, and empty for never asked.
    """

    state: ConsentState = attrs.field(validator=_enum_member(ConsentState))
    at: datetime | None = attrs.field(default=None, validator=_consent_shape)

    @classmethod
    def unknown(cls) -> Consent:
        """The consent of a contact never asked."""
        return _UNKNOWN

    @classmethod
    def of(cls, event: ConsentEvent) -> Consent:
        """The consent an event puts in force."""
        state = (
            ConsentState.GRANTED
            if event.answer is Answer.GRANTED
            else ConsentState.REFUSED
        )
        return cls(state, event.occurred_at)

    @property
    def has_tracking_consent(self) -> bool | None:
        """The ``hasTrackingConsent`` field: True, False, or None if never asked."""
        if self.state is ConsentState.UNKNOWN:
            return None
        return self.state is ConsentState.GRANTED

    @property
    def dt_tracking_consent(self) -> datetime | None:
        """The ``dtTrackingConsent`` field: the moment of the answer in force."""
        return self.at

    def as_fields(self) -> dict[str, bool | datetime | None]:
        """The two contact fields, keyed by the names hosts expose."""
        return {FIELD_FLAG: self.has_tracking_consent, FIELD_DATE: self.at}


_UNKNOWN: Final = Consent(ConsentState.UNKNOWN)


@attrs.frozen
class Channels:
    """How a contact can be reached. Any of them may be missing."""

    email: str | None = attrs.field(default=None, validator=_optional_text)
    phone: str | None = attrs.field(default=None, validator=_optional_text)
    device_tokens: tuple[str, ...] = attrs.field(default=(), converter=tuple)


def _fields_mapping(value: Mapping[str, object]) -> dict[str, object]:
    if not isinstance(value, Mapping):
        raise InvalidValueError("fields", "not a mapping", value)
    return dict(value)


@attrs.frozen(hash=False)
class Contact:
    """A person a project sends messages to.

    Attributes:
        id: The host's identifier of the contact.
        channels: Email, phone and device tokens.
        fields: The host's own profile fields.
        consent: The tracking consent in force.
    """

    id: str = attrs.field(validator=_text)
    channels: Channels = attrs.field(factory=Channels)
    fields: dict[str, object] = attrs.field(factory=dict, converter=_fields_mapping)
    consent: Consent = attrs.field(factory=Consent.unknown)
