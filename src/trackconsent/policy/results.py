"""What is recorded at send time and at arrival time, and what send results show.

At send time the host asks `tracking_plan` how to build each message (open
pixel or not, tracked links or plain ones) and `should_record_send_history`
whether to write the send on the contact's card; the send itself is always
counted in the message's aggregate `Counters`, so totals stay complete.

At arrival time `record_engagement` judges an open, click or visit by the
consent in force *when it arrives*: the engagement of a contact untracked now
is counted but kept without the contact, and a failed consent look-up counts
as untracked (fail closed), visibly so.

`filter_results` turns one sending's `ResultSet` into the `ResultsView` that
reports show: tracked recipients listed, everyone counted, the untracked ones
as a single "Untracked contacts" entry.
"""

from __future__ import annotations

import enum
import functools
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping
from datetime import datetime
from operator import attrgetter
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit, urlunsplit

import attrs

from trackconsent.errors import FieldError, InvalidValueError, InvalidValuesError
from trackconsent.model import (
    Channel,
    _aware,
    _enum_member,
    _ip,
    _optional_text,
    _text,
)
from trackconsent.policy._lookup import (
    ConsentNow,
    Consents,
    LookupFailed,
    check_lookup_arguments,
    is_tracked_now,
    selector,
)
from trackconsent.settings import ProjectSettings

__all__ = [
    "ENGAGEMENT_OUTCOMES",
    "OUTCOMES_BY_CHANNEL",
    "UNTRACKED_LABEL",
    "ConsentNow",
    "Consents",
    "Counters",
    "Engagement",
    "EngagementKind",
    "EngagementRecord",
    "LookupFailed",
    "Message",
    "Outcome",
    "Rate",
    "RecipientResult",
    "ResultSet",
    "ResultsView",
    "TrackingPlan",
    "Verdict",
    "filter_results",
    "record_engagement",
    "should_record_send_history",
    "tracking_plan",
]

UNTRACKED_LABEL: Final = "Untracked contacts"
"""The label of the one entry that stands for every untracked recipient."""


class Outcome(enum.Enum):
    """What happened to a message for one recipient."""

    SENT = "sent"
    DELIVERED = "delivered"
    BOUNCED = "bounced"
    OPENED = "opened"
    CLICKED = "clicked"
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINED = "complained"


OUTCOMES_BY_CHANNEL: Final[Mapping[Channel, tuple[Outcome, ...]]] = MappingProxyType(
    {
        Channel.EMAIL: tuple(Outcome),
        # A text message has no open to observe and no spam button.
        Channel.SMS: (
            Outcome.SENT,
            Outcome.DELIVERED,
            Outcome.BOUNCED,
            Outcome.CLICKED,
            Outcome.UNSUBSCRIBED,
        ),
        # A push is opened by a tap; a rich push may carry links.
        Channel.PUSH: (
            Outcome.SENT,
            Outcome.DELIVERED,
            Outcome.BOUNCED,
            Outcome.OPENED,
            Outcome.CLICKED,
            Outcome.UNSUBSCRIBED,
        ),
    }
)
"""The outcomes that fit each channel, in report order."""

ENGAGEMENT_OUTCOMES: Final = frozenset({Outcome.OPENED, Outcome.CLICKED})
"""Outcomes that are behaviour: observing them is tracking."""


# --- send time -------------------------------------------------------------


@attrs.frozen
class Message:
    """A message as far as tracking is concerned.

    Attributes:
        message_id: The host's identifier of the message.
        channel: Email, SMS or push.
        tracking: The per-message switch: False sends it untracked to every
            recipient, whatever their consent.
    """

    message_id: str = attrs.field(validator=_text)
    channel: Channel = attrs.field(validator=_enum_member(Channel))
    tracking: bool = attrs.field(
        default=True, validator=attrs.validators.instance_of(bool)
    )


@attrs.frozen
class TrackingPlan:
    """What the sender must do for one recipient of one message.

    Attributes:
        channel: The message's channel.
        track_opens: Email: insert the open pixel. Push: attach the tag that
            ties the open report to the contact. Always False for SMS.
        rewrite_links: Send links through the click tracker; when False every
            link goes straight to its target.
    """

    channel: Channel
    track_opens: bool
    rewrite_links: bool

    @property
    def open_pixel(self) -> bool:
        """Whether an email carries the open pixel."""
        return self.track_opens and self.channel is Channel.EMAIL

    @property
    def tracked(self) -> bool:
        """Whether anything in the message ties behaviour to the recipient."""
        return self.track_opens or self.rewrite_links


def tracking_plan(
    consent: ConsentNow, message: Message, settings: ProjectSettings
) -> TrackingPlan:
    """Say how to build ``message`` for a recipient with ``consent``.

    An untracked recipient, or any recipient of a message whose tracking
    switch is off, gets no open pixel or open tag and plain links, on every
    channel.

    Args:
        consent: The recipient's consent in force, or `LookupFailed`.
        message: The message being sent.
        settings: The project's settings.
    """
    tracked = message.tracking and is_tracked_now(consent, settings)
    opens = tracked and Outcome.OPENED in OUTCOMES_BY_CHANNEL[message.channel]

    return TrackingPlan(message.channel, track_opens=opens, rewrite_links=tracked)


def should_record_send_history(consent: ConsentNow, settings: ProjectSettings) -> bool:
    """Whether the send may be written to the contact's sending history.

    False for an untracked contact (and when the look-up failed); the send is
    still counted in the message's `Counters`.
    """
    return is_tracked_now(consent, settings)


def _count_map(value: Mapping[Outcome, int] | Iterable[tuple[Outcome, int]]) -> Any:
    return MappingProxyType(dict(value))


def _check_counts(
    instance: Counters, _attribute: object, counts: Mapping[Outcome, int]
) -> None:
    errors = []
    allowed = OUTCOMES_BY_CHANNEL.get(instance.channel, ())
    for outcome, count in counts.items():
        if outcome not in allowed:
            errors.append(FieldError("counts", "outcome does not fit channel", outcome))
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            errors.append(FieldError(f"counts[{outcome}]", "not a count", count))
    if errors:
        raise InvalidValuesError(errors, what="counters")


@attrs.frozen(hash=False)
class Counters:
    """Aggregate counts of one message on one channel, kept for everyone.

    The host adds to them at send time and when engagement arrives, tracked or
    not, so totals stay complete while untracked contacts stay unnamed.

    Attributes:
        message_id: The message counted.
        channel: Its channel.
        counts: How many times each outcome happened; missing means zero.
    """

    message_id: str = attrs.field(validator=_text)
    channel: Channel = attrs.field(validator=_enum_member(Channel))
    counts: Mapping[Outcome, int] = attrs.field(
        factory=dict, converter=_count_map, validator=_check_counts
    )

    def __getitem__(self, outcome: Outcome) -> int:
        """The count of ``outcome``; zero when it never happened."""
        return self.counts.get(outcome, 0)

    def add(self, outcome: Outcome, count: int = 1) -> Counters:
        """Return these counters with ``count`` more of ``outcome``."""
        counts = dict(self.counts)
        counts[outcome] = counts.get(outcome, 0) + count
        return attrs.evolve(self, counts=counts)

    def totals(self) -> dict[Outcome, int]:
        """Every outcome of the channel with its count, zeros included."""
        return {o: self.counts.get(o, 0) for o in OUTCOMES_BY_CHANNEL[self.channel]}

    @classmethod
    def of_rows(
        cls, message_id: str, channel: Channel, rows: Iterable[RecipientResult]
    ) -> Counters:
        """Count the outcomes of per-recipient rows, for hosts that keep no counters.

        Outcomes that do not fit the channel are left out here; `ResultSet`
        reports them, with every other fault of its rows.
        """
        allowed = OUTCOMES_BY_CHANNEL[channel]
        # Rows share few distinct outcome sets: count the sets, then expand.
        by_set = Counter(map(attrgetter("outcomes"), rows))
        counts = dict.fromkeys(allowed, 0)
        for outcomes, recipients in by_set.items():
            for outcome in outcomes:
                if outcome in counts:
                    counts[outcome] += recipients

        return cls(message_id, channel, counts)


# --- arrival time ----------------------------------------------------------


class EngagementKind(enum.Enum):
    """The behaviour an engagement records."""

    OPEN = "open"
    CLICK = "click"
    VISIT = "visit"


_OUTCOME_OF: Final = {
    EngagementKind.OPEN: Outcome.OPENED,
    EngagementKind.CLICK: Outcome.CLICKED,
}


class Verdict(enum.Enum):
    """Why an engagement was kept with or without its contact."""

    TRACKED = "tracked"
    UNTRACKED = "untracked"
    ANONYMOUS = "anonymous"
    LOOKUP_FAILED = "lookup_failed"


def _check_engagement(instance: Engagement) -> None:
    errors = []
    if (instance.message_id is None) is not (instance.channel is None):
        errors.append(
            FieldError("channel", "set together with message_id", instance.channel)
        )
    outcome = _OUTCOME_OF.get(instance.kind)
    if outcome is not None and instance.message_id is None:
        errors.append(FieldError("message_id", "required for opens and clicks", None))
    channel = instance.channel
    if channel is not None and outcome not in (None, *OUTCOMES_BY_CHANNEL[channel]):
        errors.append(FieldError("kind", f"impossible on {channel.value}", outcome))
    if instance.verified and instance.contact_id is None:
        errors.append(FieldError("verified", "needs a contact_id", True))
    if errors:
        raise InvalidValuesError(errors, what="engagement")


@attrs.frozen
class Engagement:
    """An open, click or visit as it reaches the host.

    Attributes:
        kind: Open, click or visit.
        occurred_at: When it happened (aware).
        message_id: The message it belongs to; required for opens and clicks.
        channel: That message's channel.
        contact_id: The contact the request names, if any.
        verified: True only when ``contact_id`` comes from a token the host
            verified (a signed link, a tracking tag). A contact guessed from a
            cookie, an IP or an address is not verified.
        ip: The request's IP address.
        user_agent: The request's user agent.
        url: The link target or the page visited.
    """

    kind: EngagementKind = attrs.field(validator=_enum_member(EngagementKind))
    occurred_at: datetime = attrs.field(validator=_aware)
    message_id: str | None = attrs.field(default=None, validator=_optional_text)
    channel: Channel | None = attrs.field(
        default=None, validator=attrs.validators.optional(_enum_member(Channel))
    )
    contact_id: str | None = attrs.field(default=None, validator=_optional_text)
    verified: bool = attrs.field(
        default=False, validator=attrs.validators.instance_of(bool)
    )
    ip: str | None = attrs.field(default=None, validator=_ip)
    user_agent: str | None = attrs.field(default=None, validator=_optional_text)
    url: str | None = attrs.field(default=None, validator=_optional_text)

    def __attrs_post_init__(self) -> None:
        """Check the fields against each other."""
        _check_engagement(self)


@attrs.frozen
class EngagementRecord:
    """What the host stores for one engagement, and why.

    Only a ``TRACKED`` record names the contact and keeps the IP and user
    agent. Every record with a message counts toward that message's counters.

    Attributes:
        kind: Open, click or visit.
        occurred_at: When it happened.
        message_id: The message it counts toward, if any.
        channel: That message's channel.
        verdict: Tracked, untracked, anonymous, or look-up failed.
        contact_id: The contact, for tracked records only.
        ip: Kept for tracked records, and anonymous ones with the feature off.
        user_agent: Kept like ``ip``.
        url: The target or page; without query or fragment unless tracked,
            since those often carry ids.
    """

    kind: EngagementKind
    occurred_at: datetime
    message_id: str | None
    channel: Channel | None
    verdict: Verdict
    contact_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    url: str | None = None

    @property
    def outcome(self) -> Outcome | None:
        """The outcome to add to the message's counters, if any."""
        return _OUTCOME_OF.get(self.kind) if self.message_id is not None else None

    @property
    def lookup_failed(self) -> bool:
        """True when the consent look-up failed and the record fell back."""
        return self.verdict is Verdict.LOOKUP_FAILED


def record_engagement(
    event: Engagement, consent_now: ConsentNow | None, settings: ProjectSettings
) -> EngagementRecord:
    """Decide what to keep of an engagement, by the consent in force on arrival.

    Args:
        event: The engagement as received.
        consent_now: The consent of ``event.contact_id`` looked up now, or
            `LookupFailed`; ignored (pass None) when there is no verified
            contact, since such an engagement is never credited to anyone.
        settings: The project's settings.

    Returns:
        The record to store. It names the contact only when the engagement
        carries a verified contact who is tracked now.
    """
    verdict = _verdict(event, consent_now, settings)
    if verdict is Verdict.TRACKED:
        return _record(event, verdict, event.contact_id, keep_request=True)
    keep_request = verdict is Verdict.ANONYMOUS and not settings.feature_enabled

    return _record(event, verdict, None, keep_request=keep_request)


def _verdict(
    event: Engagement, consent_now: ConsentNow | None, settings: ProjectSettings
) -> Verdict:
    if event.contact_id is None or not event.verified:
        return Verdict.ANONYMOUS
    if consent_now is None:
        consent_now = LookupFailed("no consent given for a verified contact")
    if is_tracked_now(consent_now, settings):
        return Verdict.TRACKED
    if isinstance(consent_now, LookupFailed):
        return Verdict.LOOKUP_FAILED
    return Verdict.UNTRACKED


def _record(
    event: Engagement, verdict: Verdict, contact_id: str | None, *, keep_request: bool
) -> EngagementRecord:
    url = event.url if keep_request else _without_query(event.url)
    return EngagementRecord(
        kind=event.kind,
        occurred_at=event.occurred_at,
        message_id=event.message_id,
        channel=event.channel,
        verdict=verdict,
        contact_id=contact_id,
        ip=event.ip if keep_request else None,
        user_agent=event.user_agent if keep_request else None,
        url=url,
    )


def _without_query(url: str | None) -> str | None:
    if url is None:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        # An unparsable URL may hide anything: keep none of it.
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


# --- send results ----------------------------------------------------------


def _outcome_set(value: Iterable[Outcome]) -> frozenset[Outcome]:
    return value if isinstance(value, frozenset) else frozenset(value)


def _check_outcomes(
    _instance: object, _attribute: object, outcomes: frozenset[Outcome]
) -> None:
    for outcome in outcomes:
        if not isinstance(outcome, Outcome):
            raise InvalidValueError("outcomes", "not an Outcome member", outcome)


@attrs.frozen
class RecipientResult:
    """One recipient's outcomes in one sending.

    Attributes:
        contact_id: The recipient.
        outcomes: Every outcome reached (sent, delivered, opened ...).
    """

    contact_id: str = attrs.field(validator=_text)
    outcomes: frozenset[Outcome] = attrs.field(
        converter=_outcome_set, validator=_check_outcomes
    )


def _row_tuple(rows: Iterable[RecipientResult]) -> tuple[RecipientResult, ...]:
    return rows if isinstance(rows, tuple) else tuple(rows)


def _check_result_set(instance: ResultSet) -> None:
    errors = []
    counters = instance.counters
    if (counters.message_id, counters.channel) != (
        instance.message_id,
        instance.channel,
    ):
        errors.append(
            FieldError(
                "counters", "belong to another message or channel", counters.message_id
            )
        )
    allowed = frozenset(OUTCOMES_BY_CHANNEL[instance.channel])
    for outcomes in set(map(attrgetter("outcomes"), instance.rows)):
        for outcome in outcomes - allowed:
            errors.append(
                FieldError("rows", f"impossible on {instance.channel.value}", outcome)
            )
    ids = list(map(attrgetter("contact_id"), instance.rows))
    if len(set(ids)) != len(ids):
        repeated = [cid for cid, n in Counter(ids).items() if n > 1]
        errors.append(FieldError("rows", "recipient listed twice", len(repeated)))
    if errors:
        raise InvalidValuesError(errors, what="result set")


@attrs.frozen(repr=False)
class ResultSet:
    """One sending's per-recipient outcomes and its aggregate counters.

    ``rows`` lists every recipient, untracked ones included: it is the host's
    raw data, never shown as is. Totals come from ``counters``, which count
    the engagement of untracked and anonymous people too.

    Attributes:
        message_id: The message sent.
        channel: Email, SMS or push.
        rows: One `RecipientResult` per recipient.
        counters: The message's aggregate counters.
    """

    message_id: str = attrs.field(validator=_text)
    channel: Channel = attrs.field(validator=_enum_member(Channel))
    rows: tuple[RecipientResult, ...] = attrs.field(converter=_row_tuple)
    counters: Counters = attrs.field(validator=attrs.validators.instance_of(Counters))

    def __attrs_post_init__(self) -> None:
        """Check rows and counters against the channel and each other."""
        _check_result_set(self)

    @classmethod
    def from_rows(
        cls, message_id: str, channel: Channel, rows: Iterable[RecipientResult]
    ) -> ResultSet:
        """Build a result set whose counters are counted from its rows."""
        rows = tuple(rows)
        return cls(
            message_id, channel, rows, Counters.of_rows(message_id, channel, rows)
        )

    def __repr__(self) -> str:
        """Summarise without naming recipients."""
        return (
            f"<ResultSet {self.message_id!r} {self.channel.value}:"
            f" {len(self.rows)} recipients>"
        )


@attrs.frozen
class Rate:
    """A rate computed two ways; None where there is no one to divide by.

    Attributes:
        over_all: Count over every recipient, from the aggregate totals.
        over_tracked: Count among tracked recipients over tracked recipients.
    """

    over_all: float | None
    over_tracked: float | None


def _ratio(count: int, whole: int) -> float | None:
    return count / whole if whole else None


@attrs.frozen(repr=False)
class ResultsView:
    """Send results as reports show them: only tracked recipients are named.

    Holds no reference to an untracked recipient: not in ``rows``, not in its
    ``repr``, not in iteration. Built by `filter_results`.

    Attributes:
        message_id: The message sent.
        channel: Its channel.
        feature_enabled: Whether the project had the feature on.
        rows: The tracked recipients' rows, in the result set's order.
        recipients: How many recipients in all.
        totals: Every outcome of the channel with its count, everyone included.
        untracked: How many recipients are untracked.
    """

    message_id: str
    channel: Channel
    feature_enabled: bool
    rows: tuple[RecipientResult, ...] = attrs.field(converter=_row_tuple)
    recipients: int
    totals: Mapping[Outcome, int] = attrs.field(converter=_count_map)
    untracked: int

    @property
    def tracked(self) -> int:
        """How many recipients are listed."""
        return len(self.rows)

    @property
    def untracked_entry(self) -> tuple[str, int]:
        """The one entry standing for the untracked: ``("Untracked contacts", n)``."""
        return (UNTRACKED_LABEL, self.untracked)

    @property
    def coverage(self) -> float | None:
        """The share of recipients who are tracked; None for an empty sending."""
        return _ratio(self.tracked, self.recipients)

    @functools.cached_property
    def tracked_totals(self) -> Mapping[Outcome, int]:
        """Every outcome of the channel counted over tracked recipients only.

        Computed on first use: reports that show only totals never pay for it.
        """
        counted = Counters.of_rows(self.message_id, self.channel, self.rows)
        return MappingProxyType(counted.totals())

    def rate(self, outcome: Outcome) -> Rate:
        """The rate of ``outcome`` over all recipients and over tracked ones."""
        return Rate(
            over_all=_ratio(self.totals.get(outcome, 0), self.recipients),
            over_tracked=_ratio(self.tracked_totals.get(outcome, 0), self.tracked),
        )

    @property
    def rates(self) -> dict[Outcome, Rate]:
        """`rate` of every outcome of the channel."""
        return {outcome: self.rate(outcome) for outcome in self.totals}

    def __iter__(self) -> Iterator[RecipientResult]:
        """Iterate the tracked rows."""
        return iter(self.rows)

    def __len__(self) -> int:
        """The number of tracked rows."""
        return len(self.rows)

    def __repr__(self) -> str:
        """Summarise by counts only."""
        return (
            f"<ResultsView {self.message_id!r} {self.channel.value}:"
            f" {self.tracked} listed, {UNTRACKED_LABEL}: {self.untracked},"
            f" {self.recipients} recipients>"
        )


class _RecipientIds(Collection[str]):
    """The recipients' ids, read from the rows when iterated, never copied.

    A mapping walked whole never needs them, so building a list of a million
    ids up front would be wasted.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: tuple[RecipientResult, ...]) -> None:
        self._rows = rows

    def __iter__(self) -> Iterator[str]:
        return map(attrgetter("contact_id"), self._rows)

    def __len__(self) -> int:
        return len(self._rows)

    def __contains__(self, contact_id: object) -> bool:
        return any(row.contact_id == contact_id for row in self._rows)


def filter_results(
    result_set: ResultSet, consents: Consents, settings: ProjectSettings
) -> ResultsView:
    """Hide untracked recipients from one sending's results, counting everyone.

    The cost is one batched look-up (a store's ``status_many`` is called once
    with every recipient) and one pass over the rows: the tracking decision is
    made once per consent state, not once per recipient.

    Args:
        result_set: The sending's results, every recipient included.
        consents: The recipients' consents in force: a mapping by contact id
            (a recipient missing from it reads as never asked) or a store.
        settings: The project's settings. With the feature off everyone is
            listed, as before the feature existed.

    Returns:
        The view: tracked rows, totals over everyone, the untracked count.

    Raises:
        InvalidValueError: ``result_set`` is not a `ResultSet`, ``consents``
            neither a mapping nor a store, ``settings`` not `ProjectSettings`,
            or a value of the mapping read is not a `Consent` (the error
            names the recipient).
    """
    if not isinstance(result_set, ResultSet):
        raise InvalidValueError("result_set", "not a ResultSet", result_set)
    rows = result_set.rows
    check_lookup_arguments(rows, consents, settings)
    if settings.feature_enabled:
        chosen = selector(_RecipientIds(rows), consents, settings)
        members = chosen.ids
        if chosen.keep_members:
            rows = tuple([row for row in rows if row.contact_id in members])
        else:
            rows = tuple([row for row in rows if row.contact_id not in members])

    return ResultsView(
        message_id=result_set.message_id,
        channel=result_set.channel,
        feature_enabled=settings.feature_enabled,
        rows=rows,
        recipients=len(result_set.rows),
        totals=result_set.counters.totals(),
        untracked=len(result_set.rows) - len(rows),
    )
