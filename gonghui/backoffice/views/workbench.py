"""The workbench (the back office's home page), per role: a cadre's to-do list and figures, the audit
administrator's sensitive events, the system and security administrators' account matters."""

from datetime import timedelta
from urllib.parse import urlencode

from django.db.models import Count, Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from gonghui.accounts.selectors import accounts_awaiting_role_approval, accounts_locked
from gonghui.audit.labels import action_label
from gonghui.audit.selectors import AuditFilters, audit_event_list
from gonghui.backoffice.base import require_actor
from gonghui.backoffice.views.helpers import percent_text, site_page
from gonghui.casework.selectors import (
    approvals_to_decide,
    callbacks_pending,
    cases_escalated_to_me,
    cases_my_queue,
    cases_overdue,
    hardship_files_due_verification,
)
from gonghui.common.actor import Actor
from gonghui.common.roles import Perm, Role, role_label
from gonghui.jobs.selectors import jobs_of
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
    org_scope_root,
    org_subtree_summary,
)

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
        return site_page(request, site, "工作台", "backoffice/workbench.html", **context)
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
            (label, percent_text(covered, total), covered, total)
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
    return site_page(request, site, "工作台", "backoffice/workbench.html", **context)


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
