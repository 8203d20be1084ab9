"""User text stays text, and the Content-Security-Policy holds, in a real browser.

A cadre of another district names a station `<img src=x onerror="window.__xss=1"> &lt;b&gt; & "驿站"`: the
15-minute-circle map of a neighbouring district's cadre and the portal's station map show that name literally, as
text, and no script runs. Then a tour of the main pages of the back office, the portal and the API docs raises no
`securitypolicyviolation` event and writes no error to the console.

One Chromium for the module (a fresh context per test): browser start-up is the slow part.
"""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from gonghui.orgs.models import OrgType
from gonghui.orgs.services import org_create
from gonghui.stations.models import Facility, StationKind
from gonghui.stations.services import station_create
from tests.conftest import PASSWORD
from tests.e2e.conftest import LOCALE, _require_chromium
from tests.e2e.test_backoffice_browser import sign_in
from tests.members.factories import enrol

pytestmark = pytest.mark.browser

# `&lt;b&gt;` shows whether `&` is escaped: unescaped, the page would show "<b>" instead of the name.
HOSTILE = '<img src=x onerror="window.__xss=1"> &lt;b&gt; & "驿站"'
HERE = (31.3000, 120.6200)
# Every securitypolicyviolation event of the page, kept across the page's own scripts.
WATCH_CSP = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__csp.push(event.violatedDirective + " " + event.blockedURI + " " + (event.sample || ""));
});
"""


@pytest.fixture(scope="module")
def chromium():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    from scripts.browser import CHROMIUM, CHROMIUM_ARGS

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def watched(chromium):
    """A fresh desktop page that records policy violations, console errors and uncaught exceptions."""
    from django.db import connections

    from scripts.browser import VIEWPORT

    context = chromium.new_context(viewport=VIEWPORT, locale=LOCALE)
    context.set_default_timeout(10_000)
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    page.problems = []

    def console(message):
        # Browsers ask for /favicon.ico on their own; the platform has none (a 404 that no page asked for).
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            page.problems.append(f"{page.url}: console: {message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda error: page.problems.append(f"{page.url}: exception: {error}"))
    try:
        yield page
    finally:
        context.close()
        connections.close_all()  # as in the shared browser fixtures


def violations(page: Page) -> list[str]:
    return page.evaluate("window.__csp")


def _station(system, org, name, north_m=0.0, east_m=0.0):
    return station_create(
        actor=system,
        org=org,
        kind=StationKind.OUTDOOR,
        name=name,
        address="姑苏区十全街1号",
        lat=round(HERE[0] + north_m / 111_195.0, 7),
        lng=round(HERE[1] + east_m / 95_000.0, 7),
        always_open=True,
        facilities=[Facility.WATER],
    )


@pytest.fixture
def world(transactional_db, live_server, tree, accounts, system):
    own = _station(system, tree["SZ-GS-T01"], "双塔户外劳动者服务站")
    # Planted by a cadre of the neighbouring district, 150 m away: inside the 15-minute circle of Gusu's map.
    hostile = _station(system, tree["SZ-WZ-T01"], HOSTILE, north_m=150)
    return {"tree": tree, "own": own, "hostile": hostile}


def hover_station(page: Page, holder: str, station) -> None:
    """Move the mouse onto a station's dot (Leaflet draws dots on a canvas, so there is no element to hover)."""
    point = page.evaluate(
        f"(() => {{ const p = document.querySelector('{holder}').ghMap"
        f".latLngToContainerPoint([{station.lat}, {station.lng}]); return [p.x, p.y]; }})()"
    )
    box = page.locator(holder).bounding_box()
    page.mouse.move(box["x"] + point[0], box["y"] + point[1])


def test_a_hostile_station_name_is_text_on_the_neighbouring_districts_coverage_map(watched: Page, live_server, world):
    page = watched
    base = live_server.url
    sign_in(page, base, "district_cadre")
    page.wait_for_url(f"{base}/admin/")
    page.goto(f"{base}{reverse('admin:station_coverage')}?source=grid")
    expect(page.locator("#gh-coverage-map canvas")).to_have_count(1)

    hover_station(page, "#gh-coverage-map", world["hostile"])

    tooltip = page.locator("#gh-coverage-map .leaflet-tooltip")
    expect(tooltip).to_have_text(HOSTILE)
    expect(tooltip.locator("img")).to_have_count(0)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert violations(page) == []
    assert page.problems == []


def test_a_hostile_station_name_is_text_in_the_portal_station_map_popup(watched: Page, live_server, world):
    page = watched
    base = live_server.url
    page.goto(f"{base}{reverse('portal:station_map')}")
    expect(page.locator("#station-map canvas")).to_have_count(1)
    page.evaluate(f"document.getElementById('station-map').ghMap.setView([{HERE[0]}, {HERE[1]}], 16)")

    hover_station(page, "#station-map", world["hostile"])
    page.mouse.down()
    page.mouse.up()

    popup = page.locator("#station-map .leaflet-popup-content")
    expect(popup).to_have_text(HOSTILE + world["hostile"].get_kind_display())
    link = popup.get_by_role("link")
    expect(link).to_have_text(HOSTILE)
    expect(link).to_have_attribute("href", reverse("portal:station_detail", args=[world["hostile"].id]))
    expect(popup.locator("img")).to_have_count(0)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert violations(page) == []
    assert page.problems == []


def test_the_main_pages_run_under_the_policy_without_errors(watched: Page, live_server, world, system):
    tree = world["tree"]
    page = watched
    base = live_server.url
    # A member to open, and a union under the community so that the tree has a node to expand.
    membership = enrol(system, tree["SZ-GS-T01-12"], name="王会员", seq=3)
    org_create(
        actor=system,
        parent=tree["SZ-GS-T01-C1"],
        name="竹辉社区联合工会委员会",
        code="SZ-GS-T01-C1-J1",
        org_type=OrgType.JOINT_GRASSROOTS,
        region_code="320508",
    )
    seen = {}

    def visit(url: str, ready: str) -> None:
        page.goto(f"{base}{url}")
        expect(page.locator(ready).first).to_be_visible()
        page.wait_for_load_state("networkidle")
        seen[url] = violations(page)

    visit(reverse("portal:home"), "main.page")
    visit(reverse("portal:join_find"), "main.page")
    visit(reverse("portal:join_union", args=[tree["SZ-GS-T01-12"].id]), "main.page")
    visit(reverse("portal:station_map"), "#station-map canvas")
    visit(reverse("portal:login"), "main.page")
    visit("/api/v1/docs", "#swagger-ui .information-container")

    sign_in(page, base, "district_cadre", PASSWORD)
    page.wait_for_url(f"{base}/admin/")
    seen["sign-in"] = violations(page)
    visit(reverse("admin:index"), "#content .gh-card")
    visit(f"{reverse('admin:org_tree')}?org={tree['SZ-GS-T01'].id}", "#content ul.gh-tree")
    toggle = page.get_by_role("button", name="展开 竹辉社区工会")
    with page.expect_response(lambda r: "/admin/orgs/tree/children/" in r.url):
        toggle.click()
    expect(page.get_by_role("link", name="竹辉社区联合工会委员会")).to_be_visible()
    toggle.click()  # closing empties the node again, without a request
    expect(page.get_by_role("link", name="竹辉社区联合工会委员会")).to_have_count(0)
    page.locator("input[name=q]").fill("竹辉")
    page.locator("input[name=q]").press("Enter")
    expect(page.locator("#gh-search-results")).to_contain_text("竹辉社区工会")
    assert page.url == f"{base}{reverse('admin:org_tree')}?org={tree['SZ-GS-T01'].id}"  # not submitted
    seen["org tree, expanded"] = violations(page)
    visit(reverse("admin:orgs_organisation_changelist"), "#result_list")
    visit(reverse("admin:orgs_organisation_change", args=[tree["SZ-GS-T01"].id]), "#content form")
    visit(reverse("admin:member_detail", args=[membership.id]), "#content .gh-card")
    visit(reverse("admin:roster_import"), "#content form")
    visit(reverse("admin:stats_dashboard"), "#content canvas.chart")
    visit(reverse("admin:service_figures"), "#content .gh-card")
    visit(f"{reverse('admin:station_coverage')}?source=grid", "#gh-coverage-map canvas")
    visit(reverse("admin:org_join_code", args=[tree["SZ-GS-T01-12"].id]), "[data-testid=join-poster]")

    assert {url: found for url, found in seen.items() if found} == {}
    assert page.problems == []
