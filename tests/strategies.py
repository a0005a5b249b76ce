"""Hypothesis strategies for trackconsent's tests, in one place.

The consent-record strategies ship with the package (hosts use them with the
contract suite); they are re-exported here beside the ones only our tests use.
"""

from __future__ import annotations

from hypothesis import strategies as st

from trackconsent import Consent, ConsentState, ProjectSettings, Regime
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


# Capture: forms, links, workflows and the web-service format.

from trackconsent.capture import (  # noqa: E402  # appended section, own imports
    ConsentCondition,
    ConsentField,
    ConsentHistory,
    ConsentTest,
    ContactConsent,
    Form,
    FormKind,
    Identification,
    LinkTarget,
    OptOutOffer,
    OptOutText,
    Submission,
    Widget,
)

__all__ += [
    "consent_conditions",
    "consent_fields",
    "consent_histories",
    "contact_consents",
    "forms",
    "json_values",
    "link_targets",
    "submissions",
    "wire_payloads",
]

_wording = st.text(
    alphabet=st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(str.strip)
"""Form texts, markup and quotes included: rendering must escape them."""

_field_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_.:-]{0,12}", fullmatch=True)


@st.composite
def consent_fields(draw: st.DrawFn) -> ConsentField:
    """Draw a tracking consent field of any widget, with any wording."""
    yes, no = draw(st.lists(_wording, min_size=2, max_size=2, unique=True))
    return ConsentField(
        label=draw(_wording),
        widget=draw(st.sampled_from(Widget)),
        name=draw(_field_names),
        yes_value=yes,
        no_value=no,
        yes_label=draw(_wording),
        no_label=draw(_wording),
        help_text=draw(st.none() | _wording),
    )


@st.composite
def forms(draw: st.DrawFn, kind: FormKind | None = None) -> Form:
    """Draw a form of ``kind`` (any kind by default) with its tracking parts."""
    kind = kind or draw(st.sampled_from(FormKind))
    form_id = draw(st.sampled_from(["f1", "f2"]) | _wording)
    if kind is FormKind.TRACKING_OPT_OUT:
        text = OptOutText(draw(_wording), draw(_wording), draw(_wording))
        return Form(form_id, kind, opt_out_text=text)
    if kind is FormKind.UNSUBSCRIBE:
        offer = draw(
            st.none() | st.builds(OptOutOffer, _wording, _wording, _field_names)
        )
        return Form(form_id, kind, opt_out_offer=offer)
    return Form(form_id, kind, consent_field=draw(st.none() | consent_fields()))


@st.composite
def submissions(draw: st.DrawFn, form: Form) -> Submission:
    """Draw a submission to ``form``: its own field's values, a marker, or noise."""
    values: dict[str, str] = {}
    field = form.consent_field
    if field is not None:
        choice = st.sampled_from([field.yes_value, field.no_value, ""])
        if draw(st.booleans()):
            values[field.name] = draw(choice)
        if draw(st.booleans()):
            values[field.shown_marker] = "w"
        if field.widget is Widget.CHECKBOX and values.get(field.name) == field.no_value:
            del values[field.name]
    if form.opt_out_offer is not None and draw(st.booleans()):
        values[form.opt_out_offer.field_name] = "yes"
    return Submission(
        form_id=form.form_id,
        identified_by=draw(st.sampled_from(Identification)),
        values=values,
        ip=draw(st.none() | st.ip_addresses().map(str)),
        user_agent=draw(st.none() | _wording),
        message_id=draw(st.none() | _wording),
    )


link_targets = st.builds(
    LinkTarget,
    project_id=st.sampled_from(["p", "acme"]) | _wording,
    contact_id=contact_ids,
    message_id=_wording,
    expires_at=st.none() | aware_datetimes,
)
"""Targets of tracking opt-out links, expiring or not."""


@st.composite
def consent_conditions(draw: st.DrawFn) -> ConsentCondition:
    """Draw a workflow condition that some contact could meet."""
    test = draw(st.none() | st.sampled_from(ConsentTest))
    if test is ConsentTest.NEVER_ASKED:
        return ConsentCondition(test)
    before, after = draw(st.none() | aware_datetimes), draw(st.none() | aware_datetimes)
    if before is not None and after is not None and before <= after:
        before = None
    return ConsentCondition(test, answered_before=before, answered_after=after)


contact_consents = st.builds(
    ContactConsent.of,
    contact_ids,
    consents(),
)
"""The two consent fields of one contact."""


@st.composite
def consent_histories(draw: st.DrawFn) -> ConsentHistory:
    """Draw one contact's history, newest first."""
    contact = draw(contact_ids)
    mine = draw(
        st.lists(events(st.just(contact)), max_size=6, unique_by=lambda e: e.event_id)
    )
    mine.sort(key=lambda event: event.occurred_at, reverse=True)
    return ConsentHistory.of(contact, mine)


wire_payloads = st.one_of(evidence, events(), contact_consents, consent_histories())
"""Any value of the web-service format."""

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
"""Arbitrary decoded JSON."""
