"""Back-office pages beyond model lists: workbench, organisation tree browser, job status, second factor.
Thin: each builds the actor, calls selectors or services, renders."""

import base64
from datetime import timedelta
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.second_factor import (
    confirmed_device_for_code,
    has_confirmed_device,
    second_factor_step,
    sign_in_step,
)
from gonghui.accounts.selectors import accounts_awaiting_role_approval, accounts_locked
from gonghui.accounts.services import (
    account_change_own_password,
    record_login,
    record_login_failure,
    totp_device_confirm,
    totp_device_pending,
)
from gonghui.audit.labels import action_label
from gonghui.audit.selectors import AuditFilters, audit_event_list
from gonghui.backoffice.base import last_page, report_domain_error, require_actor
from gonghui.casework.selectors import (
    approvals_to_decide,
    callbacks_pending,
    cases_escalated_to_me,
    cases_my_queue,
    cases_overdue,
    hardship_files_due_verification,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.roles import Perm, Role, role_label
from gonghui.jobs.selectors import job_get, jobs_of
from gonghui.jobs.services import job_result_download_record
from gonghui.members.selectors import (
    corrections_pending,
    join_applications_overdue,
    join_applications_pending,
    member_counts,
    transfers_awaiting,
    transfers_escalated,
)
from gonghui.orgs.models import OrgType
from gonghui.orgs.selectors import (
    employers_uncovered,
    org_breadcrumbs,
    org_children,
    org_get,
    org_scope_root,
    org_search,
    org_subtree_summary,
)

TREE_PAGE_SIZE = 100


def _page(request, site, title: str, template: str, **context) -> TemplateResponse:
    return TemplateResponse(request, template, {**site.each_context(request), "title": title, **context})


def confirm_page(request, *, title: str, intro: str, cancel_url: str, form=None) -> TemplateResponse:
    """The answer to a GET of an address that changes something: what will happen, a 确认 button posting back to the
    same address with the CSRF token, and a 取消 link. A link on another site can then never act in someone's
    session: browsers send the session cookie on a top-level navigation (SameSite=Lax), but never the token."""
    from gonghui.backoffice.site import backoffice_site

    return _page(
        request, backoffice_site, title, "backoffice/confirm.html", intro=intro, cancel_url=cancel_url, form=form
    )


def _percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


# The audit trail's sensitive events the audit administrator's workbench shows first: (action, result or "").
AUDIT_MATTERS = (
    ("person.reveal", ""),
    ("org.reveal_contact_phone", ""),
    ("member.search_by_number", ""),
    ("member.export", ""),
    ("org.export", ""),
    ("list.export", ""),
    ("stats.export", ""),
    ("case.figures_export", ""),
    ("audit.export", ""),
    ("account.login", "failed"),
)
AUDIT_DAYS = 7


def workbench(request, site) -> TemplateResponse:
    """The workbench, per role: a cadre's to-do list first, then (for a level above the grassroots) the subtree's
    figures; the audit administrator's sensitive events; the system and security administrators' account matters."""
    actor = require_actor(request)
    if request.user.role_pending_approval:
        # Signed in, but the role is not active until approved: only the notice.
        context = {"org": request.user.org, "role_label": role_label(actor.role), "role_pending": True}
        return _page(request, site, "工作台", "backoffice/workbench.html", **context)
    root = org_scope_root(actor=actor)
    context = {"org": root, "role_label": role_label(actor.role), "actor": actor}
    sections = []
    if actor.can(Perm.MEMBERS_VIEW) or actor.can(Perm.CASES_VIEW):
        sections.append("todo")
    if actor.can(Perm.MEMBERS_VIEW):
        context["members"] = _member_work(actor, root)
    if actor.can(Perm.CASES_VIEW):
        context["services"] = _service_work(actor)
    if "todo" in sections:
        context["todo"] = todo = _todo_items(context.get("members"), context.get("services"))
        context["todo_waiting"] = [label for label, count, _, _ in todo if count]
    if actor.can(Perm.AUDIT_VIEW):
        sections.append("audit")
        context["audit"] = _audit_work(actor)
    if actor.can(Perm.ACCOUNTS_VIEW):
        sections.append("accounts")
        context["accounts"] = _account_work(actor)
    if actor.can(Perm.ACCOUNTS_MANAGE) or actor.can(Perm.AUDIT_VIEW):
        context["pending_grants"] = list(accounts_awaiting_role_approval(actor)[:20])
        context["can_approve_grants"] = actor.role == Role.SYSTEM_ADMIN
        if context["pending_grants"]:
            sections.append("grants")
    if actor.can(Perm.ORGS_VIEW) and not actor.can(Perm.AUDIT_VIEW):
        sections.append("figures")
        summary = org_subtree_summary(actor=actor, org=root)
        context["summary"] = summary
        context["type_rows"] = [
            (label, summary.by_type.get(value, 0)) for value, label in OrgType.choices if summary.by_type.get(value)
        ]
        context["coverage_cards"] = [
            (label, _percent(covered, total), covered, total)
            for label, covered, total in (
                ("25人以上企业建会率", summary.employers_25_plus_covered, summary.employers_25_plus),
                ("百人以上企业建会率", summary.employers_100_plus_covered, summary.employers_100_plus),
            )
            if total
        ]
    if actor.can(Perm.EMPLOYERS_VIEW):
        context["uncovered"] = list(employers_uncovered(actor=actor, min_staff=100).select_related("town_org")[:10])
    if actor.can(Perm.JOBS_VIEW):
        context["jobs"] = list(jobs_of(actor)[:5])
    context["sections"] = sections
    return _page(request, site, "工作台", "backoffice/workbench.html", **context)


def _todo_items(members: dict | None, services: dict | None) -> list[tuple[str, int, str, str]]:
    """(what, how many, where to do it, a note) of each kind of work this level may have waiting."""
    items = []
    if members:
        applications = reverse("admin:members_joinapplication_changelist") + "?status__exact=pending"
        transfers = reverse("admin:members_transferrequest_changelist")
        items += [
            ("待审核入会申请", members["pending_applications"], applications, "去审核"),
            ("超期未审核申请", members["overdue_applications"], applications, "超过15个工作日（含下级工会）"),
            ("待办会员接转", members["transfers_awaiting"], transfers, "转出待同意、转入待接收"),
            (
                "待处理资料更正",
                members["pending_corrections"],
                reverse("admin:members_correctionrequest_changelist") + "?status__exact=pending",
                "去处理",
            ),
        ]
    if services:
        cases = reverse("admin:casework_servicecase_changelist")
        items += [
            ("职工服务待办（本级承办）", services["queue_count"], cases, "全部服务申请"),
            ("超期服务申请", services["overdue_count"], cases + "?overdue=yes", "含下级工会"),
            ("上报本级督办", services["escalated_count"], "", "下级超期未办"),
            (
                "待本级审批（困难帮扶）",
                services["approvals_due"],
                reverse("admin:hardship_approvals"),
                "下级工会报请审批",
            ),
            ("待回访", services["callbacks"], reverse("admin:case_callbacks"), "去回访"),
            (
                "困难档案待年度核查",
                services["verification_due"],
                reverse("admin:casework_hardshipfile_changelist"),
                "30天内到期或已到期",
            ),
        ]
    return items


def _audit_work(actor: Actor) -> dict:
    """The sensitive events of the auditor's scope over the last AUDIT_DAYS days: how many of each kind (with a link
    to the trail filtered to it) and the latest ones."""
    since = timezone.localdate() - timedelta(days=AUDIT_DAYS - 1)
    trail = reverse("admin:audit_auditevent_changelist")
    events = audit_event_list(actor=actor, filters=AuditFilters(start=since))
    sensitive = Q()
    for action, result in AUDIT_MATTERS:
        sensitive |= Q(action=action, result=result) if result else Q(action=action)
    counts = {
        (row["action"], row["result"]): row["n"]
        for row in events.filter(sensitive).values("action", "result").annotate(n=Count("id")).order_by()
    }
    kinds = []
    for action, result in AUDIT_MATTERS:
        count = sum(n for (a, r), n in counts.items() if a == action and (not result or r == result))
        if not count:
            continue
        query = {"action__exact": action, "at_from": since.isoformat()} | ({"result__exact": result} if result else {})
        label = "登录失败" if result == "failed" else action_label(action)
        kinds.append((label, count, f"{trail}?{urlencode(query)}"))
    # Who did what and when; the object (a person's name) is read on the event's own page in the trail, so that the
    # workbench carries no member's name.
    recent = [
        (event, "登录失败" if event.action == "account.login" else action_label(event.action))
        for event in events.filter(sensitive)[:10]
    ]
    return {"kinds": kinds, "recent": recent, "since": since, "days": AUDIT_DAYS, "trail": trail}


def _account_work(actor: Actor) -> dict:
    """Accounts locked after failed sign-ins (the security administrator unlocks them)."""
    locked = accounts_locked(actor)
    return {
        "locked": list(locked[:20]),
        "locked_count": locked.count(),
        "can_unlock": actor.can(Perm.SECURITY_MANAGE),
    }


def _member_work(actor: Actor, root) -> dict:
    """Members held in the subtree and the registry work waiting for this level."""
    overdue = join_applications_overdue(actor=actor)
    return {
        "counts": member_counts(actor=actor, org=root),
        "pending_applications": join_applications_pending(actor=actor).count(),
        "overdue_applications": overdue.count(),
        "overdue_list": list(overdue.select_related("org")[:10]),
        "transfers_awaiting": transfers_awaiting(actor=actor).count(),
        "pending_corrections": corrections_pending(actor=actor).count(),
        "escalated": list(transfers_escalated(actor=actor)[:10]),
    }


def _service_work(actor: Actor) -> dict:
    """职工服务: my queue, overdue cases in the subtree, cases escalated to my level, callbacks waiting."""
    queue = cases_my_queue(actor=actor)
    overdue = cases_overdue(actor=actor)
    escalated = cases_escalated_to_me(actor=actor)
    return {
        "queue_count": queue.count(),
        "queue": list(queue[:10]),
        "overdue_count": overdue.count(),
        "overdue": list(overdue[:10]),
        "escalated_count": escalated.count(),
        "escalated": list(escalated[:10]),
        "callbacks": callbacks_pending(actor=actor).count(),
        "verification_due": hardship_files_due_verification(actor=actor).count(),
        "approvals_due": approvals_to_decide(actor=actor).count(),
        "can_manage": actor.can(Perm.CASES_MANAGE),
    }


def _tree_children_page(actor: Actor, org_id, page: int):
    """The children on `page`, whether more follow, and the page shown: one beyond the end shows the last page (and
    a page number of any size never reaches the database as an offset)."""
    children = org_children(actor=actor, org_id=org_id)
    page = min(page, last_page(children.count(), TREE_PAGE_SIZE))
    start = (page - 1) * TREE_PAGE_SIZE
    rows = list(children[start : start + TREE_PAGE_SIZE + 1])
    return rows[:TREE_PAGE_SIZE], len(rows) > TREE_PAGE_SIZE, page


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def org_tree(request):
    """One organisation at a time: breadcrumbs above, its details, its children (lazy, paged) below."""
    from gonghui.backoffice.site import backoffice_site

    actor = require_actor(request)
    actor.require(Perm.ORGS_VIEW)
    try:
        org = org_get(actor=actor, org_id=request.GET["org"]) if request.GET.get("org") else org_scope_root(actor=actor)
    except NotFound:
        raise Http404 from None
    children, has_more, page = _tree_children_page(actor, org.id, _page_number(request))
    return _page(
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
        children, has_more, page = _tree_children_page(actor, org_id, _page_number(request))
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


def job_status(request, job_id: str):
    from gonghui.backoffice.site import backoffice_site

    actor = require_actor(request)
    try:
        job = job_get(actor=actor, job_id=job_id)
    except NotFound:
        raise Http404 from None
    template = "backoffice/_job_progress.html" if request.htmx else "backoffice/job_status.html"
    return _page(request, backoffice_site, job.title, template, job=job)


def job_download(request, job_id: str):
    actor = require_actor(request)
    try:
        job = job_get(actor=actor, job_id=job_id)
    except NotFound:
        raise Http404 from None
    if not job.result_file:
        raise Http404
    job_result_download_record(actor=actor, job=job)
    return FileResponse(job.result_file.open("rb"), as_attachment=True, filename=job.result_name)


# ---------------------------------------------------------------- sign-in and second factor


def audit_login_attempt(request, *, succeeded: bool) -> None:
    user = request.user
    if succeeded:
        try:
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
        except PermissionDenied:
            return
        record_login(actor=actor, user=user, second_factor=False)
        return
    record_login_failure(username=request.POST.get("username") or "", ip=request.META.get("REMOTE_ADDR"))


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:index")


def otp_verify(request):
    """Second step of sign-in for an account with a TOTP device."""
    from gonghui.backoffice.site import backoffice_site

    user = request.user
    if not user.is_authenticated:
        return redirect("admin:login")
    if second_factor_step(user) != "verify":
        return HttpResponseRedirect(_next_url(request))
    error = None
    if request.method == "POST":
        device = confirmed_device_for_code(user, request.POST.get("token", ""))
        if device is not None:
            otp_login(request, device)
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
            record_login(actor=actor, user=user, second_factor=True)
            return HttpResponseRedirect(_next_url(request))
        error = "动态验证码不正确或已过期，请重新输入"
    return TemplateResponse(
        request,
        "backoffice/otp_verify.html",
        {
            **backoffice_site.each_context(request),
            "title": "两步验证",
            "error": error,
            "next": _next_url(request),
        },
    )


def otp_setup(request):
    """Enrol a TOTP authenticator: show the QR code of a new device and confirm it with a first code."""
    from gonghui.backoffice.site import backoffice_site

    user = request.user
    confirmed = has_confirmed_device(user)
    device = None
    error = None
    if not confirmed:
        device = totp_device_pending(user=user)
        if request.method == "POST":
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
            try:
                totp_device_confirm(actor=actor, user=user, device=device, token=request.POST.get("token", ""))
            except ValidationFailed as exc:
                error = exc.message
            else:
                otp_login(request, device)
                messages.success(request, "两步验证已启用，今后登录需输入身份验证器中的动态验证码")
                return redirect("admin:index")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4) if device else None
    return TemplateResponse(
        request,
        "backoffice/otp_setup.html",
        {
            **backoffice_site.each_context(request),
            "title": "两步验证",
            "confirmed": confirmed,
            "qr_svg": qr_svg,
            "secret": device and base64.b32encode(device.bin_key).decode(),
            "error": error,
            "required": second_factor_step(user) == "setup",
        },
    )


class OwnPasswordForm(forms.Form):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput)
    new_password1 = forms.CharField(
        label="新密码", widget=forms.PasswordInput, help_text="至少8位，包含大小写字母、数字、符号中的3类"
    )
    new_password2 = forms.CharField(label="再次输入新密码", widget=forms.PasswordInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password1") and cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", "两次输入的新密码不一致")
        return cleaned

    def add_error(self, field, error):
        super().add_error("new_password1" if field in ("password", "new_password") else field, error)


def password_change(request):
    """修改密码: one's own password through the accounts service (validated, audited); the session stays signed
    in. Also the page an account is sent to when somebody else chose its current password."""
    from gonghui.backoffice.site import backoffice_site

    user = request.user
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The account may owe this very step, when it has no permissions yet: it acts only on itself.
        actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
        try:
            account_change_own_password(
                actor=actor,
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except DomainError as exc:
            report_domain_error(request, exc, form)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "密码已修改")
            return HttpResponseRedirect(_next_url(request))
    forced = sign_in_step(user) == "password"
    return _page(
        request,
        backoffice_site,
        "请设置您自己的密码" if forced else "修改密码",
        "backoffice/simple_form.html",
        form=form,
        intro="当前密码由他人设置，请先设置只有您本人知道的新密码。" if forced else "",
    )
