"""Hypothesis strategies for trackconsent's tests, in one place.

The consent-record strategies ship with the package (hosts use them with the
contract suite); they are re-exported here beside the ones only our tests use.
"""

from __future__ import annotations

from hypothesis import strategies as st

from trackconsent import (
    Channel,
    Channels,
    Consent,
    ConsentState,
    Contact,
    Counters,
    Engagement,
    EngagementKind,
    InjectionRule,
    Message,
    Outcome,
    PageView,
    ProjectSettings,
    RecipientResult,
    Regime,
    ResultSet,
    SiteConfig,
    Trigger,
)
from trackconsent.capture.banner import BannerColours, BannerConfig, BannerPosition
from trackconsent.capture.visitor import CookieScheme, SameSite
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
    "banner_configs",
    "consents",
    "contact_ids",
    "cookie_schemes",
    "css_colours",
    "dangerous_links",
    "event_lists",
    "events",
    "evidence",
    "export_contacts",
    "flat_records",
    "json_values",
    "member_contents",
    "member_names",
    "offsets",
    "page_views",
    "project_settings",
    "safe_links",
    "site_configs",
]
__all__ += [
    "counters",
    "enabled_settings",
    "engagements",
    "injection_rules",
    "messages",
    "provider_data",
    "provider_names",
    "provider_records",
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


# Strategies of the visit tracker, its cookies and the cookie banner.

_banner_text = st.text(min_size=1, max_size=60).filter(str.strip)
_host_labels = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_host_names = st.lists(_host_labels, min_size=1, max_size=3).map(".".join)


@st.composite
def site_configs(draw: st.DrawFn) -> SiteConfig:
    """Draw a site with every combination of its options."""
    return SiteConfig(
        site_id=draw(st.sampled_from(["shop", "blog"]) | _banner_text),
        domains=draw(st.lists(_host_names, min_size=1, max_size=3)),
        first_page_untracked=draw(st.booleans()),
        honour_gpc=draw(st.booleans()),
        honour_dnt=draw(st.booleans()),
    )


@st.composite
def page_views(draw: st.DrawFn) -> PageView:
    """Draw a page view: any position, answer and signals, contact or not."""
    contact = draw(st.none() | st.builds(Contact, id=contact_ids, consent=consents()))
    return PageView(
        position=draw(st.integers(1, 3) | st.integers(1, 10_000)),
        visitor_answer=draw(st.sampled_from(ConsentState)),
        gpc=draw(st.booleans()),
        dnt=draw(st.booleans()),
        contact=contact,
    )


@st.composite
def cookie_schemes(draw: st.DrawFn) -> CookieScheme:
    """Draw a valid cookie scheme; SameSite=None always with Secure."""
    same_site = draw(st.sampled_from(SameSite))
    secure = True if same_site is SameSite.NONE else draw(st.booleans())
    token = st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True)
    names = draw(st.lists(token, min_size=2, max_size=2, unique=True))
    return CookieScheme(
        answer_cookie=names[0],
        tracking_cookie=names[1],
        path=draw(st.sampled_from(["/", "/shop", "/a/b/"])),
        domain=draw(st.none() | _host_names),
        same_site=same_site,
        secure=secure,
        max_age=draw(st.integers(1, 400 * 24 * 60 * 60)),
    )


css_colours = (
    st.sampled_from(
        [
            "red",
            "RebeccaPurple",
            "#abc",
            "#a1b2c3",
            "#a1b2c380",
            "transparent",
            "hwb(12 50% 0%)",
            "rgb(10 20 30 / 50%)",
            "color(srgb 1 0 .5)",
        ]
    )
    | st.builds(
        "rgb({}, {}, {})".format,
        st.integers(0, 255),
        st.integers(0, 255),
        st.integers(0, 255),
    )
    | st.builds(
        "hsl({}, {}%, {}%)".format,
        st.integers(0, 360),
        st.integers(0, 100),
        st.integers(0, 100),
    )
)
"""CSS colours in the spellings customers use."""

_path_text = st.from_regex(r"[A-Za-z0-9._~/%-]{0,30}", fullmatch=True)

safe_links = (
    st.builds("https://{}/{}".format, _host_names, _path_text)
    | st.builds("HTTP://{}/{}".format, _host_names, _path_text)
    | st.builds("/{}".format, _path_text)
    | st.builds("{}.html".format, _host_labels)
)
"""Links a banner may carry: http, https (any case), relative."""


def _entity(char: str) -> st.SearchStrategy[str]:
    return st.sampled_from([char, f"&#{ord(char)};", f"&#x{ord(char):x};"])


@st.composite
def dangerous_links(draw: st.DrawFn) -> str:
    """Draw a script or data link disguised the ways browsers forgive.

    Case is mixed, tabs and newlines are slipped in, characters are written as
    character references, and controls or spaces lead; a browser still reads
    each as the ``javascript:`` or ``data:`` link it hides.
    """
    target = draw(st.sampled_from(["javascript:alert(1)", "data:text/html,x"]))
    scheme, _, rest = target.partition(":")
    parts = []
    for char in scheme + ":":
        cased = draw(st.sampled_from([char.lower(), char.upper()]))
        parts.append(draw(_entity(cased)))
        parts.append(draw(st.sampled_from(["", "", "\t", "\n", "\r"])))
    lead = draw(st.sampled_from(["", " ", "\x01", "&#32;"]))
    return lead + "".join(parts) + rest


_markup_text = st.sampled_from(
    [
        "<img src=x onerror=alert(1)>",
        'OK" onfocus="alert(1)',
        "<script>alert(1)</script>",
        "&lt;b&gt; &amp; ' \" </p>",
    ]
)


@st.composite
def banner_configs(draw: st.DrawFn) -> BannerConfig:
    """Draw a valid banner whose texts may be any text, markup included."""
    text = _markup_text | _banner_text
    return BannerConfig(
        enabled=draw(st.booleans()),
        message=draw(text),
        accept_label=draw(text),
        refuse_label=draw(text),
        more_info_label=draw(text),
        privacy_policy_url=draw(safe_links),
        wording_version=draw(text),
        colours=BannerColours(*(draw(css_colours) for _ in range(4))),
        position=draw(st.sampled_from(BannerPosition)),
    )


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
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Cf", "Zl", "Zp")),
    min_size=1,
    max_size=40,
).filter(str.strip)
"""Form texts, markup and quotes included: rendering must escape them. Control
and format characters are refused in every text of the record."""

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
# --- The contact data export -------------------------------------------------

member_names = st.text(
    alphabet=st.characters(exclude_categories=("Cs",))
    | st.sampled_from("/\\.:\x00\u202e\u200b\u200d\U0001f468\U0001f3fb\ufe0f"),
    max_size=40,
)
"""Any text a name may be made from: separators, dots, controls, bidi overrides,
zero-width characters, emoji and their joiners."""

member_contents = st.binary(max_size=3000) | st.sampled_from([b"", b"\x00" * 70000])
"""Member bytes, empty and larger-than-a-buffer ones included."""

_json_keys = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="."),
    min_size=1,
    max_size=12,
)
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=30)
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_json_keys, inner, max_size=3)
    ),
    max_leaves=8,
)
"""Values JSON holds: scalars, lists and mappings, nested."""

flat_records = st.dictionaries(
    _json_keys,
    _json_scalars | st.dictionaries(_json_keys, _json_scalars, min_size=1, max_size=2),
    min_size=1,
    max_size=5,
)
"""Records a CSV twin can hold: scalars and mappings of scalars."""

provider_records = st.lists(flat_records, max_size=6) | st.lists(
    st.dictionaries(_json_keys, json_values, max_size=5), max_size=6
)
"""One provider's records: all flat (tabular), or anything JSON holds."""

provider_names = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"))
    | st.sampled_from("/\\.\u202e"),
    min_size=1,
    max_size=20,
).filter(str.strip)
"""Names a host may give its data providers, slashes and bidi overrides too."""


@st.composite
def provider_data(draw: st.DrawFn) -> dict[str, list[dict[str, object]]]:
    """Draw a few providers' records by distinct, non-reserved provider name."""
    from trackconsent.export.archives import safe_file_name
    from trackconsent.export.dossier import RESERVED_NAMES

    names = draw(
        st.lists(
            provider_names,
            max_size=3,
            unique_by=lambda name: safe_file_name(name).casefold(),
        ).filter(
            lambda names: (
                not any(
                    safe_file_name(name).casefold() in RESERVED_NAMES for name in names
                )
            )
        )
    )
    return {name: draw(provider_records) for name in names}


@st.composite
def export_contacts(draw: st.DrawFn) -> Contact:
    """Draw a contact with channels and profile fields."""
    return Contact(
        id=draw(contact_ids),
        channels=Channels(
            email=draw(st.none() | st.emails()),
            phone=draw(
                st.none() | st.from_regex(r"\+[1-9][0-9]{6,12}", fullmatch=True)
            ),
            device_tokens=draw(
                st.lists(st.text("abcdef0123456789", min_size=8), max_size=2)
            ),
        ),
        fields=draw(st.dictionaries(_json_keys, json_values, max_size=4)),
    )


# -- Contact files (trackconsent.capture.csvio) --------------------------------

YES_CELLS = ("1", "true", "TRUE", "True", " Yes ", "yes", "YES")
NO_CELLS = ("0", "false", "FALSE", "False", "no", " No ", "NO")
BAD_FLAG_CELLS = ("maybe", "x", "2", "oui", "yess", "-")
BAD_DATE_CELLS = ("2024-03", "14:22", "1A2B", "31/31/2024", "yesterday", "16/03/15")


@st.composite
def import_rows(draw: st.DrawFn) -> list[str]:
    """Draw one good row: contact id, a yes/no spelling, an ISO moment."""
    contact = draw(st.sampled_from([f"c{n}@example.com" for n in range(8)]))
    granted = draw(st.booleans())
    flag = draw(st.sampled_from(YES_CELLS if granted else NO_CELLS))
    return [contact, flag, draw(aware_datetimes).isoformat()]


@st.composite
def bad_import_rows(draw: st.DrawFn) -> list[str]:
    """Draw one bad row: a good row with its answer or its date spoiled."""
    row = draw(import_rows())
    if draw(st.booleans()):
        row[1] = draw(st.sampled_from(BAD_FLAG_CELLS))
    else:
        row[2] = draw(st.sampled_from(BAD_DATE_CELLS))
    return row


__all__ += [
    "BAD_DATE_CELLS",
    "BAD_FLAG_CELLS",
    "NO_CELLS",
    "YES_CELLS",
    "bad_import_rows",
    "import_rows",
]


@st.composite
def off_site_relative_links(draw: st.DrawFn) -> str:
    """Draw a link without a scheme that a browser reads as another host's.

    Two leading slashes, either of which may be a backslash or a character
    reference, with tabs or newlines between them and controls or spaces in
    front: every one is ``//host/path`` to a browser.
    """
    slashes = [draw(st.sampled_from(["/", "\\", "&#47;", "&#x2f;"])) for _ in "//"]
    gap = draw(st.sampled_from(["", "\t", "\n"]))
    lead = draw(st.sampled_from(["", " ", "\x01", "&#32;"]))
    host, path = draw(_host_names), draw(_path_text)
    return f"{lead}{slashes[0]}{gap}{slashes[1]}{host}/{path}"


__all__ += ["off_site_relative_links"]


_DATE_PARTS = (
    "2024", "1999", "0001", "9999", "24", "03", "16", "31", "00", "-", "/", ".",
    ":", " ", "T", "Z", "+", "+25:00", "+24:00", "-24:00", "+2500", "+23:59",
    "-9999", "UTC", "GMT", "CET", "Mar", "March", "pm", "am", "1e9", "\u0660",
)  # fmt: skip


@st.composite
def date_cells(draw: st.DrawFn) -> str:
    """Draw any text for a date cell: arbitrary, or pieces of dates run together."""
    if draw(st.booleans()):
        # Any text a UTF-8 file can hold: lone surrogates cannot be encoded.
        return draw(st.text(st.characters(exclude_categories=["Cs"]), max_size=40))
    return "".join(draw(st.lists(st.sampled_from(_DATE_PARTS), max_size=12)))


__all__ += ["date_cells"]
