"""The platform runs on a closed network: no page, template, script or style sheet it serves may point outside the site.

Every URL pattern the site resolves is requested (the back office as each administrator and a city cadre, the portal as
a signed-in member, the API's docs) starting from every address without parameters, each admin model's list, add page
and one object's page, then the same-site links found on those pages; every template file is scanned as written and,
where it renders without a view's context, as rendered; the static scripts and style sheets the pages load are scanned
too. A URL outside the site fails the test unless it is one of the documented exceptions: a map provider's navigation
link as an <a href> target (never a loaded resource) and XML namespace names (which browsers never fetch).

The crawl helpers (tests/site/crawling.py: link discovery, the scanners) and the demo world (tests/site/factories.py:
demo data, member sign-in) are shared with the browser crawl in tests/e2e/test_crawl_browser.py.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.test import Client, RequestFactory

from gonghui.demo.logins import DEMO_LOGINS
from tests.site.crawling import (
    crawl,
    crawl_refusal,
    html_external_urls,
    member_start_urls,
    script_external_urls,
    start_urls,
    style_external_urls,
    url_patterns,
)
from tests.site.factories import applicant_client, backoffice_client, demo_world, member_client

ROOT = Path(settings.BASE_DIR)
pytestmark = pytest.mark.django_db

LIBRARY_LITERALS = {
    "/static/leaflet/leaflet.js": {"https://leafletjs.com"},
    "/static/ninja/swagger-ui-bundle.js": {
        "https://example.com/",
        "https://example.com/dictionary/{term:1}/{term}",
        "https://github.com/zloirock/core-js",
        "https://github.com/zloirock/core-js/blob/v3.40.0/LICENSE",
        "https://json-schema.org/draft/2020-12/schema",
        "https://reactjs.org/docs/error-decoder.html?invariant=",
        "https://spdx.org/licenses/${a}.html",
        "https://spec.openapis.org/oas/3.1/dialect/base",
        "https://swagger.io",
        "https://vladimirgorej.com",
        # Loaded only while the docs page leaves validatorUrl on: test_api_docs_do_not_ask_the_online_validator.
        "https://validator.swagger.io/validator",
    },
}
# Who crawls the back office: username of the demo federation -> a short label used in test ids and reports.
BACKOFFICE_ROLES = {
    "xitong_admin": "system_admin",
    "shi_ganbu": "city_cadre",
    "jiceng_ganbu": "grassroots_cadre",
    "shenji_admin": "auditor",
    "anquan_admin": "security_admin",
}
assert set(BACKOFFICE_ROLES) <= {login.username for login in DEMO_LOGINS}


# --- the tests -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def crawled(django_db_setup, django_db_blocker, tmp_path_factory):
    """Every interface crawled once for the module: {who: Crawl}."""
    with django_db_blocker.unblock(), demo_world(tmp_path_factory.mktemp("media")):
        crawls = {}
        for user, label in BACKOFFICE_ROLES.items():
            crawls[label] = crawl(backoffice_client(user), start_urls("admin"))
        crawls["member"] = crawl(member_client(), member_start_urls())
        crawls["applicant"] = crawl(applicant_client(), start_urls("portal"))
        crawls["visitor"] = crawl(Client(), [*start_urls("portal"), *start_urls("api"), "/admin/login/"])
    return crawls


def test_every_page_stays_on_the_site(crawled):
    problems = []
    for who, result in crawled.items():
        for visit in result.pages():
            problems += [f"{who} {visit.url}: {p}" for p in html_external_urls(visit.body)]
    assert problems == []


def test_the_scripts_and_style_sheets_pages_load_stay_on_the_site(crawled):
    assets = {url: body for result in crawled.values() for url, body in result.assets.items()}
    assert any(a.endswith("/leaflet/leaflet.js") for a in assets), "the map pages were not reached"
    assert any("/unfold/" in a for a in assets) and any("/portal/" in a for a in assets)
    problems = []
    for asset, body in sorted(assets.items()):
        path = urlsplit(asset).path
        found = style_external_urls(body) if path.endswith(".css") else script_external_urls(body)
        problems += [f"{asset}: {u}" for u in found if u not in LIBRARY_LITERALS.get(path, set())]
    assert problems == []


def test_every_url_pattern_was_requested_or_is_exempt_with_a_reason(crawled):
    requested = {v.view_name for result in crawled.values() for v in result.visits}
    missing = [
        f"{route} {name}"
        for route, name in url_patterns()
        if name not in requested
        and crawl_refusal(name) is None
        and name not in ("admin:app_list", "admin:<admin/(?P<url>.*)$>")
    ]
    assert missing == []


def test_api_docs_do_not_ask_the_online_validator(crawled):
    """Swagger UI shows a badge loaded from validator.swagger.io for any spec not on localhost (so in production,
    not in tests): the docs page must switch it off (validatorUrl null)."""
    docs = [v for v in crawled["visitor"].pages() if v.view_name == "api-v1:openapi-view"]
    assert docs, "the API docs page was not reached"
    settings_json = re.search(r'id="swagger-settings"[^>]*>(.*?)</script>', docs[0].body, re.S)
    assert settings_json is not None
    assert re.search(r'"validatorUrl"\s*:\s*null', settings_json.group(1)), settings_json.group(1)


def test_no_page_of_the_crawl_failed(crawled):
    """A crawl that only met error pages would prove nothing: every page answered, none with a server error."""
    failures = [f"{who} {v.url}: {v.status}" for who, r in crawled.items() for v in r.visits if v.status >= 500]
    assert failures == []
    assert len(crawled["city_cadre"].pages()) > 60 and len(crawled["member"].pages()) > 10


def _template_files() -> list[tuple[str, Path]]:
    found = []
    for folder in sorted(ROOT.glob("gonghui/*/templates")):
        found += [(str(p.relative_to(folder)), p) for p in sorted(folder.rglob("*.html"))]
    return found


def test_every_template_file_as_written_and_as_rendered_stays_on_the_site():
    files = _template_files()
    assert len(files) > 50
    request = RequestFactory().get("/")
    request.session = {}
    problems = []
    rendered = 0
    for name, path in files:
        problems += [f"{name}: {p}" for p in html_external_urls(path.read_text(encoding="utf-8"))]
        try:
            output = get_template(name).render({}, request)
        except (TemplateDoesNotExist, TemplateSyntaxError):
            raise
        except Exception:  # noqa: BLE001 (a template that needs its view's context is covered by the crawl)
            output = None
        if output is not None:
            rendered += 1
            problems += [f"{name} (rendered): {p}" for p in html_external_urls(output)]
    assert problems == []
    assert rendered > len(files) // 3


def test_the_project_static_files_stay_on_the_site():
    """Our own scripts and style sheets, whether or not a crawled page happened to load them."""
    problems = []
    for path in sorted(ROOT.glob("gonghui/*/static/**/*")):
        if path.suffix == ".js":
            problems += [f"{path.relative_to(ROOT)}: {u}" for u in script_external_urls(path.read_text("utf-8"))]
        elif path.suffix == ".css":
            problems += [f"{path.relative_to(ROOT)}: {u}" for u in style_external_urls(path.read_text("utf-8"))]
        elif path.suffix == ".svg":
            problems += [f"{path.relative_to(ROOT)}: {u}" for u in html_external_urls(path.read_text("utf-8"))]
    assert problems == []


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('<script src="https://cdn.example.com/x.js"></script>', ["script[src]: https://cdn.example.com/x.js"]),
        ('<link rel="stylesheet" href="//cdn.example.com/x.css">', ["link[href]: //cdn.example.com/x.css"]),
        ('<img src="http://tiles.example.com/1.png">', ["img[src]: http://tiles.example.com/1.png"]),
        (
            '<div class="x" style="background:url(https://e.example.com/a.png)"></div>',
            ["div[style]: https://e.example.com/a.png"],
        ),
        ("<style>.a{background:url('//e.example.com/a.png')}</style>", ["<style>: //e.example.com/a.png"]),
        ('<script nonce="n">fetch("https://api.example.com/v1")</script>', ["<script>: https://api.example.com/v1"]),
        ('<a href="https://uri.amap.com/marker?position=1,2">高德</a>', []),
        ('<img src="https://uri.amap.com/marker.png">', ["img[src]: https://uri.amap.com/marker.png"]),
        ('<a href="https://www.example.com/">外链</a>', ["a[href]: https://www.example.com/"]),
        ('<svg xmlns="http://www.w3.org/2000/svg"><use xlink:href="#i"/></svg>', []),
        ('<a href="/admin/">后台</a><img src="/static/common/favicon.svg">', []),
    ],
)
def test_the_scanner_finds_what_it_must(snippet, expected):
    assert html_external_urls(snippet) == expected


def test_the_script_scanner_skips_comments_and_namespaces():
    source = '/* https://leafletjs.com licence */ var s = document.createElementNS("http://www.w3.org/2000/svg", "g");'
    assert script_external_urls(source) == []
    assert script_external_urls('img.src = "https://tiles.example.com/a.png";') == ["https://tiles.example.com/a.png"]
