"""Deciding page views, against a plain function with the same branches.

Figures, each beside its baseline and their ratio (best of several interleaved
repeats over the same inputs):

- `should_track_page` over a mix of sites, page views and settings, against
  `plain_should_track`, the same rules written inline in one function over the
  same objects, with no helper calls;
- `may_set_cookies` against `plain_may_set_cookies`, likewise.

Both sides are checked to agree on every input before timing. Sizes scale with
TRACKCONSENT_BENCH_SCALE (1 = 200,000 page views).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from trackconsent import (
    Consent,
    ConsentState,
    Contact,
    PageView,
    ProjectSettings,
    Regime,
    SiteConfig,
    may_set_cookies,
    should_track_page,
)

SCALE = float(os.environ.get("TRACKCONSENT_BENCH_SCALE", "1"))
VIEWS = max(1_000, int(200_000 * SCALE))
REPEATS = 5
NOW = datetime(2025, 1, 1, tzinfo=UTC)

Case = tuple[SiteConfig, PageView, ProjectSettings]
REFUSED = ConsentState.REFUSED
GRANTED = ConsentState.GRANTED
UNKNOWN = ConsentState.UNKNOWN
OPT_OUT = Regime.OPT_OUT


def plain_should_track(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> bool:
    """The rules of should_track_page, inline."""
    if not settings.feature_enabled:
        return True
    contact = view.contact
    state = UNKNOWN if contact is None else contact.consent.state
    answer = view.visitor_answer
    if (
        answer is REFUSED
        or state is REFUSED
        or (site.honour_gpc and view.gpc)
        or (site.honour_dnt and view.dnt)
    ):
        return False
    if site.first_page_untracked and view.position == 1:
        return False
    return answer is GRANTED or state is GRANTED or settings.regime is OPT_OUT


def plain_may_set_cookies(
    site: SiteConfig, view: PageView, settings: ProjectSettings
) -> bool:
    """The rules of may_set_cookies, inline."""
    answer = view.visitor_answer
    if (
        answer is REFUSED
        or (site.honour_gpc and view.gpc)
        or (site.honour_dnt and view.dnt)
    ):
        return False
    if not settings.feature_enabled:
        return True
    contact = view.contact
    state = UNKNOWN if contact is None else contact.consent.state
    if state is REFUSED:
        return False
    if answer is GRANTED:
        return True
    if site.first_page_untracked and view.position == 1:
        return False
    if state is GRANTED:
        return True
    return settings.regime is OPT_OUT


def _cases(count: int) -> list[Case]:
    chance = random.Random(6)
    off = ProjectSettings("p")
    settings = [
        off,
        off.switch_feature(True, actor="ops", at=NOW),
        ProjectSettings("p", regime=Regime.OPT_IN).switch_feature(
            True, actor="ops", at=NOW
        ),
    ]
    sites = [
        SiteConfig("s", ["shop.test"], first_page_untracked=first, honour_dnt=dnt)
        for first in (False, True)
        for dnt in (False, True)
    ]
    contacts = [None, Contact("c-1")] + [
        Contact("c-2", consent=Consent(state, NOW)) for state in (GRANTED, REFUSED)
    ]
    return [
        (
            chance.choice(sites),
            PageView(
                position=chance.choice((1, 1, 2, 3, 7)),
                visitor_answer=chance.choice(list(ConsentState)),
                gpc=chance.random() < 0.1,
                dnt=chance.random() < 0.1,
                contact=chance.choice(contacts),
            ),
            chance.choice(settings),
        )
        for _ in range(count)
    ]


def _seconds(
    decide: Callable[[SiteConfig, PageView, ProjectSettings], bool], cases: list[Case]
) -> float:
    start = time.perf_counter()
    for site, view, settings in cases:
        decide(site, view, settings)
    return time.perf_counter() - start


def _compare(
    name: str, ours: Callable[..., bool], plain: Callable[..., bool], cases: list[Case]
) -> None:
    mismatches = sum(ours(*case) != plain(*case) for case in cases)
    if mismatches:
        raise SystemExit(f"{name}: {mismatches} inputs decided differently")
    best_ours = best_plain = float("inf")
    for _ in range(REPEATS):
        best_ours = min(best_ours, _seconds(ours, cases))
        best_plain = min(best_plain, _seconds(plain, cases))
    per_ours = best_ours / len(cases) * 1e9
    per_plain = best_plain / len(cases) * 1e9
    print(
        f"{name}: {per_ours:.0f} ns/view vs plain function {per_plain:.0f} ns/view"
        f" = {best_ours / best_plain:.2f}x ({len(cases):,} views)"
    )


def main() -> None:
    cases = _cases(VIEWS)
    print(f"bench_should_track_page: scale {SCALE:g}, best of {REPEATS}")
    _compare("should_track_page", should_track_page, plain_should_track, cases)
    _compare("may_set_cookies", may_set_cookies, plain_may_set_cookies, cases)


if __name__ == "__main__":
    main()
