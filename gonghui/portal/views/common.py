"""What every portal page shares: the page renderer, the refusal as a page shows it, and the lookups that answer
a missing page for anything outside the member's reach."""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.members.models import ApplicationStatus
from gonghui.members.selectors import (
    own_applications,
    union_directory_get,
    union_directory_search,
    union_search_match_count,
    unions_for_employer_search,
)
from gonghui.portal.session import current_account

# A union search shows this many results, and says how many matched when there are more.
UNION_SEARCH_SHOWN = 20


def _page(request, template: str, **context):
    return render(request, template, {"account": current_account(request), "demo": settings.DEMO_MODE, **context})


def _errors(exc: DomainError) -> dict[str, str]:
    return dict(exc.errors) if isinstance(exc, ValidationFailed) else {"form": exc.message}


def _own_or_404(fn, **kwargs):
    try:
        return fn(**kwargs)
    except NotFound:
        raise Http404 from None


def _union_or_404(org_id: str):
    try:
        return union_directory_get(org_id=org_id)
    except NotFound:
        raise Http404 from None


def _step(label: str, state: str, text: str = "", at=None) -> dict:
    """One step of a progress timeline; state is done, current, todo or refused."""
    return {"label": label, "state": state, "text": text, "at": at}


def _pending_applications(account) -> list:
    return [a for a in own_applications(account=account) if a.status == ApplicationStatus.PENDING]


def _union_search(query: str, by: str) -> tuple[list, int]:
    """The first UNION_SEARCH_SHOWN matches and how many there are in all."""
    search = unions_for_employer_search if by == "employer" else union_directory_search
    results = search(query=query, limit=UNION_SEARCH_SHOWN)
    if len(results) < UNION_SEARCH_SHOWN:
        return results, len(results)
    return results, union_search_match_count(query=query, by_employer=by == "employer")


def _results_only(request) -> bool:
    """A search typed on the page wants just the results; htmx restoring a page from history wants all of it."""
    return bool(request.htmx) and not request.htmx.history_restore_request
