"""The browser side of the visit tracker: cookies, the script, and the answers.

A site includes the script that ships with trackconsent (`script_tag`, or its
text from `script_text`) and calls, from its own JavaScript::

    trackconsent.stopTracking()   // store "refused", delete the tracking cookie
    trackconsent.allowTracking()  // store "granted"
    trackconsent.answer()         // "granted", "refused", or null

The answer lives in a first-party cookie. Both cookies, the answer and the
host's tracking cookie, are described once by a `CookieScheme`: the script
receives the scheme with its configuration and the host's own ``Set-Cookie``
headers come from `tracking_cookie` and `expired_tracking_cookie`, so the
script deletes the tracking cookie with exactly the Path and Domain it was set
with. The tracking cookie must therefore not be ``HttpOnly``.

On each request the host builds a `trackconsent.PageView` with
`read_page_view`, from the ``Cookie``, ``Sec-GPC`` and ``DNT`` headers. When the
script is given an endpoint, it also posts each answer there; the host turns
the posted form into a consent event with `read_posted_answer` and
`script_answer_event` (or `trackconsent.capture.banner.banner_answer_event`).
"""

from __future__ import annotations

import enum
import json
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from http.cookies import Morsel
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any, Final
from urllib.parse import parse_qsl

import attrs
from markupsafe import Markup

from trackconsent.capture._links import check_link
from trackconsent.errors import FieldError, InvalidValueError, InvalidValuesError
from trackconsent.model import (
    Answer,
    ConsentEvent,
    ConsentState,
    Contact,
    Evidence,
    Source,
)
from trackconsent.policy.journey import PageView

__all__ = [
    "DEFAULT_MAX_AGE",
    "CookieScheme",
    "PostedAnswer",
    "SameSite",
    "Via",
    "answer_event",
    "expired_tracking_cookie",
    "read_page_view",
    "read_posted_answer",
    "read_visitor_answer",
    "script_answer_event",
    "script_file",
    "script_tag",
    "script_text",
    "tracking_cookie",
]

logger = logging.getLogger(__name__)

DEFAULT_MAX_AGE: Final = 180 * 24 * 60 * 60
"""Six months, in seconds: how long an answer is kept before asking again."""

_MAX_AGE_CAP = 400 * 24 * 60 * 60  # browsers cap cookie lifetimes at 400 days
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 6265 cookie name
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
_PATH = re.compile(r"/[\x21-\x3a\x3c-\x7e]*")
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_DOMAIN = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")
_ANSWERS: Final = {"granted": ConsentState.GRANTED, "refused": ConsentState.REFUSED}


class SameSite(enum.Enum):
    """The ``SameSite`` attribute of both cookies."""

    LAX = "Lax"
    STRICT = "Strict"
    NONE = "None"


def _cookie_name(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if not isinstance(value, str) or _TOKEN.fullmatch(value) is None:
        raise InvalidValueError(attribute.name, "not a cookie name", value)


def _path(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or _PATH.fullmatch(value) is None:
        raise InvalidValueError(attribute.name, "not a cookie path from /", value)


def _domain(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str) or _DOMAIN.fullmatch(value) is None:
        raise InvalidValueError(attribute.name, "not a lower-case host name", value)


def _max_age(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    valid = isinstance(value, int) and not isinstance(value, bool)
    if not valid or not 0 < value <= _MAX_AGE_CAP:  # type: ignore[operator]
        rule = f"not a number of seconds from 1 to {_MAX_AGE_CAP}"
        raise InvalidValueError(attribute.name, rule, value)


def _same_site_secure(
    instance: CookieScheme, _attribute: attrs.Attribute[Any], secure: object
) -> None:
    if not isinstance(secure, bool):
        raise InvalidValueError("secure", "not a boolean", secure)
    if instance.same_site is SameSite.NONE and not secure:
        raise InvalidValueError("secure", "required with SameSite=None", secure)


@attrs.frozen
class CookieScheme:
    """How both first-party cookies are named and scoped, defined once.

    Attributes:
        answer_cookie: Holds the visitor's answer, ``granted`` or ``refused``.
        tracking_cookie: The host's visit-tracker cookie, deleted on refusal.
        path: The ``Path`` of both cookies.
        domain: The ``Domain`` of both cookies, or None for host-only cookies.
        same_site: The ``SameSite`` of both cookies.
        secure: Whether both cookies carry ``Secure`` (required with
            ``SameSite=None``; leave on for any site served over HTTPS).
        max_age: The lifetime of both cookies, in seconds.
    """

    answer_cookie: str = attrs.field(
        default="trackconsent_answer", validator=_cookie_name
    )
    tracking_cookie: str = attrs.field(
        default="trackconsent_visitor", validator=_cookie_name
    )
    path: str = attrs.field(default="/", validator=_path)
    domain: str | None = attrs.field(default=None, validator=_domain)
    same_site: SameSite = attrs.field(default=SameSite.LAX)
    secure: bool = attrs.field(default=True, validator=_same_site_secure)
    max_age: int = attrs.field(default=DEFAULT_MAX_AGE, validator=_max_age)

    @same_site.validator
    def _check_same_site(self, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, SameSite):
            raise InvalidValueError(attribute.name, "not a SameSite member", value)

    def script_settings(self) -> dict[str, object]:
        """The scheme as the script reads it from its configuration."""
        return {
            "answerCookie": self.answer_cookie,
            "trackingCookie": self.tracking_cookie,
            "path": self.path,
            "domain": self.domain,
            "sameSite": self.same_site.value,
            "secure": self.secure,
            "maxAge": self.max_age,
        }


def _set_cookie(scheme: CookieScheme, name: str, value: str, max_age: int) -> str:
    morsel: Morsel[str] = Morsel()
    morsel.set(name, value, value)
    morsel["path"] = scheme.path
    if scheme.domain is not None:
        morsel["domain"] = scheme.domain
    morsel["samesite"] = scheme.same_site.value
    morsel["secure"] = scheme.secure
    morsel["max-age"] = str(max_age)

    return morsel.OutputString()


def tracking_cookie(scheme: CookieScheme, value: str) -> str:
    """Return the ``Set-Cookie`` value that sets the tracking cookie.

    Args:
        scheme: The site's cookie scheme.
        value: The tracker's visitor id; cookie-safe characters only.

    Raises:
        InvalidValueError: ``value`` holds characters a cookie cannot carry.
    """
    if not value or _COOKIE_VALUE.fullmatch(value) is None:
        raise InvalidValueError("value", "not a cookie value", value)
    return _set_cookie(scheme, scheme.tracking_cookie, value, scheme.max_age)


def expired_tracking_cookie(scheme: CookieScheme) -> str:
    """Return the ``Set-Cookie`` value that deletes the tracking cookie."""
    return _set_cookie(scheme, scheme.tracking_cookie, "", 0)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == wanted:
            if not isinstance(value, str):
                raise InvalidValueError(f"headers[{key!r}]", "not a string", value)
            return value
    return None


def _require_scheme(scheme: object) -> None:
    if not isinstance(scheme, CookieScheme):
        raise InvalidValueError("scheme", "not a CookieScheme", scheme)


def read_visitor_answer(
    cookie_header: str | None, scheme: CookieScheme
) -> ConsentState:
    """Return the answer stored in the answer cookie, or unknown.

    The header is split by hand rather than with `http.cookies.SimpleCookie`,
    which drops every cookie of a header once it meets one malformed cookie:
    some other script's bad cookie would then hide a refusal.

    Args:
        cookie_header: The request's ``Cookie`` header, if any.
        scheme: The site's cookie scheme.

    Raises:
        InvalidValueError: the header is neither a string nor None, or the
            scheme is not a `CookieScheme`.
    """
    if cookie_header is not None and not isinstance(cookie_header, str):
        raise InvalidValueError("cookie_header", "not a string", cookie_header)
    _require_scheme(scheme)
    found = ConsentState.UNKNOWN
    for pair in (cookie_header or "").split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep and name == scheme.answer_cookie:
            found = _ANSWERS.get(value.strip().strip('"'), found)
            if found is ConsentState.REFUSED:
                # Duplicates come from the same name under several paths or
                # domains; a refusal among them must win.
                break

    return found


def read_page_view(
    headers: Mapping[str, str],
    *,
    position: int,
    scheme: CookieScheme | None = None,
    contact: Contact | None = None,
) -> PageView:
    """Build the page view a request describes.

    Args:
        headers: The request headers; names are matched case-insensitively.
        position: Where the page stands in the visit, from 1.
        scheme: The site's cookie scheme (the default scheme if omitted).
        contact: The contact, when the host knows who is visiting.

    Raises:
        InvalidValueError: ``headers`` is not a mapping of strings, or another
            argument is of the wrong type; the error names it.
    """
    if not isinstance(headers, Mapping):
        raise InvalidValueError("headers", "not a mapping of header names", headers)
    scheme = scheme if scheme is not None else CookieScheme()
    return PageView(
        position=position,
        visitor_answer=read_visitor_answer(_header(headers, "Cookie"), scheme),
        gpc=(_header(headers, "Sec-GPC") or "").strip() == "1",
        dnt=(_header(headers, "DNT") or "").strip() == "1",
        contact=contact,
    )


def script_file() -> Traversable:
    """The script as a package resource, for hosts copying it to static files."""
    return files("trackconsent") / "static" / "trackconsent.js"


def script_text() -> str:
    """The script's source text."""
    return script_file().read_text(encoding="utf-8")


def script_tag(
    scheme: CookieScheme | None = None,
    *,
    src: str | None = None,
    endpoint: str | None = None,
    nonce: str | None = None,
    extra: Mapping[str, object] | None = None,
) -> Markup:
    """Return the ``<script>`` element that loads and configures the script.

    The configuration travels as JSON in the element's ``data-trackconsent``
    attribute, escaped, so no value can end the attribute or the element.

    Args:
        scheme: The site's cookie scheme (the default scheme if omitted).
        src: Where the host serves `script_text`; inline when omitted.
        endpoint: Where the script posts each answer; nothing is posted when
            omitted. Checked like a banner link (http, https or relative).
        nonce: The page's Content-Security-Policy nonce, if it uses one.
        extra: More configuration, such as the banner's; used by
            `trackconsent.capture.banner.render_banner`.

    Raises:
        InvalidValueError: ``src`` or ``endpoint`` is not a safe link.
    """
    scheme = scheme if scheme is not None else CookieScheme()
    config = {**scheme.script_settings(), **(extra or {})}
    if endpoint is not None:
        check_link("endpoint", endpoint)
        config["endpoint"] = endpoint
    attributes = Markup(' data-trackconsent="{}"').format(
        json.dumps(config, separators=(",", ":"), sort_keys=True)
    )
    if nonce is not None:
        attributes += Markup(' nonce="{}"').format(nonce)
    if src is None:
        # The script is the package's own file, not input: it is markup as is.
        source = Markup(script_text())  # noqa: S704
        return Markup("<script{}>{}</script>").format(attributes, source)
    check_link("src", src)

    return Markup('<script src="{}"{}></script>').format(src, attributes)


class Via(enum.Enum):
    """What the visitor answered through."""

    BANNER = "banner"
    SCRIPT = "script"


@attrs.frozen
class PostedAnswer:
    """An answer the script posted to the host's endpoint.

    Attributes:
        answer: Granted or refused.
        via: The banner's buttons or the site's own script call.
        wording_version: The banner's wording version, for banner answers.
    """

    answer: Answer
    via: Via
    wording_version: str | None = None


_POSTED_FIELDS: Final = ("answer", "via", "wording")
_POSTED_ANSWERS: Final = {"granted": Answer.GRANTED, "refused": Answer.REFUSED}
_VIAS: Final = {member.value: member for member in Via}


def _form(body: object) -> dict[str, list[object]]:
    """Every value posted for each field the script sends, in order."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", errors="replace")
    if isinstance(body, str):
        try:
            pairs = parse_qsl(body, max_num_fields=8)
        except ValueError:
            rule = "not a short form-encoded body"
            raise InvalidValueError("body", rule, body) from None
        form: dict[str, list[object]] = {}
        for name, value in pairs:
            form.setdefault(name, []).append(value)
        return form
    if not isinstance(body, Mapping):
        rule = "not a form body (str, bytes or a mapping)"
        raise InvalidValueError("body", rule, body)
    # Multi-value forms (Werkzeug, Django) keep every repeat behind getlist.
    getlist = getattr(body, "getlist", None)
    if callable(getlist):
        return {name: list(getlist(name)) for name in _POSTED_FIELDS if name in body}

    return {name: [body[name]] for name in _POSTED_FIELDS if name in body}


def _one_value(
    form: Mapping[str, list[object]], name: str, errors: list[FieldError]
) -> str | None:
    values = form.get(name, [])
    for value in values:
        if not isinstance(value, str):
            errors.append(FieldError(name, "not a string", value))
            return None
    if len(set(values)) > 1:
        errors.append(FieldError(name, "posted twice with different values", values))
        return None

    return str(values[0]) if values else None


def read_posted_answer(body: str | bytes | Mapping[str, str]) -> PostedAnswer:
    """Read what the script posted: ``answer``, ``via`` and, for the banner,
    ``wording``.

    A field posted more than once must carry the same value each time: a
    body saying both ``granted`` and ``refused`` is no answer at all, and is
    refused rather than read as either (the visitor's refusal still stands in
    their answer cookie).

    Args:
        body: The form-encoded request body, or the host's parsed form (a
            multi-value form's ``getlist`` is used when it has one).

    Raises:
        InvalidValueError: ``body`` is not a string, bytes or a mapping, or is
            not a short form-encoded body.
        InvalidValuesError: a field is missing, wrong, or posted twice with
            different values; all are listed.
    """
    form = _form(body)
    errors: list[FieldError] = []
    answer_text = _one_value(form, "answer", errors)
    via_text = _one_value(form, "via", errors)
    wording = _one_value(form, "wording", errors) or None
    answer = _POSTED_ANSWERS.get(answer_text or "")
    via = _VIAS.get(via_text or "")
    named = {error.path for error in errors}
    if answer is None and "answer" not in named:
        errors.append(FieldError("answer", "not granted or refused", answer_text))
    if via is None and "via" not in named:
        errors.append(FieldError("via", "not banner or script", via_text))
    if errors or answer is None or via is None:
        raise InvalidValuesError(errors, what="posted answer")

    return PostedAnswer(answer, via, wording)


def answer_event(
    posted: PostedAnswer,
    *,
    source: Source,
    contact_id: str,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
    wording_version: str | None = None,
) -> ConsentEvent:
    """Build the consent event of a posted answer (shared by both sources)."""
    event = ConsentEvent.new(
        contact_id=contact_id,
        answer=posted.answer,
        occurred_at=now,
        recorded_at=now,
        source=source,
        evidence=Evidence(
            ip=ip, user_agent=user_agent, wording_version=wording_version
        ),
    )
    logger.debug("visitor answer event %s via %s", event.event_id, posted.via.value)

    return event


def script_answer_event(
    posted: PostedAnswer,
    *,
    contact_id: str,
    now: datetime,
    ip: str | None = None,
    user_agent: str | None = None,
) -> ConsentEvent:
    """Turn an answer the site's own script call posted into a consent event.

    Args:
        posted: What the script posted, from `read_posted_answer`.
        contact_id: The contact the host knows is visiting. Anonymous visitors'
            answers live only in their cookie: there is no one to record.
        now: When the host received the answer (aware).
        ip: The visitor's IP address, as evidence.
        user_agent: The visitor's user agent, as evidence.

    Raises:
        InvalidValueError: the answer came through the banner (use
            `trackconsent.capture.banner.banner_answer_event`), or a value is
            invalid.
    """
    if posted.via is not Via.SCRIPT:
        raise InvalidValueError("via", "not a script answer", posted.via.value)
    return answer_event(
        posted,
        source=Source.VISIT_TRACKER_SCRIPT,
        contact_id=contact_id,
        now=now,
        ip=ip,
        user_agent=user_agent,
    )
