"""Tests of the cookie banner: configuration, rendering and the answer's event."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from hypothesis import given

from tests.strategies import (
    banner_configs,
    css_colours,
    dangerous_links,
    off_site_relative_links,
    safe_links,
)
from trackconsent import Answer, InvalidValueError, InvalidValuesError, Source
from trackconsent.capture._links import check_link, normalise_link
from trackconsent.capture.banner import (
    BANNER_ID,
    BannerColours,
    BannerConfig,
    BannerPosition,
    banner_answer_event,
    css_colour,
    render_banner,
)
from trackconsent.capture.visitor import (
    CookieScheme,
    PostedAnswer,
    Via,
    read_posted_answer,
    script_text,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
HOSTILE_TEXTS = ("<img src=x onerror=alert(1)>", 'OK" onfocus="alert(1)')
HOSTILE_LINKS = (
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,x",
)


def _config(**changes: object) -> BannerConfig:
    data: dict[str, object] = {
        "enabled": True,
        "privacy_policy_url": "/privacy",
        "wording_version": "2024-06",
    }
    data.update(changes)
    return BannerConfig.load(data)


class _Page(HTMLParser):
    """Parses a fragment as a browser tokenizer would: elements, attributes and
    the text inside each element, script bodies apart.
    """

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: dict[str, str] = {}
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._open and self._open[-1] == tag:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._open and self._open[-1] != "script":
            key = self._open[-1]
            self.text[key] = self.text.get(key, "") + data


def _page(markup: str) -> _Page:
    page = _Page()
    page.feed(markup)
    page.close()
    return page


BANNER_ELEMENTS = ["div", "p", "a", "button", "button", "script"]


def _only_the_banners_own_elements(page: _Page) -> bool:
    """The banner's elements, in order, and not one event-handler attribute."""
    tags = [tag for tag, _ in page.elements]
    handlers = [
        name for _, attrs in page.elements for name in attrs if name.startswith("on")
    ]
    return tags == BANNER_ELEMENTS and not handlers


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_case_1_hostile_texts_show_as_text(text: str) -> None:
    """Given a message and labels holding markup, then the banner has only its
    own elements, no event attribute, and shows each text as written.
    """
    config = _config(
        message=text, accept_label=text, refuse_label=text, more_info_label=text
    )

    page = _page(render_banner(config))

    assert _only_the_banners_own_elements(page)
    assert page.text["p"] == text
    assert page.text["a"] == text


@pytest.mark.parametrize("link", HOSTILE_LINKS)
def test_case_2_script_and_data_links_are_refused_when_loaded(link: str) -> None:
    """Given a privacy policy link with a script or data scheme, however spelled,
    then loading the configuration fails naming the field.
    """
    with pytest.raises(InvalidValuesError) as caught:
        _config(privacy_policy_url=link)

    assert [error.path for error in caught.value.errors] == ["privacy_policy_url"]
    assert caught.value.errors[0].value == link


@pytest.mark.parametrize(
    "link",
    [
        "&#106;avascript:alert(1)",
        "java&#x09;script:alert(1)",
        "javascript&colon;alert(1)",
        "&amp;#106;avascript:alert(1)",
        " javascript:alert(1)",
        "\x01javascript:alert(1)",
        "java\nscript:alert(1)",
        "vbscript:msgbox(1)",
        "/privacy?a='x'",
        '/privacy"onmouseover="alert(1)',
        "/p&quot;onmouseover=&quot;alert(1)",
        "https://",
        "http://[::1",
        "",
    ],
)
def test_links_with_entities_quotes_or_controls_are_refused(link: str) -> None:
    """Given a link hiding a scheme or a quote behind references, spaces or
    controls, then it is refused.
    """
    with pytest.raises(InvalidValueError, match="privacy_policy_url"):
        check_link("privacy_policy_url", link)


@given(dangerous_links())
def test_every_disguise_of_a_script_link_is_refused(link: str) -> None:
    """Given a script or data link in any spelling browsers forgive, then it is
    refused.
    """
    with pytest.raises(InvalidValueError):
        check_link("privacy_policy_url", link)


@given(off_site_relative_links())
def test_every_spelling_of_a_link_to_another_host_without_a_scheme_is_refused(
    link: str,
) -> None:
    """Given ``//host/path`` in any spelling a browser reads the same way
    (backslashes, references, tabs, leading spaces), then it is refused as a
    link to another host, not taken as relative.
    """
    with pytest.raises(InvalidValueError, match=r"^privacy_policy_url: "):
        check_link("privacy_policy_url", link)


def test_a_protocol_relative_banner_link_is_refused_naming_the_field() -> None:
    """Given ``//evil.example/`` as the privacy policy, then the banner is
    refused with the rule that says why.
    """
    with pytest.raises(InvalidValueError, match="link to another host"):
        BannerConfig(privacy_policy_url="//evil.example/", wording_version="v1")


@given(safe_links)
def test_http_https_and_relative_links_are_accepted_unchanged(link: str) -> None:
    """Given an http, https or relative link, then it is accepted as given."""
    assert check_link("privacy_policy_url", link) == link


def test_normalising_strips_what_browsers_strip() -> None:
    """Given references, tabs and leading controls, then the link is normalised."""
    assert normalise_link("\x01 j&#x61;va\tscr&amp;#105;pt:x ") == "javascript:x"


@given(css_colours)
def test_css_colours_are_accepted_and_written_canonically(colour: str) -> None:
    """Given any CSS colour, then its canonical form is a colour with the same
    canonical form.
    """
    canonical = css_colour(colour)

    assert canonical.startswith("rgba(")
    assert css_colour(canonical) == canonical


@pytest.mark.parametrize(
    "colour",
    ["", "blurple", "red; background:url(x)", "expression(alert(1))", "currentColor"],
)
def test_what_is_not_a_css_colour_is_refused(colour: str) -> None:
    """Given a value that is not a CSS colour, then the field is named."""
    with pytest.raises(InvalidValueError, match="background: not a CSS colour"):
        BannerColours(background=colour)


def test_a_colour_without_a_conversion_to_srgb_is_refused_saying_so() -> None:
    """Given a display-p3 colour, then it is refused as not an sRGB colour."""
    with pytest.raises(InvalidValueError, match="text: not an sRGB colour"):
        BannerColours(text="color(display-p3 1 0 0)")


def test_every_bad_field_of_a_configuration_is_reported_at_once() -> None:
    """Given a configuration with several faults, then all are listed with paths."""
    with pytest.raises(InvalidValuesError) as caught:
        BannerConfig.load(
            {
                "enabled": "yes",
                "message": "  ",
                "privacy_policy_url": "data:text/html,x",
                "colours": {"text": "nope", "shadow": "red"},
                "position": "left",
                "font": "Comic Sans",
            }
        )

    assert sorted(error.path for error in caught.value.errors) == [
        "colours.shadow",
        "colours.text",
        "enabled",
        "font",
        "message",
        "position",
        "privacy_policy_url",
        "wording_version",
    ]


def test_a_disabled_banner_renders_nothing() -> None:
    """Given the banner disabled, then there is nothing to put on the page."""
    assert render_banner(_config(enabled=False)) == ""


def test_the_banner_starts_hidden_at_its_position_with_its_colours() -> None:
    """Given colours and a top position, then the banner is hidden until the
    script shows it, sits at the top and uses the canonical colours.
    """
    config = _config(position="top", colours={"background": "RebeccaPurple"})

    div = _page(render_banner(config)).elements[0][1]

    assert div["id"] == BANNER_ID
    assert "hidden" in div
    assert "top:0" in (div["style"] or "")
    assert "background:rgba(102, 51, 153, 1)" in (div["style"] or "")


def test_the_script_configuration_names_the_banner_and_its_wording() -> None:
    """Given a scheme and an endpoint, then the script's configuration carries
    them with the banner's id and wording version.
    """
    scheme = CookieScheme(domain="shop.test", secure=False)

    script = _page(render_banner(_config(), scheme=scheme, endpoint="/consent"))
    config = json.loads(script.elements[-1][1]["data-trackconsent"] or "")

    assert config == {
        **scheme.script_settings(),
        "bannerId": BANNER_ID,
        "wordingVersion": "2024-06",
        "endpoint": "/consent",
    }


@given(banner_configs())
def test_any_texts_render_as_text_with_only_the_banners_elements(
    config: BannerConfig,
) -> None:
    """Given any texts, then the enabled banner's elements are its own, no
    attribute is an event handler, and each text reads back as given.
    """
    enabled = BannerConfig.load({**config.as_dict(), "enabled": True})

    markup = str(render_banner(enabled))
    page = _page(markup)

    assert _only_the_banners_own_elements(page)
    assert page.text["p"] == enabled.message
    assert page.elements[2][1]["href"] == enabled.privacy_policy_url
    assert markup.endswith(script_text() + "</script>")


@given(banner_configs())
def test_a_configuration_survives_a_round_trip_through_plain_data(
    config: BannerConfig,
) -> None:
    """Given any configuration, then loading its plain data gives it back."""
    assert BannerConfig.load(config.as_dict()) == config


def test_a_banner_answer_becomes_a_cookie_banner_event_with_the_wording() -> None:
    """Given a posted banner refusal, then the event's source is the cookie
    banner and its evidence holds the wording version.
    """
    posted = PostedAnswer(Answer.REFUSED, Via.BANNER, "2024-06")

    event = banner_answer_event(
        posted, contact_id="c-7", config=_config(), now=NOW, user_agent="UA"
    )

    assert event.source is Source.COOKIE_BANNER
    assert event.answer is Answer.REFUSED
    assert event.evidence.wording_version == "2024-06"
    assert event.evidence.user_agent == "UA"


def test_the_same_answer_posted_twice_is_the_same_event() -> None:
    """Given one answer received twice at the same moment, then both events have
    one id, so a store keeps it once.
    """
    posted = PostedAnswer(Answer.GRANTED, Via.BANNER, "2024-06")

    first, second = (
        banner_answer_event(posted, contact_id="c-7", config=_config(), now=NOW)
        for _ in range(2)
    )

    assert first.event_id == second.event_id


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        (PostedAnswer(Answer.GRANTED, Via.BANNER, "2023-01"), "wording"),
        (PostedAnswer(Answer.GRANTED, Via.BANNER, None), "wording"),
        (PostedAnswer(Answer.GRANTED, Via.SCRIPT, "2024-06"), "via"),
    ],
)
def test_an_answer_to_another_wording_or_source_is_refused(
    posted: PostedAnswer, field: str
) -> None:
    """Given an answer to an old wording, or one from the site's script, then the
    banner's event is refused naming the field.
    """
    with pytest.raises(InvalidValueError) as caught:
        banner_answer_event(posted, contact_id="c-7", config=_config(), now=NOW)

    assert caught.value.path == field


def test_positions_are_top_or_bottom() -> None:
    """Given the position as stored text, then it becomes the enum member."""
    assert _config(position="top").position is BannerPosition.TOP
    assert _config().position is BannerPosition.BOTTOM


@pytest.mark.skip(
    reason="Banner answers posted to the host are not authenticated: the posted"
    " form carries no token tying it to a rendered page"
)
def test_an_answer_posted_without_the_pages_token_is_refused() -> None:
    """Given a banner answer posted without a token from the rendered page, then
    it is refused instead of becoming an event.
    """
    posted = read_posted_answer(b"answer=granted&via=banner&wording=2024-06")

    with pytest.raises(InvalidValueError):
        banner_answer_event(posted, contact_id="c-7", config=_config(), now=NOW)


@pytest.mark.skip(
    reason="Colours outside sRGB notations are refused: tinycss2 converts only"
    " sRGB notations, so lab(), oklch() and display-p3 colours cannot be written"
    " canonically"
)
@pytest.mark.parametrize("colour", ["lab(50% 40 59.5)", "oklch(70% 0.1 200)"])
def test_colours_in_other_colour_spaces_are_accepted(colour: str) -> None:
    """Given a lab() or oklch() colour, then it is accepted as a CSS colour."""
    assert BannerColours(background=colour).background == colour
