"""The landing-page cookie banner: its configuration, its HTML, its answers.

The banner is available whether the tracking-consent feature is on or off. A
project configures it (`BannerConfig`, validated with `BannerConfig.load` when
the configuration is read), the host puts `render_banner` on every landing
page, and the visitor's click reaches the host's endpoint, which turns it into
a consent event with `banner_answer_event`::

    banner = BannerConfig.load(project_row["banner"])
    html = render_banner(banner, scheme=scheme, endpoint="/consent/answer")
    ...
    # in the endpoint receiving the script's POST
    posted = read_posted_answer(request.body)
    event = banner_answer_event(
        posted, contact_id=contact.id, config=banner, now=now, ip=ip
    )
    store.append([event])

Every text is rendered as text, never as markup; colours must be CSS colours
and are written out in a canonical form; links must be http, https or
relative once read the way a browser reads them.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import attrs
import tinycss2.color4
from markupsafe import Markup

from trackconsent.capture._links import check_link
from trackconsent.capture.visitor import (
    CookieScheme,
    PostedAnswer,
    Via,
    answer_event,
    script_tag,
)
from trackconsent.errors import FieldError, InvalidValueError, InvalidValuesError
from trackconsent.model import ConsentEvent, Source

__all__ = [
    "BANNER_ID",
    "BannerColours",
    "BannerConfig",
    "BannerPosition",
    "banner_answer_event",
    "css_colour",
    "render_banner",
]

BANNER_ID: Final = "trackconsent-banner"
"""The ``id`` of the banner element; the script finds the banner by it."""

_MAX_TEXT = 1024
_MAX_VERSION = 128
_MAX_COLOUR = 64

_Class = TypeVar("_Class")


class BannerPosition(enum.Enum):
    """Where the banner sits on the page."""

    TOP = "top"
    BOTTOM = "bottom"


def css_colour(value: str) -> str:
    """Return a CSS colour in the canonical ``rgba(r, g, b, a)`` form.

    Names, hex, ``rgb()``, ``hsl()``, ``hwb()`` and ``color(srgb ...)`` are
    accepted in every spelling CSS allows; channels out of gamut are clamped.

    Raises:
        InvalidValueError: ``value`` is not a CSS colour, or one in a colour
            space without a conversion to sRGB here (``lab()``, ``oklch()``,
            ``color(display-p3 ...)``).
    """
    parsed = tinycss2.color4.parse_color(value)
    if parsed is None or isinstance(parsed, str):
        # A string is ``currentcolor``: a keyword, not a colour of its own.
        raise InvalidValueError("colour", "not a CSS colour", value)
    try:
        *channels, alpha = parsed.to("srgb")
    except NotImplementedError:
        raise InvalidValueError("colour", "not an sRGB colour", value) from None
    red, green, blue = (round(min(max(part, 0.0), 1.0) * 255) for part in channels)

    return f"rgba({red}, {green}, {blue}, {round(alpha, 3):g})"


def _colour(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or len(value) > _MAX_COLOUR:
        raise InvalidValueError(attribute.name, "not a CSS colour", value)
    try:
        css_colour(value)
    except InvalidValueError as caught:
        raise InvalidValueError(attribute.name, caught.rule, value) from None


def _text(limit: int) -> Callable[[object, attrs.Attribute[Any], object], None]:
    def check(
        _instance: object, attribute: attrs.Attribute[Any], value: object
    ) -> None:
        if not isinstance(value, str) or not value.strip():
            raise InvalidValueError(attribute.name, "must be a non-empty string", value)
        if len(value) > limit:
            rule = f"longer than {limit} characters"
            raise InvalidValueError(attribute.name, rule, value)

    return check


def _link(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    check_link(attribute.name, value)


def _boolean(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidValueError(attribute.name, "not a boolean", value)


def _to_position(value: object) -> object:
    if isinstance(value, str):
        return {member.value: member for member in BannerPosition}.get(value, value)
    return value


def _position(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, BannerPosition):
        raise InvalidValueError(attribute.name, "not top or bottom", value)


def _load(cls: type[_Class], data: object, prefix: str = "") -> _Class:
    """Build an attrs class from a mapping, reporting every bad field at once."""
    if not isinstance(data, Mapping):
        raise InvalidValueError(prefix.rstrip(".") or "config", "not a mapping", data)
    fields = attrs.fields_dict(cls)  # type: ignore[arg-type]
    errors: list[FieldError] = []
    values: dict[str, object] = {}
    for name, value in data.items():
        field = fields.get(name)
        if field is None:
            errors.append(FieldError(f"{prefix}{name}", "unknown field", value))
            continue
        try:
            values[name] = _field_value(field, value)
        except InvalidValuesError as caught:
            errors.extend(caught.errors)
        except InvalidValueError as caught:
            errors.append(FieldError(f"{prefix}{name}", caught.rule, caught.value))
    for name, field in fields.items():
        if field.default is attrs.NOTHING and name not in data:
            errors.append(FieldError(f"{prefix}{name}", "required", None))
    if errors:
        raise InvalidValuesError(errors, what="banner configuration")

    return cls(**values)


def _field_value(field: attrs.Attribute[Any], value: object) -> object:
    if field.converter is not None:
        value = field.converter(value)  # type: ignore[operator]
    if field.validator is not None:
        field.validator(None, field, value)

    return value


@attrs.frozen
class BannerColours:
    """The banner's colours, each any CSS colour (``#1f2933``, ``rebeccapurple``,
    ``rgb(0, 0, 0)``, ``hsl(...)``), stored as given.
    """

    background: str = attrs.field(default="#1f2933", validator=_colour)
    text: str = attrs.field(default="#ffffff", validator=_colour)
    button_background: str = attrs.field(default="#ffffff", validator=_colour)
    button_text: str = attrs.field(default="#1f2933", validator=_colour)


def _to_colours(value: object) -> object:
    if isinstance(value, Mapping):
        return _load(BannerColours, value, "colours.")
    return value


@attrs.frozen(kw_only=True)
class BannerConfig:
    """A project's cookie banner, validated on construction.

    Attributes:
        enabled: Whether landing pages show the banner.
        message: The explanation of cookie use.
        accept_label: The text of the button that accepts tracking.
        refuse_label: The text of the button that refuses tracking.
        more_info_label: The text of the link to the privacy policy.
        privacy_policy_url: The privacy policy: an http, https or relative link.
        wording_version: Names this wording; recorded with every answer.
        colours: The banner's colours.
        position: Top or bottom of the page.
    """

    enabled: bool = attrs.field(default=False, validator=_boolean)
    message: str = attrs.field(
        default="We use cookies to measure visits to our pages.",
        validator=_text(_MAX_TEXT),
    )
    accept_label: str = attrs.field(default="Accept", validator=_text(_MAX_TEXT))
    refuse_label: str = attrs.field(default="Refuse", validator=_text(_MAX_TEXT))
    more_info_label: str = attrs.field(
        default="More information", validator=_text(_MAX_TEXT)
    )
    privacy_policy_url: str = attrs.field(validator=_link)
    wording_version: str = attrs.field(validator=_text(_MAX_VERSION))
    colours: BannerColours = attrs.field(factory=BannerColours, converter=_to_colours)
    position: BannerPosition = attrs.field(
        default=BannerPosition.BOTTOM, converter=_to_position, validator=_position
    )

    @colours.validator
    def _check_colours(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, BannerColours):
            raise InvalidValueError(attribute.name, "not BannerColours", value)

    @classmethod
    def load(cls, data: Mapping[str, object]) -> BannerConfig:
        """Build a configuration from stored data, such as parsed JSON.

        Raises:
            InvalidValuesError: every unknown, missing or invalid field at once,
                with paths such as ``colours.background``.
        """
        return _load(cls, data)

    def as_dict(self) -> dict[str, object]:
        """Return the configuration as plain data that `load` reads back."""
        data = attrs.asdict(self, recurse=True)
        data["position"] = self.position.value

        return data


def _style(config: BannerConfig) -> str:
    colours = config.colours
    edge = "top" if config.position is BannerPosition.TOP else "bottom"
    return (
        f"position:fixed;left:0;right:0;{edge}:0;z-index:2147483647;"
        f"padding:1em;background:{css_colour(colours.background)};"
        f"color:{css_colour(colours.text)}"
    )


def _button_style(config: BannerConfig) -> str:
    colours = config.colours
    return (
        f"background:{css_colour(colours.button_background)};"
        f"color:{css_colour(colours.button_text)};margin-left:.5em"
    )


_BANNER: Final = Markup(
    '<div id="{id}" class="trackconsent-banner" role="region"'
    ' aria-labelledby="{id}-message" style="{style}" hidden>'
    '<p id="{id}-message" class="trackconsent-message">{message}</p>'
    '<a class="trackconsent-more" href="{url}" rel="noopener noreferrer">{more}</a>'
    '<button type="button" class="trackconsent-refuse"'
    ' data-trackconsent-answer="refused" style="{button}">{refuse}</button>'
    '<button type="button" class="trackconsent-accept"'
    ' data-trackconsent-answer="granted" style="{button}">{accept}</button>'
    "</div>"
)


def render_banner(
    config: BannerConfig,
    *,
    scheme: CookieScheme | None = None,
    endpoint: str | None = None,
    nonce: str | None = None,
) -> Markup:
    """Return the banner's HTML and script, to put on every landing page.

    Nothing is returned when the banner is disabled. The banner starts hidden;
    the script shows it to visitors who have not answered yet.

    Args:
        config: The project's banner.
        scheme: The site's cookie scheme (the default scheme if omitted).
        endpoint: Where the script posts each answer for `banner_answer_event`.
        nonce: The page's Content-Security-Policy nonce, if it uses one.
    """
    if not config.enabled:
        return Markup("")
    banner = _BANNER.format(
        id=BANNER_ID,
        style=_style(config),
        message=config.message,
        url=config.privacy_policy_url,
        more=config.more_info_label,
        button=_button_style(config),
        refuse=config.refuse_label,
        accept=config.accept_label,
    )
    extra = {"bannerId": BANNER_ID, "wordingVersion": config.wording_version}

    return banner + script_tag(scheme, endpoint=endpoint, nonce=nonce, extra=extra)


def banner_answer_event(
    posted: PostedAnswer,
    *,
    contact_id: str,
    config: BannerConfig,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> ConsentEvent:
    """Turn a banner answer the script posted into a consent event.

    The event's source is the cookie banner and its evidence names the wording
    version, which must be the configuration's current one: an answer to a
    wording the project no longer shows cannot be vouched for.

    Args:
        posted: What the script posted, from
            `trackconsent.capture.visitor.read_posted_answer`.
        contact_id: The contact the host knows is visiting.
        config: The project's banner.
        now: When the host received the answer (aware).
        ip: The visitor's IP address, as evidence.
        user_agent: The visitor's user agent, as evidence.

    Raises:
        InvalidValueError: not a banner answer, or not the current wording.
    """
    if posted.via is not Via.BANNER:
        raise InvalidValueError("via", "not a banner answer", posted.via.value)
    if posted.wording_version != config.wording_version:
        rule = "not the banner's current wording version"
        raise InvalidValueError("wording", rule, posted.wording_version)
    return answer_event(
        posted,
        source=Source.COOKIE_BANNER,
        contact_id=contact_id,
        now=now,
        ip=ip,
        user_agent=user_agent,
        wording_version=config.wording_version,
    )
