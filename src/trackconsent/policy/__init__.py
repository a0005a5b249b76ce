"""Pure policy functions: they take data, including the time, and return decisions."""

from trackconsent.policy.journey import (
    PageView,
    SiteConfig,
    may_set_cookies,
    should_track_page,
)
from trackconsent.policy.tracking import Decision, is_tracked, tracking_decision

__all__ = [
    "Decision",
    "PageView",
    "SiteConfig",
    "is_tracked",
    "may_set_cookies",
    "should_track_page",
    "tracking_decision",
]
