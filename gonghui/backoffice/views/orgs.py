"""The organisation tree browser: one organisation at a time, its children loaded lazily and paged."""

from django.http import Http404
from django.template.response import TemplateResponse

from gonghui.backoffice.base import last_page, require_actor
from gonghui.backoffice.views.helpers import int_param, site_page
from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.roles import Perm
from gonghui.orgs.selectors import (
    org_breadcrumbs,
    org_children,
    org_get,
    org_scope_root,
    org_search,
)

TREE_PAGE_SIZE = 100


def _tree_children_page(actor: Actor, org_id, page: int):
    """The children on `page`, whether more follow, and the page shown: one beyond the end shows the last page (and
    a page number of any size never reaches the database as an offset)."""
    children = org_children(actor=actor, org_id=org_id)
    page = min(page, last_page(children.count(), TREE_PAGE_SIZE))
    start = (page - 1) * TREE_PAGE_SIZE
    rows = list(children[start : start + TREE_PAGE_SIZE + 1])
    return rows[:TREE_PAGE_SIZE], len(rows) > TREE_PAGE_SIZE, page


def org_tree(request):
    """One organisation at a time: breadcrumbs above, its details, its children (lazy, paged) below."""
    from gonghui.backoffice.site import backoffice_site

    actor = require_actor(request)
    actor.require(Perm.ORGS_VIEW)
    try:
        org = org_get(actor=actor, org_id=request.GET["org"]) if request.GET.get("org") else org_scope_root(actor=actor)
    except NotFound:
        raise Http404 from None
    children, has_more, page = _tree_children_page(actor, org.id, int_param(request, "page", 1, low=1))
    return site_page(
        request,
        backoffice_site,
        "组织树",
        "backoffice/org_tree.html",
        org=org,
        breadcrumbs=org_breadcrumbs(actor=actor, org=org),
        children=children,
        has_more=has_more,
        page=page,
        can_add=actor.can(Perm.ORGS_STRUCTURE) and not org.is_grassroots,
    )


def org_tree_children(request, org_id: str):
    """htmx fragment: the children of one node, for expanding it in place."""
    actor = require_actor(request)
    try:
        children, has_more, page = _tree_children_page(actor, org_id, int_param(request, "page", 1, low=1))
        parent = org_get(actor=actor, org_id=org_id)
    except NotFound:
        raise Http404 from None
    return TemplateResponse(
        request,
        "backoffice/_org_tree_children.html",
        {"children": children, "has_more": has_more, "parent": parent, "page": page},
    )


def org_tree_search(request):
    actor = require_actor(request)
    query = request.GET.get("q", "")
    results = org_search(actor=actor, query=query, limit=20, include_inactive=True)
    return TemplateResponse(request, "backoffice/_org_search_results.html", {"results": results, "query": query})
