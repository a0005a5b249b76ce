"""Whether a visit tracker may track a page view, and whether it may set cookies.

A host's visit tracker calls `should_track_page` for every page view of a site,
and `may_set_cookies` before it sets or keeps its tracking cookie. Both take
the site's options, what is known about the page view and the project's
settings, and return a boolean; they read no clock and do no I/O.

The rules, with the tracking-consent feature on:

- a refusal stops tracking at once: the visitor's own answer (from the cookie
  banner or the site's script call), the known contact's refusal, and, when
  the site honours them, the browser signals Global Privacy Control and Do Not
  Track all count as refusals;
- with the site's first-page option on, the first page of a visit is never
  tracked, so the visitor can read the cookie banner before anything is tied
  to them; later pages are tracked unless the visitor refused;
- otherwise a grant tracks, and a visitor who never answered follows the
  project's regime (tracked under opt-out, untracked under opt-in).

With the feature off every page is tracked, as before the feature existed.
The cookie banner is available either way, so its refusal (and an honoured
signal) always forbids the tracking cookie: see `may_set_cookies`.
"""

from __future__ import annotations

import re
from typing import Any, Final

import attrs

from trackconsent.errors import InvalidValueError
from trackconsent.model import ConsentState, Contact
from trackconsent.settings import ProjectSettings, Regime

__all__ = [
    "FIRST_PAGE_OPTION",
    "PageView",
    "SiteConfig",
    "may_set_cookies",
    "should_track_page",
]

FIRST_PAGE_OPTION: Final = "first_page_untracked"
"""The name of the site option that exists only with the feature on."""

_MAX_ID = 256

# A DNS host name: dot-separated labels of letters, digits and inner hyphens.
# Internationalised names are given in their ASCII (punycode) form.
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


def _site_id(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise InvalidValueError(attribute.name, "must be a non-empty string", value)
    if len(value) > _MAX_ID:
        raise InvalidValueError(attribute.name, f"longer than {_MAX_ID}", value)


def _domains(value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise InvalidValueError("domains", "not a list of host names", value)
    domains = []
    for position, domain in enumerate(value):
        if not isinstance(domain, str) or _HOSTNAME.fullmatch(domain.lower()) is None:
            raise InvalidValueError(f"domains[{position}]", "not a host name", domain)
        domains.append(domain.lower())
    if not domains:
        raise InvalidValueError("domains", "needs at least one host name", value)
    return tuple(dict.fromkeys(domains))


def _boolean(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, bool):
        raise InvalidValueError(attribute.name, "not a boolean", value)


@attrs.frozen
class SiteConfig:
    """A website whose visits the host's visit tracker records.

    Build one with `SiteConfig.for_project` where the project's settings are at
    hand: it refuses the first-page option when the feature is off. Should the
    feature be switched off later, the option stays stored but has no effect.

    Attributes:
        site_id: The host's identifier of the site.
        domains: The site's host names, lower-cased, without duplicates.
        first_page_untracked: Leave the first page of every visit untracked
            (needs the feature on).
        honour_gpc: Count the browser's Global Privacy Control signal
            (``Sec-GPC: 1``) as a refusal.
        honour_dnt: Count the browser's Do Not Track signal (``DNT: 1``) as a
            refusal.
    """

    site_id: str = attrs.field(validator=_site_id)
    domains: tuple[str, ...] = attrs.field(converter=_domains)
    first_page_untracked: bool = attrs.field(default=False, validator=_boolean)
    honour_gpc: bool = attrs.field(default=True, validator=_boolean)
    honour_dnt: bool = attrs.field(default=False, validator=_boolean)

    @classmethod
    def for_project(
        cls,
        settings: ProjectSettings,
        *,
        site_id: str,
        domains: tuple[str, ...] | list[str],
        first_page_untracked: bool = False,
        honour_gpc: bool = True,
        honour_dnt: bool = False,
    ) -> SiteConfig:
        """Build a site's options, refusing those the project cannot have.

        Raises:
            FeatureDisabledError: ``first_page_untracked`` with the feature off.
            InvalidValueError: an option has a wrong value.
        """
        if first_page_untracked:
            settings.require_feature(FIRST_PAGE_OPTION, first_page_untracked)
        return cls(
            site_id=site_id,
            domains=tuple(domains),
            first_page_untracked=first_page_untracked,
            honour_gpc=honour_gpc,
            honour_dnt=honour_dnt,
        )


def _position(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidValueError(attribute.name, "not a position from 1", value)


def _state(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, ConsentState):
        raise InvalidValueError(attribute.name, "not a ConsentState member", value)


def _optional_contact(
    _instance: object, attribute: attrs.Attribute[Any], value: object
) -> None:
    if value is not None and not isinstance(value, Contact):
        raise InvalidValueError(attribute.name, "not a Contact", value)


@attrs.frozen(hash=False)
class PageView:
    """What the tracker knows about one page view when it decides.

    Attributes:
        position: Where the page stands in the visit; 1 is the first page.
        visitor_answer: The answer this browser stored, through the cookie
            banner or the site's script call; unknown when it has none.
        gpc: The browser sent ``Sec-GPC: 1``.
        dnt: The browser sent ``DNT: 1``.
        contact: The contact, when the host knows who is visiting.
    """

    position: int = attrs.field(validator=_position)
    visitor_answer: ConsentState = attrs.field(
        default=ConsentState.UNKNOWN, validator=_state
    )
    gpc: bool = attrs.field(default=False, validator=_boolean)
    dnt: bool = attrs.field(default=False, validator=_boolean)
    contact: Contact | None = attrs.field(default=None, validator=_optional_contact)

    @property
    def is_first(self) -> bool:
        """Whether this is the first page of the visit."""
        return self.position == 1


# Module-level names for the members the decisions compare against: the
# decisions run for every page view, and a global read is cheaper than an
# attribute look-up on the enum class.
_REFUSED: Final = ConsentState.REFUSED
_GRANTED: Final = ConsentState.GRANTED
_OPT_OUT: Final = Regime.OPT_OUT


def should_track_page(
    site: SiteConfig, page_view: PageView, settings: ProjectSettings
) -> bool:
    """Decide whether a page view may be tied to the visitor.

    Any refusal wins over a grant: should the contact have refused elsewhere
    and the browser have accepted since, the page stays untracked until the
    host records the banner's event and passes the contact's new consent.

    Args:
        site: The site's options.
        page_view: The page view to decide on.
        settings: The project's settings.

    Returns:
        False when the feature is on and a rule of this module leaves the page
        untracked; True otherwise, and always True with the feature off.
    """
    if not settings.feature_enabled:
        return True
    answer = page_view.visitor_answer
    contact = page_view.contact
    state = None if contact is None else contact.consent.state
    # The refusal test is written out here and in may_set_cookies rather than
    # shared: hosts call both for every page view.
    if (
        answer is _REFUSED
        or state is _REFUSED
        or (site.honour_gpc and page_view.gpc)
        or (site.honour_dnt and page_view.dnt)
    ):
        return False
    if site.first_page_untracked and page_view.position == 1:
        return False

    # Never asked: the project's regime decides, as in `is_tracked`.
    return answer is _GRANTED or state is _GRANTED or settings.regime is _OPT_OUT


def may_set_cookies(
    site: SiteConfig, page_view: PageView, settings: ProjectSettings
) -> bool:
    """Decide whether the tracker may set, or keep, its tracking cookie.

    The visitor's refusal through the banner or the script call, and an
    honoured browser signal, forbid the cookie whether the feature is on or
    off, because the banner is offered either way and its answer must hold.
    With the feature off nothing else forbids it. With it on, the cookie
    follows `should_track_page`, except that a visitor who said yes may get it
    on the first page too: the first-page option protects those who have not
    read the banner yet.

    Returns:
        True when the cookie may be set; when False the host removes it (see
        `trackconsent.capture.visitor.expired_tracking_cookie`).
    """
    answer = page_view.visitor_answer
    if (
        answer is _REFUSED
        or (site.honour_gpc and page_view.gpc)
        or (site.honour_dnt and page_view.dnt)
    ):
        return False
    if not settings.feature_enabled:
        return True
    contact = page_view.contact
    state = None if contact is None else contact.consent.state
    if state is _REFUSED:
        return False
    if answer is _GRANTED:
        return True
    if site.first_page_untracked and page_view.position == 1:
        return False

    return state is _GRANTED or settings.regime is _OPT_OUT
