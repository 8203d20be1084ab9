"""职工互助保障: yearly plans with their premium and benefit rules, enrolment of members by their union, and the
payout a claim earns under its plan's rules."""

from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Unpack

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.casework.events import audit_plan
from gonghui.casework.fields import PlanFields
from gonghui.casework.kinds import clean_date, clean_int, clean_money, clean_text
from gonghui.casework.models import InsuranceClaim, InsuranceEnrolment, InsurancePayout, InsurancePlan
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.masking import mask_name
from gonghui.common.roles import Perm
from gonghui.members.models import Membership, MembershipStatus
from gonghui.members.selectors import active_memberships_in
from gonghui.orgs.models import Organisation

CENT = Decimal("0.01")


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def payout_for(plan: InsurancePlan, *, hospital_days: int, eligible_cost: Decimal, paid_this_year: Decimal) -> Decimal:
    """The plan's rules, as a pure function:

    allowance      = daily allowance × min(hospital days, max days per claim)
    reimbursement  = min(max(eligible costs − deductible, 0) × ratio, claim cap)
    payout         = min(allowance + reimbursement, annual cap − already paid this plan year), never negative
    """
    allowance = plan.daily_allowance * min(hospital_days, plan.max_days)
    reimbursement = min(max(eligible_cost - plan.deductible, Decimal("0")) * plan.reimbursement_ratio, plan.claim_cap)
    remaining = max(plan.annual_cap - paid_this_year, Decimal("0"))
    return _cents(min(allowance + reimbursement, remaining))


def paid_for_enrolment(enrolment: InsuranceEnrolment, *, excluding: InsuranceClaim | None = None) -> Decimal:
    payouts = InsurancePayout.objects.filter(claim__enrolment=enrolment)
    if excluding is not None:
        payouts = payouts.exclude(claim=excluding)
    return payouts.aggregate(total=Sum("amount"))["total"] or Decimal("0")


def claim_payout(claim: InsuranceClaim) -> Decimal:
    enrolment = claim.enrolment
    return payout_for(
        enrolment.plan,
        hospital_days=claim.hospital_days,
        eligible_cost=claim.eligible_cost,
        paid_this_year=paid_for_enrolment(enrolment, excluding=claim),
    )


def _clean_ratio(data: Mapping[str, Any]) -> Decimal:
    """The reimbursement ratio is given as a percentage (50 means half), stored as a fraction."""
    value = clean_money(data, "reimbursement_ratio", "医疗费补助比例")
    if value > 100:
        raise ValidationFailed({"reimbursement_ratio": "医疗费补助比例应在 0 到 100（%）之间"})
    if value != value.quantize(Decimal("0.1")):
        raise ValidationFailed({"reimbursement_ratio": "医疗费补助比例最多保留一位小数，如 62.5"})
    return (value / 100).quantize(Decimal("0.001"))


@transaction.atomic
def plan_create(*, actor: Actor, org: Organisation, **fields: Unpack[PlanFields]) -> InsurancePlan:
    """A plan is run by a federation (not a grassroots union) for the members below it."""
    data: Mapping[str, Any] = fields
    actor.require(Perm.CASES_CONFIGURE)
    if not actor.covers_path(org.path):
        raise NotFound()
    if org.is_grassroots:
        raise ValidationFailed({"org": "互助保障计划由上级工会设立，基层工会为会员办理参保"})
    starts_on = clean_date(data, "starts_on", "保障期开始日期")
    ends_on = clean_date(data, "ends_on", "保障期结束日期")
    if ends_on < starts_on:
        raise ValidationFailed({"ends_on": "保障期结束日期不能早于开始日期"})
    year = clean_int(data, "year", "保障年度", low=2000, high=2100)
    name = clean_text(data, "name", "计划名称")
    if InsurancePlan.objects.filter(org=org, year=year, name=name).exists():
        raise ValidationFailed({"name": f"{year}年已有同名计划"})
    plan = InsurancePlan.objects.create(
        org=org,
        name=name,
        year=year,
        starts_on=starts_on,
        ends_on=ends_on,
        premium=clean_money(data, "premium", "每人互助金", positive=True),
        daily_allowance=clean_money(data, "daily_allowance", "住院每日补助"),
        max_days=clean_int(data, "max_days", "每次最多补助天数", low=0, high=365),
        deductible=clean_money(data, "deductible", "医疗费起付线"),
        reimbursement_ratio=_clean_ratio(data),
        claim_cap=clean_money(data, "claim_cap", "每次医疗费补助上限"),
        annual_cap=clean_money(data, "annual_cap", "每人年度补助上限", positive=True),
    )
    audit_plan(actor, "insurance.plan_create", plan)
    return plan


def _enrolable(actor: Actor, plan: InsurancePlan, union: Organisation) -> None:
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(union.path):
        raise NotFound()
    if not union.is_grassroots:
        raise ValidationFailed({"org": "请选择基层工会为其会员办理参保"})
    if not union.path.startswith(plan.org.path):
        raise ValidationFailed({"org": f"“{union.name}”不在“{plan.org.name}”的计划范围内"})
    if not plan.enrolment_open:
        raise DomainError(f"{plan}已停止参保登记")


@transaction.atomic
def plan_enrolment_set_open(*, actor: Actor, plan: InsurancePlan, is_open: bool) -> InsurancePlan:
    """Stop (or resume) the plan's enrolment, e.g. when the year's enrolment period ends."""
    actor.require(Perm.CASES_CONFIGURE)
    if not actor.covers_path(plan.org.path):
        raise NotFound()
    plan = InsurancePlan.objects.select_for_update(of=("self",)).select_related("org").get(pk=plan.pk)
    plan.enrolment_open = is_open
    plan.save(update_fields=["enrolment_open"])
    audit_plan(actor, "insurance.plan_enrolment_open" if is_open else "insurance.plan_enrolment_close", plan)
    return plan


@transaction.atomic
def plan_enrol_union(*, actor: Actor, plan: InsurancePlan, union: Organisation, on: date | None = None) -> dict:
    """年度参保: enrol every active member of a grassroots union who is not yet in the plan."""
    plan = InsurancePlan.objects.select_for_update(of=("self",)).select_related("org").get(pk=plan.pk)
    _enrolable(actor, plan, union)
    on = on or timezone.localdate()
    already = InsuranceEnrolment.objects.filter(plan=plan).values("person_id")
    memberships = list(active_memberships_in(union).exclude(person_id__in=already))
    InsuranceEnrolment.objects.bulk_create(
        [
            InsuranceEnrolment(
                plan=plan,
                person_id=membership.person_id,
                membership=membership,
                org=union,
                premium=plan.premium,
                enrolled_on=on,
                enrolled_by=actor.label[:150],
            )
            for membership in memberships
        ]
    )
    total = InsuranceEnrolment.objects.filter(plan=plan, org=union).count()
    counts = {"enrolled": len(memberships), "total_in_union": total, "premium": str(plan.premium * len(memberships))}
    audit_record(
        actor=actor,
        action="insurance.enrol",
        object_type="insurance_plan",
        object_id=plan.id,
        object_label=f"{plan} · {union.name}",
        object_org_path=union.path,
        details=counts,
    )
    return counts


@transaction.atomic
def plan_enrol_member(*, actor: Actor, plan: InsurancePlan, membership: Membership) -> InsuranceEnrolment:
    plan = InsurancePlan.objects.select_for_update(of=("self",)).select_related("org").get(pk=plan.pk)
    _enrolable(actor, plan, membership.org)
    if membership.status != MembershipStatus.ACTIVE:
        raise DomainError("只有正式会员可以参保")
    if InsuranceEnrolment.objects.filter(plan=plan, person_id=membership.person_id).exists():
        raise DomainError(f"该会员已参加{plan}")
    enrolment = InsuranceEnrolment.objects.create(
        plan=plan,
        person_id=membership.person_id,
        membership=membership,
        org=membership.org,
        premium=plan.premium,
        enrolled_on=timezone.localdate(),
        enrolled_by=actor.label[:150],
    )
    audit_record(
        actor=actor,
        action="insurance.enrol",
        object_type="insurance_plan",
        object_id=plan.id,
        object_label=f"{plan} · {mask_name(membership.person.name)}",
        object_org_path=membership.org.path,
        details={"enrolled": 1},
    )
    return enrolment
