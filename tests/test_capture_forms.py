"""Tests of the forms that capture tracking consent and of their rendering."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.services import executable
from tests.strategies import consents, forms, submissions
from trackconsent import (
    Answer,
    Consent,
    ConsentState,
    Contact,
    Evidence,
    InvalidValueError,
    Source,
    consent_status,
)
from trackconsent.capture import (
    ConsentField,
    Form,
    FormKind,
    Identification,
    OptOutOffer,
    OptOutText,
    Submission,
    Widget,
    handle_submission,
    read_answer,
    render_consent_field,
    render_opt_out_form,
    render_opt_out_offer,
    withheld_answer,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
EARLIER = datetime(2024, 1, 1, tzinfo=UTC)
REFUSED = Contact("c1", consent=Consent(ConsentState.REFUSED, EARLIER))
GRANTED = Contact("c1", consent=Consent(ConsentState.GRANTED, EARLIER))
NEVER_ASKED = Contact("c1")
ATTACK = "<img src=x onerror=alert(1)>"


def _post(form: Form, values: dict[str, str], **kwargs: object) -> Submission:
    identified_by = kwargs.pop("identified_by", Identification.VERIFIED)
    return Submission(form.form_id, identified_by, values, **kwargs)  # type: ignore[arg-type]


class _Elements(HTMLParser):
    """Collects the element names and text of an HTML fragment."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html: str) -> _Elements:
    parser = _Elements()
    parser.feed(html)
    parser.close()
    return parser


# The cases that must pass.


def test_a_profile_form_without_the_field_leaves_a_refused_contact_refused() -> None:
    """Given a refused contact and a profile form that does not show the field,
    when it is posted (even with a stray value), then nothing is recorded.
    """
    form = Form("profile", FormKind.PROFILE_UPDATE)

    events = handle_submission(
        form, _post(form, {"tracking_consent": "yes"}), REFUSED, NOW
    )

    assert events == []
    assert consent_status(events) == Consent.unknown()


def test_a_shown_and_unticked_box_records_a_refusal() -> None:
    """Given a profile form showing the box, when it is posted unticked (only
    the marker), then a refusal is recorded with the form as source.
    """
    form = Form("profile-2", FormKind.PROFILE_UPDATE, consent_field=ConsentField())

    (event,) = handle_submission(
        form, _post(form, {"tracking_consent__shown": "w"}), REFUSED, NOW
    )

    assert event.answer is Answer.REFUSED
    assert event.source is Source.PROFILE_UPDATE_FORM
    assert event.occurred_at == NOW


def test_a_box_configured_with_agree_records_a_grant_when_agree_is_posted() -> None:
    """Given a checkbox whose checked value is ``agree``, when ``agree`` is posted,
    then a grant is recorded; ``on`` (the browser default) is refused as foreign.
    """
    form = Form(
        "profile-3",
        FormKind.PROFILE_UPDATE,
        consent_field=ConsentField(yes_value="agree"),
    )

    (event,) = handle_submission(
        form, _post(form, {"tracking_consent": "agree"}), REFUSED, NOW
    )

    assert event.answer is Answer.GRANTED
    with pytest.raises(InvalidValueError, match="tracking_consent: not one of"):
        handle_submission(form, _post(form, {"tracking_consent": "on"}), REFUSED, NOW)


def test_a_script_in_a_form_text_renders_as_text() -> None:
    """Given every configured text set to an img tag with onerror, then the
    rendered HTML has no img element and shows the text as typed.
    """
    field = ConsentField(
        label=ATTACK, help_text=ATTACK, widget=Widget.RADIO, yes_label=ATTACK
    )
    profile = Form("p", FormKind.PROFILE_UPDATE, consent_field=field)
    opt_out = Form(
        "o", FormKind.TRACKING_OPT_OUT, opt_out_text=OptOutText(ATTACK, ATTACK, ATTACK)
    )
    unsubscribe = Form(
        "u", FormKind.UNSUBSCRIBE, opt_out_offer=OptOutOffer(ATTACK, ATTACK)
    )

    fragments = [
        render_consent_field(profile),
        render_opt_out_form(opt_out, "/opt-out", hidden={"token": ATTACK}),
        render_opt_out_offer(unsubscribe, "/refuse"),
    ]

    for html in fragments:
        parsed = _parse(str(html))
        assert "img" not in parsed.tags
        assert ATTACK in "".join(parsed.text)
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_browser_shows_the_script_as_text(tmp_path: Path) -> None:
    """Given the opt-out form with a script text, when Chromium loads it, then
    its DOM holds no img element and the text is shown.
    """
    chromium = executable("chromium")
    form = Form(
        "o", FormKind.TRACKING_OPT_OUT, opt_out_text=OptOutText(ATTACK, ATTACK, ATTACK)
    )
    page = tmp_path / "page.html"
    body = render_opt_out_form(form, "/x")
    page.write_text(
        f"<!doctype html><meta charset=utf-8><body>{body}</body>", encoding="utf-8"
    )

    dom = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout

    assert "<img" not in dom
    assert "&lt;img src=x onerror=alert(1)&gt;" in dom


# Each kind of form.


def test_posting_the_opt_out_form_refuses_with_full_evidence() -> None:
    """Given the tracking opt-out form posted from a link, then one refusal is
    recorded with form id, wording version, message id, IP and user agent.
    """
    form = Form("optout", FormKind.TRACKING_OPT_OUT)
    submission = _post(
        form, {}, ip="2001:db8::1", user_agent="Mozilla/5.0", message_id="m7"
    )

    (event,) = handle_submission(form, submission, GRANTED, NOW)

    assert event.answer is Answer.REFUSED
    assert event.source is Source.TRACKING_OPT_OUT_FORM
    assert event.contact_id == "c1"
    assert event.evidence == Evidence(
        form_id="optout",
        message_id="m7",
        ip="2001:db8::1",
        user_agent="Mozilla/5.0",
        wording_version=OptOutText().wording_version,
    )


def test_the_unsubscribe_offer_link_refuses_tracking() -> None:
    """Given an unsubscribe form offering tracking opt-out, when its link's
    parameter is submitted, then a refusal comes from the unsubscribe form.
    """
    form = Form("unsub", FormKind.UNSUBSCRIBE, opt_out_offer=OptOutOffer())
    html = str(render_opt_out_offer(form, "/refuse?list=3"))

    (event,) = handle_submission(
        form, _post(form, {"refuse_tracking": "yes"}), GRANTED, NOW
    )

    assert 'href="/refuse?list=3&amp;refuse_tracking=yes"' in html
    assert event.answer is Answer.REFUSED
    assert event.source is Source.UNSUBSCRIBE_FORM
    assert event.evidence.wording_version == OptOutOffer().wording_version


def test_unsubscribing_alone_says_nothing_about_tracking() -> None:
    """Given an unsubscribe form, when posted without the offer's parameter, or
    with the option off, then nothing is recorded and nothing is rendered.
    """
    offered = Form("u1", FormKind.UNSUBSCRIBE, opt_out_offer=OptOutOffer())
    plain = Form("u2", FormKind.UNSUBSCRIBE)

    assert (
        handle_submission(offered, _post(offered, {"email": "x"}), GRANTED, NOW) == []
    )
    assert (
        handle_submission(plain, _post(plain, {"refuse_tracking": "yes"}), GRANTED, NOW)
        == []
    )
    assert render_opt_out_offer(plain, "/refuse") == ""


@pytest.mark.parametrize("kind", [FormKind.OPT_IN, FormKind.PROFILE_UPDATE])
def test_a_ticked_box_grants_with_the_form_kind_as_source(kind: FormKind) -> None:
    """Given an opt-in or profile form, when the box is ticked, then a grant
    is recorded with that kind's source.
    """
    form = Form("f", kind, consent_field=ConsentField())

    (event,) = handle_submission(
        form,
        _post(form, {"tracking_consent": "yes", "tracking_consent__shown": "w"}),
        REFUSED,
        NOW,
    )

    assert event.answer is Answer.GRANTED
    assert event.source is kind.source


def test_an_unticked_box_on_an_opt_in_form_is_a_refusal() -> None:
    """Given an opt-in form showing the box, when posted unticked by a new
    contact, then a refusal is recorded (the documented reading).
    """
    form = Form("signup", FormKind.OPT_IN, consent_field=ConsentField())
    submission = _post(
        form, {"tracking_consent__shown": "w"}, identified_by=Identification.TYPED_EMAIL
    )

    (event,) = handle_submission(form, submission, NEVER_ASKED, NOW)

    assert event.answer is Answer.REFUSED
    assert event.source is Source.OPT_IN_FORM


def test_a_submission_without_field_or_marker_changes_nothing() -> None:
    """Given a form showing the field, when the post carries neither the field
    nor its marker, then nothing is recorded.
    """
    form = Form("f", FormKind.PROFILE_UPDATE, consent_field=ConsentField())

    assert handle_submission(form, _post(form, {"name": "Ann"}), GRANTED, NOW) == []


@pytest.mark.parametrize("widget", [Widget.RADIO, Widget.SELECT])
def test_yes_no_widgets_read_yes_no_and_no_choice(widget: Widget) -> None:
    """Given a radio or select field, then yes grants, no refuses, and no
    choice (with the marker) records nothing.
    """
    form = Form("f", FormKind.PROFILE_UPDATE, consent_field=ConsentField(widget=widget))
    marker = {"tracking_consent__shown": "w"}

    def answer(values: dict[str, str]) -> Answer | None:
        return read_answer(form, _post(form, values))

    assert answer({**marker, "tracking_consent": "yes"}) is Answer.GRANTED
    assert answer({**marker, "tracking_consent": "no"}) is Answer.REFUSED
    assert answer({**marker, "tracking_consent": ""}) is None
    assert answer(marker) is None


def test_a_typed_email_cannot_change_an_existing_answer() -> None:
    """Given a refused contact, when an opt-in form identified only by a typed
    address grants, then nothing is recorded and the grant is reported withheld;
    a verified identity records it.
    """
    form = Form("signup", FormKind.OPT_IN, consent_field=ConsentField())
    typed = _post(
        form, {"tracking_consent": "yes"}, identified_by=Identification.TYPED_EMAIL
    )
    verified = _post(form, {"tracking_consent": "yes"})

    assert handle_submission(form, typed, REFUSED, NOW) == []
    assert withheld_answer(form, typed, REFUSED) is Answer.GRANTED
    assert withheld_answer(form, verified, REFUSED) is None
    assert [e.answer for e in handle_submission(form, verified, REFUSED, NOW)] == [
        Answer.GRANTED
    ]


def test_a_typed_email_may_give_a_first_answer() -> None:
    """Given a never-asked contact, when a typed-address submission grants, then
    the grant is recorded and nothing is withheld.
    """
    form = Form("signup", FormKind.OPT_IN, consent_field=ConsentField())
    typed = _post(
        form, {"tracking_consent": "yes"}, identified_by=Identification.TYPED_EMAIL
    )

    (event,) = handle_submission(form, typed, NEVER_ASKED, NOW)

    assert event.answer is Answer.GRANTED
    assert withheld_answer(form, typed, NEVER_ASKED) is None


def test_a_submission_to_another_form_is_refused() -> None:
    """Given a submission naming another form, then it is refused by form_id."""
    form = Form("f", FormKind.TRACKING_OPT_OUT)

    with pytest.raises(InvalidValueError, match="form_id: not this form's id: 'g'"):
        handle_submission(form, Submission("g", Identification.VERIFIED), GRANTED, NOW)


def test_the_wording_version_follows_the_wording() -> None:
    """Given two fields differing only by label, then their versions differ;
    the same wording always gets the same version.
    """
    assert ConsentField().wording_version == ConsentField().wording_version
    assert (
        ConsentField(label="Track me").wording_version != ConsentField().wording_version
    )
    assert (
        ConsentField(name="other").wording_version == ConsentField().wording_version
    ), "the posted name is not wording"


def test_a_part_the_kind_does_not_have_is_refused() -> None:
    """Given a consent field on an opt-out form, or an offer on an opt-in form,
    then construction names the part and the kind.
    """
    with pytest.raises(InvalidValueError, match="consent_field: only on opt_in and"):
        Form("f", FormKind.TRACKING_OPT_OUT, consent_field=ConsentField())
    with pytest.raises(InvalidValueError, match="opt_out_offer: only on unsubscribe"):
        Form("f", FormKind.OPT_IN, opt_out_offer=OptOutOffer())


def test_yes_and_no_must_differ() -> None:
    """Given a field whose yes and no values are equal, then it is refused."""
    with pytest.raises(InvalidValueError, match="no_value: must differ"):
        ConsentField(yes_value="x", no_value="x")


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "java\tscript:alert(1)",
        " JavaScript:x",
        "data:text/html,x",
    ],
)
def test_unsafe_urls_are_refused(href: str) -> None:
    """Given a script or data URL as the form's target, then rendering refuses it."""
    form = Form("o", FormKind.TRACKING_OPT_OUT)

    with pytest.raises(InvalidValueError, match="action_url"):
        render_opt_out_form(form, href)


@pytest.mark.parametrize(
    "href", ["//evil.example/o", "\\\\evil.example/o", "/\\evil.example/o"]
)
def test_links_to_another_host_without_a_scheme_are_refused(href: str) -> None:
    """Given a protocol-relative URL, or a backslash spelling a browser reads
    the same way, as a form's target or the offer's page, then rendering
    refuses it naming the field.
    """
    opt_out = Form("o", FormKind.TRACKING_OPT_OUT)
    unsubscribe = Form("u", FormKind.UNSUBSCRIBE, opt_out_offer=OptOutOffer())

    with pytest.raises(InvalidValueError, match=r"^action_url: "):
        render_opt_out_form(opt_out, href)
    with pytest.raises(InvalidValueError, match=r"^refuse_url: "):
        render_opt_out_offer(unsubscribe, href)


def test_the_offer_link_goes_into_the_query_and_is_not_doubled() -> None:
    """Given a refuse page with a fragment, then the offer's field goes into
    the query before it; given one already carrying the field, it is refused.
    """
    form = Form("u", FormKind.UNSUBSCRIBE, opt_out_offer=OptOutOffer())

    html = str(render_opt_out_offer(form, "/refuse#end"))

    assert 'href="/refuse?refuse_tracking=yes#end"' in html
    with pytest.raises(InvalidValueError, match=r"^refuse_url: already carries"):
        render_opt_out_offer(form, "/refuse?refuse_tracking=no")


def test_a_long_user_agent_is_cut_not_refused() -> None:
    """Given a 5000-character user agent, then the submission keeps 1024 of them."""
    submission = Submission("f", Identification.VERIFIED, user_agent="A" * 5000)

    assert submission.user_agent == "A" * 1024


def test_a_malformed_ip_is_refused_by_name() -> None:
    """Given an IP that is not an address, then the submission names the ip."""
    with pytest.raises(InvalidValueError, match="ip: not an IP address"):
        Submission("f", Identification.VERIFIED, ip="unknown")


def test_an_opt_in_box_is_never_rendered_ticked() -> None:
    """Given a granted contact, then the opt-in box is unticked while the
    profile box shows the answer in force.
    """
    field = ConsentField()
    opt_in = Form("a", FormKind.OPT_IN, consent_field=field)
    profile = Form("b", FormKind.PROFILE_UPDATE, consent_field=field)

    assert " checked" not in render_consent_field(opt_in, GRANTED.consent)
    assert " checked" in render_consent_field(profile, GRANTED.consent)
    assert render_consent_field(Form("c", FormKind.OPT_IN)) == ""


# Properties.


@given(form=forms(), data=st.data())
def test_every_event_carries_the_form_kind_and_its_evidence(
    form: Form, data: st.DataObject
) -> None:
    """Given any form and submission, then each event has the kind's source,
    the contact, the form id and the wording version, at the moment given.
    """
    submission = data.draw(submissions(form))
    contact = Contact("c9", consent=data.draw(consents()))

    events = handle_submission(form, submission, contact, NOW)

    assert len(events) <= 1
    for event in events:
        assert event.source is form.kind.source
        assert event.contact_id == "c9"
        assert event.occurred_at == event.recorded_at == NOW
        assert event.evidence.form_id == form.form_id
        assert event.evidence.wording_version == form.wording_version
        assert event.evidence.ip == submission.ip
        assert event.answer is read_answer(form, submission)


@given(form=forms(), data=st.data())
def test_a_typed_email_never_changes_an_existing_answer(
    form: Form, data: st.DataObject
) -> None:
    """Given a contact who answered and any typed-address submission, then no
    event is recorded, and what was meant is reported as withheld.
    """
    submission = data.draw(submissions(form))
    submission = Submission(
        submission.form_id, Identification.TYPED_EMAIL, submission.values
    )
    answered = data.draw(
        consents().filter(lambda c: c.state is not ConsentState.UNKNOWN)
    )
    contact = Contact("c9", consent=answered)

    assert handle_submission(form, submission, contact, NOW) == []
    assert withheld_answer(form, submission, contact) is read_answer(form, submission)


@given(form=forms(), consent=consents())
def test_rendered_forms_escape_every_text(form: Form, consent: Consent) -> None:
    """Given any form wording, then the rendered fragments contain no element
    other than the ones the renderer writes.
    """
    own = {"div", "input", "label", "p", "fieldset", "legend", "select", "option"}
    own |= {"form", "h2", "button", "a"}
    # Each fragment is turned into str first: str + Markup would escape the str.
    fragments = [str(render_consent_field(form, consent))]
    if form.kind is FormKind.TRACKING_OPT_OUT:
        fragments.append(str(render_opt_out_form(form, "/x")))
    fragments.append(str(render_opt_out_offer(form, "/y")))
    parsed = _parse("".join(fragments))
    shown = [part.label for part in (form.consent_field,) if part is not None]
    shown += [part.heading for part in (form.opt_out_text,) if part is not None]
    shown += [part.link_text for part in (form.opt_out_offer,) if part is not None]

    assert set(parsed.tags) <= own
    for text in shown:
        assert text in "".join(parsed.text)
