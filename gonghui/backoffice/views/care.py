"""Back-office pages of mutual-insurance plans (互助保障) and care campaigns (送温暖): setting one up, enrolling unions
and members on a plan, recording a batch of visits. Thin, like casework.py."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from gonghui.backoffice.base import or_404, render_page, require_actor
from gonghui.backoffice.views.casework_forms import (
    campaign_form,
    org_from_code,
    plan_form,
)
from gonghui.backoffice.views.helpers import errors_of
from gonghui.casework.care import campaign_create, campaign_totals, care_visits_record
from gonghui.casework.insurance import plan_create, plan_enrol_member, plan_enrol_union, plan_enrolment_set_open
from gonghui.casework.selectors import (
    campaign_get,
    plan_enrolment_by_union,
    plan_get,
    visits_visible_to,
)
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.members.selectors import memberships_visible_to
from gonghui.orgs.selectors import org_scope_root

VISIT_ROWS = 10


# ---------------------------------------------------------------- mutual insurance


def plan_new(request):
    actor = require_actor(request)
    actor.require(Perm.CASES_CONFIGURE)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = plan_form(request.POST)
        data = form.values()
        try:
            org = org_from_code(actor, data["org_code"], field="org_code")
            plan = plan_create(actor=actor, org=org, **data)
            messages.success(request, f"已设立{plan}")
            return redirect(reverse("admin:plan_detail", args=[plan.id]))
        except DomainError as exc:
            errors = errors_of(exc)
            if "org" in errors:
                errors["org_code"] = errors.pop("org")
    else:
        form = plan_form(initial={"org_code": org_scope_root(actor=actor).code})
    return render_page(
        request,
        "设立互助保障计划",
        "backoffice/casework/simple_fields.html",
        fields=form.show_errors(errors),
        errors=errors,
        button="设立计划",
    )


def plan_detail(request, plan_id: str):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    plan = or_404(plan_get, actor=actor, plan_id=plan_id)
    error = ""
    if request.method == "POST":
        try:
            if request.POST.get("action") in ("close_enrolment", "open_enrolment"):
                is_open = request.POST["action"] == "open_enrolment"
                plan_enrolment_set_open(actor=actor, plan=plan, is_open=is_open)
                messages.success(request, "已恢复参保登记" if is_open else "已停止参保登记")
            elif request.POST.get("action") == "enrol_member":
                membership = memberships_visible_to(actor).filter(
                    card_number=request.POST.get("card_number", "").strip()
                )
                if not membership.exists():
                    raise ValidationFailed({"card_number": "未找到该会员卡号，请核对"})
                plan_enrol_member(actor=actor, plan=plan, membership=membership.get())
                messages.success(request, "已为该会员办理参保")
            else:
                union = org_from_code(actor, request.POST.get("union_code", ""), field="union_code")
                counts = plan_enrol_union(actor=actor, plan=plan, union=union)
                messages.success(
                    request, f"{union.name}：本次参保 {counts['enrolled']} 人，合计在保 {counts['total_in_union']} 人"
                )
            return redirect(reverse("admin:plan_detail", args=[plan.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            error = exc.message
    by_union = plan_enrolment_by_union(actor=actor, plan=plan)
    return render_page(
        request,
        str(plan),
        "backoffice/casework/plan_detail.html",
        plan=plan,
        ratio_percent=plan.reimbursement_ratio * 100,
        by_union=by_union,
        enrolled=sum(row["people"] for row in by_union),
        can_enrol=actor.can(Perm.CASES_MANAGE) and plan.enrolment_open,
        can_configure=actor.can(Perm.CASES_CONFIGURE) and actor.covers_path(plan.org.path),
        error=error,
    )


# ---------------------------------------------------------------- care campaigns


def campaign_new(request):
    actor = require_actor(request)
    actor.require(Perm.CASES_CONFIGURE)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = campaign_form(request.POST)
        data = form.values()
        try:
            org = org_from_code(actor, data["org_code"], field="org_code")
            campaign = campaign_create(actor=actor, org=org, **data)
            messages.success(request, f"已创建慰问活动“{campaign.name}”")
            return redirect(reverse("admin:campaign_detail", args=[campaign.id]))
        except DomainError as exc:
            errors = errors_of(exc)
    else:
        form = campaign_form(initial={"org_code": org_scope_root(actor=actor).code})
    return render_page(
        request,
        "创建慰问活动",
        "backoffice/casework/simple_fields.html",
        fields=form.show_errors(errors),
        errors=errors,
        button="创建",
    )


VISIT_COLUMNS = ("card_number", "group_name", "headcount", "money", "goods", "goods_value", "visited_on")


def campaign_detail(request, campaign_id: str):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    campaign = or_404(campaign_get, actor=actor, campaign_id=campaign_id)
    error = ""
    rows = [{name: "" for name in VISIT_COLUMNS} for _ in range(VISIT_ROWS)]
    org_code = org_scope_root(actor=actor).code
    if request.method == "POST":
        org_code = request.POST.get("org_code", "")
        rows = [
            {name: request.POST.get(f"{name}-{index}", "").strip() for name in VISIT_COLUMNS}
            for index in range(VISIT_ROWS)
        ]
        try:
            org = org_from_code(actor, org_code, field="org_code")
            recorded = care_visits_record(actor=actor, campaign=campaign, org=org, rows=rows)
            messages.success(request, f"已录入 {len(recorded)} 条慰问记录")
            return redirect(reverse("admin:campaign_detail", args=[campaign.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            error = exc.message
    visits = visits_visible_to(actor).filter(campaign=campaign).order_by("-visited_on", "-recorded_at")
    return render_page(
        request,
        campaign.name,
        "backoffice/casework/campaign_detail.html",
        campaign=campaign,
        totals=campaign_totals(campaign),
        visits=list(visits[:200]),
        rows=[(index, row) for index, row in enumerate(rows)],
        org_code=org_code,
        can_record=actor.can(Perm.CASES_MANAGE),
        error=error,
        today=timezone.localdate(),
    )
