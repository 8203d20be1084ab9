"""A member's transfer to another union (会员接转): choose the target union, give a reason, follow it step by
step and withdraw it while it is open."""

from django.http import Http404
from django.shortcuts import redirect

from gonghui.common.errors import DomainError, NotFound
from gonghui.members.models import TransferStatus
from gonghui.members.selectors import membership_holding, own_person, own_transfer_get, own_transfers
from gonghui.members.self_service import member_transfer_request, member_transfer_withdraw
from gonghui.portal.forms import TransferForm
from gonghui.portal.session import client_ip, member_required
from gonghui.portal.views.common import (
    UNION_SEARCH_SHOWN,
    _errors,
    _own_or_404,
    _page,
    _results_only,
    _step,
    _union_or_404,
    _union_search,
)


@member_required
def transfer(request, account):
    """申请接转: pick the target union (search, or its code), give a reason."""
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    query = request.GET.get("q", "").strip()
    by = "employer" if request.GET.get("by") == "employer" else "union"
    results, total = _union_search(query, by) if query else ([], 0)
    if holding is not None and any(u.id == holding.org_id for u in results):
        results = [u for u in results if u.id != holding.org_id]
        total -= 1
    if _results_only(request) and query:
        return _page(
            request,
            "portal/_union_results.html",
            results=results,
            total=total,
            shown=UNION_SEARCH_SHOWN,
            searched=True,
            purpose="transfer",
        )
    return _page(
        request,
        "portal/transfer.html",
        holding=holding,
        person=person,
        q=query,
        by=by,
        results=results,
        total=total,
        shown=UNION_SEARCH_SHOWN,
        searched=bool(query),
        transfers=own_transfers(account=account),
        open_statuses=(TransferStatus.PENDING_RELEASE, TransferStatus.PENDING_ACCEPT),
    )


@member_required
def transfer_to(request, account, org_id: str):
    union = _union_or_404(org_id)
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    errors: dict[str, str] = {}
    reason = ""
    if request.method == "POST":
        form = TransferForm(request.POST)
        form.is_valid()
        reason = form.cleaned_data["reason"]
        try:
            item = member_transfer_request(account=account, to_org=union, reason=reason, ip=client_ip(request))
            return redirect("portal:transfer_detail", transfer_id=item.id)
        except DomainError as exc:
            errors = _errors(exc)
    return _page(request, "portal/transfer_form.html", union=union, holding=holding, errors=errors, reason=reason)


@member_required
def transfer_detail(request, account, transfer_id: str):
    item = _own_or_404(own_transfer_get, account=account, transfer_id=transfer_id)
    error = ""
    if request.method == "POST":
        try:
            member_transfer_withdraw(account=account, transfer_id=transfer_id, ip=client_ip(request))
            return redirect("portal:transfer_detail", transfer_id=item.id)
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            error = exc.message
    return _page(request, "portal/transfer_detail.html", item=item, error=error, steps=_transfer_steps(item))


def _transfer_steps(item) -> list[dict]:
    """已提交 → 转出工会同意 → 转入工会接收, or where it stopped and why."""
    steps = [_step("已提交", "done", f"{item.from_org.name} → {item.to_org.name}", at=item.requested_at)]
    if item.status == TransferStatus.PENDING_RELEASE:
        steps.append(_step("转出工会审核", "current", f"{item.due_on:%Y-%m-%d} 前办理"))
        steps.append(_step("转入工会接收", "todo"))
        return steps
    if item.status == TransferStatus.REFUSED and item.refused_by_side == "source":
        steps.append(_step("转出工会未同意", "refused", f"理由：{item.refusal_reason}", at=item.decided_at))
        return steps
    if item.status == TransferStatus.WITHDRAWN and item.released_at is None:
        steps.append(_step("已撤回", "refused", "接转申请已撤回", at=item.decided_at))
        return steps
    steps.append(_step("转出工会已同意", "done", item.from_org.name, at=item.released_at))
    if item.status == TransferStatus.PENDING_ACCEPT:
        steps.append(_step("转入工会接收", "current", f"{item.due_on:%Y-%m-%d} 前办理"))
    elif item.status == TransferStatus.COMPLETED:
        card_number = getattr(item.new_membership, "card_number", "")
        steps.append(_step("接转完成", "done", f"新会员卡号 {card_number}", at=item.decided_at))
    elif item.status == TransferStatus.REFUSED:
        steps.append(_step("转入工会未接收", "refused", f"理由：{item.refusal_reason}", at=item.decided_at))
    else:
        steps.append(_step("已撤回", "refused", "接转申请已撤回", at=item.decided_at))
    return steps
