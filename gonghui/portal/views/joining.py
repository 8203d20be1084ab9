"""Joining a union: find it (by its name or code, or the employer's name), apply by its code with the profile the
registry asks for, check a field as it is typed, and follow one's applications."""

from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.masking import mask_name
from gonghui.members.documents import DOC_TYPE_LABELS, DocumentInvalid, normalise_document
from gonghui.members.models import ApplicationStatus, MembershipSource, Sex
from gonghui.members.people import clean_phone, clean_profile
from gonghui.members.selectors import (
    membership_holding,
    own_application_get,
    own_applications,
    own_corrections,
    own_person,
    own_transfers,
)
from gonghui.members.self_service import CORRECTABLE_FIELD_LABELS, member_application_withdraw, member_join_apply
from gonghui.portal.forms import PROFILE_CHOICES, JoinCheckForm, JoinForm
from gonghui.portal.session import client_ip, current_account, member_required
from gonghui.portal.views.common import (
    UNION_SEARCH_SHOWN,
    _errors,
    _own_or_404,
    _page,
    _pending_applications,
    _results_only,
    _step,
    _union_or_404,
    _union_search,
)


def _join_status(account) -> dict:
    """Where a signed-in worker stands before choosing a union: already a member (and of which union), or waiting
    for an application (which union, since when), so that the join pages say so before a second form is filled."""
    if account is None:
        return {"holding": None, "pending": []}
    person = own_person(account=account)
    return {
        "holding": membership_holding(person) if person else None,
        "pending": _pending_applications(account),
    }


def _blocking_application(pending: list, union):
    """The pending application that stops an online application to this union, as the registry's join rules do
    (one pending online application at a time, and one at a time per union whatever its source); None if none."""
    for item in pending:
        if item.org_id == union.id or item.source == MembershipSource.ONLINE:
            return item
    return None


def join_find(request):
    """找工会: by the union's name or code, or by the employer's name."""
    query = request.GET.get("q", "").strip()
    by = "employer" if request.GET.get("by") == "employer" else "union"
    results, total = _union_search(query, by) if query else ([], 0)
    template = "portal/_union_results.html" if _results_only(request) else "portal/join_find.html"
    return _page(
        request,
        template,
        q=query,
        by=by,
        results=results,
        total=total,
        shown=UNION_SEARCH_SHOWN,
        searched=bool(query),
        purpose="join",
        **_join_status(current_account(request)),
    )


def join_union(request, org_id: str):
    """扫码入会: the union's code opens this page with the union preset."""
    union = _union_or_404(org_id)
    account = current_account(request)
    if account is None:
        return _page(request, "portal/join_landing.html", union=union)
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    if holding is not None:
        return _page(request, "portal/join_member_already.html", union=union, holding=holding)
    blocking = _blocking_application(_pending_applications(account), union)
    if blocking is not None:
        return _page(request, "portal/join_pending.html", union=union, application=blocking)
    context: dict[str, Any] = {"values": {"doc_type": "resident_id"}, "errors": {}}
    if request.method == "POST":
        form = JoinForm(request.POST)
        form.is_valid()
        context["values"] = form.data
        try:
            application = member_join_apply(
                account=account, org=union, ip=client_ip(request), **form.application_fields()
            )
            return redirect("portal:application", application_id=application.id)
        except DomainError as exc:
            context["errors"] = _errors(exc)
    return _page(
        request,
        "portal/join_form.html",
        union=union,
        person=person,
        name_masked=mask_name(person.name) if person else "",
        doc_types=DOC_TYPE_LABELS.items(),
        choices=PROFILE_CHOICES,
        sexes=Sex.choices,
        **context,
    )


@require_POST
def join_check(request):
    """Validation as the worker types: one field, the registry's rules and messages, nothing stored."""
    form = JoinCheckForm(request.POST)
    form.is_valid()
    field, value = form.cleaned_data["field"], form.cleaned_data["value"]
    message = ""
    try:
        if field == "doc_number":
            if value.strip():
                normalise_document(form.cleaned_data["doc_type"], value)
        elif field == "phone":
            clean_phone(value)
        elif field in CORRECTABLE_FIELD_LABELS and value.strip():
            clean_profile({field: value})
    except DocumentInvalid as exc:
        message = str(exc)
    except ValidationFailed as exc:
        message = "；".join(exc.errors.values())
    return HttpResponse(message, content_type="text/plain; charset=utf-8")


# ---------------------------------------------------------------- my applications


@member_required
def applications(request, account):
    return _page(
        request,
        "portal/applications.html",
        applications=own_applications(account=account),
        transfers=own_transfers(account=account),
        corrections=own_corrections(account=account),
    )


@member_required
def application(request, account, application_id: str):
    item = _own_or_404(own_application_get, account=account, application_id=application_id)
    error = ""
    if request.method == "POST":
        try:
            member_application_withdraw(account=account, application_id=application_id, ip=client_ip(request))
            return redirect("portal:application", application_id=item.id)
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            error = exc.message
    return _page(request, "portal/application.html", item=item, error=error, steps=_application_steps(item))


def _application_steps(item) -> list[dict]:
    """已提交 → 审核中 → 已通过 / 未通过 (with the reason), as the worker sees it."""
    steps = [_step("已提交", "done", f"申请加入{item.org.name}", at=item.submitted_at)]
    if item.status == ApplicationStatus.PENDING:
        steps.append(_step("审核中", "current", f"工会将在 {item.due_on:%Y-%m-%d} 前审核"))
        steps.append(_step("审核结果", "todo"))
        return steps
    steps.append(_step("审核中", "done"))
    card_number = getattr(item.membership, "card_number", "")
    label, state, text = {
        ApplicationStatus.APPROVED: ("已通过", "done", f"欢迎入会！会员卡号 {card_number}"),
        ApplicationStatus.REJECTED: ("未通过", "refused", f"理由：{item.decision_reason}"),
        ApplicationStatus.WITHDRAWN: ("已撤回", "refused", "您已撤回该申请"),
        ApplicationStatus.CONVERTED: ("已改为接转", "done", "您已是其他工会会员，工会已为您办理会员接转"),
    }[item.status]
    steps.append(_step(label, state, text, at=item.decided_at))
    return steps
