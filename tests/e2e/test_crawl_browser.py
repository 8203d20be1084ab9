"""Every page in a real browser, for every role, on a phone and on a desktop.

The back office is crawled as a system administrator, a city (upper) cadre, a grassroots cadre and an auditor, the
portal as a signed-in member: from the admin's model lists, add pages and one object's page, the custom pages
(workbench, dashboards, imports, stations, casework) and every address without parameters, then the same-site links
the pages show (never sign-out, confirmation pages, downloads or anything that acts: tests/site/crawling.py
decides what a crawl may request). Each page is loaded in Chromium at 390×844 (a phone) and read again widened to
1366×900 (what the style sheets show by width); the first page of each layout (the same scripts and style sheets) is
also loaded in a desktop browser at 1366×900 (what a script does at that size as the page starts). A page fails on:

- an English word of the interface in the visible text or in a placeholder, title or aria-label (icon ligatures,
  which show as pictures, are not text);
- a request to anything but the live server (every request is routed; an outside one is refused and recorded);
- a console error or an uncaught exception;
- a link shown to somewhere outside the site, other than a map provider's navigation link;
- on the phone, a page wider than the screen (a horizontal scroll).

Each page's load time is recorded and the ten slowest are printed (figures for docs/performance.md, not a timed
assertion). Pages render the same on SQLite and PostgreSQL, so the crawl runs on the SQLite leg only.
"""

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.db import connections

from tests.e2e.conftest import LOCALE, _require_chromium
from tests.site.crawling import MAP_NAVIGATION, crawlable, member_start_urls, start_urls, view_name_of
from tests.site.factories import backoffice_client, demo_world, member_client

# `long`: the crawls start first, one per worker at a time, while the other worker takes the rest of the suite.
pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.long]

# role -> the demo federation's account (None: the portal's demo member)
ROLES = {
    "system_admin": "xitong_admin",
    "city_cadre": "shi_ganbu",
    "grassroots_cadre": "jiceng_ganbu",
    "auditor": "shenji_admin",
    "member": None,
}
VIEWPORTS = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1366, "height": 900}},
}
MAX_PAGES = 160  # per role: far above what a role reaches (one address per view beyond the starts)

# Words of an English interface (Django's, the admin theme's, a browser widget's). Product words that are codes
# (API, QR, ID, PDF, Excel, xlsx, csv, HTTP, SMS, TOTP) are not in the list: they are what the product calls them.
ENGLISH_UI_WORDS = [
    "Filters?",
    "Search",
    "Type to search",
    "Apply",
    "Reset",
    "Date",
    "from",
    "to",
    "No results",
    "results?",
    "Light",
    "Dark",
    "System",
    "Save",
    "Delete",
    "Add",
    "Change",
    "History",
    "Home",
    "Log ?out",
    "Log ?in",
    "Welcome",
    "Actions?",
    "Go",
    "Select",
    "Previous",
    "Next",
    "Show all",
    "Yes",
    "No",
    "Unknown",
    "None",
    "Clear",
    "Close",
    "Cancel",
    "Submit",
    "Today",
    "Now",
    "Yesterday",
    "Tomorrow",
    "Back",
    "Edit",
    "View",
    "Remove",
    "Upload",
    "Download",
    "Export",
    "Import",
    "Loading",
    "Error",
    "Warning",
    "Success",
    "Required",
    "Optional",
    "Password",
    "Username",
    "Name",
    "Status",
    "Total",
    "selected",
    "of",
    "and",
    "or",
    "All",
    "Run",
    "More",
    "Choose",
    "Browse",
    "Confirm",
    "Continue",
    "Sign ?in",
    "Sign ?out",
    "Settings",
    "Profile",
    "Help",
    "Page",
    "First",
    "Last",
    "Show",
    "Hide",
    "Expand",
    "Collapse",
    "Toggle",
    "Sort",
    "Ascending",
    "Descending",
    "Empty",
    "Not found",
    "Forbidden",
    "Server error",
    "Please",
    "Enter",
    "Invalid",
    "required",
    "Field",
    "Value",
    "Open",
]
ENGLISH = re.compile(r"(?<![\w/.@-])(?:" + "|".join(ENGLISH_UI_WORDS) + r")(?![\w/.@-])")

# What a page shows as text, with icon ligatures (Material Symbols: "search", "close"...) removed; then the
# attributes a screen reader or a hover reads out; then the links that leave the site.
READ_PAGE = """() => {
  const icons = document.querySelectorAll('.material-symbols-outlined, .material-icons, [class*="material-symbols"]');
  icons.forEach((element) => element.remove());
  const attributes = [];
  document.querySelectorAll('[placeholder], [title], [aria-label]').forEach((element) => {
    for (const name of ['placeholder', 'title', 'aria-label']) {
      const value = element.getAttribute(name);
      if (value) attributes.push(name + '=' + value);
    }
  });
  const outside = [];
  document.querySelectorAll('a[href]').forEach((link) => {
    if (link.protocol.startsWith('http') && link.host !== location.host) outside.push(link.href);
  });
  return {text: document.body ? document.body.innerText : '', attributes: attributes, outside: outside};
}"""
SCROLLS_SIDEWAYS = "() => document.documentElement.scrollWidth > window.innerWidth + 1"
# What can make a page behave differently at a desktop's size other than its text: the scripts it runs (one may read
# the window's size as it starts) and the style sheets it applies (one may load a resource at one width only). Pages
# alike in these are one layout; the data a script reads (<script type="application/json">) is not part of it.
LAYOUT = """() => JSON.stringify([
  Array.from(document.querySelectorAll('script[src]'), (script) => script.getAttribute('src')).sort(),
  Array.from(document.querySelectorAll('link[rel="stylesheet"], style'), (sheet) => sheet.outerHTML).sort(),
  Array.from(document.querySelectorAll('script:not([src])'), (script) =>
    script.type === 'application/json' ? script.type : script.textContent.trim()),
])"""
LINKS = "() => Array.from(document.querySelectorAll('a[href]'), (link) => link.getAttribute('href'))"


@dataclass
class PageResult:
    url: str
    viewport: str
    seconds: float
    problems: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The small demo federation served by a live server of this module. The data lives in a transaction rolled
    back at the end: the in-memory SQLite connection is shared with the server's thread, so the server sees it
    uncommitted. (Chromium is started in each test, after the test's own database set-up: while Playwright's loop
    runs, Django gives this thread other connections, which could not see the data.)"""
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("the crawl runs on the SQLite leg: pages render the same on PostgreSQL (docs/decisions.md)")
    _require_chromium()
    from pytest_django.live_server_helper import LiveServer

    with django_db_blocker.unblock(), demo_world(tmp_path_factory.mktemp("media")):
        server = LiveServer("localhost:0")
        server._live_server_modified_settings.enable()
        try:
            yield server.url
        finally:
            server._live_server_modified_settings.disable()
            server.stop()


def _prepare(role: str, base: str) -> tuple[dict, list[str], set[str]]:
    """The role's session cookie, where its crawl starts and which of those starts refuse it (ORM work, done before
    Playwright's loop runs). Every start is tried with the test client first: one that refuses the role (403/404:
    a page of another role) is crawled once, for its refusal page, instead of on every address."""
    client = member_client() if ROLES[role] is None else backoffice_client(ROLES[role])
    starts = list(dict.fromkeys(member_start_urls() if ROLES[role] is None else start_urls("admin")))
    answers = {url: client.get(url, follow=True).status_code for url in starts}
    refused = [url for url in starts if answers[url] in (403, 404)]
    kept = [url for url in starts if answers[url] not in (403, 404)] + refused[:1]
    cookie = {"name": settings.SESSION_COOKIE_NAME, "value": client.cookies[settings.SESSION_COOKIE_NAME].value}
    return {**cookie, "url": base}, kept, set(refused[:1])


def _interface(role: str) -> str:
    """The part of the site a role's crawl stays in: a cadre's links to the portal are the member's crawl."""
    return "/" if ROLES[role] is None else "/admin/"


def _in_interface(path: str, prefix: str) -> bool:
    return path.startswith("/admin/") == (prefix == "/admin/")


def _new_context(browser, base: str, viewport: str, cookie: dict, outside: list[str]):
    context = browser.new_context(locale=LOCALE, **VIEWPORTS[viewport])
    context.set_default_timeout(15_000)
    context.add_cookies([cookie])

    def route(route):
        url = route.request.url
        if url.startswith(base + "/") or url == base:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    context.route("**/*", route)
    return context


def _visit(
    page, base: str, path: str, viewport: str, outside: list[str], errors: list[tuple[str, str]], refusal: bool
) -> PageResult:
    """Load one page and collect what is wrong with it. `refusal`: the page is expected to refuse the role (its
    refusal page is what is checked, and the browser's report of the refused document is no error)."""
    outside.clear()
    errors.clear()
    started = time.perf_counter()
    response = page.goto(base + path, wait_until="load")
    result = PageResult(path, viewport, time.perf_counter() - started)
    status = response.status if response else 0
    if not (200 <= status < 400 or (refusal and status in (403, 404))):
        result.problems.append(f"answers {status or 'nothing'}")
    if viewport == "phone" and page.evaluate(SCROLLS_SIDEWAYS):
        width = page.evaluate("() => document.documentElement.scrollWidth")
        result.problems.append(f"scrolls sideways at 390 px (page {width} px wide)")
    result.problems += _read(page, base, path, outside, errors, refusal)
    return result


def _read(page, base: str, path: str, outside: list[str], errors: list[tuple[str, str]], refusal: bool) -> list[str]:
    """What is wrong with the page as it shows now: requests outside the site and console errors since the last
    look, English in the visible text and the attributes read out, links leaving the site."""
    problems = [f"requested outside the site: {u}" for u in outside]
    for text, source in errors:
        if refusal and source == base + path and "Failed to load resource" in text:
            continue  # the refused document itself
        problems.append(text)
    outside.clear()
    errors.clear()
    read = page.evaluate(READ_PAGE)
    for line in read["text"].splitlines():
        for word in ENGLISH.findall(line):
            problems.append(f"English {word!r} in {line.strip()[:80]!r}")
    for attribute in read["attributes"]:
        value = attribute.split("=", 1)[1]
        if ENGLISH.search(value):
            problems.append(f"English attribute {attribute[:80]!r}")
    problems += [f"links outside the site: {u}" for u in read["outside"] if not u.startswith(MAP_NAVIGATION)]
    return problems


def _at_desktop_width(
    page, base: str, path: str, outside: list[str], errors: list[tuple[str, str]], refusal: bool
) -> PageResult:
    """The page just loaded on the phone, widened to the desktop's viewport and read again: what the style sheets
    show or hide by width (a list's column headings, the sidebar) and what widening loads or logs. Then back to the
    phone's size for the next page."""
    started = time.perf_counter()
    page.set_viewport_size(VIEWPORTS["desktop"]["viewport"])
    try:
        problems = _read(page, base, path, outside, errors, refusal)
    finally:
        page.set_viewport_size(VIEWPORTS["phone"]["viewport"])
    return PageResult(path, "widened", time.perf_counter() - started, problems)


def _same_site_links(hrefs: list[str], current: str) -> list[str]:
    found = []
    for href in hrefs:
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:")):
            continue
        parts = urlsplit(urljoin("http://testserver" + current, href))
        if parts.netloc != "testserver":
            continue
        found.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def _crawl_in_browser(
    browser, base: str, cookie: dict, starts: list[str], refusals: set[str], interface: str
) -> list[PageResult]:
    """Breadth-first on the phone, which discovers the pages; each page is also read at the desktop's width. Then, on
    the desktop, the first page of each layout (see LAYOUT) is loaded again."""
    from playwright.sync_api import Error as PlaywrightError

    results: list[PageResult] = []
    visited: list[str] = []
    layouts: dict[str, str] = {}  # layout -> the first page of it

    def refused(path: str) -> bool:
        # A start is the first object of a model, whichever union it belongs to: one of another subtree answers 404
        # like a missing one, and that refusal page is what is checked. A link a page shows must work.
        return path in refusals or path in starts

    for viewport in VIEWPORTS:
        outside: list[str] = []
        errors: list[tuple[str, str]] = []
        context = _new_context(browser, base, viewport, cookie, outside)
        page = context.new_page()

        def console(message, errors=errors):
            if message.type == "error":
                errors.append((f"console error: {message.text}", message.location.get("url", "")))

        def failed_resource(response, errors=errors):
            # Which address failed: the console's "Failed to load resource" does not say.
            if response.status >= 400 and response.request.resource_type != "document":
                errors.append((f"resource answers {response.status}: {response.url}", response.url))

        page.on("console", console)
        page.on("response", failed_resource)
        page.on("pageerror", lambda error, errors=errors: errors.append((f"page error: {error}", "")))
        try:
            if viewport == "phone":
                queue, seen, views = list(starts), set(starts), set()
                while queue and len(visited) < MAX_PAGES:
                    path = queue.pop(0)
                    name = view_name_of(path)
                    if path not in starts and name in views:
                        continue  # another address of a view already seen (a sort link, a second member's page)
                    views.add(name)
                    try:
                        result = _visit(page, base, path, viewport, outside, errors, refused(path))
                    except PlaywrightError as error:
                        if "Download is starting" in str(error):
                            continue  # a file, not a page (tests/site/crawling.py keeps such links out)
                        raise
                    if page.evaluate("() => document.contentType") != "text/html":
                        continue  # data, not a page
                    visited.append(path)
                    results.append(result)
                    for link in _same_site_links(page.evaluate(LINKS), path):
                        if link not in seen and crawlable(link) and _in_interface(link, interface):
                            seen.add(link)
                            queue.append(link)
                    layouts.setdefault(page.evaluate(LAYOUT), path)
                    results.append(_at_desktop_width(page, base, path, outside, errors, refused(path)))
            else:
                pages = layouts.values()
                results += [_visit(page, base, path, viewport, outside, errors, refused(path)) for path in pages]
        finally:
            context.close()
    return results


@pytest.mark.parametrize("role", list(ROLES))
def test_every_page_in_chinese_on_the_site_and_on_a_phone(site, role):
    from playwright.sync_api import sync_playwright

    from scripts.browser import CHROMIUM, CHROMIUM_ARGS

    cookie, starts, refusals = _prepare(role, site)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            results = _crawl_in_browser(browser, site, cookie, starts, refusals, _interface(role))
        finally:
            browser.close()
    connections.close_all()  # the connections Django gave this thread while Playwright's loop ran
    # The auditor's back office is the audit trail and the organisations; a member's portal is a dozen pages.
    assert len({r.url for r in results}) >= (8 if role in ("member", "auditor") else 25), "the crawl reached too few"
    loads = [r for r in results if r.viewport != "widened"]
    print(f"\n{role}: {len(loads)} page loads ({len(results) - len(loads)} read again widened); the ten slowest:")
    slowest = sorted(loads, key=lambda r: r.seconds, reverse=True)[:10]
    for r in slowest:
        print(f"  {r.seconds * 1000:7.0f} ms  {r.viewport:7}  {r.url}")
    where: dict[str, list[str]] = {}  # problem -> the pages (viewport, address) that show it
    for r in results:
        for problem in r.problems:
            where.setdefault(problem, []).append(f"{r.viewport} {r.url}")
    report = [f"{problem}\n      " + "\n      ".join(pages) for problem, pages in where.items()]
    print("\n  ".join([f"{role}: {len(where)} problems", *report]))
    assert not where, f"{role}: {len(where)} problems\n  " + "\n  ".join(report)
