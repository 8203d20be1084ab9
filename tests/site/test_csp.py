"""Content-Security-Policy on every response, user text rendered as text, and the shipped settings (DEBUG off, no
view-on-site shortcut in the back office)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, resolve, reverse

from gonghui.common.csp import tile_origins

NONCE = re.compile(r"'nonce-([A-Za-z0-9_-]{22,})'")
STRICT = (
    "default-src 'self'; script-src 'self' 'nonce-{n}'; style-src 'self' 'nonce-{n}'; img-src 'self' data:{tiles}; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; "
    "form-action 'self'"
)
# The back office runs unfold's Alpine.js, whose standard build evaluates its attribute expressions with
# `new Function`: allowed there and nowhere else.
BACK_OFFICE = STRICT.replace("script-src 'self' 'nonce-{n}'", "script-src 'self' 'nonce-{n}' 'unsafe-eval'")


def policy(response) -> tuple[str, str]:
    """(the header with its nonce replaced by {n}, the nonce)."""
    header = response["Content-Security-Policy"]
    nonces = set(NONCE.findall(header))
    assert len(nonces) == 1, header
    nonce = nonces.pop()
    return header.replace(nonce, "{n}"), nonce


def expected(template: str, tiles: str = "") -> str:
    return template.replace("{tiles}", tiles)


@pytest.fixture
def cadre(login):
    return login("district_cadre")


@pytest.mark.parametrize(
    ("label", "url"),
    [
        ("portal home", "/"),
        ("portal join search", "/join/"),
        ("portal station map", "/map/"),
        ("API", "/api/v1/openapi.json"),
        ("API docs", "/api/v1/docs"),
        ("unknown URL", "/no-such-page/"),
        ("unknown API URL", "/api/v1/no-such-thing"),
        ("static file", "/static/portal/portal.css"),
    ],
)
def test_public_responses_carry_the_strict_policy(db, client, label, url):
    response = client.get(url)
    header, _ = policy(response)
    assert header == expected(STRICT), label


def test_the_api_docs_load_swagger_ui_from_the_site_itself(db, client):
    """The platform runs on closed networks: the docs page names no other host, and its scripts are files."""
    page = client.get("/api/v1/docs").content.decode()
    assert '<script src="/static/ninja/swagger-ui-bundle.js"></script>' in page
    assert '<script src="/static/ninja/swagger-ui-init.js"></script>' in page
    assert re.findall(r"https?://", page) == []
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_the_api_answers_json_with_the_strict_policy(tree, cadre):
    response = cadre.get(f"/api/v1/orgs/{tree['SZ-GS'].id}")
    assert response.status_code == 200
    assert policy(response)[0] == expected(STRICT)


@pytest.mark.parametrize(
    "url",
    [
        "/admin/",
        "/admin/orgs/tree/",
        "/admin/orgs/organisation/",
        "/admin/stations/coverage/",
        "/admin/no-such-page/",
    ],
)
def test_back_office_pages_carry_the_back_office_policy(tree, cadre, url):
    response = cadre.get(url)
    assert response.status_code in (200, 404), url
    assert policy(response)[0] == expected(BACK_OFFICE), url


def test_the_sign_in_page_carries_the_back_office_policy(db, client):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert policy(response)[0] == expected(BACK_OFFICE)


def test_a_404_page_has_the_policy_and_no_nonce_in_its_body(db, client):
    """The missing page is the same bytes for everyone (out of scope looks exactly like missing): no nonce in it."""
    first, second = client.get("/no-such-page/"), client.get("/no-such-page/")
    assert first.status_code == second.status_code == 404
    assert first.content == second.content
    assert policy(first)[1] != policy(second)[1]
    assert policy(first)[1].encode() not in first.content


def test_the_nonce_is_new_for_every_response_and_matches_the_pages_nonced_tags(tree, cadre):
    url = reverse("admin:org_join_code", args=[tree["SZ-GS-T01-12"].id])
    first, second = cadre.get(url), cadre.get(url)
    assert first.status_code == second.status_code == 200
    nonces = []
    for response in (first, second):
        _, nonce = policy(response)
        tags = re.findall(rb"<(script|style)\b[^>]*\bnonce=\"([^\"]*)\"", response.content)
        assert tags, "the join poster's print style is an inline style block"
        assert {value.decode() for _, value in tags} == {nonce}
        # Every inline script or style block on the page carries the nonce.
        inline = re.findall(
            rb"<(?:script|style)\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", response.content
        )
        assert all(b"nonce=" in tag for tag in inline), inline
        nonces.append(nonce)
    assert nonces[0] != nonces[1]
    assert len(nonces[0]) >= 22


def test_the_configured_tile_host_may_serve_images(db, client, settings):
    settings.STATIONS_TILE_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?x={x}&y={y}&l={z}&tk=KEY"
    settings.STATIONS_TILE_SUBDOMAINS = "012"
    hosts = " https://t0.tianditu.gov.cn https://t1.tianditu.gov.cn https://t2.tianditu.gov.cn"
    assert policy(client.get("/map/"))[0] == expected(STRICT, hosts)
    assert policy(client.get("/admin/login/"))[0] == expected(BACK_OFFICE, hosts)


@pytest.mark.parametrize(
    ("url", "subdomains", "origins"),
    [
        ("", "abc", []),
        ("https://tiles.example.cn/{z}/{x}/{y}.png", "abc", ["https://tiles.example.cn"]),
        ("http://10.0.0.5:8080/{z}/{x}/{y}.png", "", ["http://10.0.0.5:8080"]),
        (
            "https://{s}.tile.example.cn/{z}/{x}/{y}.png",
            "ab",
            ["https://a.tile.example.cn", "https://b.tile.example.cn"],
        ),
    ],
)
def test_tile_origins(url, subdomains, origins):
    assert tile_origins(url, subdomains) == origins


@pytest.mark.parametrize(
    "url",
    ["tiles.example.cn/{z}/{x}/{y}.png", "javascript:alert(1)", "https://{s}.x.cn/{z}", "https://t{r}.x.cn/{z}"],
)
def test_a_tile_url_that_names_no_host_is_refused(url):
    with pytest.raises(ValueError):
        tile_origins(url, "" if "{s}" in url else "ab")


# ---------------------------------------------------------------- the view-on-site shortcut is not routed


def test_the_view_on_site_shortcut_is_not_a_back_office_route(tree, cadre):
    from django.contrib.contenttypes.models import ContentType

    from gonghui.orgs.models import Organisation

    with pytest.raises(NoReverseMatch):
        reverse("admin:view_on_site", args=[1, 1])
    content_type = ContentType.objects.get_for_model(Organisation)
    url = f"/admin/r/{content_type.id}/{tree['SZ-WZ'].id}/"
    assert resolve(url).url_name != "view_on_site"

    existing = cadre.get(url)
    missing = cadre.get(f"/admin/r/{content_type.id}/00000000-0000-0000-0000-000000000000/")
    unknown = cadre.get(f"/admin/no-such-page/{content_type.id}/{tree['SZ-WZ'].id}/")
    assert existing.status_code == missing.status_code == unknown.status_code == 404
    assert existing.content == missing.content == unknown.content


# ---------------------------------------------------------------- the settings a fresh checkout runs with


BASE_DIR = Path(settings.BASE_DIR)
SHIPPED_404 = """
import django
django.setup()
from django.conf import settings
from django.test import Client
import gonghui.portal.views.account

def broken(request):
    raise RuntimeError("secret-detail-of-a-failure")

client = Client(raise_request_exception=False)
missing = client.get("/no-such-page/")
static = client.get("/static/portal/portal.css")
gonghui.portal.views.account.current_account = broken  # the portal's home page fails
failed = client.get("/")
print(settings.DEBUG, missing.status_code, static.status_code, failed.status_code)
print(failed.content.decode().replace("\\n", " "))
print(missing.content.decode())
"""


def test_a_fresh_env_runs_with_debug_off_and_the_products_own_404(tmp_path):
    """`make env` writes the .env that `make run` uses: DEBUG stays off, an unknown URL gets the product's own 404
    page (not Django's debug page listing the URL configuration), a failure the product's own 500 page (no
    traceback), and static files are still served."""
    env_file = tmp_path / ".env"
    created = subprocess.run(
        [sys.executable, "scripts/init_env.py", str(env_file)], cwd=BASE_DIR, capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    lines = env_file.read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if line.startswith("DEBUG")] == []

    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DEBUG", "DATABASE_URL", "SECRET_KEY", "FIELD_ENCRYPTION_KEY", "BLIND_INDEX_KEY")
    }
    env.update(
        GONGHUI_ENV_FILE=str(env_file),
        DJANGO_SETTINGS_MODULE="gonghui.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )
    result = subprocess.run(
        [sys.executable, "-c", SHIPPED_404], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    first_line, failed, body = result.stdout.split("\n", 2)
    assert first_line == "False 404 200 500"
    assert "系统暂时无法处理您的请求，请稍后再试。" in failed
    assert "Traceback" not in failed and "secret-detail-of-a-failure" not in failed
    assert "您访问的页面不存在或您无权查看。" in body
    for debug_text in ("URLconf", "urlpatterns", "gonghui.urls", "admin/", "api/v1/", "DEBUG = True"):
        assert debug_text not in body, debug_text


# ---------------------------------------------------------------- templates and the theme carry no inline code


TEMPLATES = sorted(Path(settings.BASE_DIR, "gonghui").glob("*/templates/**/*.html"))
INLINE = [
    ("event-handler attribute", re.compile(r"""\son[a-z]+\s*=\s*["']""")),
    ("style attribute", re.compile(r"""\sstyle\s*=\s*["']""")),
    ("inline script", re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>")),
    ("style block without the nonce", re.compile(r"<style\b(?![^>]*nonce=\"\{\{ csp_nonce \}\}\")[^>]*>")),
    ("HTML from a variable", re.compile(r"\|\s*safe\b(?<!qr_svg\|safe)(?<!qr\|safe)|autoescape\s+off")),
]


def test_our_templates_hold_no_inline_code_or_unescaped_text():
    """Only the QR codes (SVG that segno draws from a URL or token, no user text) are printed unescaped."""
    assert len(TEMPLATES) > 50
    found = [
        f"{path.relative_to(settings.BASE_DIR)}: {label}: {match.group(0)}"
        for path in TEMPLATES
        for label, pattern in INLINE
        for match in pattern.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []


def test_the_back_office_theme_colours_come_from_a_stylesheet(db, client):
    page = client.get("/admin/login/").content.decode()
    assert 'id="unfold-theme-colors"' not in page
    assert '<link href="/admin/theme.css" rel="stylesheet">' in page
    theme = client.get("/admin/theme.css")
    assert theme.status_code == 200
    assert theme["Content-Type"] == "text/css; charset=utf-8"
    css = theme.content.decode()
    assert "  --color-primary-600: oklch(57.7% .245 27.325);\n" in css
    assert "  --color-base-50: oklch(98.5% .002 247.839);\n" in css
    assert css.startswith(":root {\n") and css.endswith("}\n")


def test_the_theme_reaches_an_account_that_still_owes_its_second_factor(tree, cadre, settings):
    """The second-factor pages are back-office pages too: their stylesheet is not redirected to them."""
    settings.OTP_REQUIRED = True
    assert cadre.get("/admin/").status_code == 302  # every other page sends the account to the setup step
    theme = cadre.get("/admin/theme.css")
    assert theme.status_code == 200
    assert theme["Content-Type"] == "text/css; charset=utf-8"
