"""Back-office pages of the service centre (职工服务): a case with its one-click actions, entering an application on a
member's behalf, evidence downloads, hardship files, mutual-insurance plans, care campaigns, callbacks and the
figures with their .xlsx export. Thin: build the actor, call one selector or service, render; a refused call shows
its Chinese message and changes nothing; anything out of scope answers 404 like a missing page."""

from datetime import date
from decimal import Decimal
from urllib.parse import quote

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from gonghui.backoffice.base import or_404, render_page, require_actor
from gonghui.backoffice.casework_forms import (
    aid_form,
    application_form,
    campaign_form,
    close_form,
    file_form,
    pay_form,
    plan_form,
)
from gonghui.casework.approval import (
    aid_rules_can_edit,
    aid_rules_update,
    hardship_approval_approve,
    hardship_approval_refuse,
)
from gonghui.casework.care import campaign_create, campaign_totals, care_visits_record
from gonghui.casework.exports import figures_xlsx
from gonghui.casework.hardship import (
    hardship_aid_grant,
    hardship_aid_pay,
    hardship_file_establish,
    hardship_file_exit,
    hardship_file_print_record,
    hardship_file_verify,
    hardship_file_view_record,
)
from gonghui.casework.insurance import plan_create, plan_enrol_member, plan_enrol_union, plan_enrolment_set_open
from gonghui.casework.kinds import KINDS
from gonghui.casework.models import (
    AidForm,
    CallbackResult,
    CaseKind,
    HardshipCause,
)
from gonghui.casework.selectors import (
    aid_get,
    aid_rules,
    approval_can_decide,
    approval_get,
    approvals_to_decide,
    approvals_visible_to,
    attachment_get,
    callbacks_pending,
    campaign_get,
    case_can_manage,
    case_figures,
    case_get,
    hardship_file_get,
    pending_approval_of,
    plan_enrolment_by_union,
    plan_get,
    visits_visible_to,
)
from gonghui.casework.services import (
    MAX_ATTACHMENT_BYTES,
    Consent,
    attachment_view_record,
    callback_record,
    callbacks_draw,
    case_accept,
    case_attach,
    case_close,
    case_enter,
    case_reject,
    case_start,
    case_view_record,
    case_withdraw,
    figures_export_record,
)
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.members.selectors import memberships_visible_to
from gonghui.orgs.selectors import org_get_by_code, org_scope_root
from gonghui.stats.periods import period_from

VISIT_ROWS = 10


def _errors(exc: DomainError) -> dict[str, str]:
    return dict(exc.errors) if isinstance(exc, ValidationFailed) else {"form": exc.message}


# ---------------------------------------------------------------- a case


def _safe_next(request) -> str | None:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return None


def _act(request, actor, case) -> str:
    """One action of the case page; returns the success message or raises DomainError."""
    action = request.POST.get("action", "")
    post = request.POST
    if action == "accept":
        case_accept(actor=actor, case=case, note=post.get("note", ""))
        return "已受理"
    if action == "reject":
        case_reject(actor=actor, case=case, reason=post.get("reason", ""))
        return "已不予受理，申请人将看到理由"
    if action == "start":
        case_start(
            actor=actor,
            case=case,
            note=post.get("note", ""),
            lawyer=post.get("lawyer", ""),
            station=post.get("station", ""),
        )
        return "已开始办理"
    if action == "close":
        outcome = close_form(case.kind, post).values()
        case_close(actor=actor, case=case, result=post.get("result", ""), outcome=outcome)
        return "已办结，申请人可以评价"
    if action == "withdraw":
        case_withdraw(actor=actor, case=case, reason=post.get("reason", ""))
        return "已记录申请人撤回"
    if action == "attach":
        upload = request.FILES.get("file")
        if upload is None:
            raise ValidationFailed({"file": "请选择要上传的文件"})
        if upload.size > MAX_ATTACHMENT_BYTES:
            raise ValidationFailed({"file": f"文件不能超过 {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB"})
        case_attach(actor=actor, case=case, name=upload.name, content=upload.read())
        return "材料已上传"
    if action == "callback":
        callback_record(actor=actor, case=case, result=post.get("callback_result", ""), note=post.get("note", ""))
        return "回访结果已记录"
    raise DomainError("未知的操作")


def case_detail(request, case_id: str):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    case = or_404(case_get, actor=actor, case_id=case_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            messages.success(request, _act(request, actor, case))
            return redirect(_safe_next(request) or reverse("admin:case_detail", args=[case.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = _errors(exc)
            messages.error(request, exc.message)
        case = or_404(case_get, actor=actor, case_id=case_id)
    else:
        case_view_record(actor=actor, case=case)
    can_manage = case_can_manage(actor, case)
    return render_page(
        request,
        f"服务申请 {case.number}",
        "backoffice/casework/case_detail.html",
        case=case,
        details=KINDS[case.kind].detail_rows(case.details),
        events=list(case.events.all()),
        attachments=list(case.attachments.all()),
        can_manage=can_manage,
        close_fields=close_form(case.kind, request.POST if errors else None).show_errors(errors),
        errors=errors,
        today=timezone.localdate(),
        callback_results=CallbackResult.choices,
        legal=getattr(case, "legal", None) if case.kind == CaseKind.LEGAL else None,
        claim=getattr(case, "claim", None) if case.kind == CaseKind.INSURANCE else None,
        grant=getattr(case, "student_grant", None) if case.kind == CaseKind.STUDENT else None,
        aid=list(case.aid.all()) if case.kind == CaseKind.HARDSHIP else [],
        approval=pending_approval_of(actor=actor, case=case) if case.kind == CaseKind.HARDSHIP else None,
    )


def attachment_download(request, attachment_id: str):
    actor = require_actor(request)
    attachment = or_404(attachment_get, actor=actor, attachment_id=attachment_id)
    attachment_view_record(actor=actor, attachment=attachment)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type=attachment.content_type,
    )


def case_new(request):
    """代为录入: a cadre enters an application on a member's behalf from the paper form."""
    actor = require_actor(request)
    actor.require(Perm.CASES_MANAGE)
    kind = request.GET.get("kind") or request.POST.get("kind") or ""
    if kind not in KINDS:
        return render_page(request, "代为录入服务申请", "backoffice/casework/case_kind.html", kinds=KINDS.values())
    rules = KINDS[kind]
    form = application_form(kind, request.POST if request.method == "POST" else None)
    errors: dict[str, str] = {}
    card_number = ""
    if request.method == "POST":
        card_number = request.POST.get("card_number", "").strip()
        try:
            membership = memberships_visible_to(actor).filter(card_number=card_number).first()
            if membership is None:
                message = "未找到该会员卡号，请核对（只能为本级及下级工会的会员录入）"
                raise ValidationFailed({"card_number": message})
            consent = Consent(
                health=request.POST.get("consent_health") == "on",
                financial=request.POST.get("consent_financial") == "on",
            )
            case = case_enter(actor=actor, membership=membership, kind=kind, data=form.values(), consent=consent)
            messages.success(request, f"已录入，受理编号 {case.number}，承办工会：{case.org.name}")
            return redirect(reverse("admin:case_detail", args=[case.id]))
        except DomainError as exc:
            errors = _errors(exc)
    return render_page(
        request,
        f"代为录入：{rules.label}",
        "backoffice/casework/case_new.html",
        rules=rules,
        kind=kind,
        fields=form.show_errors(errors),
        errors=errors,
        card_number=card_number,
        needs_financial=rules.needs_financial_consent,
        step_days=rules.working_days,
    )


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
                hardship_file_verify(actor=actor, file=file, data=_file_data(request))
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
                hardship_aid_grant(actor=actor, file=file, data=aid_form(request.POST).values())
                messages.success(request, "帮扶已记录")
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("admin:hardship_file_detail", args=[file.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = _errors(exc)
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
            file = hardship_file_establish(actor=actor, membership=membership, data=_file_data(request))
            messages.success(request, "已建立困难职工档案" + ("（返困）" if file.returned else ""))
            return redirect(reverse("admin:hardship_file_detail", args=[file.id]))
        except DomainError as exc:
            errors = _errors(exc)
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


# ---------------------------------------------------------------- mutual insurance


def plan_new(request):
    actor = require_actor(request)
    actor.require(Perm.CASES_CONFIGURE)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = plan_form(request.POST)
        data = form.values()
        try:
            org = _org_from_code(actor, data["org_code"], field="org_code")
            plan = plan_create(actor=actor, org=org, data=data)
            messages.success(request, f"已设立{plan}")
            return redirect(reverse("admin:plan_detail", args=[plan.id]))
        except DomainError as exc:
            errors = _errors(exc)
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


def _org_from_code(actor, code: str, *, field: str):
    try:
        return org_get_by_code(actor=actor, code=code)
    except NotFound:
        raise ValidationFailed({field: "未找到该组织代码，或不在您的管辖范围内"}) from None


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
                union = _org_from_code(actor, request.POST.get("union_code", ""), field="union_code")
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
            org = _org_from_code(actor, data["org_code"], field="org_code")
            campaign = campaign_create(actor=actor, org=org, data=data)
            messages.success(request, f"已创建慰问活动“{campaign.name}”")
            return redirect(reverse("admin:campaign_detail", args=[campaign.id]))
        except DomainError as exc:
            errors = _errors(exc)
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
            org = _org_from_code(actor, org_code, field="org_code")
            visits = care_visits_record(actor=actor, campaign=campaign, org=org, rows=rows)
            messages.success(request, f"已录入 {len(visits)} 条慰问记录")
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


# ---------------------------------------------------------------- callbacks


def callbacks(request):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    root = org_scope_root(actor=actor)
    today = timezone.localdate()
    values = {
        "org_code": root.code,
        "start": today.replace(day=1).isoformat(),
        "end": today.isoformat(),
        "share": "10",
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: request.POST.get(name, "").strip() for name in values}
        try:
            org = _org_from_code(actor, values["org_code"], field="org_code")
            start, end = _date(values["start"], "start", "开始日期"), _date(values["end"], "end", "结束日期")
            try:
                share = Decimal(values["share"] or "0") / 100
            except ArithmeticError:
                raise ValidationFailed({"share": "抽取比例应为 1 到 100 之间的数字"}) from None
            drawn = callbacks_draw(actor=actor, org=org, start=start, end=end, share=share)
            if drawn:
                messages.success(request, f"已抽取 {len(drawn)} 件办结申请进行回访")
            else:
                messages.warning(request, "该期间没有可抽取的办结申请")
            return redirect(reverse("admin:case_callbacks"))
        except DomainError as exc:
            errors = _errors(exc)
    return render_page(
        request,
        "办结回访",
        "backoffice/casework/callbacks.html",
        values=values,
        errors=errors,
        pending=list(callbacks_pending(actor=actor)[:200]),
        can_manage=actor.can(Perm.CASES_MANAGE),
    )


def _date(text: str, field_name: str, label: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationFailed({field_name: f"{label}格式应为 YYYY-MM-DD"}) from None


# ---------------------------------------------------------------- figures


def service_figures(request):
    actor = require_actor(request)
    actor.require(Perm.CASES_VIEW)
    code = request.GET.get("org", "")
    try:
        org = org_get_by_code(actor=actor, code=code) if code else org_scope_root(actor=actor)
    except NotFound:
        raise Http404 from None
    today = timezone.localdate()
    # The statistics module's reading of a period (gonghui.stats.periods): a custom period is whole months.
    period = period_from(request.GET, today=today)
    start, end, label = period.start, period.end, period.label
    rows = case_figures(actor=actor, org=org, start=start, end=end)
    if request.GET.get("format") == "xlsx":
        figures_export_record(actor=actor, org=org, start=start, end=end)
        content = figures_xlsx(
            org=org, start=start, end=end, rows=rows, exported_at=timezone.localtime(), exported_by=actor.label
        )
        response = HttpResponse(
            content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        filename = f"{org.name}职工服务统计表（{label}）.xlsx"
        response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        return response
    query = request.GET.copy()
    query["format"] = "xlsx"
    return render_page(
        request,
        "职工服务统计",
        "backoffice/casework/figures.html",
        org=org,
        rows=rows,
        label=label,
        start=start,
        end=end,
        period=period.kind,
        year=start.year,
        export_query=query.urlencode(),
        years=list(range(today.year, today.year - 6, -1)),
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
            errors = _errors(exc)
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
            aid_rules_update(actor=actor, data=request.POST.dict())
            messages.success(request, "困难帮扶审批标准已保存")
            return redirect(reverse("admin:hardship_aid_rules"))
        except DomainError as exc:
            errors = _errors(exc)
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
            hardship_aid_pay(actor=actor, aid=aid, data=form.values())
            messages.success(request, "发放签收已登记")
            return redirect(reverse("admin:hardship_file_detail", args=[aid.file_id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = _errors(exc)
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
