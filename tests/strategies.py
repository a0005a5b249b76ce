"""Hypothesis strategies for trackconsent's tests, in one place.

The consent-record strategies ship with the package (hosts use them with the
contract suite); they are re-exported here beside the ones only our tests use.
"""

from __future__ import annotations

from hypothesis import strategies as st

from trackconsent import (
    Channel,
    Consent,
    ConsentState,
    Counters,
    Engagement,
    EngagementKind,
    InjectionRule,
    Message,
    Outcome,
    ProjectSettings,
    RecipientResult,
    Regime,
    ResultSet,
    Trigger,
)
from trackconsent.policy import OUTCOMES_BY_CHANNEL
from trackconsent.testing.strategies import (
    answers,
    aware_datetimes,
    contact_ids,
    event_lists,
    events,
    evidence,
    offsets,
)

__all__ = [
    "answers",
    "aware_datetimes",
    "consents",
    "contact_ids",
    "event_lists",
    "events",
    "evidence",
    "offsets",
    "project_settings",
]
__all__ += [
    "counters",
    "enabled_settings",
    "engagements",
    "injection_rules",
    "messages",
    "recipient_ids",
    "result_sets",
]


@st.composite
def consents(draw: st.DrawFn) -> Consent:
    """Draw a consent: never asked, or granted or refused at some moment."""
    state = draw(st.sampled_from(ConsentState))
    if state is ConsentState.UNKNOWN:
        return Consent.unknown()
    return Consent(state, draw(aware_datetimes))


@st.composite
def project_settings(draw: st.DrawFn) -> ProjectSettings:
    """Draw settings with the feature on or off, under either regime."""
    settings = ProjectSettings("p", regime=draw(st.sampled_from(Regime)))
    switches = draw(st.lists(st.booleans(), max_size=3))
    moment = draw(aware_datetimes)
    for enabled in switches:
        settings = settings.switch_feature(enabled, actor="operator", at=moment)
    return settings


# --- enforcement: messages, results, engagement, rules ----------------------

recipient_ids = st.uuids().map(lambda u: f"rcpt-{u.hex}") | contact_ids
"""Recipient ids: mostly distinctive (so a leak shows in any text), some
arbitrary text (so renderings are tested on awkward characters)."""


@st.composite
def enabled_settings(draw: st.DrawFn) -> ProjectSettings:
    """Draw settings with the feature on, under either regime."""
    settings = ProjectSettings("p", regime=draw(st.sampled_from(Regime)))
    return settings.switch_feature(True, actor="operator", at=draw(aware_datetimes))


messages = st.builds(
    Message,
    message_id=contact_ids,
    channel=st.sampled_from(Channel),
    tracking=st.booleans(),
)


def _outcome_sets(channel: Channel) -> st.SearchStrategy[frozenset[Outcome]]:
    return st.frozensets(st.sampled_from(OUTCOMES_BY_CHANNEL[channel]))


@st.composite
def counters(draw: st.DrawFn, channel: Channel | None = None) -> Counters:
    """Draw aggregate counters of one message."""
    channel = channel or draw(st.sampled_from(Channel))
    counts = draw(
        st.dictionaries(
            st.sampled_from(OUTCOMES_BY_CHANNEL[channel]), st.integers(0, 10**6)
        )
    )
    return Counters("m", channel, counts)


@st.composite
def result_sets(
    draw: st.DrawFn, max_size: int = 30
) -> tuple[ResultSet, dict[str, Consent]]:
    """Draw a result set and its recipients' consents.

    Some recipients have no consent in the mapping (read as never asked); the
    counters are either counted from the rows or kept separately (with
    engagement of people not listed).
    """
    channel = draw(st.sampled_from(Channel))
    ids = draw(st.lists(recipient_ids, unique=True, max_size=max_size))
    rows = [RecipientResult(cid, draw(_outcome_sets(channel))) for cid in ids]
    known = draw(st.lists(st.sampled_from(ids), unique=True) if ids else st.just([]))
    consent_map = {cid: draw(consents()) for cid in known}
    if draw(st.booleans()):
        result_set = ResultSet.from_rows("m", channel, rows)
    else:
        result_set = ResultSet("m", channel, rows, draw(counters(channel)))
    return result_set, consent_map


@st.composite
def engagements(draw: st.DrawFn) -> Engagement:
    """Draw an open, click or visit, with or without a (verified) contact."""
    kind = draw(st.sampled_from(EngagementKind))
    channel = draw(st.sampled_from(Channel))
    if kind is EngagementKind.OPEN:
        channel = draw(st.sampled_from([Channel.EMAIL, Channel.PUSH]))
    with_message = kind is not EngagementKind.VISIT or draw(st.booleans())
    contact = draw(st.none() | recipient_ids)
    return Engagement(
        kind=kind,
        occurred_at=draw(aware_datetimes),
        message_id="m" if with_message else None,
        channel=channel if with_message else None,
        contact_id=contact,
        verified=contact is not None and draw(st.booleans()),
        ip=draw(st.none() | st.ip_addresses().map(str)),
        user_agent=draw(st.none() | st.just("Mozilla/5.0 (X11; Linux x86_64)")),
        url=draw(
            st.none()
            | st.sampled_from(
                ["https://shop.example/p?cid=rcpt-1#top", "https://shop.example/"]
            )
        ),
    )


@st.composite
def injection_rules(draw: st.DrawFn) -> InjectionRule:
    """Draw a rule with any trigger, option and matching parameters."""
    trigger = draw(st.sampled_from(Trigger))
    days = draw(st.integers(1, 3650)) if trigger is Trigger.INACTIVE else None
    return InjectionRule(
        rule_id=draw(contact_ids),
        trigger=trigger,
        only_tracked_contacts=draw(st.booleans()),
        inactive_days=days,
        message_id=draw(st.none() | contact_ids),
    )
