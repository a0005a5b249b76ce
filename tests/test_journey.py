"""Tests of the visit-tracker policy: sites, page views, and the two decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from tests.strategies import page_views, project_settings, site_configs
from trackconsent import (
    Consent,
    ConsentState,
    Contact,
    FeatureDisabledError,
    InvalidValueError,
    PageView,
    ProjectSettings,
    Regime,
    SiteConfig,
    may_set_cookies,
    should_track_page,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
OFF = ProjectSettings("p")
ON = OFF.switch_feature(True, actor="ops", at=NOW)
SITE = SiteConfig("shop", ["www.shop.test"])
PROTECTED = attrs.evolve(SITE, first_page_untracked=True)


def _refused_elsewhere() -> Contact:
    return Contact("c-1", consent=Consent(ConsentState.REFUSED, NOW))


def _feature_on(settings: ProjectSettings) -> ProjectSettings:
    history = settings.feature_history
    at = max(NOW, history[-1].at) if history else NOW
    return settings.switch_feature(True, actor="ops", at=at)


def test_the_first_page_option_is_refused_with_the_feature_off() -> None:
    """Given a project with the feature off, then asking for the first-page
    option raises FeatureDisabledError naming the option.
    """
    with pytest.raises(FeatureDisabledError, match="first_page_untracked"):
        SiteConfig.for_project(
            OFF, site_id="shop", domains=["shop.test"], first_page_untracked=True
        )


def test_the_first_page_option_is_accepted_with_the_feature_on() -> None:
    """Given the feature on, then the option is stored."""
    site = SiteConfig.for_project(
        ON, site_id="shop", domains=["Shop.Test"], first_page_untracked=True
    )

    assert site.first_page_untracked
    assert site.domains == ("shop.test",)


def test_sites_without_the_option_need_no_feature() -> None:
    """Given the feature off, then a site without the option is built."""
    site = SiteConfig.for_project(OFF, site_id="shop", domains=["shop.test"])

    assert not site.first_page_untracked


@pytest.mark.parametrize(
    ("domains", "path"),
    [
        ([], "domains"),
        ("shop.test", "domains"),
        (["shop.test", "https://x.test"], "domains[1]"),
        (["-bad.test"], "domains[0]"),
    ],
)
def test_wrong_domains_are_refused_naming_the_entry(domains: object, path: str) -> None:
    """Given a wrong list of domains, then the error names the bad entry."""
    with pytest.raises(InvalidValueError) as caught:
        SiteConfig("shop", domains)  # type: ignore[arg-type]

    assert caught.value.path == path


@pytest.mark.parametrize("position", [0, -1, True, 1.0, "1"])
def test_a_position_counts_from_one(position: object) -> None:
    """Given a position that is not a whole number from 1, then it is refused."""
    with pytest.raises(InvalidValueError, match="position: not a position from 1"):
        PageView(position=position)  # type: ignore[arg-type]


def test_with_the_option_the_first_page_is_untracked_and_the_second_tracked() -> None:
    """Given the option on and a visitor who never answered, then page 1 is
    untracked and page 2 tracked (opt-out regime).
    """
    assert not should_track_page(PROTECTED, PageView(position=1), ON)
    assert should_track_page(PROTECTED, PageView(position=2), ON)


def test_a_refusal_stops_tracking_at_once() -> None:
    """Given a refusal stored on a later page, then that page is untracked."""
    view = PageView(position=5, visitor_answer=ConsentState.REFUSED)

    assert not should_track_page(SITE, view, ON)
    assert not may_set_cookies(SITE, view, ON)


def test_an_honoured_gpc_signal_counts_as_a_refusal() -> None:
    """Given Sec-GPC: 1, then the page is untracked only when the site honours it."""
    view = PageView(position=2, gpc=True)
    ignoring = attrs.evolve(SITE, honour_gpc=False)

    assert not should_track_page(SITE, view, ON)
    assert should_track_page(ignoring, view, ON)


def test_do_not_track_counts_only_when_honoured() -> None:
    """Given DNT: 1, then it counts as a refusal only with honour_dnt on."""
    view = PageView(position=2, dnt=True)
    honouring = attrs.evolve(SITE, honour_dnt=True)

    assert should_track_page(SITE, view, ON)
    assert not should_track_page(honouring, view, ON)


def test_a_contact_who_refused_elsewhere_is_untracked_despite_a_grant() -> None:
    """Given a known contact who refused and a browser that accepted, then the
    refusal wins until the host passes the contact's new consent.
    """
    view = PageView(
        position=3, visitor_answer=ConsentState.GRANTED, contact=_refused_elsewhere()
    )

    assert not should_track_page(SITE, view, ON)
    assert not may_set_cookies(SITE, view, ON)


def test_the_opt_in_regime_tracks_only_those_who_said_yes() -> None:
    """Given the opt-in regime, then a silent visitor is untracked and one who
    accepted is tracked.
    """
    opt_in = _feature_on(ProjectSettings("p", regime=Regime.OPT_IN))

    assert not should_track_page(SITE, PageView(position=2), opt_in)
    granted = PageView(position=2, visitor_answer=ConsentState.GRANTED)
    assert should_track_page(SITE, granted, opt_in)


def test_a_visitor_who_accepted_may_get_the_cookie_on_the_first_page() -> None:
    """Given the option on and a stored grant, then page 1 is untracked but the
    tracking cookie may be set.
    """
    view = PageView(position=1, visitor_answer=ConsentState.GRANTED)

    assert not should_track_page(PROTECTED, view, ON)
    assert may_set_cookies(PROTECTED, view, ON)


def test_with_the_feature_off_a_banner_refusal_still_forbids_the_cookie() -> None:
    """Given the feature off and a banner refusal, then the page is tracked as
    before but the tracking cookie may not be set.
    """
    view = PageView(position=2, visitor_answer=ConsentState.REFUSED)

    assert should_track_page(SITE, view, OFF)
    assert not may_set_cookies(SITE, view, OFF)


def test_a_stored_option_has_no_effect_once_the_feature_is_switched_off() -> None:
    """Given a site with the option and the feature switched off later, then the
    first page is tracked as before.
    """
    later_off = ON.switch_feature(False, actor="ops", at=NOW)

    assert should_track_page(PROTECTED, PageView(position=1), later_off)


@given(site_configs(), page_views(), project_settings())
def test_the_feature_off_tracks_every_page(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> None:
    """Given the feature off, then every page view is tracked, as before."""
    assume(not settings.feature_enabled)

    assert should_track_page(site, view, settings)


@given(site_configs(), page_views(), project_settings())
def test_a_refusal_is_never_tracked_nor_given_a_cookie(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> None:
    """Given a visitor's refusal and the feature on, then the page is untracked;
    feature on or off, no tracking cookie may be set.
    """
    refused = attrs.evolve(view, visitor_answer=ConsentState.REFUSED)

    assert not may_set_cookies(site, refused, settings)
    on = _feature_on(settings)
    assert not should_track_page(site, refused, on)


@given(site_configs(), page_views(), project_settings())
def test_with_the_option_the_first_page_is_never_tracked(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> None:
    """Given the feature and the option on, then no first page is tracked."""
    protected = attrs.evolve(site, first_page_untracked=True)
    first = attrs.evolve(view, position=1)

    assert not should_track_page(protected, first, _feature_on(settings))


@given(site_configs(), page_views(), project_settings(), st.integers(1, 50))
def test_without_the_option_the_position_never_matters(
    site: SiteConfig, view: PageView, settings: ProjectSettings, position: int
) -> None:
    """Given the option off, then any page of a visit gets the same decisions."""
    plain = attrs.evolve(site, first_page_untracked=False)
    moved = attrs.evolve(view, position=position)

    assert should_track_page(plain, view, settings) == should_track_page(
        plain, moved, settings
    )
    assert may_set_cookies(plain, view, settings) == may_set_cookies(
        plain, moved, settings
    )


@given(site_configs(), page_views(), project_settings())
def test_without_the_option_a_visitor_with_nothing_against_it_is_tracked(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> None:
    """Given the option off, the opt-out regime and no refusal from any side,
    then every page is tracked, as before.
    """
    assume(settings.regime is Regime.OPT_OUT)
    assume(view.visitor_answer is not ConsentState.REFUSED)
    assume(
        view.contact is None or view.contact.consent.state is not ConsentState.REFUSED
    )
    quiet = attrs.evolve(view, gpc=False, dnt=False)
    plain = attrs.evolve(site, first_page_untracked=False)

    assert should_track_page(plain, quiet, settings)
    assert may_set_cookies(plain, quiet, settings)


@given(site_configs(), page_views(), project_settings(), st.integers(2, 50))
def test_the_option_changes_only_the_first_page(
    site: SiteConfig, view: PageView, settings: ProjectSettings, position: int
) -> None:
    """Given a page after the first, then the option does not change its decision."""
    later = attrs.evolve(view, position=position)
    with_option = attrs.evolve(site, first_page_untracked=True)
    without = attrs.evolve(site, first_page_untracked=False)

    assert should_track_page(with_option, later, settings) == should_track_page(
        without, later, settings
    )


@given(site_configs(), page_views(), project_settings())
def test_an_honoured_signal_is_a_refusal(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> None:
    """Given GPC honoured and sent, then it decides like a stored refusal."""
    honouring = attrs.evolve(site, honour_gpc=True)
    signalled = attrs.evolve(view, gpc=True)
    refused = attrs.evolve(view, visitor_answer=ConsentState.REFUSED)

    assert should_track_page(honouring, signalled, settings) == should_track_page(
        honouring, refused, settings
    )
    assert not may_set_cookies(honouring, signalled, settings)


@given(site_configs(), page_views(), project_settings())
def test_with_the_feature_on_a_tracked_page_may_set_its_cookie(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> None:
    """Given the feature on, then a tracked page view may always set the cookie."""
    on = _feature_on(settings)

    if should_track_page(site, view, on):
        assert may_set_cookies(site, view, on)


@given(site_configs())
def test_a_site_survives_a_round_trip_through_its_fields(site: SiteConfig) -> None:
    """Given any site, then rebuilding it from its fields gives it back."""
    assert SiteConfig(**attrs.asdict(site)) == site


@given(page_views())
def test_a_page_view_survives_a_round_trip_through_its_fields(view: PageView) -> None:
    """Given any page view, then rebuilding it from its fields gives it back."""
    assert PageView(**attrs.asdict(view, recurse=False)) == view
