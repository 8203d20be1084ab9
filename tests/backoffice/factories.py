"""Helpers shared by the back-office tests: the workbench page of a role and what it shows."""

import re

from django.urls import reverse

SECTION = re.compile(r'<section class="[^"]*" id="(gh-[a-z-]+)"')


def page_of(login, username: str) -> str:
    response = login(username).get(reverse("admin:index"))
    assert response.status_code == 200
    return response.content.decode()


def sections(page: str) -> list[str]:
    """The workbench's sections with an id, in page order (the header card has none)."""
    return SECTION.findall(page)


def section(page: str, section_id: str) -> str:
    start = page.index(f'id="{section_id}"')
    return page[start : page.index("</section>", start)]


def stat(page: str, label: str) -> str | None:
    found = re.search(
        rf'<div class="gh-stat-label">{re.escape(label)}</div><div class="gh-stat-value">([^<]*)</div>', page
    )
    return found.group(1) if found else None
