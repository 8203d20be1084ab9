"""Member registry workflows through the services: transfers (接转). Every refused call is checked to leave the registry
and the audit trail exactly as they were."""

from datetime import date, timedelta

import pytest
from stdnum import luhn

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.workdays import add_working_days
from gonghui.members.models import Membership, MembershipSource, MembershipStatus, TransferRequest, TransferStatus
from gonghui.members.selectors import transfers_escalated
from gonghui.members.services import (
    membership_cancel,
    membership_leave,
    membership_reserve,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
    transfers_escalate_overdue,
)
from tests.members.factories import enrol, unchanged
from tests.members.workflow_factories import (
    E12,
    E123,
    PHONE,
    T01,
    WZE1,
    audit_actions,
    audit_text,
    card_for,
    fresh,
    today,
)

# ---------------------------------------------------------------- 3. transfers (接转)


class TestTransfers:
    def test_full_course_across_districts(self, tree, actors):
        old = enrol(actors["grassroots_cadre"], tree[E12], name="张三", phone=PHONE, joined_on=date(2015, 3, 1))
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=old, to_org=tree[WZE1], reason=" 工作调动 "
        )
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.PENDING_RELEASE
        assert transfer.from_org_id == tree[E12].id
        assert transfer.to_org_id == tree[WZE1].id
        assert transfer.common_parent_id == tree["SZ"].id
        assert transfer.reason == "工作调动"
        assert transfer.requested_by == "grassroots_cadre"
        assert transfer.requested_by_member is False
        assert transfer.due_on == add_working_days(today(), 10)
        request_event = AuditEvent.objects.get(action="transfer.request")
        assert request_event.details == {"from": E12, "to": WZE1, "by_member": False}

        # Only the source side releases.
        for username in ("other_district_cadre", "sysadmin"):
            expected = NotFound if username == "other_district_cadre" else PermissionDenied
            with unchanged(), pytest.raises(expected):
                transfer_release(actor=actors[username], transfer=transfer)
        with unchanged(), pytest.raises(CaseMovedOn):
            transfer_accept(actor=actors["other_district_cadre"], transfer=transfer)

        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.PENDING_ACCEPT
        assert transfer.released_by == "grassroots_cadre"
        assert transfer.released_at is not None
        assert transfer.due_on == add_working_days(today(), 10)
        assert fresh(old).status == MembershipStatus.ACTIVE

        # Only the target side accepts.
        for username in ("grassroots_cadre", "town_cadre", "district_cadre"):
            with unchanged(), pytest.raises(NotFound):
                transfer_accept(actor=actors[username], transfer=transfer)
        with unchanged(), pytest.raises(CaseMovedOn):
            transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)

        new = transfer_accept(actor=actors["other_district_cadre"], transfer=transfer)
        new = fresh(new)
        old = fresh(old)
        assert old.status == MembershipStatus.TRANSFERRED_OUT
        assert old.ended_on == today()
        assert tree[WZE1].name in old.end_reason
        assert new.status == MembershipStatus.ACTIVE
        assert new.org_id == tree[WZE1].id
        assert new.person_id == old.person_id
        assert new.joined_on == date(2015, 3, 1)
        assert new.source == MembershipSource.TRANSFER_IN
        assert new.previous_id == old.id
        assert new.card_number == card_for("320506", 1)
        assert new.card_number != old.card_number
        assert luhn.is_valid(new.card_number)
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.COMPLETED
        assert transfer.new_membership_id == new.id
        assert transfer.decided_by == "other_district_cadre"
        assert Membership.objects.filter(person=old.person, status__in=["active", "reserved"]).get() == new
        accept_event = AuditEvent.objects.get(action="transfer.accept")
        assert accept_event.details == {"card_number": new.card_number}
        assert accept_event.object_org_path == tree[WZE1].path
        assert [a for a in audit_actions() if a.startswith("transfer.")] == [
            "transfer.request",
            "transfer.release",
            "transfer.accept",
        ]
        assert PHONE not in audit_text()

        # A completed transfer is closed.
        with unchanged(), pytest.raises(CaseMovedOn):
            transfer_accept(actor=actors["other_district_cadre"], transfer=transfer)
        with unchanged(), pytest.raises(CaseMovedOn):
            transfer_refuse(actor=actors["other_district_cadre"], transfer=transfer, reason="重复")
        with unchanged(), pytest.raises(CaseMovedOn):
            transfer_withdraw(actor=actors["grassroots_cadre"], transfer=transfer)

    def test_common_parent_within_one_town(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[E123], reason="调岗"
        )
        assert transfer.common_parent_id == tree[T01].id
        # The town cadre covers both sides.
        transfer_release(actor=actors["town_cadre"], transfer=transfer)
        new = transfer_accept(actor=actors["town_cadre"], transfer=transfer)
        assert new.org_id == tree[E123].id
        assert new.card_number == card_for("320508", 2)

    def test_request_refused_cases(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        for to_org, field in ((tree[E12], "to_org"), (tree[T01], "to_org"), (tree["SZ-GS-T01-C1"], "to_org")):
            with unchanged(), pytest.raises(ValidationFailed) as exc:
                transfer_request(actor=actors["grassroots_cadre"], membership=membership, to_org=to_org, reason="调动")
            assert field in exc.value.errors
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            transfer_request(actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason=" ")
        assert "reason" in exc.value.errors
        with unchanged(), pytest.raises(NotFound):
            transfer_request(
                actor=actors["other_district_cadre"], membership=membership, to_org=tree[WZE1], reason="调动"
            )
        with unchanged(), pytest.raises(PermissionDenied):
            transfer_request(actor=actors["sysadmin"], membership=membership, to_org=tree[WZE1], reason="调动")

        membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职")
        with unchanged(), pytest.raises(DomainError):
            transfer_request(
                actor=actors["grassroots_cadre"], membership=fresh(membership), to_org=tree[WZE1], reason="调动"
            )

    def test_second_open_transfer_refused(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        first = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason="调动"
        )
        for step in ("pending_release", "pending_accept"):
            with unchanged(), pytest.raises(DomainError) as exc:
                transfer_request(
                    actor=actors["town_cadre"], membership=membership, to_org=tree[E123], reason="另一个去向"
                )
            assert exc.value.code == "duplicate_transfer"
            assert fresh(first).status == step
            if step == "pending_release":
                transfer_release(actor=actors["grassroots_cadre"], transfer=first)
        # Once the first is closed, a new request may be made.
        transfer_refuse(actor=actors["other_district_cadre"], transfer=first, reason="岗位已满")
        second = transfer_request(
            actor=actors["town_cadre"], membership=membership, to_org=tree[E123], reason="另一个去向"
        )
        assert second.status == TransferStatus.PENDING_RELEASE

    def test_refuse_by_source_before_release(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason="调动"
        )
        with unchanged(), pytest.raises(NotFound):  # the target's turn has not come
            transfer_refuse(actor=actors["other_district_cadre"], transfer=transfer, reason="不接收")
        for reason in ("", "  ", None):
            with unchanged(), pytest.raises(ValidationFailed):
                transfer_refuse(actor=actors["grassroots_cadre"], transfer=transfer, reason=reason)
        transfer_refuse(actor=actors["grassroots_cadre"], transfer=transfer, reason="尚有未结事项")
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.REFUSED
        assert transfer.refused_by_side == "source"
        assert transfer.refusal_reason == "尚有未结事项"
        assert transfer.decided_by == "grassroots_cadre"
        assert fresh(membership).status == MembershipStatus.ACTIVE
        event = AuditEvent.objects.get(action="transfer.refuse")
        assert event.details == {"side": "source", "reason": "尚有未结事项"}
        assert event.object_org_path == tree[E12].path
        for call in (
            lambda: transfer_release(actor=actors["grassroots_cadre"], transfer=transfer),
            lambda: transfer_accept(actor=actors["other_district_cadre"], transfer=transfer),
            lambda: transfer_refuse(actor=actors["grassroots_cadre"], transfer=transfer, reason="再次拒绝"),
            lambda: transfer_withdraw(actor=actors["grassroots_cadre"], transfer=transfer),
        ):
            with unchanged(), pytest.raises(CaseMovedOn):
                call()

    def test_refuse_by_target_after_release(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason="调动"
        )
        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        with unchanged(), pytest.raises(NotFound):  # the source has had its turn
            transfer_refuse(actor=actors["grassroots_cadre"], transfer=transfer, reason="反悔")
        transfer_refuse(actor=actors["other_district_cadre"], transfer=transfer, reason="未在本单位就业")
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.REFUSED
        assert transfer.refused_by_side == "target"
        assert transfer.refusal_reason == "未在本单位就业"
        membership = fresh(membership)
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.ended_on is None
        assert Membership.objects.count() == 1
        with unchanged(), pytest.raises(CaseMovedOn):
            transfer_accept(actor=actors["other_district_cadre"], transfer=transfer)

    @pytest.mark.parametrize("released", [False, True])
    def test_withdraw_by_source(self, tree, actors, released):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason="调动"
        )
        if released:
            transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        with unchanged(), pytest.raises(NotFound):
            transfer_withdraw(actor=actors["other_district_cadre"], transfer=transfer)
        transfer_withdraw(actor=actors["grassroots_cadre"], transfer=transfer)
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.WITHDRAWN
        assert transfer.decided_by == "grassroots_cadre"
        assert fresh(membership).status == MembershipStatus.ACTIVE
        assert "transfer.withdraw" in audit_actions()
        for call in (
            lambda: transfer_release(actor=actors["grassroots_cadre"], transfer=transfer),
            lambda: transfer_accept(actor=actors["other_district_cadre"], transfer=transfer),
            lambda: transfer_withdraw(actor=actors["grassroots_cadre"], transfer=transfer),
        ):
            with unchanged(), pytest.raises(CaseMovedOn):
                call()

    def test_membership_with_open_transfer_cannot_change(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        transfer_request(actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason="调动")
        for call in (
            lambda: membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职"),
            lambda: membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="失业"),
            lambda: membership_cancel(actor=actors["grassroots_cadre"], membership=membership, reason="错录"),
        ):
            with unchanged(), pytest.raises(DomainError):
                call()

    def test_reserved_member_can_be_transferred(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="待业")
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[E123], reason="再就业"
        )
        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        new = transfer_accept(actor=actors["town_cadre"], transfer=transfer)
        assert fresh(membership).status == MembershipStatus.TRANSFERRED_OUT
        assert new.status == MembershipStatus.ACTIVE

    def test_overdue_transfers_escalate_to_common_parent(self, tree, actors, system):
        far = transfer_request(
            actor=actors["grassroots_cadre"],
            membership=enrol(actors["grassroots_cadre"], tree[E12], name="张三", seq=71),
            to_org=tree[WZE1],
            reason="调动",
        )
        near = transfer_request(
            actor=actors["grassroots_cadre"],
            membership=enrol(actors["grassroots_cadre"], tree[E12], name="李四", seq=73),
            to_org=tree[E123],
            reason="调动",
        )
        on_time = transfer_request(
            actor=actors["grassroots_cadre"],
            membership=enrol(actors["grassroots_cadre"], tree[E12], name="王五", seq=75),
            to_org=tree[WZE1],
            reason="调动",
        )
        TransferRequest.objects.filter(pk__in=[far.pk, near.pk]).update(due_on=today() - timedelta(days=1))

        assert transfers_escalate_overdue(actor=system) == 2
        assert fresh(far).escalated_at is not None
        assert fresh(near).escalated_at is not None
        assert fresh(on_time).escalated_at is None
        assert fresh(far).status == TransferStatus.PENDING_RELEASE  # escalation does not decide
        events = AuditEvent.objects.filter(action="transfer.escalate")
        assert sorted((e.object_id, e.details["to"]) for e in events) == sorted(
            [(str(far.id), "SZ"), (str(near.id), T01)]
        )

        def seen(username):
            return {t.id for t in transfers_escalated(actor=actors[username])}

        assert seen("city_cadre") == {far.id, near.id}
        assert seen("district_cadre") == {near.id}
        assert seen("town_cadre") == {near.id}
        assert seen("grassroots_cadre") == set()
        assert seen("other_district_cadre") == set()

        # Already escalated: nothing more to do.
        with unchanged():
            assert transfers_escalate_overdue(actor=system) == 0
        # The common parent may act on the source side; release starts a fresh step.
        transfer_release(actor=actors["city_cadre"], transfer=far)
        far = fresh(far)
        assert far.escalated_at is None
        assert far.due_on == add_working_days(today(), 10)
        assert seen("city_cadre") == {near.id}
        # A decided transfer leaves the escalated list.
        transfer_withdraw(actor=actors["town_cadre"], transfer=near)
        assert seen("city_cadre") == set()
