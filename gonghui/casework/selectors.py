"""Reads of the service centre. A cadre sees a case when the union handling it or the applicant's own union lies in
their subtree (a grassroots union follows its member's legal aid at the county federation); acting on a case needs
the handling union in scope. A member sees only their own cases. Anything else is NotFound, like a missing id.

`case_figures` gives per type, period and subtree: cases, people helped, money granted, average handling time,
overdue share and average rating — for the dashboards and the .xlsx export."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.utils import timezone

from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    OPEN_FILE_STATUSES,
    AidApproval,
    AidForm,
    ApprovalStatus,
    CallbackStatus,
    CareCampaign,
    CareVisit,
    CaseAttachment,
    CaseKind,
    CaseStatus,
    HardshipAid,
    HardshipApproval,
    HardshipFile,
    HardshipTier,
    InsuranceEnrolment,
    InsurancePayout,
    InsurancePlan,
    ServiceCase,
    StudentGrant,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.ids import parse_public_id
from gonghui.common.paths import ancestor_paths
from gonghui.common.roles import Perm
from gonghui.members.models import MemberAccount
from gonghui.orgs.models import Organisation

CASE_RELATED = ("person", "org", "home_org", "escalated_to")


def _parse(value: UUID | str) -> UUID:
    parsed = value if isinstance(value, UUID) else parse_public_id(str(value))
    if parsed is None:
        raise NotFound()
    return parsed


# ---------------------------------------------------------------- cases


def cases_visible_to(actor: Actor) -> QuerySet[ServiceCase]:
    actor.require(Perm.CASES_VIEW)
    scope = actor.scope_path
    in_scope = Q(org__path__startswith=scope) | Q(home_org__path__startswith=scope)
    return ServiceCase.objects.filter(in_scope).select_related(*CASE_RELATED)


def open_cases_in(path: str) -> QuerySet[ServiceCase]:
    """Cases still open at a union of the subtree at `path` (unscoped: the dashboard's pending work, whose reader
    the statistics selectors have checked)."""
    return ServiceCase.objects.filter(status__in=OPEN_CASE_STATUSES, org__path__startswith=path)


def student_grants_visible_to(actor: Actor) -> QuerySet[StudentGrant]:
    """金秋助学 grants of the cases the actor may see."""
    return StudentGrant.objects.filter(case__in=cases_visible_to(actor)).select_related("case", "case__person")


def case_get(*, actor: Actor, case_id: UUID | str) -> ServiceCase:
    try:
        return cases_visible_to(actor).get(id=_parse(case_id))
    except ServiceCase.DoesNotExist:
        raise NotFound() from None


def case_can_manage(actor: Actor, case: ServiceCase) -> bool:
    return actor.can(Perm.CASES_MANAGE) and actor.covers_path(case.org.path)


def cases_my_queue(*, actor: Actor) -> QuerySet[ServiceCase]:
    """我的待办: open cases handled by the actor's own union, soonest deadline first."""
    return cases_visible_to(actor).filter(org_id=actor.org_id, status__in=OPEN_CASE_STATUSES).order_by("due_on")


def cases_overdue(*, actor: Actor, today: date | None = None) -> QuerySet[ServiceCase]:
    """超期: open cases past their step's deadline anywhere in the subtree."""
    today = today or timezone.localdate()
    found = cases_visible_to(actor).filter(
        org__path__startswith=actor.scope_path, status__in=OPEN_CASE_STATUSES, due_on__lt=today
    )
    return found.order_by("due_on")


def cases_escalated_to_me(*, actor: Actor) -> QuerySet[ServiceCase]:
    """上报本级: overdue cases escalated to the actor's union for supervision."""
    return cases_visible_to(actor).filter(escalated_to_id=actor.org_id, status__in=OPEN_CASE_STATUSES)


def callbacks_pending(*, actor: Actor) -> QuerySet[ServiceCase]:
    return (
        cases_visible_to(actor)
        .filter(org__path__startswith=actor.scope_path, callback_status=CallbackStatus.PENDING)
        .order_by("callback_drawn_at")
    )


def attachment_get(*, actor: Actor, attachment_id: UUID | str) -> CaseAttachment:
    visible = CaseAttachment.objects.filter(case__in=cases_visible_to(actor)).select_related("case", "case__org")
    try:
        return visible.get(id=_parse(attachment_id))
    except CaseAttachment.DoesNotExist:
        raise NotFound() from None


# ---------------------------------------------------------------- the member's own


def own_cases(*, account: MemberAccount) -> list[ServiceCase]:
    if account.person_id is None:
        return []
    found = ServiceCase.objects.filter(person_id=account.person_id).select_related("org", "home_org")
    return list(found.order_by("-submitted_at"))


def own_case_get(*, account: MemberAccount, case_id: UUID | str) -> ServiceCase:
    if account.person_id is None:
        raise NotFound()
    try:
        return ServiceCase.objects.select_related(*CASE_RELATED).get(id=_parse(case_id), person_id=account.person_id)
    except ServiceCase.DoesNotExist:
        raise NotFound() from None


def own_attachment_get(*, account: MemberAccount, attachment_id: UUID | str) -> CaseAttachment:
    if account.person_id is None:
        raise NotFound()
    try:
        return CaseAttachment.objects.select_related("case", "case__org").get(
            id=_parse(attachment_id), case__person_id=account.person_id
        )
    except CaseAttachment.DoesNotExist:
        raise NotFound() from None


def own_enrolments(*, account: MemberAccount, on: date | None = None) -> list[InsuranceEnrolment]:
    """The member's mutual-insurance enrolments whose cover has begun, newest plan first."""
    if account.person_id is None:
        return []
    on = on or timezone.localdate()
    found = InsuranceEnrolment.objects.filter(person_id=account.person_id, plan__starts_on__lte=on)
    return list(found.select_related("plan", "plan__org").order_by("-plan__year", "plan__name"))


# ---------------------------------------------------------------- files, plans, campaigns


def hardship_files_visible_to(actor: Actor) -> QuerySet[HardshipFile]:
    actor.require(Perm.CASES_VIEW)
    return HardshipFile.objects.filter(org__path__startswith=actor.scope_path).select_related("person", "org")


def hardship_file_get(*, actor: Actor, file_id: UUID | str) -> HardshipFile:
    try:
        return hardship_files_visible_to(actor).get(id=_parse(file_id))
    except HardshipFile.DoesNotExist:
        raise NotFound() from None


def aid_get(*, actor: Actor, aid_id: UUID | str) -> HardshipAid:
    """One grant, through its file's union in the actor's subtree."""
    visible = HardshipAid.objects.filter(file__in=hardship_files_visible_to(actor))
    try:
        return visible.select_related("file", "file__person", "file__org", "case").get(id=_parse(aid_id))
    except HardshipAid.DoesNotExist:
        raise NotFound() from None


def hardship_files_due_verification(*, actor: Actor, within_days: int = 30) -> QuerySet[HardshipFile]:
    limit = timezone.localdate() + timedelta(days=within_days)
    open_files = hardship_files_visible_to(actor).filter(status__in=OPEN_FILE_STATUSES)
    return open_files.filter(next_verification_on__lte=limit).order_by("next_verification_on")


def _up_and_down(actor: Actor) -> Q:
    """Organisations above the actor (whose plans and campaigns reach them) and in their subtree."""
    return Q(org__path__in=ancestor_paths(actor.scope_path)) | Q(org__path__startswith=actor.scope_path)


def plans_visible_to(actor: Actor) -> QuerySet[InsurancePlan]:
    actor.require(Perm.CASES_VIEW)
    return InsurancePlan.objects.filter(_up_and_down(actor)).select_related("org")


def plan_get(*, actor: Actor, plan_id: UUID | str) -> InsurancePlan:
    try:
        return plans_visible_to(actor).get(id=_parse(plan_id))
    except InsurancePlan.DoesNotExist:
        raise NotFound() from None


def enrolments_visible_to(actor: Actor) -> QuerySet[InsuranceEnrolment]:
    actor.require(Perm.CASES_VIEW)
    found = InsuranceEnrolment.objects.filter(org__path__startswith=actor.scope_path)
    return found.select_related("plan", "person", "org")


def plan_enrolment_by_union(*, actor: Actor, plan: InsurancePlan) -> list[dict]:
    """参保情况 of a plan per union in the actor's subtree: name, code, people and premiums."""
    enrolments = enrolments_visible_to(actor).filter(plan=plan)
    per_union = enrolments.values("org__name", "org__code").order_by("org__code")
    return [dict(row) for row in per_union.annotate(people=Count("id"), premium_total=Sum("premium"))]


def campaigns_visible_to(actor: Actor) -> QuerySet[CareCampaign]:
    actor.require(Perm.CASES_VIEW)
    return CareCampaign.objects.filter(_up_and_down(actor)).select_related("org")


def campaign_get(*, actor: Actor, campaign_id: UUID | str) -> CareCampaign:
    try:
        return campaigns_visible_to(actor).get(id=_parse(campaign_id))
    except CareCampaign.DoesNotExist:
        raise NotFound() from None


def visits_visible_to(actor: Actor) -> QuerySet[CareVisit]:
    """Visits made by unions in the subtree (a campaign run above shows only its visits made here)."""
    actor.require(Perm.CASES_VIEW)
    return CareVisit.objects.filter(org__path__startswith=actor.scope_path).select_related("campaign", "org", "person")


# ---------------------------------------------------------------- figures


@dataclass
class KindFigures:
    kind: str
    label: str
    cases: int = 0
    people: int = 0
    money: Decimal = Decimal("0.00")
    closed: int = 0
    avg_days: float | None = None
    overdue: int = 0
    overdue_share: float | None = None
    avg_rating: float | None = None
    rated: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def overdue_percent(self) -> str:
        return f"{self.overdue_share * 100:.1f}%" if self.overdue_share is not None else "—"


def _case_part(org: Organisation, kind: str, start: date, end: date, today: date) -> KindFigures:
    base = ServiceCase.objects.filter(kind=kind, home_org__path__startswith=org.path)
    figures = KindFigures(kind=kind, label=CaseKind(kind).label)
    submitted = base.filter(submitted_at__date__gte=start, submitted_at__date__lte=end)
    late = Q(was_overdue=True) | Q(status__in=OPEN_CASE_STATUSES, due_on__lt=today)
    counts = submitted.aggregate(cases=Count("id"), overdue=Count("id", filter=late))
    figures.cases, figures.overdue = counts["cases"], counts["overdue"]
    figures.overdue_share = figures.overdue / figures.cases if figures.cases else None
    closed = base.filter(status=CaseStatus.CLOSED, closed_at__date__gte=start, closed_at__date__lte=end)
    spans = [_seconds(begun, done) for begun, done in closed.values_list("submitted_at", "closed_at")]
    figures.closed = len(spans)
    figures.avg_days = sum(spans) / len(spans) / 86400 if spans else None
    rating = closed.filter(rating__isnull=False).aggregate(avg=Avg("rating"), n=Count("id"))
    figures.avg_rating = float(rating["avg"]) if rating["avg"] is not None else None
    figures.rated = rating["n"]
    return figures


def _seconds(begun: datetime, done: datetime | None) -> float:
    assert done is not None  # a closed case has its closing time
    return (done - begun).total_seconds()


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal("0")).quantize(Decimal("0.01"))


def _money_and_people(figures: KindFigures, org: Organisation, start: date, end: date) -> None:
    path = org.path
    if figures.kind == CaseKind.HARDSHIP:
        aid = HardshipAid.objects.filter(file__org__path__startswith=path, granted_on__gte=start, granted_on__lte=end)
        aid = aid.exclude(approval__in=[AidApproval.PENDING, AidApproval.REFUSED])  # granted means decided
        totals = aid.aggregate(
            money=Sum("amount", filter=Q(form=AidForm.MONEY)),
            goods=Sum("amount", filter=Q(form=AidForm.GOODS)),
            people=Count("file__person", distinct=True),
        )
        figures.money = _money(totals["money"])
        figures.people = totals["people"]
        figures.extra["goods_value"] = _money(totals["goods"])
        files = HardshipFile.objects.filter(org__path__startswith=path)
        figures.extra["open_files"] = files.filter(status__in=OPEN_FILE_STATUSES).count()
        figures.extra["returned_files"] = files.filter(
            returned=True, established_on__gte=start, established_on__lte=end
        ).count()
    elif figures.kind == CaseKind.INSURANCE:
        paid = InsurancePayout.objects.filter(
            claim__case__home_org__path__startswith=path, paid_on__gte=start, paid_on__lte=end
        )
        totals = paid.aggregate(money=Sum("amount"), people=Count("claim__case__person", distinct=True))
        figures.money = _money(totals["money"])
        figures.people = totals["people"]
        enrolled = InsuranceEnrolment.objects.filter(org__path__startswith=path, plan__year__gte=start.year)
        counted = enrolled.filter(plan__year__lte=end.year).aggregate(n=Count("id"), premium=Sum("premium"))
        figures.extra["enrolled"] = counted["n"]
        figures.extra["premium"] = _money(counted["premium"])
    elif figures.kind == CaseKind.STUDENT:
        grants = StudentGrant.objects.filter(
            case__home_org__path__startswith=path, granted_on__gte=start, granted_on__lte=end
        )
        totals = grants.aggregate(money=Sum("amount"), people=Count("student_index", distinct=True))
        figures.money = _money(totals["money"])
        figures.people = totals["people"]
    elif figures.kind == CaseKind.LEGAL:
        closed = ServiceCase.objects.filter(
            kind=CaseKind.LEGAL,
            home_org__path__startswith=path,
            status=CaseStatus.CLOSED,
            closed_at__date__gte=start,
            closed_at__date__lte=end,
        )
        totals = closed.aggregate(people=Count("person", distinct=True), recovered=Sum("legal__amount_recovered"))
        figures.people = totals["people"]
        figures.extra["amount_recovered"] = _money(totals["recovered"])


def _care_part(org: Organisation, start: date, end: date) -> KindFigures:
    visits = CareVisit.objects.filter(org__path__startswith=org.path, visited_on__gte=start, visited_on__lte=end)
    totals = visits.aggregate(n=Count("id"), people=Sum("headcount"), money=Sum("money"), goods=Sum("goods_value"))
    return KindFigures(
        kind="care",
        label="慰问",
        cases=totals["n"],
        people=totals["people"] or 0,
        money=_money(totals["money"]),
        extra={"goods_value": _money(totals["goods"])},
    )


def case_figures(*, actor: Actor, org: Organisation, start: date, end: date) -> list[KindFigures]:
    """One row per service type (and 慰问) for the subtree of `org`, counted by the applicant's union:
    cases = applications submitted in the period (visits for 慰问); people and money from what was actually
    granted or paid in the period; handling time and rating over cases closed in the period; overdue share over
    the cases submitted in the period (late at any step, or open and past the deadline now). Aggregates only, so
    readers of the statistics may see them too."""
    if not actor.can(Perm.STATS_VIEW):
        actor.require(Perm.CASES_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    today = timezone.localdate()
    rows = []
    for kind in CaseKind.values:
        figures = _case_part(org, kind, start, end, today)
        _money_and_people(figures, org, start, end)
        rows.append(figures)
    rows.append(_care_part(org, start, end))
    return rows


# ---------------------------------------------------------------- 上级审批


def approvals_visible_to(actor: Actor) -> QuerySet[HardshipApproval]:
    """Requests the actor's subtree sent (to follow them) or must decide (the approving union lies in it)."""
    actor.require(Perm.CASES_VIEW)
    scope = actor.scope_path
    in_scope = Q(approver__path__startswith=scope) | Q(org__path__startswith=scope)
    return HardshipApproval.objects.filter(in_scope).select_related(
        "person", "org", "approver", "case", "file", "aid", "escalated_to"
    )


def approval_get(*, actor: Actor, approval_id: UUID | str) -> HardshipApproval:
    try:
        return approvals_visible_to(actor).get(id=_parse(approval_id))
    except HardshipApproval.DoesNotExist:
        raise NotFound() from None


def approvals_to_decide(*, actor: Actor) -> QuerySet[HardshipApproval]:
    """待本级审批: pending requests whose approving union is the actor's or lies below it, soonest deadline first."""
    found = approvals_visible_to(actor).filter(
        status=ApprovalStatus.PENDING, approver__path__startswith=actor.scope_path
    )
    return found.order_by("due_on", "requested_at")


def approval_can_decide(actor: Actor, approval: HardshipApproval) -> bool:
    return (
        approval.status == ApprovalStatus.PENDING
        and actor.can(Perm.CASES_MANAGE)
        and actor.covers_path(approval.approver.path)
        and not (approval.requester_account is not None and approval.requester_account == actor.id)
    )


def pending_approval_of(*, actor: Actor, case: ServiceCase | None = None, file: HardshipFile | None = None):
    """The pending request of a case or a file (its filing or one of its grants), for their pages; None if none."""
    found = approvals_visible_to(actor).filter(status=ApprovalStatus.PENDING)
    if case is not None:
        found = found.filter(case=case)
    if file is not None:
        found = found.filter(file=file)
    return found.order_by("requested_at").first()


def aid_rules(*, actor: Actor) -> list:
    """困难帮扶审批标准 for every 困难类别 (the city's rows or the defaults): public to every cadre, who works to it."""
    from gonghui.casework.approval import aid_rule

    actor.require(Perm.CASES_VIEW)
    return [aid_rule(tier) for tier in HardshipTier.values]
