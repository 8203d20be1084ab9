"""Content-Security-Policy on every response the platform serves (Django 5.2 has none built in).

Scripts and styles come only from the site itself, or from an inline block carrying this response's nonce
(`{{ csp_nonce }}` in templates). Nothing is loaded from another host except map tiles from the configured tile
server. The policy is defence in depth: user text is still rendered as text everywhere, and the policy makes a slip
in that rule (an injected `<script>` or `onerror=`) inert.

No inline style either, attributes included: sizes live in the stylesheets, and a size computed at run time (a
progress bar) is set by a script through the DOM, which the policy allows.

The back office (everything under /admin/) is django-unfold, built on Alpine.js, whose standard build compiles the
expressions in its `x-data`/`x-bind` attributes with `new Function`: there, and only there, the policy adds
`'unsafe-eval'` (without it unfold's pages do not work at all). Everything else, the member portal and the API docs
included, gets the strict policy.
"""

import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings

BACK_OFFICE_PREFIX = "/admin/"


def tile_origins(url: str, subdomains: str) -> list[str]:
    """The origins a Leaflet tile URL template loads images from (one per subdomain when the host has `{s}`).

    A template that names no http(s) host, or whose host keeps a placeholder other than `{s}`, is a ValueError:
    the policy must list exact hosts."""
    if not url:
        return []
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ValueError(f"not an http(s) URL with a host: {url!r}")
    hosts = [parts.netloc.replace("{s}", sub) for sub in subdomains] if "{s}" in parts.netloc else [parts.netloc]
    if not hosts or any("{" in host or "}" in host for host in hosts):
        raise ValueError(f"the tile host may only vary by {{s}} over the given subdomains: {url!r}")
    return sorted({f"{parts.scheme}://{host}" for host in hosts})


@lru_cache(maxsize=8)
def _policy_template(tile_url: str, subdomains: str, back_office: bool) -> str:
    images = " ".join(["'self'", "data:", *tile_origins(tile_url, subdomains)])
    directives = [
        "default-src 'self'",
        "script-src 'self' 'nonce-{nonce}'" + (" 'unsafe-eval'" if back_office else ""),
        "style-src 'self' 'nonce-{nonce}'",
        f"img-src {images}",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
    return "; ".join(directives)


def policy_for(request, nonce: str) -> str:
    back_office = request.path_info.startswith(BACK_OFFICE_PREFIX)
    template = _policy_template(settings.STATIONS_TILE_URL, settings.STATIONS_TILE_SUBDOMAINS, back_office)
    return template.replace("{nonce}", nonce)


class ContentSecurityPolicyMiddleware:
    """Gives every request a fresh nonce and every response the policy. Sits right after SecurityMiddleware so that
    static files (WhiteNoise) and error pages get the header too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.csp_nonce = secrets.token_urlsafe(18)
        response = self.get_response(request)
        response.headers["Content-Security-Policy"] = policy_for(request, request.csp_nonce)
        return response


def csp_nonce(request) -> dict[str, str]:
    """Template context processor: `{{ csp_nonce }}` for the rare inline block that must stay inline."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
