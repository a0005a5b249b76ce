"""The banner and the script in a real browser: headless Chromium, a local shop.

A small threaded HTTP server on 127.0.0.1 plays the host: every landing page
builds a `PageView` from the request's headers, asks `should_track_page` and
`may_set_cookies`, sets or removes the tracking cookie accordingly, and puts
`render_banner` on the page; its endpoint turns the script's posts into
consent events in a `MemoryStore`. Chromium maps ``*.shop.test`` to the
loopback address, so the cookies carry a real ``Domain``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.services import executable
from trackconsent import (
    Answer,
    ConsentEvent,
    ConsentState,
    MemoryStore,
    ProjectSettings,
    Regime,
    SiteConfig,
    Source,
    may_set_cookies,
    should_track_page,
)
from trackconsent.capture.banner import (
    BannerConfig,
    banner_answer_event,
    render_banner,
)
from trackconsent.capture.visitor import (
    CookieScheme,
    Via,
    expired_tracking_cookie,
    read_page_view,
    read_posted_answer,
    script_answer_event,
    tracking_cookie,
)

NOW = datetime(2024, 6, 1, 12, tzinfo=UTC)
HOST = "www.shop.test"
CONTACT = "c-42"
# The page is served over plain HTTP, where browsers refuse Secure cookies.
SCHEME = CookieScheme(domain="shop.test", path="/", secure=False)
BANNER = BannerConfig(
    enabled=True, privacy_policy_url="/privacy", wording_version="2024-06"
)
SITE = SiteConfig("shop", [HOST], first_page_untracked=True)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP *.shop.test 127.0.0.1",
]
WAIT_SECONDS = 15  # a bound on waiting for the browser's beacon, not a timing check


@attrs.define
class View:
    """What the shop decided for one page view."""

    position: int
    answer: ConsentState
    tracked: bool
    cookie_allowed: bool


@attrs.define
class Shop:
    """The host's side: its settings, its decisions and its consent store."""

    settings: ProjectSettings
    banner: BannerConfig
    site: SiteConfig = SITE
    views: list[View] = attrs.Factory(list)
    store: MemoryStore = attrs.Factory(MemoryStore)
    events: list[ConsentEvent] = attrs.Factory(list)
    posted: threading.Condition = attrs.Factory(threading.Condition)
    base: str = ""

    def page(self, position: int, headers: dict[str, str]) -> tuple[str, str | None]:
        """Decide on a page view; return the page and a Set-Cookie value."""
        view = read_page_view(headers, position=position, scheme=SCHEME)
        tracked = should_track_page(self.site, view, self.settings)
        allowed = may_set_cookies(self.site, view, self.settings)
        self.views.append(View(position, view.visitor_answer, tracked, allowed))
        has_cookie = f"{SCHEME.tracking_cookie}=" in headers.get("Cookie", "")
        set_cookie = None
        if allowed and not has_cookie:
            set_cookie = tracking_cookie(SCHEME, f"visitor-{len(self.views)}")
        elif has_cookie and not allowed:
            set_cookie = expired_tracking_cookie(SCHEME)
        banner = render_banner(self.banner, scheme=SCHEME, endpoint="/consent")
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Landing</title>"
            f"</head><body><h1>Page {position}</h1>{banner}</body></html>"
        )

        return body, set_cookie

    def answer(self, body: bytes, user_agent: str | None) -> None:
        """Record what the script posted as the contact's consent event."""
        posted = read_posted_answer(body)
        if posted.via is Via.BANNER:
            event = banner_answer_event(
                posted,
                contact_id=CONTACT,
                config=self.banner,
                now=NOW,
                user_agent=user_agent,
            )
        else:
            event = script_answer_event(
                posted, contact_id=CONTACT, now=NOW, user_agent=user_agent
            )
        with self.posted:
            self.store.append([event])
            self.events.append(event)
            self.posted.notify_all()

    def wait_for_events(self, count: int) -> list[ConsentEvent]:
        """Wait (bounded) until ``count`` answers have arrived; return them."""
        with self.posted:
            arrived = self.posted.wait_for(
                lambda: len(self.events) >= count, timeout=WAIT_SECONDS
            )
        assert arrived, f"{len(self.events)} of {count} answers arrived"
        return list(self.events)

    def url(self, position: int) -> str:
        """The address of the landing page at ``position`` in the visit."""
        return f"{self.base}/landing/{position}"


def _handler(shop: Shop) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """Serves the shop's landing pages and its consent endpoint."""

        def do_GET(self) -> None:
            """Serve /landing/<position>."""
            prefix, _, position = self.path.rpartition("/")
            if prefix != "/landing" or not position.isdigit():
                self.send_error(404)
                return
            body, set_cookie = shop.page(int(position), dict(self.headers.items()))
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            if set_cookie is not None:
                self.send_header("Set-Cookie", set_cookie)
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            """Receive an answer at /consent."""
            length = int(self.headers.get("Content-Length", "0"))
            shop.answer(self.rfile.read(length), self.headers.get("User-Agent"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep the test output quiet."""

    return Handler


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright; skipped (failed in CI) if absent."""
    path = executable("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Shop]]:
    """Start a shop on a free loopback port; stop every one after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(regime: Regime = Regime.OPT_OUT, banner: BannerConfig = BANNER) -> Shop:
        settings = ProjectSettings("p", regime=regime)
        shop = Shop(settings.switch_feature(True, actor="ops", at=NOW), banner)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(shop))
        servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        shop.base = f"http://{HOST}:{server.server_address[1]}"
        return shop

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _cookies(context: BrowserContext) -> dict[str, dict[str, Any]]:
    return {cookie["name"]: dict(cookie) for cookie in context.cookies()}


def _banner_shown(page: Page) -> bool:
    return page.locator("#trackconsent-banner").is_visible()


def test_a_visitor_who_refuses_on_the_banner_is_untracked_from_the_next_page(
    browser: Browser, serve: Callable[..., Shop]
) -> None:
    """Given a visitor tracked on page 2, when they click Refuse, then the
    tracking cookie is gone at once, the shop records a cookie-banner refusal,
    and page 3 is untracked and gets no cookie.
    """
    shop = serve()
    context = browser.new_context()
    page = context.new_page()

    page.goto(shop.url(1))
    assert _banner_shown(page)
    page.goto(shop.url(2))
    assert shop.views[-1].tracked
    assert SCHEME.tracking_cookie in _cookies(context)

    page.click("button[data-trackconsent-answer=refused]")

    assert not _banner_shown(page)
    assert SCHEME.tracking_cookie not in _cookies(context)
    [event] = shop.wait_for_events(1)
    assert (event.source, event.answer) == (Source.COOKIE_BANNER, Answer.REFUSED)
    assert event.evidence.wording_version == "2024-06"
    page.goto(shop.url(3))
    assert shop.views[-1] == View(3, ConsentState.REFUSED, False, False)
    assert SCHEME.tracking_cookie not in _cookies(context)
    assert not _banner_shown(page)
    assert shop.store.status(CONTACT).state is ConsentState.REFUSED
    context.close()


def test_a_fresh_visitor_who_accepts_is_tracked(
    browser: Browser, serve: Callable[..., Shop]
) -> None:
    """Given the opt-in regime, when a visitor leaves the banner alone, then
    page 2 is untracked; when a fresh profile clicks Accept, then page 2 is
    tracked, gets the tracking cookie, and the shop records the grant.
    """
    shop = serve(Regime.OPT_IN)
    silent = browser.new_context()
    silent.new_page().goto(shop.url(2))
    assert not shop.views[-1].tracked
    silent.close()

    context = browser.new_context()
    page = context.new_page()
    page.goto(shop.url(1))
    page.click("button[data-trackconsent-answer=granted]")
    page.goto(shop.url(2))

    assert shop.views[-1] == View(2, ConsentState.GRANTED, True, True)
    assert SCHEME.tracking_cookie in _cookies(context)
    assert not _banner_shown(page)
    [event] = shop.wait_for_events(1)
    assert (event.source, event.answer) == (Source.COOKIE_BANNER, Answer.GRANTED)
    context.close()


def test_case_3_accept_then_refuse_deletes_the_cookie_with_its_path_and_domain(
    browser: Browser, serve: Callable[..., Shop]
) -> None:
    """Given a visitor who accepted and got the tracking cookie (Domain
    shop.test, Path /), when a deletion names another Path or Domain the cookie
    survives; when the site calls trackconsent.stopTracking() it is deleted,
    and every later page view is untracked.
    """
    shop = serve()
    context = browser.new_context()
    page = context.new_page()
    page.goto(shop.url(1))
    page.click("button[data-trackconsent-answer=granted]")
    page.goto(shop.url(2))
    cookie = _cookies(context)[SCHEME.tracking_cookie]
    assert (cookie["domain"], cookie["path"]) == (".shop.test", "/")

    # The same deletion with another Path, or host-only, leaves the cookie:
    # only the exact Path and Domain remove it.
    page.evaluate(
        "name => { document.cookie = name + '=; Path=/landing; Domain=shop.test;"
        " Max-Age=0'; document.cookie = name + '=; Path=/; Max-Age=0'; }",
        SCHEME.tracking_cookie,
    )
    assert SCHEME.tracking_cookie in _cookies(context)

    page.evaluate("() => window.trackconsent.stopTracking()")

    cookies = _cookies(context)
    assert SCHEME.tracking_cookie not in cookies
    answer = cookies[SCHEME.answer_cookie]
    assert (answer["value"], answer["domain"], answer["path"]) == (
        "refused",
        ".shop.test",
        "/",
    )
    assert (answer["sameSite"], answer["secure"]) == ("Lax", False)
    assert answer["expires"] > 0  # persistent, not a session cookie
    events = shop.wait_for_events(2)
    assert [(e.source, e.answer) for e in events] == [
        (Source.COOKIE_BANNER, Answer.GRANTED),
        (Source.VISIT_TRACKER_SCRIPT, Answer.REFUSED),
    ]
    for position in (3, 4):
        page.goto(shop.url(position))
        assert shop.views[-1] == View(position, ConsentState.REFUSED, False, False)
    assert SCHEME.tracking_cookie not in _cookies(context)
    assert page.evaluate("() => window.trackconsent.answer()") == "refused"
    context.close()


HOSTILE = BannerConfig(
    enabled=True,
    message="<img src=x onerror=\"window.__pwned='img'\"><b>bold</b>",
    accept_label='OK" onfocus="window.__pwned=\'focus\'" autofocus x="',
    refuse_label="<script>window.__pwned='script'</script>No",
    more_info_label="<svg onload=alert(1)>",
    privacy_policy_url="/privacy?next=%22%3E%3Cscript%3E",
    wording_version="</script><script>window.__pwned='config'</script>",
)

_EVENT_ATTRIBUTES = """() => Array.from(document.querySelectorAll('*')).flatMap(
    element => Array.from(element.attributes)
        .filter(attribute => attribute.name.startsWith('on'))
        .map(attribute => element.tagName + ' ' + attribute.name))"""


def test_a_banner_with_script_bearing_texts_executes_nothing(
    browser: Browser, serve: Callable[..., Shop]
) -> None:
    """Given texts and a wording version holding markup and handlers, when the
    page loads and each button is focused and clicked, then no dialog opens, no
    payload runs, the banner holds only its own elements, and each text reads
    back as written.
    """
    shop = serve(banner=HOSTILE)
    context = browser.new_context()
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(shop.url(1))
    page.focus("button[data-trackconsent-answer=granted]")
    page.hover("a.trackconsent-more")
    page.click("button[data-trackconsent-answer=refused]")
    shop.wait_for_events(1)

    assert dialogs == []
    assert page.evaluate("() => window.__pwned === undefined")
    assert page.evaluate(_EVENT_ATTRIBUTES) == []
    tags = page.evaluate(
        "() => Array.from(document.querySelectorAll('#trackconsent-banner *'))"
        ".map(element => element.tagName)"
    )
    assert tags == ["P", "A", "BUTTON", "BUTTON"]
    assert page.locator("script").count() == 1
    assert page.text_content(".trackconsent-message") == HOSTILE.message
    assert page.text_content(".trackconsent-accept") == HOSTILE.accept_label
    assert page.text_content(".trackconsent-refuse") == HOSTILE.refuse_label
    assert shop.events[0].evidence.wording_version == HOSTILE.wording_version
    context.close()


@pytest.mark.parametrize(
    ("spelling", "protocol"),
    [
        ("javascript:alert(1)", "javascript:"),
        ("JaVaScRiPt:alert(1)", "javascript:"),
        ("java\tscript:alert(1)", "javascript:"),
        ("data:text/html,x", "data:"),
        ("&#106;avascript:alert(1)", "javascript:"),
        ("java&#x09;script:alert(1)", "javascript:"),
        ("\x01 javascript:alert(1)", "javascript:"),
    ],
)
def test_the_refused_spellings_are_script_links_to_a_browser(
    browser: Browser, spelling: str, protocol: str
) -> None:
    """Given each spelling the configuration refuses, when a browser parses it
    unescaped in an href, then it really is a script or data link, so refusing
    it is needed; and the configuration does refuse it.
    """
    page = browser.new_page()
    page.set_content("<a id=link>x</a>")

    seen = page.evaluate(
        "raw => { const box = document.createElement('div');"
        " box.innerHTML = '<a href=\"' + raw + '\">x</a>';"
        " return box.firstChild.protocol; }",
        spelling,
    )

    assert seen == protocol
    with pytest.raises(ValueError, match="privacy_policy_url"):
        attrs.evolve(BANNER, privacy_policy_url=spelling)
    page.close()


@pytest.mark.parametrize(
    "link",
    ["https://shop.test/privacy", "HTTP://shop.test/p", "/privacy", "privacy.html"],
)
def test_the_accepted_links_stay_http_or_https_in_a_browser(
    browser: Browser, serve: Callable[..., Shop], link: str
) -> None:
    """Given an accepted link rendered by the banner, then the browser resolves
    it to an http or https address.
    """
    shop = serve(banner=attrs.evolve(BANNER, privacy_policy_url=link))
    page = browser.new_page()

    page.goto(shop.url(1))

    assert page.evaluate(
        "() => document.querySelector('.trackconsent-more').protocol"
    ) in {
        "http:",
        "https:",
    }
    page.close()


@pytest.mark.parametrize(
    "spelling", ["//evil.test/p", "/\\evil.test/p", "\\\\evil.test/p", " //evil.test/p"]
)
def test_the_refused_links_without_a_scheme_lead_to_another_host(
    browser: Browser, serve: Callable[..., Shop], spelling: str
) -> None:
    """Given each two-slash spelling the configuration refuses, when a browser
    resolves it on a shop's page, then it leads to another host, so it is no
    relative link; and the configuration does refuse it.
    """
    shop = serve(banner=BANNER)
    page = browser.new_page()
    page.goto(shop.url(1))

    seen = page.evaluate(
        "raw => { const link = document.createElement('a');"
        " link.setAttribute('href', raw); return link.hostname; }",
        spelling,
    )

    assert seen == "evil.test"
    with pytest.raises(ValueError, match="privacy_policy_url"):
        attrs.evolve(BANNER, privacy_policy_url=spelling)
    page.close()
