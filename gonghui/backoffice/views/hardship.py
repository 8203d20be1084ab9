"""Back-office pages of hardship aid (困难帮扶): establishing and verifying a hardship file, aid on it, 上级审批 of
filings and grants, the city's approval standard, 发放签收 and the printed file card. Thin, like casework.py."""

from decimal import Decimal

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from gonghui.backoffice.base import or_404, render_page, require_actor
from gonghui.backoffice.views.casework_forms import (
    aid_form,
    file_form,
    pay_form,
)
from gonghui.backoffice.views.helpers import errors_of
from gonghui.casework.approval import (
    aid_rules_can_edit,
    aid_rules_update,
    hardship_approval_approve,
    hardship_approval_refuse,
)
from gonghui.casework.fields import AidRuleFields
from gonghui.casework.hardship import (
    hardship_aid_grant,
    hardship_aid_pay,
    hardship_file_establish,
    hardship_file_exit,
    hardship_file_print_record,
    hardship_file_verify,
    hardship_file_view_record,
)
from gonghui.casework.models import (
    AidForm,
    HardshipCause,
    HardshipTier,
)
from gonghui.casework.selectors import (
    aid_get,
    aid_rules,
    approval_can_decide,
    approval_get,
    approvals_to_decide,
    approvals_visible_to,
    hardship_file_get,
    pending_approval_of,
)
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.members.selectors import memberships_visible_to

# ---------------------------------------------------------------- hardship files


def _household_rows(text: str) -> list[dict]:
    """家庭成员 typed one per line (name, relation, situation, yearly income) into the rows the service checks."""
    rows = []
    for line in (text or "").splitlines():
        parts = line.replace("，", " ").replace(",", " ").replace("\t", " ").split()
        if not parts:
            continue
        income = parts.pop() if len(parts) >= 4 else ""
        rows.append(
            {
                "name": parts[0] if parts else "",
                "relation": parts[1] if len(parts) > 1 else "",
                "situation": " ".join(parts[2:]),
                "annual_income": income,
            }
        )
    return rows


def _file_data(request) -> dict:
    data = file_form(request.POST).values()
    text = data.pop("household_text", "")
    if text.strip():
        data["household"] = _household_rows(text)
    return data


def _household_text(file) -> str:
    return "\n".join(f"{m.name} {m.relation} {m.situation or '—'} {m.annual_income}" for m in file.household.all())


def hardship_file_detail(request, file_id: str):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    file = or_404(hardship_file_get, actor=actor, file_id=file_id)
    errors: dict[str, str] = {}
    action = request.POST.get("action", "")
    if request.method == "POST":
        try:
            if action == "verify":
                hardship_file_verify(actor=actor, file=file, **_file_data(request))
                messages.success(request, "年度核查已记录，下次核查期限已顺延一年")
            elif action == "exit":
                hardship_file_exit(
                    actor=actor,
                    file=file,
                    reason=request.POST.get("reason", ""),
                    transition_months=request.POST.get("transition_months", ""),
                )
                messages.success(request, "已办理解困脱困")
            elif action == "aid":
                hardship_aid_grant(actor=actor, file=file, **aid_form(request.POST).values())
                messages.success(request, "帮扶已记录")
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("admin:hardship_file_detail", args=[file.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = errors_of(exc)
            messages.error(request, exc.message)
        file = or_404(hardship_file_get, actor=actor, file_id=file_id)
    else:
        hardship_file_view_record(actor=actor, file=file)
    current = {name: getattr(file, name) for name in ("tier", "causes", "household_size", "household_income")}
    verify = file_form(request.POST if action == "verify" and errors else None, initial=current)
    verify.initial["household_text"] = _household_text(file)
    return render_page(
        request,
        f"{file.person.name} 的困难职工档案",
        "backoffice/casework/file_detail.html",
        file=file,
        causes="、".join(dict(HardshipCause.choices).get(c, c) for c in file.causes),
        household=list(file.household.all()),
        aid=list(file.aid.order_by("-granted_on")),
        can_manage=actor.can(Perm.CASES_MANAGE) and actor.covers_path(file.org.path),
        verify_fields=verify.show_errors(errors),
        aid_fields=aid_form(request.POST if action == "aid" and errors else None).show_errors(errors),
        errors=errors,
        approval=pending_approval_of(actor=actor, file=file),
    )


def hardship_file_new(request):
    """建档 after a home visit: the member by card number, the household's situation."""
    actor = require_actor(request)
    actor.require(Perm.CASES_MANAGE)
    form = file_form(request.POST if request.method == "POST" else None)
    errors: dict[str, str] = {}
    card_number = ""
    if request.method == "POST":
        card_number = request.POST.get("card_number", "").strip()
        try:
            membership = memberships_visible_to(actor).filter(card_number=card_number).first()
            if membership is None:
                raise ValidationFailed({"card_number": "未找到该会员卡号，请核对（只能为本级及下级工会的会员建档）"})
            file = hardship_file_establish(actor=actor, membership=membership, **_file_data(request))
            messages.success(request, "已建立困难职工档案" + ("（返困）" if file.returned else ""))
            return redirect(reverse("admin:hardship_file_detail", args=[file.id]))
        except DomainError as exc:
            errors = errors_of(exc)
    return render_page(
        request,
        "建立困难职工档案",
        "backoffice/casework/simple_fields.html",
        fields=form.show_errors(errors),
        errors=errors,
        card_number=card_number,
        ask_card=True,
        button="建档",
    )


# ---------------------------------------------------------------- 上级审批, the standard, 发放签收, the file card


def approvals(request):
    """待本级审批 (requests the actor's union or one below decides) and 本级报送 (requests sent from the subtree)."""
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    to_decide = list(approvals_to_decide(actor=actor)[:200])
    sent = approvals_visible_to(actor).filter(org__path__startswith=actor.scope_path).order_by("-requested_at")
    return render_page(
        request,
        "上级审批",
        "backoffice/casework/approvals.html",
        to_decide=to_decide,
        sent=list(sent[:100]),
        today=timezone.localdate(),
    )


def approval_detail(request, approval_id: str):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    approval = or_404(approval_get, actor=actor, approval_id=approval_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "approve":
                hardship_approval_approve(actor=actor, approval=approval, note=request.POST.get("note", ""))
                messages.success(request, "已批准")
            elif action == "refuse":
                hardship_approval_refuse(actor=actor, approval=approval, reason=request.POST.get("reason", ""))
                messages.success(request, "已不予批准，报送工会将看到理由")
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("admin:hardship_approval_detail", args=[approval.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = errors_of(exc)
            messages.error(request, exc.message)
        approval = or_404(approval_get, actor=actor, approval_id=approval_id)
    proposal = approval.proposal or {}
    outcome = proposal.get("outcome", {})
    return render_page(
        request,
        f"上级审批 · {approval.get_subject_display()}",
        "backoffice/casework/approval_detail.html",
        approval=approval,
        proposal_result=proposal.get("result", ""),
        proposal_description=outcome.get("aid_description", ""),
        can_decide=approval_can_decide(actor, approval),
        own_request=approval.requester_account is not None and approval.requester_account == actor.id,
        errors=errors,
        today=timezone.localdate(),
    )


def _rules_from_form(post) -> dict[str, AidRuleFields]:
    """The standard by tier from the form's `<tier>-file_needs_approval` and `<tier>-grant_limit` fields."""
    return {
        tier: AidRuleFields(
            file_needs_approval=post.get(f"{tier}-file_needs_approval"), grant_limit=post.get(f"{tier}-grant_limit")
        )
        for tier in HardshipTier.values
    }


def aid_rules_page(request):
    """困难帮扶审批标准: every cadre reads it; the city federation's cadres and the system administrator change it."""
    actor = require_actor(request)
    rules = or_404(aid_rules, actor=actor)
    may_edit = aid_rules_can_edit(actor)
    errors: dict[str, str] = {}
    values = {r.tier: {"needs": r.file_needs_approval, "limit": str(r.grant_limit)} for r in rules}
    if request.method == "POST":
        if not may_edit:
            raise Http404
        try:
            aid_rules_update(actor=actor, rules=_rules_from_form(request.POST))
            messages.success(request, "困难帮扶审批标准已保存")
            return redirect(reverse("admin:hardship_aid_rules"))
        except DomainError as exc:
            errors = errors_of(exc)
            messages.error(request, exc.message)
            values = {
                r.tier: {
                    "needs": request.POST.get(f"{r.tier}-file_needs_approval") == "on",
                    "limit": request.POST.get(f"{r.tier}-grant_limit", ""),
                }
                for r in rules
            }
    rows = [
        {
            "tier": r.tier,
            "label": r.label,
            "needs": values[r.tier]["needs"],
            "limit": values[r.tier]["limit"],
            "error": errors.get(f"{r.tier}-grant_limit", ""),
        }
        for r in rules
    ]
    return render_page(
        request, "困难帮扶审批标准", "backoffice/casework/aid_rules.html", rows=rows, may_edit=may_edit, errors=errors
    )


def aid_pay(request, aid_id: str):
    """发放签收 of one grant in money."""
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    aid = or_404(aid_get, actor=actor, aid_id=aid_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = pay_form(request.POST)
        try:
            hardship_aid_pay(actor=actor, aid=aid, **form.values())
            messages.success(request, "发放签收已登记")
            return redirect(reverse("admin:hardship_file_detail", args=[aid.file_id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = errors_of(exc)
            messages.error(request, exc.message)
        aid = or_404(aid_get, actor=actor, aid_id=aid_id)
    else:
        name = aid.file.person.name
        form = pay_form(initial={"paid_amount": str(aid.amount), "receiver": name, "signer": name})
    return render_page(
        request,
        f"发放签收 · {aid.file.person.name}",
        "backoffice/casework/aid_pay.html",
        aid=aid,
        fields=form.show_errors(errors),
        errors=errors,
        can_pay=actor.can(Perm.CASES_MANAGE) and actor.covers_path(aid.file.org.path),
    )


def hardship_file_card(request, file_id: str):
    """困难职工档案卡: the file on one A4 sheet to print and sign (numbers masked as on the file's page)."""
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    file = or_404(hardship_file_get, actor=actor, file_id=file_id)
    hardship_file_print_record(actor=actor, file=file)
    aid = list(file.aid.order_by("granted_on", "id"))
    return TemplateResponse(
        request,
        "backoffice/casework/file_card.html",
        {
            "file": file,
            "causes": "、".join(dict(HardshipCause.choices).get(c, c) for c in file.causes),
            "household": list(file.household.all()),
            "aid": aid,
            "aid_total": sum((a.amount for a in aid if a.form == AidForm.MONEY and a.approval != "refused"), Decimal()),
            "approvals": list(file.approvals.select_related("approver").order_by("requested_at")),
            "printed_at": timezone.localtime(),
            "printed_by": actor.label,
        },
    )
