"""Back-office pages of the member registry: member detail with its actions, enrolment, correction, the e-member
card, the printable 入会登记表, member search by personal number, the union directory, data quality and the roster
export (join applications and transfers: member_requests.py). Thin: build the actor, call one selector or service,
render; refused calls show their Chinese message and change nothing."""

import contextlib
from typing import Any

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from gonghui.backoffice.base import last_page, or_404, render_page, report_domain_error, require_actor
from gonghui.common.errors import DomainError, NotFound
from gonghui.common.roles import Perm
from gonghui.members.cards import CARD_TOKEN_SECONDS, card_qr_svg
from gonghui.members.documents import DOC_TYPE_LABELS, DOC_TYPES_WITH_BIRTH_DATE
from gonghui.members.member_accounts import member_account_of, member_account_unbind
from gonghui.members.models import (
    ETHNICITIES,
    Education,
    EmploymentForm,
    HukouType,
    MembershipSource,
    PoliticalStatus,
    Sex,
    SkillLevel,
)
from gonghui.members.quality import quality_summary, rectification_count, rectification_list
from gonghui.members.search import MemberQuery, member_search
from gonghui.members.selectors import (
    join_application_get,
    membership_get,
    person_history,
    person_profile_in_scope,
    union_directory_get,
    union_directory_search,
)
from gonghui.members.services import (
    REVEALABLE,
    join_application_submit,
    member_enrol,
    membership_cancel,
    membership_leave,
    membership_reserve,
    membership_restore,
    membership_reveal,
    person_reveal,
    person_update,
    transfer_request,
)
from gonghui.members.tasks import member_roster_export_request
from gonghui.orgs.selectors import org_children, org_get, org_get_by_code, org_scope_root

RECTIFICATION_PAGE = 100


def _blank(choices):
    return [("", "—"), *choices]


# ---------------------------------------------------------------- member detail and its actions


def member_detail(request, membership_id: str):
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    membership = or_404(membership_get, actor=actor, membership_id=membership_id)
    revealed: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "reveal":
                field = request.POST.get("field", "")
                revealed[field] = membership_reveal(
                    actor=actor, membership=membership, field=field, reason=request.POST.get("reason", "")
                )
            else:
                message = _membership_action(actor, membership, action, request.POST)
                messages.success(request, message)
                return redirect(reverse("admin:member_detail", args=[membership.id]))
        except DomainError as exc:
            report_domain_error(request, exc)
        membership = or_404(membership_get, actor=actor, membership_id=membership_id)
    history = person_history(actor=actor, person=membership.person)
    return render_page(
        request,
        f"会员：{membership.person.name}",
        "backoffice/members/member_detail.html",
        membership=membership,
        person=membership.person,
        history=history,
        revealed=revealed,
        revealable=REVEALABLE,
        can_manage=actor.can(Perm.MEMBERS_MANAGE) and membership.is_holding,
        can_unmask=actor.can(Perm.MEMBERS_UNMASK) and membership.is_holding,
        # A union the member has left does not learn how they sign in now.
        portal_account=None if membership.seen_at_end else member_account_of(membership.person),
        open_transfer=next(
            (t for t in history["transfers"] if t.status in ("pending_release", "pending_accept")), None
        ),
    )


def _membership_action(actor, membership, action: str, data) -> str:
    reason = data.get("reason", "")
    if action == "leave":
        membership_leave(actor=actor, membership=membership, reason=reason)
        return "已办理退会"
    if action == "cancel":
        membership_cancel(actor=actor, membership=membership, reason=reason)
        return "已注销会籍"
    if action == "reserve":
        membership_reserve(actor=actor, membership=membership, reason=reason)
        return "已保留会籍"
    if action == "restore":
        membership_restore(actor=actor, membership=membership, reason=reason)
        return "已恢复为正式会员"
    if action == "unbind":
        ended = member_account_unbind(actor=actor, person=membership.person, reason=reason)
        return "已解除会员端绑定，该手机号需重新核验身份" if ended else "该会员没有绑定会员端账号"
    if action == "transfer":
        to_org = union_directory_get(org_id=data.get("to_org_id", ""))
        transfer = transfer_request(actor=actor, membership=membership, to_org=to_org, reason=reason)
        return f"已发起接转：转入“{transfer.to_org.name}”，待转出工会同意"
    raise DomainError("未知的操作")


def member_card(request, membership_id: str):
    """电子会员卡 with a QR code that refreshes every minute (htmx), carrying a signed token valid 5 minutes."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    membership = or_404(membership_get, actor=actor, membership_id=membership_id)
    template = "backoffice/members/_card_qr.html" if request.htmx else "backoffice/members/card.html"
    return render_page(
        request,
        "电子会员卡",
        template,
        membership=membership,
        qr_svg=card_qr_svg(membership) if membership.is_holding else "",
        token_minutes=CARD_TOKEN_SECONDS // 60,
    )


def union_directory(request):
    """htmx fragment: active grassroots unions anywhere, to pick a transfer target."""
    require_actor(request)
    results = union_directory_search(query=request.GET.get("q", ""), limit=15)
    return TemplateResponse(request, "backoffice/members/_union_results.html", {"results": results})


# ---------------------------------------------------------------- printable 入会登记表


def _print_reveal(request, *, may_reveal: bool, reveal) -> tuple[str, str]:
    """A POST on a print page asks for the full document number on the paper: the same rule, reason and audit event
    as 查看完整号码 on the detail page. Returns (the number or "", the refusal message or "")."""
    if request.method != "POST" or not may_reveal:
        return "", ""
    try:
        return reveal(request.POST.get("reason", "")), ""
    except DomainError as exc:
        return "", exc.message


def _registration_form(request, **context) -> TemplateResponse:
    return TemplateResponse(request, "backoffice/members/registration_form.html", context)


def member_print(request, membership_id: str):
    """入会登记表 of a member, to print and sign. Numbers masked unless the role may unmask and states a reason."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    membership = or_404(membership_get, actor=actor, membership_id=membership_id)
    may_reveal = actor.can(Perm.MEMBERS_UNMASK) and membership.is_holding
    number, refusal = _print_reveal(
        request,
        may_reveal=may_reveal,
        reveal=lambda reason: membership_reveal(actor=actor, membership=membership, field="doc_number", reason=reason),
    )
    return _registration_form(
        request,
        person=membership.person,
        show_profile=True,
        doc_number=number or membership.person.doc_masked,
        revealed=bool(number),
        refusal=refusal,
        may_reveal=may_reveal,
        union=membership.org,
        applied_on=None,
        joined_on=membership.joined_on,
        card_number=membership.card_number,
        status_label=membership.get_status_display(),
        back_url=reverse("admin:member_detail", args=[membership.id]),
    )


def join_application_print(request, application_id: str):
    """入会登记表 of a join application: what the applicant declared, to print, sign and keep with the decision."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    application = or_404(join_application_get, actor=actor, application_id=application_id)
    person = application.person
    show_profile = person_profile_in_scope(actor=actor, person=person, application=application)
    may_reveal = actor.can(Perm.MEMBERS_UNMASK) and show_profile
    number, refusal = _print_reveal(
        request,
        may_reveal=may_reveal,
        reveal=lambda reason: person_reveal(actor=actor, person=person, field="doc_number", reason=reason),
    )
    membership = application.membership
    return _registration_form(
        request,
        person=person,
        show_profile=show_profile,
        doc_number=number or person.doc_masked,
        revealed=bool(number),
        refusal=refusal,
        may_reveal=may_reveal,
        union=application.org,
        applied_on=application.submitted_at,
        joined_on=membership.joined_on if membership else None,
        card_number=membership.card_number if membership else "",
        status_label=application.get_status_display(),
        back_url=reverse("admin:join_application_detail", args=[application.id]),
    )


# ---------------------------------------------------------------- enrolment and correction


class PersonForm(forms.Form):
    doc_type = forms.ChoiceField(label="证件类型", choices=list(DOC_TYPE_LABELS.items()), initial="resident_id")
    doc_number = forms.CharField(label="证件号码", max_length=40)
    name = forms.CharField(label="姓名", max_length=50)
    phone = forms.CharField(label="手机号码", max_length=20, required=False)
    birth_date = forms.DateField(
        label="出生日期",
        required=False,
        help_text="仅护照等不含出生日期的证件需要填写",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sex = forms.ChoiceField(label="性别", choices=_blank(Sex.choices), required=False, help_text="仅护照等证件需要填写")
    ethnicity = forms.ChoiceField(label="民族", choices=_blank([(e, e) for e in ETHNICITIES]), required=False)
    education = forms.ChoiceField(label="学历", choices=_blank(Education.choices), required=False)
    political_status = forms.ChoiceField(label="政治面貌", choices=_blank(PoliticalStatus.choices), required=False)
    hukou_type = forms.ChoiceField(label="户籍类型", choices=_blank(HukouType.choices), required=False)
    employment_form = forms.ChoiceField(label="就业形态", choices=_blank(EmploymentForm.choices), required=False)
    work_unit = forms.CharField(label="工作单位", max_length=150, required=False)
    post = forms.CharField(label="岗位/职务", max_length=60, required=False)
    skill_level = forms.ChoiceField(label="技能等级", choices=_blank(SkillLevel.choices), required=False)
    is_model_worker = forms.BooleanField(label="劳动模范", required=False)
    remarks = forms.CharField(label="备注", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class EnrolForm(PersonForm):
    org_code = forms.CharField(label="基层工会代码", max_length=32)
    joined_on = forms.DateField(
        label="入会日期", required=False, help_text="不填则为今天", widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(label="申请说明", max_length=500, required=False)

    field_order = ["org_code", "doc_type", "doc_number", "name", "phone", "joined_on"]


PERSON_FIELDS = [name for name in PersonForm.base_fields]


def member_enrol_view(request):
    """干部录入 (straight into the roster) or, with ?mode=application, a join application entered for a worker."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_MANAGE)
    as_application = request.GET.get("mode") == "application"
    initial = {}
    if request.GET.get("org"):
        with contextlib.suppress(NotFound):
            initial["org_code"] = org_get(actor=actor, org_id=request.GET["org"]).code
    form = EnrolForm(request.POST or None, initial=initial)
    if as_application:
        del form.fields["joined_on"]
    else:
        del form.fields["note"]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org = org_get_by_code(actor=actor, code=data["org_code"])
        except NotFound:
            form.add_error("org_code", "找不到该组织，或不在您的管辖范围内")
        else:
            fields = {name: data.get(name) for name in PERSON_FIELDS}
            try:
                if as_application:
                    application = join_application_submit(
                        actor=actor, org=org, note=data.get("note", ""), source=MembershipSource.CADRE, **fields
                    )
                    messages.success(request, "入会申请已提交，等待审核")
                    return redirect(reverse("admin:join_application_detail", args=[application.id]))
                membership = member_enrol(actor=actor, org=org, joined_on=data.get("joined_on"), **fields)
                messages.success(request, f"已录入会员，会员卡号 {membership.card_number}")
                return redirect(reverse("admin:member_detail", args=[membership.id]))
            except DomainError as exc:
                report_domain_error(request, exc, form)
    title = "代为提交入会申请" if as_application else "录入会员"
    return render_page(request, title, "backoffice/members/person_form.html", form=form)


def member_correct(request, membership_id: str):
    """更正个人信息: only what changed is sent to the service; the document number only when retyped."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_MANAGE)
    membership = or_404(membership_get, actor=actor, membership_id=membership_id)
    person = membership.person
    initial = {name: getattr(person, name, "") for name in PERSON_FIELDS if hasattr(person, name)}
    initial["doc_number"] = ""
    initial["phone"] = ""
    form = PersonForm(request.POST or None, initial=initial)
    form.fields["doc_number"].required = False
    form.fields["doc_number"].help_text = f"当前 {person.doc_masked}；不更正请留空"
    form.fields["phone"].help_text = f"当前 {person.phone_masked or '未登记'}；不更正请留空"
    if person.doc_type in DOC_TYPES_WITH_BIRTH_DATE:
        # Read from the document number: shown, not offered (the service would keep the number's values anyway).
        for name in ("birth_date", "sex"):
            form.fields[name].disabled = True
            form.fields[name].help_text = "由证件号码确定；如有误请更正证件号码"
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes: dict[str, Any] = {
            name: data.get(name) for name in PERSON_FIELDS if name not in ("doc_number", "phone", "doc_type")
        }
        if data.get("phone"):
            changes["phone"] = data["phone"]
        if data.get("doc_number"):
            changes["doc_type"] = data["doc_type"]
            changes["doc_number"] = data["doc_number"]
        try:
            person_update(actor=actor, person=person, **changes)
        except DomainError as exc:
            report_domain_error(request, exc, form)
        else:
            messages.success(request, "个人信息已更正，修改前后内容已记入审计日志")
            return redirect(reverse("admin:member_detail", args=[membership.id]))
    return render_page(request, f"更正个人信息：{person.name}", "backoffice/members/person_form.html", form=form)


# ---------------------------------------------------------------- search by personal number


class SearchForm(forms.Form):
    doc_type = forms.ChoiceField(label="证件类型", choices=list(DOC_TYPE_LABELS.items()), initial="resident_id")
    doc_number = forms.CharField(label="证件号码", max_length=40, required=False)
    phone = forms.CharField(label="手机号码", max_length=20, required=False)
    card_number = forms.CharField(label="会员卡号", max_length=20, required=False)
    name = forms.CharField(label="姓名", max_length=50, required=False)
    name_prefix = forms.BooleanField(label="按姓名前缀查找", required=False)
    include_ended = forms.BooleanField(label="包括已转出、退会、注销的会籍", required=False)


def member_search_view(request):
    """Sent by POST so personal numbers never appear in a URL or a server log; every search by number is audited."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    form = SearchForm(request.POST or None)
    results = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        query = MemberQuery(
            doc_type=data["doc_type"],
            doc_number=data["doc_number"],
            phone=data["phone"],
            card_number=data["card_number"],
            name=data["name"],
            name_prefix=data["name_prefix"],
            org=org_scope_root(actor=actor) if actor.org_id else None,
            status="all" if data["include_ended"] else "",
        )
        try:
            results = list(member_search(actor=actor, query=query)[:100])
        except DomainError as exc:
            report_domain_error(request, exc, form)
    if results is not None:
        # The answer shows numbers only masked: the numbers just searched for are not written back into the form.
        # A refused search (a mistyped number, the rate limit) keeps them, so that they can be corrected.
        form.data = form.data.copy()
        form.data["doc_number"] = ""
        form.data["phone"] = ""
    return render_page(request, "会员查询", "backoffice/members/search.html", form=form, results=results)


# ---------------------------------------------------------------- data quality


def data_quality(request):
    """入库率 and 准确率 of an organisation's subtree, its children side by side, and the rectification list."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    org = (
        or_404(org_get, actor=actor, org_id=request.GET["org"])
        if request.GET.get("org")
        else org_scope_root(actor=actor)
    )
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    failing = rectification_count(actor=actor, org=org)
    page = min(page, last_page(failing, RECTIFICATION_PAGE))  # beyond the end: the last page
    children = [] if org.is_grassroots else list(org_children(actor=actor, org_id=org.id)[:50])
    return render_page(
        request,
        "数据质量",
        "backoffice/members/quality.html",
        org=org,
        summary=quality_summary(actor=actor, org=org),
        child_rows=[quality_summary(actor=actor, org=child) for child in children],
        items=rectification_list(
            actor=actor, org=org, limit=RECTIFICATION_PAGE, offset=(page - 1) * RECTIFICATION_PAGE
        ),
        failing=failing,
        page=page,
        page_size=RECTIFICATION_PAGE,
        can_export=actor.can(Perm.EXPORT),
        can_unmask=actor.can(Perm.EXPORT) and actor.can(Perm.MEMBERS_UNMASK),
    )


@require_POST
def rectification_export(request):
    """POST: the 整改清单 of an organisation's subtree as .xlsx (numbers masked as on the page), within the list
    export cap, audited as a list export."""
    from django.utils import timezone

    from gonghui.backoffice.exports import EXPORT_MAX_ROWS, attachment, generic_workbook, list_export_record

    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    org = or_404(org_get, actor=actor, org_id=request.POST.get("org", ""))
    actor.require(Perm.EXPORT)
    failing = rectification_count(actor=actor, org=org)
    if failing > EXPORT_MAX_ROWS:
        messages.error(
            request, f"整改清单共 {failing} 条，超过单次导出上限 {EXPORT_MAX_ROWS} 条，请进入下级组织分别导出"
        )
        return redirect(reverse("admin:member_quality") + f"?org={org.id}")
    items = rectification_list(actor=actor, org=org, limit=EXPORT_MAX_ROWS)
    exported_at = timezone.localtime()
    conditions = f"组织：{org.name}（{org.code}）及其下级组织"
    content = generic_workbook(
        title=f"{org.name}数据整改清单",
        columns=[
            ("姓名", lambda item: item.membership.person.name),
            ("证件号码", lambda item: item.membership.person.doc_masked),
            ("手机号码", lambda item: item.membership.person.phone_masked),
            ("所在工会", lambda item: item.membership.org.name),
            ("工会代码", lambda item: item.membership.org.code),
            ("会员卡号", lambda item: item.membership.card_number),
            ("问题", lambda item: "；".join(item.problems)),
        ],
        rows=items,
        filters_text=conditions,
        exported_at=exported_at,
        exported_by=actor.label,
    )
    list_export_record(
        actor=actor,
        list_name="数据整改清单",
        object_type="membership",
        filters={"org": str(org.id)},
        filters_text=conditions,
        rows=len(items),
    )
    return attachment(content, f"数据整改清单_{org.code}_{exported_at:%Y%m%d%H%M}.xlsx")


@require_POST
def member_export(request):
    """POST: queue the masked roster export of an organisation's subtree; the job page shows progress."""
    actor = require_actor(request)
    org = or_404(org_get, actor=actor, org_id=request.POST.get("org", ""))
    try:
        job = member_roster_export_request(
            actor=actor,
            org=org,
            fmt=request.POST.get("fmt", "xlsx"),
            unmask_reason=request.POST.get("reason", "") if request.POST.get("unmasked") else "",
        )
    except DomainError as exc:
        report_domain_error(request, exc)
        return redirect(reverse("admin:member_quality") + f"?org={org.id}")
    messages.info(request, "导出任务已提交，完成后可在本页下载")
    return redirect(reverse("admin:job_status", args=[job.id]))
