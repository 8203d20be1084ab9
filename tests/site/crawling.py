"""Crawling the site with the test client: which addresses exist, which of them a crawl may request, and the
addresses a page, script or style sheet would load from outside the site. Used by tests/site/test_offline_urls.py
and the browser crawl (tests/e2e/test_crawl_browser.py)."""

import html
import re
import time
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve, reverse

from gonghui.backoffice.site import backoffice_site
from gonghui.demo.logins import DEMO_MEMBER
from tests.site.factories import other_grassroots_union

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
    "admin:roster_import_transfers": "发起接转 from an import's conflicts: POST only (a GET answers 405)",
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
        steps = ("roster_import_detail", "roster_import_declared")
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
