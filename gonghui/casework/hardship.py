"""困难职工档案: establishing a household's file (from a granted hardship case or after a home visit), annual
re-verification, aid granted (money, goods, services), exit (解困脱困) with a transition period during which aid
may continue, and return to hardship (返困): a new file for someone whose earlier file was closed is flagged, and
so is their application."""

from calendar import monthrange
from collections.abc import Mapping
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Unpack

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.casework.approval import approval_reasons, approver_for, request_approval
from gonghui.casework.events import audit_file
from gonghui.casework.fields import AidGrantFields, AidPayFields, HardshipFileFields
from gonghui.casework.kinds import clean_choice, clean_date, clean_int, clean_money, clean_text
from gonghui.casework.models import (
    OPEN_FILE_STATUSES,
    AidApproval,
    AidForm,
    ApprovalSubject,
    HardshipAid,
    HardshipCause,
    HardshipFile,
    HardshipFileStatus,
    HardshipTier,
    HouseholdMember,
    PaymentMethod,
    ServiceCase,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.roles import Perm
from gonghui.members.models import HOLDING_STATUSES, Membership
from gonghui.members.selectors import holding_memberships

MAX_TRANSITION_MONTHS = 12
DEFAULT_TRANSITION_MONTHS = 6
VERIFY_EVERY_MONTHS = 12
MAX_HOUSEHOLD = 20


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def income_per_head(household_income: Decimal, household_size: int) -> Decimal:
    """家庭人均月收入: the household's yearly income over its members and twelve months, to the fen."""
    return (household_income / household_size / 12).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def aid_amount(data: Mapping[str, Any], field: str, form: str) -> Decimal:
    """Money and goods need an amount above zero; a service may be given without one (recorded as 0)."""
    if form == AidForm.SERVICE:
        return clean_money(data, field, "服务折价", required=False) or Decimal("0.00")
    return clean_money(data, field, "金额/物资折价", positive=True)


def _require_manage(actor: Actor, file: HardshipFile) -> HardshipFile:
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(file.org.path):
        raise NotFound()
    return HardshipFile.objects.select_for_update(of=("self",)).select_related("person", "org").get(pk=file.pk)


def _clean_causes(raw: Any) -> list[str]:
    causes = [raw] if isinstance(raw, str) else list(raw or [])
    causes = [c for c in dict.fromkeys(str(c) for c in causes) if c]
    if not causes:
        raise ValidationFailed({"causes": "请选择至少一项致困原因"})
    if any(c not in HardshipCause.values for c in causes):
        raise ValidationFailed({"causes": "致困原因不在可选范围内"})
    return causes


def _clean_household(rows: list[dict] | None) -> list[HouseholdMember]:
    members = []
    for number, row in enumerate(rows or [], start=1):
        if not any(str(value or "").strip() for value in row.values()):
            continue
        try:
            members.append(
                HouseholdMember(
                    name=clean_text(row, "name", "家庭成员姓名", max_length=50),
                    relation=clean_text(row, "relation", "与职工关系", max_length=20),
                    situation=clean_text(row, "situation", "状况", required=False, max_length=60),
                    annual_income=clean_money(row, "annual_income", "年收入", required=False) or Decimal("0.00"),
                )
            )
        except ValidationFailed as exc:
            raise ValidationFailed({"household": f"第{number}位家庭成员：{exc.message}"}) from None
    if len(members) > MAX_HOUSEHOLD:
        raise ValidationFailed({"household": f"家庭成员最多登记 {MAX_HOUSEHOLD} 人"})
    return members


def _household_figures(data: Mapping[str, Any]) -> tuple[int, Decimal]:
    size = clean_int(data, "household_size", "家庭人口", low=1, high=MAX_HOUSEHOLD)
    income = clean_money(data, "household_income", "家庭年收入")
    return size, income


def _create_file(
    *,
    actor: Actor,
    membership: Membership,
    data: Mapping[str, Any],
    today: date,
    case: ServiceCase | None,
    status: str = HardshipFileStatus.ACTIVE,
) -> HardshipFile:
    tier = clean_choice(data, "tier", "困难类别", HardshipTier)
    causes = _clean_causes(data.get("causes"))
    size, income = _household_figures(data)
    household = _clean_household(data.get("household"))
    person = membership.person
    previous = (
        HardshipFile.objects.filter(person=person, status=HardshipFileStatus.EXITED).order_by("-exited_on").first()
    )
    file = HardshipFile(
        person=person,
        org=membership.org,
        status=status,
        tier=tier,
        causes=causes,
        household_size=size,
        household_income=income,
        income_per_head=income_per_head(income, size),
        established_on=today,
        verified_on=today,
        next_verification_on=add_months(today, VERIFY_EVERY_MONTHS),
        returned=previous is not None,
        previous=previous,
        case=case,
    )
    try:
        with transaction.atomic():
            file.save()
    except IntegrityError:
        raise DomainError("该职工已有在档的困难职工档案", code="duplicate") from None
    for member in household:
        member.file = file
    HouseholdMember.objects.bulk_create(household)
    audit_file(actor, "hardship.establish", file, {"tier": tier, "returned": file.returned})
    return file


@transaction.atomic
def hardship_file_establish(
    *, actor: Actor, membership: Membership, **fields: Unpack[HardshipFileFields]
) -> HardshipFile:
    """建档 after a home visit (入户调查), without an online application."""
    data: Mapping[str, Any] = fields
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(membership.org.path):
        raise NotFound()
    if membership.status not in HOLDING_STATUSES:
        raise DomainError("只能为在册会员建立困难职工档案")
    today = timezone.localdate()
    tier = clean_choice(data, "tier", "困难类别", HardshipTier)
    reasons = approval_reasons(tier=tier, amount=None, filing=True)
    approver = approver_for(membership.org) if reasons else None
    if approver is None:
        return _create_file(actor=actor, membership=membership, data=data, today=today, case=None)
    # The standard says this filing needs the parent union: the file waits in 待上级审批.
    file = _create_file(
        actor=actor, membership=membership, data=data, today=today, case=None, status=HardshipFileStatus.PENDING
    )
    request_approval(
        actor,
        subject=ApprovalSubject.FILE,
        person=file.person,
        org=file.org,
        approver=approver,
        reasons=reasons,
        tier=tier,
        today=today,
        file=file,
    )
    return file


def file_for_case(actor: Actor, case: ServiceCase, *, tier: str, today: date) -> HardshipFile:
    """The household's open file, refreshed from the application; a new one (with `tier`) when there is none."""
    details = case.details
    current = HardshipFile.objects.select_for_update().filter(person=case.person, status__in=OPEN_FILE_STATUSES)
    file = current.select_related("person", "org").first()
    if file is None:
        membership = holding_memberships(case.person).select_related("person").first()
        if membership is None:
            raise DomainError("申请人已不在册，不能建立困难职工档案")
        return _create_file(actor=actor, membership=membership, data={**details, "tier": tier}, today=today, case=case)
    if file.org_id != case.home_org_id:
        # 档案随人走: the member has moved to another union since the file was opened; it follows them.
        audit_file(actor, "hardship.move", file, {"from": file.org.code, "to": case.home_org.code})
        file.org = case.home_org
    size, income = _household_figures(details)
    file.causes = _clean_causes(details.get("causes"))
    file.household_size, file.household_income = size, income
    file.income_per_head = income_per_head(income, size)
    if tier:
        file.tier = clean_choice({"tier": tier}, "tier", "困难类别", HardshipTier)
    file.save()
    return file


def aid_record(
    actor: Actor,
    file: HardshipFile,
    *,
    form: str,
    amount: Decimal,
    description: str,
    on: date,
    case: ServiceCase | None = None,
) -> HardshipAid:
    """Aid is given to a file that is open, or within its transition period after exit; never after."""
    in_transition = False
    if file.status == HardshipFileStatus.PENDING:
        raise DomainError("该档案正待上级工会审批，批准后才能发放帮扶")
    if file.status == HardshipFileStatus.REFUSED:
        raise DomainError("该档案未获上级工会批准，不能发放帮扶")
    if file.status == HardshipFileStatus.EXITED:
        raise DomainError("该档案已解困脱困，过渡期已结束，不能再发放帮扶")
    if file.status == HardshipFileStatus.TRANSITION:
        until = file.transition_until
        assert until is not None  # a file in its transition period has its end
        if on > until:
            raise DomainError(f"该档案的脱困过渡期已于 {until:%Y-%m-%d} 结束，不能再发放帮扶")
        in_transition = True
    aid = HardshipAid.objects.create(
        file=file,
        case=case,
        form=form,
        amount=amount,
        description=description,
        granted_on=on,
        granted_by=actor.label[:150],
        in_transition=in_transition,
    )
    audit_file(actor, "hardship.aid", file, {"form": form, "amount": str(amount), "in_transition": in_transition})
    return aid


@transaction.atomic
def hardship_aid_grant(*, actor: Actor, file: HardshipFile, **fields: Unpack[AidGrantFields]) -> HardshipAid:
    """Aid outside an application: the monthly living allowance, 送温暖 goods, a service arranged."""
    data: Mapping[str, Any] = fields
    file = _require_manage(actor, file)
    form = clean_choice(data, "form", "帮扶形式", AidForm)
    amount = aid_amount(data, "amount", form)
    description = clean_text(data, "description", "帮扶内容", max_length=300)
    today = timezone.localdate()
    aid = aid_record(actor, file, form=form, amount=amount, description=description, on=today)
    reasons = approval_reasons(tier=file.tier, amount=amount, filing=False)
    approver = approver_for(file.org) if reasons else None
    if approver is not None:  # above the standard's limit: the grant waits for the parent union
        aid.approval = AidApproval.PENDING
        aid.save(update_fields=["approval"])
        request_approval(
            actor,
            subject=ApprovalSubject.AID,
            person=file.person,
            org=file.org,
            approver=approver,
            reasons=reasons,
            tier=file.tier,
            form=form,
            amount=amount,
            today=today,
            file=file,
            aid=aid,
        )
    return aid


@transaction.atomic
def hardship_aid_pay(*, actor: Actor, aid: HardshipAid, **fields: Unpack[AidPayFields]) -> HardshipAid:
    """发放签收 of a grant in money: who received it, when and how, the amount (exactly the amount granted), the
    signer and the receipt number. Once: a paid grant is never paid again; a grant waiting for or refused by the
    parent union is not paid."""
    data: Mapping[str, Any] = fields
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(aid.file.org.path):
        raise NotFound()
    aid = (
        HardshipAid.objects.select_for_update(of=("self",))
        .select_related("file", "file__person", "file__org")
        .get(pk=aid.pk)
    )
    if aid.form != AidForm.MONEY:
        raise DomainError("只有资金帮扶需要登记发放签收")
    if aid.paid_on is not None:
        raise DomainError(
            f"该笔帮扶已于 {aid.paid_on:%Y-%m-%d} 发放签收（收据编号 {aid.receipt_no}），不能重复发放", code="paid"
        )
    if aid.approval == AidApproval.PENDING:
        raise DomainError("该笔帮扶正待上级工会审批，批准后才能发放")
    if aid.approval == AidApproval.REFUSED:
        raise DomainError("该笔帮扶未获上级工会批准，不能发放")
    method = clean_choice(data, "paid_method", "发放方式", PaymentMethod)
    amount = clean_money(data, "paid_amount", "实发金额", positive=True)
    if amount != aid.amount:
        raise ValidationFailed({"paid_amount": f"实发金额应与核定的帮扶金额 {aid.amount} 元一致"})
    paid_on = clean_date(data, "paid_on", "发放日期")
    today = timezone.localdate()
    if paid_on > today:
        raise ValidationFailed({"paid_on": "发放日期不能晚于今天"})
    if paid_on < aid.granted_on:
        raise ValidationFailed({"paid_on": f"发放日期不能早于核定日期 {aid.granted_on:%Y-%m-%d}"})
    aid.paid_method = method
    aid.paid_amount = amount
    aid.paid_on = paid_on
    aid.receiver = clean_text(data, "receiver", "领款人", max_length=50)
    aid.signer = clean_text(data, "signer", "签收人", max_length=50)
    aid.receipt_no = clean_text(data, "receipt_no", "收据编号", max_length=40)
    aid.paid_recorded_by = actor.label[:150]
    aid.paid_recorded_at = timezone.now()
    aid.save()
    audit_file(
        actor,
        "hardship.pay",
        aid.file,
        {"aid": str(aid.id), "amount": str(amount), "method": method, "receipt_no": aid.receipt_no},
    )
    return aid


@transaction.atomic
def hardship_file_view_record(*, actor: Actor, file: HardshipFile) -> None:
    """A file shows a household's income and situation: each look is audited."""
    audit_file(actor, "hardship.view", file)


@transaction.atomic
def hardship_file_print_record(*, actor: Actor, file: HardshipFile) -> None:
    """The printed 档案卡 carries the same household and income data: each print is audited."""
    audit_file(actor, "hardship.print", file)


@transaction.atomic
def hardship_file_verify(*, actor: Actor, file: HardshipFile, **fields: Unpack[HardshipFileFields]) -> HardshipFile:
    """年度核查: the household's situation checked again; the next check is due in a year."""
    data: Mapping[str, Any] = fields
    file = _require_manage(actor, file)
    if file.status not in OPEN_FILE_STATUSES:
        raise DomainError("已解困脱困的档案不需要核查")
    size, income = _household_figures(data)
    tier = clean_choice(data, "tier", "困难类别", HardshipTier)
    if tier != file.tier and approval_reasons(tier=tier, amount=None, filing=True) and approver_for(file.org):
        # A check may not move a household into a level the standard files only with the parent union's approval.
        label = HardshipTier(tier).label
        raise ValidationFailed({"tier": f"认定为{label}须经上级工会审批：请通过困难帮扶申请办结报批"})
    file.tier = tier
    file.causes = _clean_causes(data.get("causes"))
    file.household_size, file.household_income = size, income
    file.income_per_head = income_per_head(income, size)
    today = timezone.localdate()
    file.verified_on = today
    file.next_verification_on = add_months(today, VERIFY_EVERY_MONTHS)
    file.save()
    if "household" in data:
        household = _clean_household(data.get("household"))
        file.household.all().delete()
        for member in household:
            member.file = file
        HouseholdMember.objects.bulk_create(household)
    audit_file(actor, "hardship.verify", file, {"tier": file.tier, "income_per_head": str(file.income_per_head)})
    return file


@transaction.atomic
def hardship_file_exit(
    *, actor: Actor, file: HardshipFile, reason: str, transition_months: int = DEFAULT_TRANSITION_MONTHS
) -> HardshipFile:
    """解困脱困. During the transition period (0–12 months) aid may continue; then the file closes."""
    file = _require_manage(actor, file)
    if file.status != HardshipFileStatus.ACTIVE:
        raise DomainError(f"该档案当前为“{file.get_status_display()}”，不能再办理脱困")
    reason = clean_text({"reason": reason}, "reason", "脱困说明", max_length=500)
    try:
        months = int(transition_months)
    except (TypeError, ValueError):
        months = -1
    if not 0 <= months <= MAX_TRANSITION_MONTHS:
        raise ValidationFailed({"transition_months": f"过渡期应为 0 到 {MAX_TRANSITION_MONTHS} 个月"})
    today = timezone.localdate()
    file.exited_on = today
    file.exit_reason = reason
    file.transition_until = add_months(today, months)
    file.status = HardshipFileStatus.TRANSITION if months else HardshipFileStatus.EXITED
    file.save()
    audit_file(actor, "hardship.exit", file, {"transition_months": months})
    return file


@transaction.atomic
def hardship_transitions_end(*, actor: Actor, today: date | None = None) -> int:
    """Files whose transition period has passed are closed. Run daily with `manage.py escalate_cases`."""
    today = today or timezone.localdate()
    ending = list(
        HardshipFile.objects.select_for_update(of=("self",))
        .filter(status=HardshipFileStatus.TRANSITION, transition_until__lt=today)
        .select_related("person", "org")
    )
    for file in ending:
        file.status = HardshipFileStatus.EXITED
        file.save(update_fields=["status", "updated_at"])
        audit_file(actor, "hardship.transition_end", file)
    return len(ending)
