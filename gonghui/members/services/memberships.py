"""A membership's life in its union: starting one (with its card number), 退会, 注销, 保留会籍 and back; the
union's declared 实有会员数; the nightly re-check of each record's own quality flags."""

from datetime import date

from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.errors import CaseMovedOn, DomainError, ValidationFailed
from gonghui.common.validators import REASON_MAX, clean_reason
from gonghui.members import events
from gonghui.members.figures import figures_record, membership_ended, membership_status_swapped
from gonghui.members.models import (
    HOLDING_STATUSES,
    OPEN_TRANSFER_STATUSES,
    DeclaredTotal,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    TransferRequest,
)
from gonghui.members.people import profile_snapshot, quality_flags
from gonghui.members.services._common import _clean_date, _require_manage
from gonghui.members.services.cards import _next_card_number
from gonghui.orgs.figures import figures_declared_set
from gonghui.orgs.models import Organisation, OrgStatus

ALREADY_MEMBER_ELSEWHERE = "该人员已是其他工会会员，可发起会员接转"


def _create_membership(
    *, person: Person, org: Organisation, joined_on: date, source: str, previous: Membership | None = None
) -> Membership:
    membership = Membership(
        person=person,
        org=org,
        status=MembershipStatus.ACTIVE,
        joined_on=joined_on,
        source=source,
        card_number=_next_card_number(org, timezone.localdate()),
        previous=previous,
    )
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError:  # the person joined another union at the same moment
        raise DomainError(ALREADY_MEMBER_ELSEWHERE, code="already_member") from None
    return membership


def _already_member_message(actor: Actor, holding: Membership) -> str:
    """A member of a union outside the actor's subtree is a member of "another union": the registry does not say
    which union holds a person to a cadre whose subtree does not."""
    if actor.covers_path(holding.org.path):
        return f"该人员已是“{holding.org.name}”的会员，可发起会员接转"
    return ALREADY_MEMBER_ELSEWHERE


# ---------------------------------------------------------------- leave, reserve, restore, cancel


def _profile_at_end(membership: Membership) -> dict:
    """The record as the union held it when the membership ends, read under the person's row lock so that a
    correction committing at the same moment is either in it or waits."""
    return profile_snapshot(Person.objects.select_for_update().get(pk=membership.person_id))


def _lock_membership_for_change(
    actor: Actor, membership: Membership, *, expected: tuple[str, ...] | list[str]
) -> Membership:
    _require_manage(actor, membership.org)
    locked = Membership.objects.select_for_update(of=("self",)).select_related("person", "org").get(pk=membership.pk)
    if locked.status not in expected:
        raise CaseMovedOn(f"该会籍当前为“{locked.get_status_display()}”，不能办理此项")
    if TransferRequest.objects.filter(membership=locked, status__in=OPEN_TRANSFER_STATUSES).exists():
        raise DomainError("该会员有正在办理的接转，请先处理接转")
    return locked


def _end_membership(
    actor: Actor,
    membership: Membership,
    *,
    status: str,
    reason: str,
    on: date | None,
    action: str,
    expected: tuple[str, ...] | list[str] = HOLDING_STATUSES,
) -> Membership:
    reason = clean_reason(reason)
    today = timezone.localdate()
    locked = _lock_membership_for_change(actor, membership, expected=expected)
    ended = _clean_date(on, field="ended_on", label="终止日期", today=today)
    if ended < locked.joined_on:
        raise ValidationFailed({"ended_on": "终止日期不能早于入会日期"})
    previous = locked.previous if locked.source == MembershipSource.TRANSFER_IN else None
    if previous is not None and previous.ended_on is not None and ended < previous.ended_on:
        raise ValidationFailed({"ended_on": "终止日期不能早于转入本会的日期"})
    held_as = locked.status
    locked.status = status
    locked.ended_on = ended
    locked.end_reason = reason
    locked.profile_at_end = _profile_at_end(locked)
    locked.save()
    events.membership_event(actor, action, locked, {"reason": reason, "on": ended.isoformat()})
    figures_record([membership_ended(locked, held_as=held_as)])
    return locked


@transaction.atomic
def membership_leave(*, actor: Actor, membership: Membership, reason: str, on: date | None = None) -> Membership:
    """退会."""
    return _end_membership(
        actor, membership, status=MembershipStatus.LEFT, reason=reason, on=on, action="membership.leave"
    )


@transaction.atomic
def membership_cancel(*, actor: Actor, membership: Membership, reason: str, on: date | None = None) -> Membership:
    """注销 (death, a record entered in error, expulsion)."""
    return _end_membership(
        actor, membership, status=MembershipStatus.CANCELLED, reason=reason, on=on, action="membership.cancel"
    )


@transaction.atomic
def membership_reserve(*, actor: Actor, membership: Membership, reason: str) -> Membership:
    """保留会籍 (unemployment, retirement while keeping the link, long leave)."""
    reason = clean_reason(reason)
    locked = _lock_membership_for_change(actor, membership, expected=(MembershipStatus.ACTIVE,))
    locked.status = MembershipStatus.RESERVED
    locked.end_reason = reason
    locked.save()
    events.membership_event(actor, "membership.reserve", locked, {"reason": reason})
    figures_record([membership_status_swapped(locked, was=MembershipStatus.ACTIVE)])
    return locked


@transaction.atomic
def membership_restore(*, actor: Actor, membership: Membership, reason: str = "") -> Membership:
    """保留会籍 → 正式会员."""
    locked = _lock_membership_for_change(actor, membership, expected=(MembershipStatus.RESERVED,))
    locked.status = MembershipStatus.ACTIVE
    locked.end_reason = ""
    locked.save()
    events.membership_event(actor, "membership.restore", locked, {"reason": (reason or "").strip()[:REASON_MAX]})
    figures_record([membership_status_swapped(locked, was=MembershipStatus.RESERVED)])
    return locked


# ---------------------------------------------------------------- declared totals, quality re-check


@transaction.atomic
def declared_total_record(*, actor: Actor, org: Organisation, total: int, as_of: date | None = None) -> DeclaredTotal:
    """实有会员数 of a grassroots union, as its own books state it."""
    _require_manage(actor, org)
    if not org.is_grassroots:
        raise ValidationFailed({"org": "实有会员数由基层工会填报"})
    if not isinstance(total, int) or isinstance(total, bool) or total < 0 or total > 1_000_000:
        raise ValidationFailed({"total": "实有会员数应为 0 到 1000000 之间的整数"})
    today = timezone.localdate()
    as_of = _clean_date(as_of, field="as_of", label="统计日期", today=today)
    declared = DeclaredTotal.objects.create(org=org, total=total, as_of=as_of, recorded_by=actor.label)
    events.declared_total_recorded(actor, org, total=total, as_of=as_of)
    if org.status == OrgStatus.ACTIVE:
        latest = DeclaredTotal.objects.filter(org=org).order_by("-as_of", "-recorded_at").values_list("total")[:1]
        figures_declared_set(org, latest=latest.get()[0])
    return declared


def quality_recheck(*, batch_size: int = 2000, today: date | None = None) -> int:
    """Recompute every person's own quality checks (ages move on; rules may change). Returns records changed."""
    today = today or timezone.localdate()
    changed = 0
    last_id = None
    while True:
        page = Person.objects.order_by("id")
        if last_id is not None:
            page = page.filter(id__gt=last_id)
        people = list(page[:batch_size])
        if not people:
            return changed
        dirty = []
        for person in people:
            flags = quality_flags(person, today=today)
            if flags != person.quality_flags:
                person.quality_flags = flags
                dirty.append(person)
        Person.objects.bulk_update(dirty, ["quality_flags"])
        changed += len(dirty)
        last_id = people[-1].id
