"""Back-office pages of the service centre (职工服务): a case with its one-click actions, entering an application on a
member's behalf, evidence downloads, callbacks and the figures with their .xlsx export; hardship files and 上级审批 are
in hardship.py, mutual-insurance plans and care campaigns in care.py. Thin: build the actor, call one selector or
service, render; a refused call shows its Chinese message and changes nothing; anything out of scope answers 404 like
a missing page."""

from datetime import date
from decimal import Decimal

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from gonghui.backoffice.base import or_404, render_page, require_actor
from gonghui.backoffice.views.casework_forms import (
    application_form,
    close_form,
    org_from_code,
)
from gonghui.backoffice.views.helpers import download, errors_of
from gonghui.casework.exports import figures_xlsx
from gonghui.casework.fields import CaseOutcome
from gonghui.casework.kinds import KINDS
from gonghui.casework.models import (
    CallbackResult,
    CaseKind,
)
from gonghui.casework.selectors import (
    attachment_get,
    callbacks_pending,
    case_can_manage,
    case_figures,
    case_get,
    pending_approval_of,
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
        outcome = CaseOutcome(**close_form(case.kind, post).values())
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
            errors = errors_of(exc)
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
            errors = errors_of(exc)
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
            org = org_from_code(actor, values["org_code"], field="org_code")
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
            errors = errors_of(exc)
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
        return download(content, f"{org.name}职工服务统计表（{label}）.xlsx")
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
