"""The platform runs on a closed network: no page, template, script or style sheet it serves may point outside the site.

Every URL pattern the site resolves is requested (the back office as each administrator and a city cadre, the portal as
a signed-in member, the API's docs) starting from every address without parameters, each admin model's list, add page
and one object's page, then the same-site links found on those pages; every template file is scanned as written and,
where it renders without a view's context, as rendered; the static scripts and style sheets the pages load are scanned
too. A URL outside the site fails the test unless it is one of the documented exceptions: a map provider's navigation
link as an <a href> target (never a loaded resource) and XML namespace names (which browsers never fetch).

The crawl helpers here (demo data, member sign-in, link discovery) are shared with the browser crawl in
tests/e2e/test_crawl_browser.py.
"""

import html
import io
import re
import time
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import get_template
from django.test import Client, RequestFactory
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from gonghui.accounts.models import User
from gonghui.backoffice.site import backoffice_site
from gonghui.common.sms import MemorySmsSender
from gonghui.demo.logins import DEMO_LOGINS, DEMO_MEMBER

ROOT = Path(settings.BASE_DIR)
pytestmark = pytest.mark.django_db

# --- what counts as "outside the site" -------------------------------------------------------------------------

# Navigation links a member may follow to a map provider's own app or site (opened by the member, never loaded by
# the page): allowed only as the target of an <a href>.
MAP_NAVIGATION = ("https://uri.amap.com/", "https://apis.map.qq.com/", "https://api.map.baidu.com/")
# XML namespace names are identifiers, not addresses a browser fetches.
NAMESPACES = (
    "http://www.w3.org/2000/svg",
    "http://www.w3.org/1999/xlink",
    "http://www.w3.org/1999/xhtml",
    "http://www.w3.org/XML/1998/namespace",
    "http://www.w3.org/2000/xmlns/",
    "http://www.w3.org/1998/Math/MathML",
)

_ABSOLUTE = r"(?:https?:)?//[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
_ATTRIBUTE = re.compile(
    r"""<(?P<tag>[a-zA-Z][\w:-]*)\b[^>]*?\s(?P<attr>src|href|action|formaction|poster|data|srcset|xlink:href|"""
    r"""hx-get|hx-post|hx-put|hx-delete|hx-patch|background|content|style)\s*=\s*(?P<q>["'])(?P<value>.*?)(?P=q)""",
    re.S | re.I,
)
_CSS_URL = re.compile(r"""(?:url\(\s*|@import\s+)(["']?)\s*(?P<value>""" + _ABSOLUTE + r"[^\"')\s]*)", re.I)
_SCRIPT_CALL = re.compile(
    r"""(?:fetch|import|open|importScripts|EventSource|WebSocket|sendBeacon|Worker)\s*\(\s*(?:["'`]GET["'`]\s*,\s*)?"""
    r"""["'`](?P<value>""" + _ABSOLUTE + r"[^\"'`]*)",
    re.I,
)
# A string literal in a script or style sheet that starts with an absolute address (comments, where library licences
# name their home pages, are not string literals and are not matched).
_LITERAL = re.compile(r"""(?<![\w\\])(["'`])(?P<value>""" + _ABSOLUTE + r"""[^"'`\s]*)\1""")
# Absolute string literals in vendored libraries that no page loads: error-message and licence links, JSON Schema and
# OpenAPI identifiers, example values in the API docs, and Leaflet's attribution prefix link (a link, never a load;
# the browser crawl fails any such link a page shows outside the map providers). Anything else in them fails.
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
_SCRIPT_BLOCK = re.compile(r"<script\b[^>]*>(?P<body>.*?)</script>", re.S | re.I)
_STYLE_BLOCK = re.compile(r"<style\b[^>]*>(?P<body>.*?)</style>", re.S | re.I)


def _external(value: str) -> bool:
    value = html.unescape(value).strip()
    return re.match(_ABSOLUTE, value) is not None and not value.startswith(NAMESPACES)


def html_external_urls(page: str) -> list[str]:
    """The outside addresses a page (or a template's source) would load or send to, each as 'tag[attr]: url'."""
    found = []
    for m in _ATTRIBUTE.finditer(page):
        tag, attr, value = m["tag"].lower(), m["attr"].lower(), html.unescape(m["value"])
        if attr == "style":
            found += [f"{tag}[style]: {u['value']}" for u in _CSS_URL.finditer(value) if _external(u["value"])]
            continue
        if attr == "content":
            continue  # <meta content> is text (a refresh to outside would need a URL with "url=": caught below)
        candidates = [part.strip().split(" ")[0] for part in value.split(",")] if attr == "srcset" else [value]
        for url in candidates:
            if not _external(url):
                continue
            if tag == "a" and attr == "href" and url.startswith(MAP_NAVIGATION):
                continue
            found.append(f"{tag}[{attr}]: {url}")
    found += [f"meta refresh: {m[1]}" for m in re.finditer(r"url=(" + _ABSOLUTE + r"[^\"'>\s]*)", page, re.I)]
    for m in _STYLE_BLOCK.finditer(page):
        found += [f"<style>: {u['value']}" for u in _CSS_URL.finditer(m["body"]) if _external(u["value"])]
    for m in _SCRIPT_BLOCK.finditer(page):
        found += [f"<script>: {u}" for u in script_external_urls(m["body"])]
    return found


def script_external_urls(source: str) -> list[str]:
    """Outside addresses a script would request: absolute string literals (fetch, src, import...), minus namespaces."""
    urls = [m["value"] for m in _SCRIPT_CALL.finditer(source)] + [m["value"] for m in _LITERAL.finditer(source)]
    return sorted({u for u in urls if _external(u)})


def style_external_urls(source: str) -> list[str]:
    return sorted({m["value"] for m in _CSS_URL.finditer(source) if _external(m["value"])})


def loaded_assets(page: str) -> set[str]:
    """Same-site scripts and style sheets a page loads."""
    assets = set()
    for m in re.finditer(r"<script\b[^>]*\bsrc=([\"'])(?P<v>[^\"']+)\1", page, re.I):
        assets.add(html.unescape(m["v"]))
    for m in re.finditer(r"<link\b[^>]*>", page, re.I):
        tag = m.group(0)
        if re.search(r"rel=[\"'](?:stylesheet|preload|modulepreload)[\"']", tag, re.I):
            href = re.search(r"href=([\"'])(?P<v>[^\"']+)\1", tag, re.I)
            if href:
                assets.add(html.unescape(href["v"]))
    return {a for a in assets if not _external(a)}


# --- demo data and the people who look at it -----------------------------------------------------------------

DEMO_ORGS, DEMO_MEMBERS, DEMO_SEED = 80, 60, 7
# Who crawls the back office: username of the demo federation -> a short label used in test ids and reports.
BACKOFFICE_ROLES = {
    "xitong_admin": "system_admin",
    "shi_ganbu": "city_cadre",
    "jiceng_ganbu": "grassroots_cadre",
    "shenji_admin": "auditor",
    "anquan_admin": "security_admin",
}
assert set(BACKOFFICE_ROLES) <= {login.username for login in DEMO_LOGINS}


def seed_small_demo() -> None:
    """The demo federation at its smallest: one object at least of every kind the pages show."""
    call_command(
        "seed_demo",
        "--orgs",
        str(DEMO_ORGS),
        "--members",
        str(DEMO_MEMBERS),
        "--seed",
        str(DEMO_SEED),
        stdout=io.StringIO(),
    )


def add_what_the_demo_lacks() -> None:
    """Objects the demo does not make but pages show: an API token, a roster import (a preview job) and a member's
    correction request."""
    from gonghui.accounts.actors import actor_for_user
    from gonghui.accounts.services import api_token_create
    from gonghui.casework.services import case_accept, member_case_apply
    from gonghui.common.actor import system_actor
    from gonghui.members.imports import roster_import_request, roster_import_run
    from gonghui.members.member_accounts import member_account_of
    from gonghui.members.models import Membership
    from gonghui.members.self_service import member_correction_request, member_transfer_request
    from gonghui.orgs.models import Organisation
    from tests.test_casework import ALL_CONSENT, FORMS

    api_token_create(actor=system_actor("tests"), org=Organisation.objects.get(code="SZ"), name="省总工会数据平台")
    union = Organisation.objects.get(code=DEMO_MEMBER.union_code)
    cadre = actor_for_user(User.objects.get(username="jiceng_ganbu"), ip="127.0.0.1")
    roster = f"姓名,证件号码\n{DEMO_MEMBER.name},{DEMO_MEMBER.doc_number}\n".encode()
    job = roster_import_request(
        actor=cadre, org=union, filename="名册.csv", content=roster, mode="dry-run", enqueue=lambda job_id: None
    )
    roster_import_run(str(job.id))
    member_client()  # signs in and binds the demo member
    person = Membership.objects.get(org=union, person__name=DEMO_MEMBER.name, status="active").person
    account = member_account_of(person)
    member_correction_request(account=account, changes={"education": "postgraduate"}, note="已取得硕士学位")
    # Her own service case, accepted (a message tells her), and a transfer she asked for.
    case = member_case_apply(account=account, kind="hardship", data=FORMS["hardship"], consent=ALL_CONSENT, ip=None)
    case_accept(actor=cadre, case=case)
    member_transfer_request(account=account, to_org=other_grassroots_union(), reason="工作调动", ip=None)
    applicant_client()


APPLICANT_PHONE = "13900001234"
APPLICANT = {
    "name": "李新工",
    "doc_type": "resident_id",
    "doc_number": "",  # filled below: a valid resident ID
    "ethnicity": "汉族",
    "education": "bachelor",
    "employment_form": "standard",
    "work_unit": "双塔精密机械有限公司",
    "post": "装配工",
    "consent": "on",
}


def other_grassroots_union():
    from gonghui.orgs.models import Organisation, OrgType

    return (
        Organisation.objects.filter(org_type=OrgType.GRASSROOTS, status="active")
        .exclude(code=DEMO_MEMBER.union_code)
        .order_by("code")
        .first()
    )


def _sign_in_by_code(client: Client, phone: str) -> None:
    from datetime import timedelta

    from django.db.models import F

    from gonghui.members.models import PhoneCode
    from gonghui.members.people import phone_index

    # A sign-in on this phone a few seconds ago (the world's set-up signs the member in too) counts as one more than a
    # minute ago: the portal allows one code a minute per phone, and this is a new sign-in, not a resend.
    PhoneCode.objects.filter(phone_index=phone_index(phone)).update(created_at=F("created_at") - timedelta(minutes=2))
    client.post(reverse("portal:login"), {"phone": phone, "action": "send"})
    code = re.search(r"\d{6}", [text for to, text in MemorySmsSender.outbox if to == phone][-1]).group(0)
    client.post(reverse("portal:login"), {"phone": phone, "code": code})


def applicant_client() -> Client:
    """A worker not yet in the registry, signed in, who has applied to join the demo member's union."""
    from datetime import date

    from gonghui.members.models import JoinApplication
    from gonghui.orgs.models import Organisation
    from tests.members.factories import resident_id

    client = Client()
    _sign_in_by_code(client, APPLICANT_PHONE)
    union = Organisation.objects.get(code=DEMO_MEMBER.union_code)
    if not JoinApplication.objects.filter(org=union, person__name=APPLICANT["name"]).exists():
        form = {**APPLICANT, "doc_number": resident_id(date(1995, 3, 8), 21)}
        client.post(reverse("portal:join_union", args=[union.id]), form)
    assert client.get(reverse("portal:applications")).status_code == 200
    cache.clear()
    return client


def backoffice_client(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def member_client() -> Client:
    """The demo member, signed in to the portal with an SMS code and bound to her record (核验身份)."""
    client = Client()
    _sign_in_by_code(client, DEMO_MEMBER.phone)
    client.post(
        reverse("portal:bind"),
        {"name": DEMO_MEMBER.name, "doc_type": "resident_id", "doc_number": DEMO_MEMBER.doc_number},
    )
    assert client.get(reverse("portal:card")).status_code == 200, "the demo member could not sign in and bind"
    cache.clear()  # the sign-in counted towards the code-request rate limit; the next sign-in starts afresh
    return client


# --- which addresses exist and which of them a crawl may request -----------------------------------------------


def url_patterns() -> list[tuple[str, str]]:
    """(route, view name) of every URL pattern the site resolves."""

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                ns = f"{namespace}:{p.namespace}".strip(":") if p.namespace else namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                name = f"{namespace}:{p.name}".strip(":") if p.name else f"{namespace}:<{prefix}{p.pattern}>"
                yield prefix + str(p.pattern), name

    return list(walk(get_resolver().url_patterns))


# Addresses a crawl never requests: they end a session, act (even behind a confirmation page), hand out a file or
# data rather than a page, or reveal a protected value (which is audited). Matched against the view name.
NOT_CRAWLED = {
    "admin:logout": "ends the session",
    "portal:logout": "ends the session",
    "admin:autocomplete": "JSON for select boxes",
    "admin:search": "JSON for the command palette",
    "admin:jsi18n": "a script (scanned as an asset when a page loads it)",
    "admin:theme_css": "a style sheet (scanned as an asset)",
    "portal:healthz": "a health probe for the load balancer",
}
_NOT_CRAWLED_NAME = re.compile(
    r"(export|download|template|_png$|reveal|unlock|reset_|toggle_active|approve_role|revoke|dissolve|merge_into|"
    r"move_subtree|_delete$|cancel|from_preview|read_all|station_rate|card_qr|join_check|_history$|"
    r"attachment|station_photo|stats_report|api-v1:(?!openapi-view|openapi-json|api-root))"
)


def crawl_refusal(view_name: str) -> str | None:
    if re.fullmatch(r"admin:<admin/\w+/\w+/<path:object_id>/>", view_name):
        return "Django's old address of an object, which redirects to its change page"
    if view_name in NOT_CRAWLED:
        return NOT_CRAWLED[view_name]
    if _NOT_CRAWLED_NAME.search(view_name):
        return "acts, reveals, hands out a file or answers data, not a page"
    return None


def _first_object_urls() -> list[str]:
    """Each registered model's list, add page and the change page of its first object."""
    urls = []
    for model in backoffice_site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        urls += [reverse("admin:{}_{}_changelist".format(*info)), reverse("admin:{}_{}_add".format(*info))]
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls.append(reverse("admin:{}_{}_change".format(*info), args=[first.pk]))
    from gonghui.jobs.models import JobRun

    job = JobRun.objects.filter(kind="roster_import").order_by("pk").first()
    if job is not None:  # a roster import's pages, which its list links to only as they apply
        steps = ("roster_import_detail", "roster_import_declared", "roster_import_transfers")
        urls += [reverse(f"admin:{step}", args=[job.id]) for step in steps]
    return urls


def start_urls(interface: str) -> list[str]:
    """Where a crawl of one interface ('admin', 'portal' or 'api') starts: every pattern of it without parameters,
    plus, for the back office, each admin model's pages."""
    urls = []
    for route, name in url_patterns():
        if "<" in route or "(?P" in route or "^" in route or crawl_refusal(name) or not name.startswith(interface):
            continue
        urls.append("/" + route)
    if interface == "admin":
        urls += _first_object_urls()
    return urls


def member_start_urls() -> list[str]:
    """The portal's addresses without parameters, plus a union's join page, a transfer target and a station."""
    from gonghui.orgs.models import Organisation
    from gonghui.stations.models import Station

    union = Organisation.objects.get(code=DEMO_MEMBER.union_code)
    station = Station.objects.order_by("pk").first()
    return [
        *start_urls("portal"),
        reverse("portal:join_union", args=[union.id]),
        reverse("portal:transfer_to", args=[other_grassroots_union().id]),
        reverse("portal:station_detail", args=[station.id]),
    ]


_LINK = re.compile(r"""\s(?:href|hx-get|action)=(["'])(?P<v>[^"'#][^"']*)\1""", re.I)


def page_links(page: str, base: str) -> list[str]:
    """Same-site addresses a page links to (links, htmx fragments, GET form targets), without the fragment."""
    links = []
    for m in _LINK.finditer(page):
        url = urljoin(base, html.unescape(m["v"]).strip())
        parts = urlsplit(url)
        if parts.scheme not in ("", "http") or (parts.netloc and parts.netloc != "testserver"):
            continue
        links.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return links


def view_name_of(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name if match.url_name else f"{':'.join(match.namespaces)}:<{match.route}>".lstrip(":")


def crawlable(path: str) -> bool:
    name = view_name_of(path)
    return (
        name is not None
        and crawl_refusal(name) is None
        and not path.startswith(settings.STATIC_URL)
        and not path.startswith(settings.MEDIA_URL)
    )


@dataclass
class Visit:
    url: str
    view_name: str
    status: int
    content_type: str
    body: str
    seconds: float


@dataclass
class Crawl:
    visits: list[Visit] = field(default_factory=list)
    assets: dict[str, str] = field(default_factory=dict)  # same-site scripts and style sheets the pages load

    def pages(self) -> list[Visit]:
        return [v for v in self.visits if v.content_type.startswith("text/html")]


def crawl(client: Client, starts: list[str], *, per_view: int = 1, limit: int = 500) -> Crawl:
    """Every address of `starts`, then breadth-first over same-site GET links from them, at most `per_view`
    addresses of one view beyond the starts (a list's sort and filter links and many members' pages add nothing the
    first one did not show)."""
    result = Crawl()
    queue = deque(dict.fromkeys(starts))
    start_set = set(queue)
    seen: set[str] = set(queue)
    per: dict[str, int] = {}
    while queue and len(result.visits) < limit:
        url = queue.popleft()
        name = view_name_of(url)
        if name is None or crawl_refusal(name):
            continue
        if url not in start_set:
            if per.get(name, 0) >= per_view:
                continue
            per[name] = per.get(name, 0) + 1
        started = time.perf_counter()
        response = client.get(url, HTTP_ACCEPT="text/html")
        seconds = time.perf_counter() - started
        content_type = response.get("Content-Type", "")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace") if content_type.startswith(("text/", "application/json")) else ""
        result.visits.append(Visit(url, name, response.status_code, content_type, text, seconds))
        if response.status_code in (301, 302):
            target = urljoin(url, response["Location"])
            if urlsplit(target).netloc in ("", "testserver") and target not in seen and crawlable(target):
                seen.add(target)
                queue.append(urlsplit(target).path + (f"?{urlsplit(target).query}" if urlsplit(target).query else ""))
        if content_type.startswith("text/html"):
            for asset in loaded_assets(text):
                asset = urljoin(url, asset)
                if asset not in result.assets:
                    response = client.get(asset)
                    assert response.status_code == 200, f"{url} loads {asset}, which answers {response.status_code}"
                    result.assets[asset] = _body_text(response)
            for link in page_links(text, url):
                if link not in seen and crawlable(link):
                    seen.add(link)
                    queue.append(link)
    return result


def _body_text(response) -> str:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return body.decode("utf-8", "replace")


# --- the tests -------------------------------------------------------------------------------------------------


@contextmanager
def demo_world(tmp_media: Path):
    """The small demo federation in a transaction rolled back at the end, with the suite's fast settings (the
    autouse fixture that sets them is function-scoped, and this is built once per module)."""
    from django.db import transaction
    from django.test import override_settings

    from tests.conftest import _reset_task_backends

    with (
        override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            TASKS={"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}},
            SMS_BACKEND="gonghui.common.sms.MemorySmsSender",
            MEDIA_ROOT=str(tmp_media),
        ),
        transaction.atomic(),
    ):
        cache.clear()
        MemorySmsSender.outbox.clear()
        _reset_task_backends()
        try:
            seed_small_demo()
            add_what_the_demo_lacks()
            yield
        finally:
            transaction.set_rollback(True)
            _reset_task_backends()
            cache.clear()


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
