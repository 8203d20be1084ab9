"""The member's side of the service centre (职工服务): choose a service, apply with the consent it needs, follow the
case step by step, add evidence, withdraw before 办理, and rate the result. A member only reaches their own cases;
anything else answers like a missing page."""

from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse

from gonghui.casework.kinds import KINDS, STEP_WORKING_DAYS
from gonghui.casework.models import CaseKind, CaseStatus, DisputeCategory, HardshipCause
from gonghui.casework.selectors import own_attachment_get, own_case_get, own_cases, own_enrolments
from gonghui.casework.services import (
    Consent,
    member_case_apply,
    member_case_attach,
    member_case_rate,
    member_case_withdraw,
)
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.members.models import MembershipStatus
from gonghui.members.selectors import membership_holding, own_person
from gonghui.portal.forms import CaseActionForm, CaseAttachmentForm, CaseRatingForm, ServiceApplyForm, form_errors
from gonghui.portal.session import client_ip, member_required
from gonghui.portal.views.common import _errors, _own_or_404, _page

# The satisfaction rating: value and the label a screen reader says (the star itself is decoration).
RATING_STARS = tuple((str(n), f"{n}星") for n in range(1, 6))


def _service_status(account) -> str:
    """Why a signed-in worker cannot apply yet ("" when they can)."""
    person = own_person(account=account)
    if person is None:
        return "unbound"
    holding = membership_holding(person)
    if holding is None or holding.status != MembershipStatus.ACTIVE:
        return "not_member"
    return ""


@member_required
def services(request, account):
    return _page(
        request,
        "portal/services.html",
        kinds=KINDS.values(),
        cases=own_cases(account=account),
        blocked=_service_status(account),
    )


@member_required
def service_apply(request, account, kind: str):
    if kind not in KINDS:
        raise Http404
    rules = KINDS[kind]
    blocked = _service_status(account)
    errors: dict[str, str] = {}
    values: dict = {"causes": []}
    if request.method == "POST" and not blocked:
        form = ServiceApplyForm(request.POST, fields=rules.value_field_names)
        form.is_valid()
        # A refused application comes back with the consents as ticked, like every other field.
        values = form.values()
        consent = Consent(health=values["consent_health"], financial=values["consent_financial"])
        try:
            case = member_case_apply(account=account, kind=kind, data=values, consent=consent, ip=client_ip(request))
            return redirect("portal:service_case", case_id=case.id)
        except DomainError as exc:
            errors = _errors(exc)
    return _page(
        request,
        "portal/service_apply.html",
        rules=rules,
        kind=kind,
        values=values,
        errors=errors,
        blocked=blocked,
        step_days=STEP_WORKING_DAYS[kind],
        causes=HardshipCause.choices,
        categories=DisputeCategory.choices,
        enrolments=own_enrolments(account=account) if kind == CaseKind.INSURANCE else [],
        always_health=kind == CaseKind.INSURANCE,
    )


def _case_steps(case) -> list[dict]:
    """申请 → 受理 → 办理 → 办结 → 评价, as the worker reads it, with who acted and when."""
    done = {event.action: event for event in case.events.all()}

    def step(label, state, text="", at=None):
        return {"label": label, "state": state, "text": text, "at": at}

    submitted = done.get("submit")
    steps = [step("已提交", "done", f"承办工会：{case.org.name}", submitted.at if submitted else case.submitted_at)]
    if case.status == CaseStatus.WITHDRAWN:
        event = done.get("withdraw")
        return [*steps, step("已撤回", "refused", event.note if event else "", event.at if event else None)]
    if case.status == CaseStatus.REJECTED:
        return [*steps, step("不予受理", "refused", f"理由：{case.rejection_reason}", case.closed_at)]
    if case.status == CaseStatus.SUBMITTED:
        return [
            *steps,
            step("受理", "current", f"工会将在 {case.due_on:%Y-%m-%d} 前受理"),
            step("办理", "todo"),
            step("办结", "todo"),
        ]
    steps.append(step("已受理", "done", "", case.accepted_at))
    if case.status == CaseStatus.ACCEPTED:
        return [*steps, step("办理", "current", f"将在 {case.due_on:%Y-%m-%d} 前开始办理"), step("办结", "todo")]
    steps.append(step("办理中", "done" if case.status == CaseStatus.CLOSED else "current", "", case.started_at))
    if case.status == CaseStatus.IN_PROGRESS:
        return [*steps, step("办结", "todo", f"办理期限 {case.due_on:%Y-%m-%d}")]
    if case.status == CaseStatus.PENDING_APPROVAL:
        waiting = step("上级审批", "current", f"已报上级工会审批，审批期限 {case.due_on:%Y-%m-%d}")
        return [*steps[:-1], step("办理中", "done", "", case.started_at), waiting, step("办结", "todo")]
    money = f"，发放 {case.amount_granted} 元" if case.amount_granted else ""
    steps.append(step("已办结", "done", f"{case.result.rstrip('。．.；;，, ')}{money}", case.closed_at))
    if case.rating:
        steps.append(
            step(
                "已评价",
                "done",
                f"{case.rating} 星" + (f"：{case.rating_comment}" if case.rating_comment else ""),
                case.rated_at,
            )
        )
    else:
        steps.append(step("评价", "current", "请对办理结果进行评价"))
    return steps


@member_required
def service_case(request, account, case_id: str):
    case = _own_or_404(own_case_get, account=account, case_id=case_id)
    errors: dict[str, str] = {}
    rating_values = {"rating": "", "comment": ""}
    if request.method == "POST":
        action_form = CaseActionForm(request.POST)
        action_form.is_valid()
        action = action_form.cleaned_data["action"]
        rating_form = CaseRatingForm(request.POST)
        rating_form.is_valid()
        if action == "rate":
            # Kept for the form when the rating is refused (say, no star chosen): the comment is not lost.
            rating_values = rating_form.cleaned_data
        try:
            if action == "withdraw":
                member_case_withdraw(account=account, case_id=case.id, ip=client_ip(request))
            elif action == "rate":
                member_case_rate(account=account, case_id=case.id, **rating_form.cleaned_data, ip=client_ip(request))
            elif action == "attach":
                attachment_form = CaseAttachmentForm(request.POST, request.FILES)
                if not attachment_form.is_valid():
                    raise ValidationFailed(form_errors(attachment_form))
                upload = attachment_form.cleaned_data["file"]
                member_case_attach(
                    account=account, case_id=case.id, name=upload.name, content=upload.read(), ip=client_ip(request)
                )
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("portal:service_case", args=[case.id]))
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            errors = _errors(exc)
        case = _own_or_404(own_case_get, account=account, case_id=case_id)
    return _page(
        request,
        "portal/service_case.html",
        case=case,
        steps=_case_steps(case),
        attachments=list(case.attachments.all()),
        errors=errors,
        rating_values=rating_values,
        stars=RATING_STARS,
        can_withdraw=case.status in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED),
        can_rate=case.status == CaseStatus.CLOSED and case.rating is None,
        can_attach=case.is_open,
    )


@member_required
def service_attachment(request, account, attachment_id: str):
    attachment = _own_or_404(own_attachment_get, account=account, attachment_id=attachment_id)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )
