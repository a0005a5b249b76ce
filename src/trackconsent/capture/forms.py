"""Forms that capture tracking consent, and what their submissions mean.

Four kinds of form reach a contact's answer:

- the tracking opt-out form: posting it refuses tracking;
- the unsubscribe form, with the option "offer tracking opt-out": under the
  unsubscribe part, a short explanation of cookie use and a link to refuse
  tracking; following that link refuses tracking;
- the opt-in form and the profile update form, with a tracking consent field:
  a checkbox by default, a yes/no radio pair or a select as alternatives.

`handle_submission` turns a submission into the consent events it implies,
each with the form kind as source and, as evidence, the form id, a version of
the wording shown (a hash), and the IP address and user agent the host passes.

What a submission means:

- A form that does not show the consent field, or a submission that carries
  neither the field nor its "shown" marker, changes nothing.
- A ticked box (the configured ``yes_value``, such as ``agree``) is a grant;
  the "no" radio or option is a refusal; a radio or select left without a
  choice changes nothing.
- A shown and unticked box is a refusal, on a profile update form and on an
  opt-in form alike. A browser posts nothing for an unticked box, so the
  default rendering adds a hidden marker field (``<name>__shown``) that says
  the box was on the page. On an opt-in form the person read the question and
  declined to tick: recording "no" is the privacy-protective reading, and it
  keeps a never-asked contact from being tracked under the opt-out regime
  after declining. An opt-in box is never rendered ticked in advance.
- A submission identified only by a typed e-mail address
  (`Identification.TYPED_EMAIL`) may give a contact's first answer but never
  changes an existing one: for a contact who already answered, it records
  nothing. `withheld_answer` tells the host what was held back, so it can send
  that contact a message with a tracking opt-out link (or a link to their
  profile page) that proves who they are. Only a verified identity (a signed
  link token, a logged-in session) can change an answer.

Every text a form shows is escaped when rendered (markupsafe), and every URL
it links to must be http, https or relative.
"""

from __future__ import annotations

import enum
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs
from markupsafe import Markup

from trackconsent.capture._checks import enum_member, optional_text, text
from trackconsent.capture._links import check_link, with_parameter
from trackconsent.errors import InvalidValueError
from trackconsent.model import (
    Answer,
    Consent,
    ConsentEvent,
    ConsentState,
    Contact,
    Evidence,
    Source,
    require_aware,
)

__all__ = [
    "ConsentField",
    "Form",
    "FormKind",
    "Identification",
    "OptOutOffer",
    "OptOutText",
    "Submission",
    "Widget",
    "handle_submission",
    "read_answer",
    "render_consent_field",
    "render_opt_out_form",
    "render_opt_out_offer",
    "withheld_answer",
]

logger = logging.getLogger(__name__)

_MAX_USER_AGENT = 1024
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.:-]{0,63}")
_SHOWN_SUFFIX: Final = "__shown"


class FormKind(enum.Enum):
    """The kinds of form that capture a tracking answer."""

    TRACKING_OPT_OUT = "tracking_opt_out"
    UNSUBSCRIBE = "unsubscribe"
    OPT_IN = "opt_in"
    PROFILE_UPDATE = "profile_update"

    @property
    def source(self) -> Source:
        """The `Source` recorded on the events this kind of form produces."""
        return _SOURCES[self]


_SOURCES: Final = {
    FormKind.TRACKING_OPT_OUT: Source.TRACKING_OPT_OUT_FORM,
    FormKind.UNSUBSCRIBE: Source.UNSUBSCRIBE_FORM,
    FormKind.OPT_IN: Source.OPT_IN_FORM,
    FormKind.PROFILE_UPDATE: Source.PROFILE_UPDATE_FORM,
}


class Widget(enum.Enum):
    """How the tracking consent field is shown."""

    CHECKBOX = "checkbox"
    RADIO = "radio"
    SELECT = "select"


class Identification(enum.Enum):
    """How a submission says whose answer it is.

    ``VERIFIED``: the host vouches for the contact (a signed link token, a
    logged-in session); the answer may change an existing one.
    ``TYPED_EMAIL``: only an address typed into the form; the answer may be
    a contact's first, but never changes an existing one.
    """

    VERIFIED = "verified"
    TYPED_EMAIL = "typed_email"


def _field_name(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, str) or not _FIELD_NAME.fullmatch(value):
        raise InvalidValueError(
            attribute.name, "a letter, then up to 63 of A-Z a-z 0-9 _ . : -", value
        )


def _wording_hash(*parts: object) -> str:
    """Return a short, stable hash of the wording a person was shown."""
    canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    return "w_" + hashlib.sha256(canonical.encode()).hexdigest()[:16]


@attrs.frozen
class ConsentField:
    """The tracking consent field of an opt-in or profile update form.

    Attributes:
        label: The question or statement shown beside the field.
        widget: A checkbox (the default), a yes/no radio pair, or a select.
        name: The name the field is posted under.
        yes_value: The value posted for yes: a ticked box, the yes radio or
            option. A box configured with ``agree`` posts ``agree``.
        no_value: The value posted for no (radio and select only).
        yes_label: The text of the yes radio or option.
        no_label: The text of the no radio or option.
        help_text: An optional explanation under the field.
    """

    label: str = attrs.field(
        default="I agree that my opens, clicks and visits are measured "
        "to tailor what I receive.",
        validator=text,
    )
    widget: Widget = attrs.field(default=Widget.CHECKBOX, validator=enum_member(Widget))
    name: str = attrs.field(default="tracking_consent", validator=_field_name)
    yes_value: str = attrs.field(default="yes", validator=text)
    no_value: str = attrs.field(default="no", validator=text)
    yes_label: str = attrs.field(default="Yes", validator=text)
    no_label: str = attrs.field(default="No", validator=text)
    help_text: str | None = attrs.field(default=None, validator=optional_text)

    def __attrs_post_init__(self) -> None:
        """Refuse a yes and a no that a submission could not tell apart."""
        if self.yes_value == self.no_value:
            raise InvalidValueError(
                "no_value", "must differ from yes_value", self.no_value
            )

    @property
    def shown_marker(self) -> str:
        """The hidden field that says the consent field was on the page."""
        return self.name + _SHOWN_SUFFIX

    @property
    def wording_version(self) -> str:
        """A hash of everything this field shows a person."""
        return _wording_hash(
            "consent_field",
            self.widget.value,
            self.label,
            self.help_text,
            *(
                (self.yes_label, self.no_label)
                if self.widget is not Widget.CHECKBOX
                else ()
            ),
        )


@attrs.frozen
class OptOutText:
    """The wording of the tracking opt-out form."""

    heading: str = attrs.field(
        default="Tracking of your opens, clicks and visits",
        validator=text,
    )
    explanation: str = attrs.field(
        default="We measure which of our messages you open, which links you click "
        "and which pages of our sites you visit, to send you what interests you. "
        "You can ask us to stop tying these to you.",
        validator=text,
    )
    button: str = attrs.field(default="Stop tracking me", validator=text)

    @property
    def wording_version(self) -> str:
        """A hash of everything the opt-out form shows a person."""
        return _wording_hash(
            "opt_out_form", self.heading, self.explanation, self.button
        )


@attrs.frozen
class OptOutOffer:
    """The unsubscribe form's option "offer tracking opt-out".

    Attributes:
        explanation: A short explanation of cookie use, under the unsubscribe part.
        link_text: The text of the link that refuses tracking.
        field_name: The parameter the link adds to its URL; a submission
            carrying it with the value ``yes`` refuses tracking.
    """

    explanation: str = attrs.field(
        default="Our messages and sites use cookies and similar techniques to "
        "measure opens, clicks and visits.",
        validator=text,
    )
    link_text: str = attrs.field(default="Refuse tracking", validator=text)
    field_name: str = attrs.field(default="refuse_tracking", validator=_field_name)

    @property
    def wording_version(self) -> str:
        """A hash of everything the offer shows a person."""
        return _wording_hash("opt_out_offer", self.explanation, self.link_text)


_OFFER_YES: Final = "yes"


def _default_opt_out_text(form: Form) -> OptOutText | None:
    return OptOutText() if form.kind is FormKind.TRACKING_OPT_OUT else None


@attrs.frozen
class Form:
    """One form of a project, as far as tracking consent is concerned.

    Attributes:
        form_id: The host's identifier of the form.
        kind: Which kind of form it is.
        consent_field: The tracking consent field (opt-in and profile update
            forms only); None when the form does not show it.
        opt_out_offer: The option "offer tracking opt-out" (unsubscribe forms
            only); None when the option is off.
        opt_out_text: The wording of a tracking opt-out form; the default
            wording unless given. None for the other kinds.
    """

    form_id: str = attrs.field(validator=text)
    kind: FormKind = attrs.field(validator=enum_member(FormKind))
    consent_field: ConsentField | None = attrs.field(default=None)
    opt_out_offer: OptOutOffer | None = attrs.field(default=None)
    opt_out_text: OptOutText | None = attrs.field(
        default=attrs.Factory(_default_opt_out_text, takes_self=True)
    )

    def __attrs_post_init__(self) -> None:
        """Refuse parts that the form's kind does not have."""
        allowed = {
            "consent_field": (FormKind.OPT_IN, FormKind.PROFILE_UPDATE),
            "opt_out_offer": (FormKind.UNSUBSCRIBE,),
            "opt_out_text": (FormKind.TRACKING_OPT_OUT,),
        }
        for part, kinds in allowed.items():
            value = getattr(self, part)
            if value is not None and self.kind not in kinds:
                names = " and ".join(kind.value for kind in kinds)
                raise InvalidValueError(part, f"only on {names} forms", self.kind.value)
        _check_part(self.consent_field, ConsentField, "consent_field")
        _check_part(self.opt_out_offer, OptOutOffer, "opt_out_offer")
        _check_part(self.opt_out_text, OptOutText, "opt_out_text")

    @property
    def wording_version(self) -> str | None:
        """A hash of the tracking wording the form shows; None when it shows none."""
        for part in (self.consent_field, self.opt_out_offer, self.opt_out_text):
            if part is not None:
                return part.wording_version
        return None


def _check_part(value: object, kind: type, name: str) -> None:
    if value is not None and not isinstance(value, kind):
        raise InvalidValueError(name, f"not a {kind.__name__}", value)


def _values(value: object) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise InvalidValueError("values", "not a mapping", value)
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidValueError("values", "names and values must be strings", key)
    return dict(value)


def _user_agent(value: object) -> object:
    # A long user agent is kept, cut: refusing it would lose the answer itself.
    if isinstance(value, str):
        value = value.strip()[:_MAX_USER_AGENT]
        return value or None
    return value


def _ip(_instance: object, _attribute: attrs.Attribute[Any], value: object) -> None:
    Evidence(ip=value)  # type: ignore[arg-type]  # the record's own rule decides


@attrs.frozen
class Submission:
    """What a person posted to a form, as the host received it.

    Attributes:
        form_id: The form it was posted to.
        identified_by: How the host knows whose answer it is.
        values: The posted fields, name to value (one value per name).
        ip: The IP address it came from, as the host passes it.
        user_agent: The browser's user agent; kept to its first 1024 characters.
        message_id: The message whose link led to the form, if any.
    """

    form_id: str = attrs.field(validator=text)
    identified_by: Identification = attrs.field(validator=enum_member(Identification))
    values: dict[str, str] = attrs.field(factory=dict, converter=_values)
    ip: str | None = attrs.field(default=None, validator=_ip)
    user_agent: str | None = attrs.field(
        default=None, converter=_user_agent, validator=optional_text
    )
    message_id: str | None = attrs.field(default=None, validator=optional_text)


def read_answer(form: Form, submission: Submission) -> Answer | None:
    """Return the answer a submission gives, whoever sent it; None for none.

    Raises:
        InvalidValueError: the submission is for another form, or posts a
            value the form's field does not offer.
    """
    if submission.form_id != form.form_id:
        raise InvalidValueError("form_id", "not this form's id", submission.form_id)
    if form.kind is FormKind.TRACKING_OPT_OUT:
        return Answer.REFUSED
    if form.opt_out_offer is not None:
        return _offer_answer(form.opt_out_offer, submission.values)
    if form.consent_field is not None:
        return _field_answer(form.consent_field, submission.values)
    return None


def _offer_answer(offer: OptOutOffer, values: Mapping[str, str]) -> Answer | None:
    value = values.get(offer.field_name)
    if value is None:
        return None
    if value != _OFFER_YES:
        raise InvalidValueError(offer.field_name, f"only {_OFFER_YES!r}", value)
    return Answer.REFUSED


def _field_answer(field: ConsentField, values: Mapping[str, str]) -> Answer | None:
    value = values.get(field.name, "")
    if not value:
        # An unticked box posts nothing; the marker says it was shown.
        is_unticked = field.widget is Widget.CHECKBOX and field.shown_marker in values
        return Answer.REFUSED if is_unticked else None
    if value == field.yes_value:
        return Answer.GRANTED
    if field.widget is not Widget.CHECKBOX and value == field.no_value:
        return Answer.REFUSED
    raise InvalidValueError(field.name, "not one of the field's values", value)


def withheld_answer(
    form: Form, submission: Submission, contact: Contact
) -> Answer | None:
    """Return the answer a typed-e-mail submission could not record, if any.

    A submission identified only by a typed address never changes a contact's
    existing answer; this returns the answer it carried so the host can ask
    the contact to confirm through a verified link. None when nothing was
    held back.
    """
    answer = read_answer(form, submission)
    if answer is None or not _is_withheld(submission, contact):
        return None

    return answer


def _is_withheld(submission: Submission, contact: Contact) -> bool:
    has_answered = contact.consent.state is not ConsentState.UNKNOWN
    return has_answered and submission.identified_by is Identification.TYPED_EMAIL


def handle_submission(
    form: Form, submission: Submission, contact: Contact, now: datetime
) -> list[ConsentEvent]:
    """Return the consent events a form submission implies (none or one).

    Args:
        form: The form that was posted.
        submission: What was posted, and how the contact was identified.
        contact: The contact the host matched the submission to.
        now: The moment the submission was received (aware).

    Returns:
        One event with source = the form kind and evidence (form id, wording
        version, message id, IP, user agent), or an empty list when the
        submission says nothing about tracking or may not change the answer.

    Raises:
        InvalidValueError: another form's submission, a value the field does
            not offer, or a naive ``now``.
    """
    require_aware("now", now)
    answer = read_answer(form, submission)
    if answer is None:
        return []
    if _is_withheld(submission, contact):
        logger.info(
            "form %s: answer of contact %s withheld, identified by typed e-mail only",
            form.form_id,
            contact.id,
        )
        return []
    evidence = Evidence(
        form_id=form.form_id,
        message_id=submission.message_id,
        ip=submission.ip,
        user_agent=submission.user_agent,
        wording_version=form.wording_version,
    )
    event = ConsentEvent.new(
        contact_id=contact.id,
        answer=answer,
        occurred_at=now,
        recorded_at=now,
        source=form.kind.source,
        evidence=evidence,
    )

    return [event]


# Rendering. Markup.format escapes every argument that is not itself Markup,
# so configured texts, names and values can never become markup.


def render_consent_field(form: Form, consent: Consent | None = None) -> Markup:
    """Render the form's tracking consent field as HTML, texts escaped.

    Args:
        form: An opt-in or profile update form.
        consent: The contact's consent in force. On a profile update form it
            selects the current answer; an opt-in form is never pre-ticked,
            since a pre-ticked box is not consent.

    Returns:
        The field with its hidden "shown" marker; empty when the form does not
        show the field.
    """
    field = form.consent_field
    if field is None:
        return Markup("")
    is_profile = consent is not None and form.kind is FormKind.PROFILE_UPDATE
    current = consent.state if consent is not None and is_profile else None
    marker = Markup('<input type="hidden" name="{}" value="{}">').format(
        field.shown_marker, field.wording_version
    )
    body = _WIDGETS[field.widget](field, current)
    help_text = (
        Markup('<p class="tc-help">{}</p>').format(field.help_text)
        if field.help_text
        else Markup("")
    )

    return Markup('<div class="tc-consent">{}{}{}</div>').format(
        marker, body, help_text
    )


def _checked(is_on: bool, attribute: Markup) -> Markup:
    return attribute if is_on else Markup("")


def _checkbox(field: ConsentField, current: ConsentState | None) -> Markup:
    return Markup(
        '<label><input type="checkbox" name="{}" value="{}"{}> {}</label>'
    ).format(
        field.name,
        field.yes_value,
        _checked(current is ConsentState.GRANTED, Markup(" checked")),
        field.label,
    )


def _radio(field: ConsentField, current: ConsentState | None) -> Markup:
    choices = Markup("").join(
        Markup('<label><input type="radio" name="{}" value="{}"{}> {}</label>').format(
            field.name, value, _checked(current is state, Markup(" checked")), label
        )
        for value, label, state in _choices(field)
    )
    return Markup("<fieldset><legend>{}</legend>{}</fieldset>").format(
        field.label, choices
    )


def _select(field: ConsentField, current: ConsentState | None) -> Markup:
    options = Markup("").join(
        Markup('<option value="{}"{}>{}</option>').format(
            value, _checked(current is state, Markup(" selected")), label
        )
        for value, label, state in _choices(field)
    )
    return Markup(
        '<label for="{0}-select">{1}</label><select id="{0}-select" name="{0}">'
        '<option value=""></option>{2}</select>'
    ).format(field.name, field.label, options)


def _choices(field: ConsentField) -> list[tuple[str, str, ConsentState]]:
    return [
        (field.yes_value, field.yes_label, ConsentState.GRANTED),
        (field.no_value, field.no_label, ConsentState.REFUSED),
    ]


_WIDGETS: Final = {
    Widget.CHECKBOX: _checkbox,
    Widget.RADIO: _radio,
    Widget.SELECT: _select,
}


def render_opt_out_form(
    form: Form, action_url: str, hidden: Mapping[str, str] | None = None
) -> Markup:
    """Render a tracking opt-out form as HTML, texts escaped.

    Args:
        form: A tracking opt-out form.
        action_url: Where the form posts to (http, https or relative).
        hidden: Hidden fields to carry, such as the signed link token.

    Raises:
        InvalidValueError: not an opt-out form, or an unsafe URL.
    """
    wording = form.opt_out_text
    if wording is None:
        raise InvalidValueError("form", "not a tracking opt-out form", form.form_id)
    carried = Markup("").join(
        Markup('<input type="hidden" name="{}" value="{}">').format(name, value)
        for name, value in (hidden or {}).items()
    )

    return Markup(
        '<form class="tc-opt-out" method="post" action="{}"><h2>{}</h2><p>{}</p>'
        '{}<button type="submit">{}</button></form>'
    ).format(
        check_link("action_url", action_url),
        wording.heading,
        wording.explanation,
        carried,
        wording.button,
    )


def render_opt_out_offer(form: Form, refuse_url: str) -> Markup:
    """Render the unsubscribe form's "offer tracking opt-out" part as HTML.

    Args:
        form: An unsubscribe form.
        refuse_url: The page that records the refusal (http, https or relative);
            the offer's field is added to its query, so the host passes the
            request's parameters to `handle_submission` as they come.

    Returns:
        The explanation and the link, texts escaped; empty when the option is off.

    Raises:
        InvalidValueError: an unsafe URL, or one already carrying the offer's
            field.
    """
    offer = form.opt_out_offer
    if offer is None:
        return Markup("")
    base = check_link("refuse_url", refuse_url)
    href = with_parameter("refuse_url", base, offer.field_name, _OFFER_YES)

    return Markup(
        '<div class="tc-opt-out-offer"><p>{}</p><a href="{}">{}</a></div>'
    ).format(offer.explanation, href, offer.link_text)
