"""上级审批 of hardship aid: the city federation's standard (困难帮扶审批标准, one row per 困难类别) says which filings
and which grants a union may not decide alone. Such a filing or grant waits in 待上级审批 until a cadre of the
requesting union's parent union (or of a union above it) approves it, or refuses it with a reason.

Three things can wait:
* a hardship case's 办结 (subject `case`): the proposed result and outcome are kept on the request and carried out
  on approval (file and aid created then); a refusal sends the case back to 办理中;
* a file established after a home visit (subject `file`): the file exists in 待上级审批 and becomes 在档, or 未获批准;
* a grant outside an application (subject `aid`): the aid exists in 待上级审批 and is approved or refused.

The requesting union's parent decides; the tree's root (the city federation) has no parent and decides alone.
Nobody approves what they requested themselves. Every step is audited; deadlines are working days
(`kinds.APPROVAL_WORKING_DAYS`) and overdue requests are escalated by `manage.py escalate_cases`."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from gonghui.audit.services import audit_record
from gonghui.casework.events import audit_approval
from gonghui.casework.fields import AidRuleFields, CaseOutcome
from gonghui.casework.kinds import APPROVAL_WORKING_DAYS, HARDSHIP_APPROVAL_DEFAULTS, clean_choice, clean_money
from gonghui.casework.models import (
    AidApproval,
    AidForm,
    ApprovalStatus,
    ApprovalSubject,
    HardshipAid,
    HardshipAidRule,
    HardshipApproval,
    HardshipFile,
    HardshipFileStatus,
    HardshipTier,
    ServiceCase,
)
from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.paths import STEPLEN, is_root_path
from gonghui.common.roles import Perm
from gonghui.common.validators import clean_reason
from gonghui.common.workdays import add_working_days
from gonghui.members.models import Person
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_by_path

OUTCOME_FIELDS = ("granted", "tier", "aid_form", "amount", "aid_description")


@dataclass(frozen=True)
class AidRule:
    tier: str
    file_needs_approval: bool
    grant_limit: Decimal

    @property
    def label(self) -> str:
        return HardshipTier(self.tier).label


def aid_rule(tier: str) -> AidRule:
    """The standard for one 困难类别: the city's row, or the shipped default when the table has none."""
    row = HardshipAidRule.objects.filter(tier=tier).first()
    if row is not None:
        return AidRule(tier, row.file_needs_approval, row.grant_limit)
    needs, limit = HARDSHIP_APPROVAL_DEFAULTS[tier]
    return AidRule(tier, needs, limit)


def approval_reasons(*, tier: str, amount: Decimal | None, filing: bool) -> list[str]:
    """Why a filing at `tier` (when `filing`) and a single grant of `amount` need the parent union; [] when not.
    A grant exactly at the limit does not."""
    rule = aid_rule(tier)
    reasons = []
    if filing and rule.file_needs_approval:
        reasons.append(f"{rule.label}建档须经上级工会审批")
    if amount is not None and amount > rule.grant_limit:
        reasons.append(f"单笔帮扶 {amount} 元，超过{rule.label}审批限额 {rule.grant_limit} 元")
    return reasons


def approver_for(org: Organisation) -> Organisation | None:
    """The parent union, which approves; None for the tree's root, which decides alone."""
    if is_root_path(org.path):
        return None
    return org_by_path(org.path[:-STEPLEN])


def request_approval(
    actor: Actor,
    *,
    subject: str,
    person: Person,
    org: Organisation,
    approver: Organisation,
    reasons: list[str],
    tier: str = "",
    form: str = "",
    amount: Decimal | None = None,
    today: date,
    case: ServiceCase | None = None,
    file: HardshipFile | None = None,
    aid: HardshipAid | None = None,
    proposal: dict | None = None,
) -> HardshipApproval:
    approval = HardshipApproval.objects.create(
        subject=subject,
        case=case,
        file=file,
        aid=aid,
        person=person,
        org=org,
        approver=approver,
        tier=tier,
        form=form,
        amount=amount,
        reasons=reasons,
        proposal=proposal or {},
        requested_by=actor.label[:150],
        requester_account=actor.id if actor.kind == "user" else None,
        due_on=add_working_days(today, APPROVAL_WORKING_DAYS),
    )
    audit_approval(actor, "hardship.approval_request", approval, {"reasons": reasons, "amount": str(amount or "")})
    return approval


# ---------------------------------------------------------------- a hardship case's 办结


def case_close_needs_approval(
    actor: Actor, case: ServiceCase, result: str, outcome: CaseOutcome, today: date
) -> HardshipApproval | None:
    """Called by `case_close` for a hardship case before anything is written: when the proposed aid needs the
    parent union, the proposal is kept on a request, the case moves to 待上级审批 and the request is returned."""
    from gonghui.casework.hardship import aid_amount
    from gonghui.casework.models import OPEN_FILE_STATUSES
    from gonghui.casework.services.common import _is_yes

    if not _is_yes(outcome.get("granted")):
        return None
    form = clean_choice(outcome, "aid_form", "帮扶形式", AidForm)
    amount = aid_amount(outcome, "amount", form)
    current = HardshipFile.objects.filter(person=case.person, status__in=OPEN_FILE_STATUSES).first()
    tier = str(outcome.get("tier") or "").strip() or (current.tier if current else "")
    if tier not in HardshipTier.values:
        return None  # the closing step itself says that a first filing needs its 困难类别
    filing = current is None or current.tier != tier
    reasons = approval_reasons(tier=tier, amount=amount, filing=filing)
    approver = approver_for(case.org)
    if not reasons or approver is None:
        return None
    kept = {name: str(outcome.get(name) or "") for name in OUTCOME_FIELDS}
    proposal = {"result": result, "outcome": {**kept, "granted": "on", "tier": tier}}
    return request_approval(
        actor,
        subject=ApprovalSubject.CASE,
        person=case.person,
        org=case.org,
        approver=approver,
        reasons=reasons,
        tier=tier,
        form=form,
        amount=amount,
        today=today,
        case=case,
        proposal=proposal,
    )


# ---------------------------------------------------------------- deciding


def _lock_for_decision(actor: Actor, approval: HardshipApproval) -> HardshipApproval:
    actor.require(Perm.CASES_MANAGE)
    if not actor.covers_path(approval.approver.path):
        raise NotFound()
    locked = (
        HardshipApproval.objects.select_for_update(of=("self",))
        .select_related("person", "org", "approver", "case", "file", "aid")
        .get(pk=approval.pk)
    )
    if locked.status != ApprovalStatus.PENDING:
        raise CaseMovedOn(f"该审批已{locked.get_status_display()}，不能再审批")
    if locked.requester_account is not None and locked.requester_account == actor.id:
        raise PermissionDenied("不能审批本人报送的事项")
    return locked


def _decide(approval: HardshipApproval, actor: Actor, status: str, note: str) -> None:
    approval.status = status
    approval.decided_at = timezone.now()
    approval.decided_by = actor.label[:150]
    approval.decision_note = note
    approval.save(update_fields=["status", "decided_at", "decided_by", "decision_note"])


@transaction.atomic
def hardship_approval_approve(*, actor: Actor, approval: HardshipApproval, note: str = "") -> HardshipApproval:
    """批准: the case closes with its proposed aid, the file becomes 在档, or the grant may be paid."""
    from gonghui.casework.services import REASON_MAX, approved_case_close

    note = (note or "").strip()
    if len(note) > REASON_MAX:
        raise ValidationFailed({"note": f"审批意见不能超过{REASON_MAX}个字"})
    approval = _lock_for_decision(actor, approval)
    _decide(approval, actor, ApprovalStatus.APPROVED, note)
    if approval.subject == ApprovalSubject.CASE:
        approved_case_close(actor=actor, approval=approval)
    elif approval.subject == ApprovalSubject.FILE:
        assert approval.file_id is not None  # a request about a file names it
        file = HardshipFile.objects.select_for_update().get(pk=approval.file_id)
        if file.status != HardshipFileStatus.PENDING:
            raise CaseMovedOn(f"该档案当前为“{file.get_status_display()}”，不能再审批")
        file.status = HardshipFileStatus.ACTIVE
        file.save(update_fields=["status", "updated_at"])
    else:
        assert approval.aid_id is not None  # a request about a grant names it
        aids = HardshipAid.objects.filter(pk=approval.aid_id, approval=AidApproval.PENDING)
        if not aids.update(approval=AidApproval.APPROVED):
            raise CaseMovedOn("该笔帮扶已不在待审批状态")
    audit_approval(actor, "hardship.approval_approve", approval, {"note": note})
    return approval


@transaction.atomic
def hardship_approval_refuse(*, actor: Actor, approval: HardshipApproval, reason: str) -> HardshipApproval:
    """不予批准, with the reason the requesting union reads: the case goes back to 办理中 (its handler may close it
    with less aid or none), the file is 未获批准, the grant is not paid."""
    from gonghui.casework.services import refused_case_return

    reason = clean_reason(reason, label="不予批准的理由")
    approval = _lock_for_decision(actor, approval)
    _decide(approval, actor, ApprovalStatus.REFUSED, reason)
    if approval.subject == ApprovalSubject.CASE:
        refused_case_return(actor=actor, approval=approval)
    elif approval.subject == ApprovalSubject.FILE:
        assert approval.file_id is not None  # a request about a file names it
        files = HardshipFile.objects.filter(pk=approval.file_id, status=HardshipFileStatus.PENDING)
        if not files.update(status=HardshipFileStatus.REFUSED, updated_at=timezone.now()):
            raise CaseMovedOn("该档案已不在待审批状态")
    else:
        assert approval.aid_id is not None  # a request about a grant names it
        aids = HardshipAid.objects.filter(pk=approval.aid_id, approval=AidApproval.PENDING)
        if not aids.update(approval=AidApproval.REFUSED):
            raise CaseMovedOn("该笔帮扶已不在待审批状态")
    audit_approval(actor, "hardship.approval_refuse", approval, {"reason": reason})
    return approval


@transaction.atomic
def approvals_escalate_overdue(*, actor: Actor, today: date | None = None) -> int:
    """Requests on a file or a grant past their deadline go to the approving union's parent for supervision, once.
    (A case waiting for approval is escalated with the other cases, by `cases_escalate_overdue`.)"""
    if actor.kind != "system":
        raise PermissionDenied("超期上报由平台每日自动执行")
    today = today or timezone.localdate()
    overdue = list(
        HardshipApproval.objects.select_for_update(of=("self",))
        .filter(status=ApprovalStatus.PENDING, due_on__lt=today, escalated_at__isnull=True)
        .exclude(subject=ApprovalSubject.CASE)
        .select_related("person", "org", "approver")
    )
    now = timezone.now()
    for approval in overdue:
        approval.escalated_at = now
        approval.escalated_to = approver_for(approval.approver) or approval.approver
        approval.save(update_fields=["escalated_at", "escalated_to"])
        audit_approval(actor, "hardship.approval_escalate", approval, {"to": approval.escalated_to.code})
    return len(overdue)


# ---------------------------------------------------------------- the standard


def aid_rules_can_edit(actor: Actor) -> bool:
    """The city federation's cadres (who set up plans and campaigns): the standard is the federation's decision. The
    system administrator, who keeps accounts and the tree, sees no service centre (three separated administrators)."""
    return actor.can(Perm.CASES_CONFIGURE) and is_root_path(actor.scope_path)


@transaction.atomic
def aid_rules_update(*, actor: Actor, rules: Mapping[str, AidRuleFields]) -> list[AidRule]:
    """Set the standard for every 困难类别 at once (`rules` by tier; a tier left out has no limit and is refused);
    audited with the values before and after. All or nothing. A refusal names the form field
    `<tier>-grant_limit`."""
    if not aid_rules_can_edit(actor):
        raise PermissionDenied("困难帮扶审批标准由市总工会设定")
    wanted = {}
    for tier in HardshipTier.values:
        label = HardshipTier(tier).label
        entry = rules.get(tier) or AidRuleFields()
        field = f"{tier}-grant_limit"
        limit = clean_money({field: entry.get("grant_limit")}, field, f"{label}单笔帮扶审批限额")
        needs = entry.get("file_needs_approval") in (True, "1", "true", "on", "yes")
        wanted[tier] = (needs, limit)
    before = {tier: aid_rule(tier) for tier in HardshipTier.values}
    changes = {}
    for tier, (needs, limit) in wanted.items():
        old = before[tier]
        if (old.file_needs_approval, old.grant_limit) != (needs, limit):
            changes[tier] = {
                "file_needs_approval": [old.file_needs_approval, needs],
                "grant_limit": [str(old.grant_limit), str(limit)],
            }
        HardshipAidRule.objects.update_or_create(
            tier=tier,
            defaults={"file_needs_approval": needs, "grant_limit": limit, "updated_by": actor.label[:150]},
        )
    if changes:
        audit_record(
            actor=actor,
            action="hardship.rules_update",
            object_type="hardship_aid_rule",
            object_label="困难帮扶审批标准",
            object_org_path=actor.scope_path,
            details=changes,
        )
    return [aid_rule(tier) for tier in HardshipTier.values]
