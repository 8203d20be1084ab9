"""会员接转: a member moves from one grassroots union to another. The source union releases, the target accepts
(the old membership ends as 已转出, a new one starts with the original join date); either refuses at its step; an
open request past its step's deadline is escalated to the lowest common parent."""

from datetime import date

from django.db import transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, DomainError, PermissionDenied, ValidationFailed
from gonghui.common.paths import ancestor_paths
from gonghui.common.validators import clean_reason
from gonghui.common.workdays import add_working_days
from gonghui.members import events
from gonghui.members.figures import figures_record, membership_ended, membership_started
from gonghui.members.models import (
    HOLDING_STATUSES,
    OPEN_TRANSFER_STATUSES,
    CorrectionRequest,
    CorrectionStatus,
    Membership,
    MembershipSource,
    MembershipStatus,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.notices import (
    notice_transfer_completed,
    notice_transfer_overdue,
    notice_transfer_refused,
    notice_transfer_released,
    notice_transfer_requested,
    notice_transfer_withdrawn,
)
from gonghui.members.services._common import (
    TRANSFER_STEP_WORKING_DAYS,
    _lock,
    _require_manage,
    _require_open_union,
)
from gonghui.members.services.memberships import _create_membership, _profile_at_end
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_by_id, org_by_path


def lowest_common_parent(a: Organisation, b: Organisation) -> Organisation:
    """The deepest organisation whose subtree holds both `a` and `b`."""
    paths_a = [*ancestor_paths(a.path), a.path]
    paths_b = {*ancestor_paths(b.path), b.path}
    common = [p for p in paths_a if p in paths_b]
    return org_by_path(common[-1])


def _open_transfer(
    *, actor: Actor, membership: Membership, to_org: Organisation, reason: str, by_member: bool
) -> TransferRequest:
    membership = _lock(Membership, membership.pk)
    if membership.status not in HOLDING_STATUSES:
        raise DomainError(f"该会籍{membership.get_status_display()}，不能办理接转")
    _require_open_union(to_org, field="to_org")
    if to_org.id == membership.org_id:
        raise ValidationFailed({"to_org": "转入工会与当前所在工会相同"})
    if TransferRequest.objects.filter(membership=membership, status__in=OPEN_TRANSFER_STATUSES).exists():
        raise DomainError("该会员已有一份正在办理的接转申请", code="duplicate_transfer")
    transfer = TransferRequest.objects.create(
        person=membership.person,
        membership=membership,
        from_org=membership.org,
        to_org=to_org,
        common_parent=lowest_common_parent(membership.org, to_org),
        reason=reason,
        requested_by=actor.label,
        requested_by_member=by_member,
        due_on=add_working_days(timezone.localdate(), TRANSFER_STEP_WORKING_DAYS),
    )
    events.transfer_requested(actor, transfer, membership, by_member=by_member)
    return transfer


@transaction.atomic
def transfer_request_incoming(
    *, actor: Actor, membership: Membership, to_org: Organisation, reason: str
) -> TransferRequest:
    """A cadre of the receiving union asks for a member of another union to be transferred in (e.g. found by a
    roster import); the member's union still decides on the release."""
    _require_manage(actor, to_org)
    reason = clean_reason(reason, label="接转原因")
    transfer = _open_transfer(actor=actor, membership=membership, to_org=to_org, reason=reason, by_member=False)
    notice_transfer_requested(transfer)
    return transfer


@transaction.atomic
def transfer_request_by_member(
    *, actor: Actor, membership: Membership, to_org: Organisation, reason: str
) -> TransferRequest:
    """会员本人申请接转 (the portal): the member asks to move their own membership; the portal checks that it is
    theirs. Both unions decide as for any transfer."""
    if actor.kind != "member":
        raise PermissionDenied()
    reason = clean_reason(reason, label="接转原因")
    return _open_transfer(actor=actor, membership=membership, to_org=to_org, reason=reason, by_member=True)


@transaction.atomic
def transfer_request(*, actor: Actor, membership: Membership, to_org: Organisation, reason: str) -> TransferRequest:
    """A cadre of the member's union (or above) asks to move the member to any union in the tree."""
    _require_manage(actor, membership.org)
    reason = clean_reason(reason, label="接转原因")
    transfer = _open_transfer(actor=actor, membership=membership, to_org=to_org, reason=reason, by_member=False)
    notice_transfer_requested(transfer)
    return transfer


def _lock_transfer(transfer: TransferRequest, *, expected: tuple[str, ...] | list[str]) -> TransferRequest:
    locked = (
        TransferRequest.objects.select_for_update(of=("self",))
        .select_related("from_org", "to_org", "person")
        .get(pk=transfer.pk)
    )
    if locked.status not in expected:
        raise CaseMovedOn(f"该接转当前为“{locked.get_status_display()}”，不能再处理")
    return locked


@transaction.atomic
def transfer_release(*, actor: Actor, transfer: TransferRequest) -> TransferRequest:
    """转出工会同意转出."""
    _require_manage(actor, transfer.from_org)
    transfer = _lock_transfer(transfer, expected=(TransferStatus.PENDING_RELEASE,))
    transfer.status = TransferStatus.PENDING_ACCEPT
    transfer.released_at = timezone.now()
    transfer.released_by = actor.label
    transfer.due_on = add_working_days(timezone.localdate(), TRANSFER_STEP_WORKING_DAYS)
    transfer.escalated_at = None
    transfer.save()
    events.transfer_event(actor, "transfer.release", transfer, transfer.from_org)
    notice_transfer_released(transfer)
    return transfer


@transaction.atomic
def transfer_accept(*, actor: Actor, transfer: TransferRequest) -> Membership:
    """转入工会接收: the old membership ends as 已转出, a new one starts in the target union with the original
    join date (会龄 continues) and a new card number; `previous` links the two."""
    _require_manage(actor, transfer.to_org)
    transfer = _lock_transfer(transfer, expected=(TransferStatus.PENDING_ACCEPT,))
    to_org = org_by_id(transfer.to_org_id)
    _require_open_union(to_org, field="to_org")
    old = _lock(Membership, transfer.membership_id)
    if old.status not in HOLDING_STATUSES:
        raise CaseMovedOn(f"原会籍当前为“{old.get_status_display()}”，不能再接转")
    held_as = old.status
    today = timezone.localdate()
    old.status = MembershipStatus.TRANSFERRED_OUT
    old.ended_on = today
    old.end_reason = f"转入“{to_org.name}”"
    old.profile_at_end = _profile_at_end(old)
    old.save()
    new = _create_membership(
        person=transfer.person, org=to_org, joined_on=old.joined_on, source=MembershipSource.TRANSFER_IN, previous=old
    )
    transfer.status = TransferStatus.COMPLETED
    transfer.decided_at = timezone.now()
    transfer.decided_by = actor.label
    transfer.new_membership = new
    transfer.save()
    # A correction the member asked of the old union is now the new union's to decide: the old one no longer holds
    # the record and must not read it through the request.
    moved = CorrectionRequest.objects.filter(
        person_id=transfer.person_id, org_id=old.org_id, status=CorrectionStatus.PENDING
    ).update(org=to_org)
    details = {"card_number": new.card_number, **({"corrections_moved": moved} if moved else {})}
    events.transfer_event(actor, "transfer.accept", transfer, to_org, details)
    figures_record([membership_ended(old, held_as=held_as), membership_started(new, on=today)])
    notice_transfer_completed(transfer, new)
    return new


@transaction.atomic
def transfer_refuse(*, actor: Actor, transfer: TransferRequest, reason: str) -> TransferRequest:
    """Refused by the side whose step it is: the source before release, the target after."""
    reason = clean_reason(reason, label="拒绝理由")
    current = _lock_transfer(transfer, expected=OPEN_TRANSFER_STATUSES)
    side = "source" if current.status == TransferStatus.PENDING_RELEASE else "target"
    org = current.from_org if side == "source" else current.to_org
    _require_manage(actor, org)
    current.status = TransferStatus.REFUSED
    current.refused_by_side = side
    current.refusal_reason = reason
    current.decided_at = timezone.now()
    current.decided_by = actor.label
    current.save()
    events.transfer_event(actor, "transfer.refuse", current, org, {"side": side, "reason": reason})
    notice_transfer_refused(current)
    return current


@transaction.atomic
def transfer_withdraw(*, actor: Actor, transfer: TransferRequest) -> TransferRequest:
    """Withdrawn by the member's union before the target accepts."""
    _require_manage(actor, transfer.from_org)
    current = _lock_transfer(transfer, expected=OPEN_TRANSFER_STATUSES)
    current.status = TransferStatus.WITHDRAWN
    current.decided_at = timezone.now()
    current.decided_by = actor.label
    current.save()
    events.transfer_event(actor, "transfer.withdraw", current, current.from_org)
    notice_transfer_withdrawn(current)
    return current


@transaction.atomic
def transfers_escalate_overdue(*, actor: Actor, today: date | None = None) -> int:
    """Mark open transfers past their step's deadline as escalated to the lowest common parent, whose workbench
    lists them and whose cadres can act on both sides. Run daily (`manage.py escalate_overdue`)."""
    today = today or timezone.localdate()
    overdue = list(
        TransferRequest.objects.select_for_update(of=("self",))
        .filter(status__in=OPEN_TRANSFER_STATUSES, due_on__lt=today, escalated_at__isnull=True)
        .select_related("person", "from_org", "to_org", "common_parent")
    )
    now = timezone.now()
    for transfer in overdue:
        transfer.escalated_at = now
        transfer.save(update_fields=["escalated_at"])
        events.transfer_event(
            actor, "transfer.escalate", transfer, transfer.common_parent, {"to": transfer.common_parent.code}
        )
        notice_transfer_overdue(transfer)
    return len(overdue)
