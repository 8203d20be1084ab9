"""Data quality of the registry (会员实名制 targets): 入库率 = records in the registry ÷ declared member total, and
准确率 = share of records passing every check. A record is a membership held (正式会员 or 保留会籍).

Checks: the person's own checks stored as `Person.quality_flags` (valid document, valid mobile, required fields,
plausible age) and three that involve other records, computed here: another person with the same name, birth
date and sex (the same worker registered under two documents); another person with the same mobile; the union
no longer active."""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
from gonghui.common.roles import Perm
from gonghui.members.models import HOLDING_STATUSES, DeclaredTotal, Membership, Person
from gonghui.members.people import quality_problems
from gonghui.orgs.models import Organisation, OrgStatus
from gonghui.orgs.selectors import active_unions_in

CHECK_LABELS = {
    "duplicate_identity": "疑似重复人员（姓名、出生日期、性别相同）",
    "duplicate_phone": "手机号码与他人重复",
    "union_inactive": "所在工会已撤销或合并",
}


def _percent(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _annotated(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    same_identity = Person.objects.filter(
        name=OuterRef("person__name"), birth_date=OuterRef("person__birth_date"), sex=OuterRef("person__sex")
    ).exclude(pk=OuterRef("person_id"))
    same_phone = (
        Person.objects.filter(phone_index=OuterRef("person__phone_index"))
        .exclude(phone_index="")
        .exclude(pk=OuterRef("person_id"))
    )
    return memberships.annotate(
        duplicate_identity=Exists(same_identity),
        # A blank phone matches nobody: decided without the lookup, which would read every other blank-phone person.
        duplicate_phone=Case(
            When(person__phone_index="", then=Value(False)), default=Exists(same_phone), output_field=BooleanField()
        ),
    )


def _failing(memberships: QuerySet[Membership]) -> QuerySet[Membership]:
    return _annotated(memberships).filter(
        Q(person__quality_flags__gt=0)
        | Q(duplicate_identity=True)
        | Q(duplicate_phone=True)
        | ~Q(org__status=OrgStatus.ACTIVE)
    )


def failing_by_union() -> dict:
    """Records failing a check, per union (for the per-organisation figures)."""
    rows = _failing(Membership.objects.filter(status__in=HOLDING_STATUSES)).values("org_id").annotate(n=Count("id"))
    return {row["org_id"]: row["n"] for row in rows.order_by()}


def _holding_in(org: Organisation) -> QuerySet[Membership]:
    return Membership.objects.filter(org__path__startswith=org.path, status__in=HOLDING_STATUSES)


@dataclass(frozen=True)
class QualitySummary:
    org: Organisation
    unions: int  # active grassroots unions in the subtree
    unions_declared: int  # of which have declared a member total
    declared_total: int  # sum of the latest declared totals
    registered_in_declared: int  # records held in the unions that declared
    registered: int  # records held in the whole subtree
    passing: int  # records passing every check
    coverage_rate: Decimal | None  # 入库率 %, over the unions that declared; never over 100% (see below)
    accuracy_rate: Decimal | None  # 准确率 %
    stale_unions: int = 0  # declared unions with more records held than their declared 实有会员数
    coverage_flag: str = ""  # 实有会员数待更新 when there are such unions


COVERAGE_STALE = "实有会员数待更新"


def _coverage(registered: int, declared: int, excess: int) -> Decimal | None:
    """入库率 never over 100%: None when the records outnumber the declared members on the whole; otherwise each
    union counts at most its declared total (`excess`: the records beyond it)."""
    if not declared or registered > declared:
        return None
    return _percent(registered - excess, declared)


def quality_summary(*, actor: Actor, org: Organisation) -> QualitySummary:
    actor.require(Perm.MEMBERS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    latest_total = (
        DeclaredTotal.objects.filter(org=OuterRef("pk")).order_by("-as_of", "-recorded_at").values("total")[:1]
    )
    unions = active_unions_in(org).annotate(declared=Subquery(latest_total, output_field=IntegerField()))
    union_figures = unions.aggregate(
        unions=Count("id"),
        declared_unions=Count("id", filter=Q(declared__isnull=False)),
        declared_total=Coalesce(Sum("declared"), 0),
    )
    holding = _holding_in(org)
    registered = holding.count()
    in_declared = holding.filter(Exists(DeclaredTotal.objects.filter(org=OuterRef("org_id"))))
    held_by_union = dict(in_declared.values("org_id").annotate(n=Count("id")).values_list("org_id", "n").order_by())
    registered_in_declared = sum(held_by_union.values())
    declared_of = dict(unions.filter(id__in=list(held_by_union)).values_list("id", "declared"))
    over = [
        held - declared_of[union]
        for union, held in held_by_union.items()
        if declared_of.get(union) is not None and held > declared_of[union]
    ]
    failing = _failing(holding).count()
    passing = registered - failing
    return QualitySummary(
        org=org,
        unions=union_figures["unions"],
        unions_declared=union_figures["declared_unions"],
        declared_total=union_figures["declared_total"],
        registered_in_declared=registered_in_declared,
        registered=registered,
        passing=passing,
        coverage_rate=_coverage(registered_in_declared, union_figures["declared_total"], sum(over)),
        accuracy_rate=_percent(passing, registered),
        stale_unions=len(over),
        coverage_flag=COVERAGE_STALE if over or registered_in_declared > union_figures["declared_total"] else "",
    )


@dataclass(frozen=True)
class RectificationItem:
    membership: Membership
    problems: list[str]


def rectification_list(
    *, actor: Actor, org: Organisation, limit: int = 200, offset: int = 0
) -> list[RectificationItem]:
    """整改清单: the records failing a check, each with every check it fails, by union then name."""
    actor.require(Perm.MEMBERS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    rows = (
        _failing(_holding_in(org))
        .select_related("person", "org")
        .order_by("org__path", "person__name", "id")[offset : offset + limit]
    )
    items = []
    for membership in rows:
        problems = quality_problems(membership.person.quality_flags)
        for check in ("duplicate_identity", "duplicate_phone"):
            if getattr(membership, check):
                problems.append(CHECK_LABELS[check])
        if membership.org.status != OrgStatus.ACTIVE:
            problems.append(CHECK_LABELS["union_inactive"])
        items.append(RectificationItem(membership=membership, problems=problems))
    return items


def rectification_count(*, actor: Actor, org: Organisation) -> int:
    actor.require(Perm.MEMBERS_VIEW)
    if not actor.covers_path(org.path):
        raise NotFound()
    return _failing(_holding_in(org)).count()
