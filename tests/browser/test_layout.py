"""The page layout in a real browser, at the width of a small phone (360 px).

gunicorn serves the project with the test settings (static files through
WhiteNoise from STATICFILES_DIRS, so .build/frontend must be built: `make test`
does that); Debian's Chromium, driven by Playwright, loads the public home page
and the 404 page. The pages need no partnership, so no database rows either.

Checks: GOV.UK Frontend's CSS and JavaScript load under the Content-Security-
Policy, nothing scrolls sideways, nothing is logged as an error, and there is no
GOV.UK branding (crown, "GOV.UK", GDS Transport).
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

import pytest

from tests.serving import gunicorn_serving

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTH, HEIGHT = 360, 740
SCREENSHOT = Path(tempfile.gettempdir()) / "concord-360.png"  # look at it after a layout change

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (bash infra/dev/browser.sh installs it)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def base_url():
    """gunicorn on a free loopback port, serving the bare platform domain (localhost)."""
    if not (REPO / ".build" / "frontend" / "concord" / "concord.css").exists():
        pytest.fail("the front end is not built: run `bash infra/frontend/build.sh` (make test does)")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "concord.settings.test",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "platform")]),
    }
    with gunicorn_serving(["-m", "gunicorn"], env=env, port=port):
        yield f"http://localhost:{port}"


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
    )
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Visit:
    """One page load at phone size, recording everything that went wrong."""

    def __init__(self, browser, url: str):
        self.context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}, locale="en-GB")
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.requested: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        self.page.on("requestfailed", lambda request: self.problems.append(f"request failed: {request.url}"))
        self.page.on("request", lambda request: self.requested.append(request.url))
        self.page.on("response", self._response)
        self.url = url
        self.response = self.page.goto(url, wait_until="networkidle")

    def _console(self, message) -> None:
        if message.type not in ("error", "warning"):  # CSP violations are reported as console errors
            return
        if message.text.startswith("Failed to load resource") and message.location.get("url") == self.url:
            return  # the 404 page's own status, which the test expects
        self.problems.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    def _response(self, response) -> None:
        if response.status >= 400 and response.url != self.url:
            self.problems.append(f"HTTP {response.status}: {response.url}")

    def eval(self, script: str):
        return self.page.evaluate(script)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser, base_url):
    visits: list[Visit] = []

    def load(path: str) -> Visit:
        visits.append(Visit(browser, base_url + path))
        return visits[-1]

    yield load
    for v in visits:
        v.close()


def assert_layout(v: Visit) -> None:
    page = v.page
    assert v.problems == []

    # The Content-Security-Policy is in force (so the checks below run under it).
    assert "script-src 'self'" in v.response.headers["content-security-policy"]

    # js-enabled.js ran, and init.js imported GOV.UK Frontend and started its components.
    assert v.eval("document.body.className.split(' ')") == [
        "govuk-template__body",
        "js-enabled",
        "govuk-frontend-supported",
    ]
    assert page.locator(".govuk-skip-link[data-govuk-skip-link-init]").count() == 1
    assert page.locator(".govuk-service-navigation[data-govuk-service-navigation-init]").count() == 1

    # GOV.UK Frontend's styles apply, in system fonts.
    heading = page.locator("h1").first
    style = heading.evaluate(
        "h => { const s = getComputedStyle(h); return [s.marginTop, s.lineHeight, s.fontFamily, s.fontWeight]; }"
    )
    assert style[0] == "0px", style  # the browser's own h1 has a 0.67em top margin
    assert style[1] != "normal", style
    assert style[2].startswith("system-ui"), style
    assert style[3] == "700", style
    assert v.eval("getComputedStyle(document.body).margin") == "0px"
    header = page.locator(".concord-header")
    assert header.evaluate("h => getComputedStyle(h).backgroundColor") == "rgb(11, 12, 12)"

    # Phone width: nothing scrolls sideways.
    assert v.eval("document.documentElement.scrollWidth") <= WIDTH

    # Concord's own header, with no GOV.UK branding anywhere.
    assert header.locator(".concord-header__product").inner_text() == "Concord"
    assert page.locator(".govuk-header__logotype-crown, .govuk-header__logotype, .govuk-logo, svg").count() == 0
    assert "GOV.UK" not in page.locator("body").inner_text()
    assert "GDS Transport" not in v.eval("getComputedStyle(document.body).fontFamily")
    assert not [url for url in v.requested if "/fonts/" in url or ".woff" in url]


def test_public_home_page_at_phone_width(visit):
    v = visit("/")
    assert v.response.status == 200
    assert v.page.title() == "Concord"
    heading = v.page.locator("h1.govuk-heading-xl")
    assert heading.inner_text() == "Concord"
    # GOV.UK's 48px heading is 32px on 35px lines on a phone; the browser's h1 has "normal" line height.
    assert heading.evaluate("h => getComputedStyle(h).lineHeight") == "35px"
    assert_layout(v)
    v.page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_not_found_page_at_phone_width(visit):
    v = visit("/no-such-page/")
    assert v.response.status == 404
    assert v.page.locator("h1").inner_text() == "Page not found"
    assert_layout(v)
    v.page.screenshot(path=str(SCREENSHOT.with_name("concord-404-360.png")), full_page=True)
