"""Turning what people submit into consent events.

`trackconsent.capture.visitor` holds the visit tracker's cookies and script,
and `trackconsent.capture.banner` the landing-page cookie banner.
"""

from trackconsent.capture.banner import (
    BannerColours,
    BannerConfig,
    BannerPosition,
    banner_answer_event,
    render_banner,
)
from trackconsent.capture.visitor import (
    CookieScheme,
    PostedAnswer,
    SameSite,
    Via,
    expired_tracking_cookie,
    read_page_view,
    read_posted_answer,
    script_answer_event,
    script_tag,
    script_text,
    tracking_cookie,
)

__all__ = [
    "BannerColours",
    "BannerConfig",
    "BannerPosition",
    "CookieScheme",
    "PostedAnswer",
    "SameSite",
    "Via",
    "banner_answer_event",
    "expired_tracking_cookie",
    "read_page_view",
    "read_posted_answer",
    "render_banner",
    "script_answer_event",
    "script_tag",
    "script_text",
    "tracking_cookie",
]
