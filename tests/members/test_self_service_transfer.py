"""What a member does for themself in the portal, through the services: ask for and withdraw a transfer, look at
their own numbers; the messages of a case that moved on; two requests at the same moment (PostgreSQL)."""

from functools import partial

import pytest

from gonghui.audit.selectors import audit_events_visible_to
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, ValidationFailed
from gonghui.members.models import (
    CorrectionRequest,
    JoinApplication,
    MembershipSource,
    MembershipStatus,
    TransferStatus,
)
from gonghui.members.selectors import own_transfers
from gonghui.members.self_service import (
    member_application_withdraw,
    member_correction_request,
    member_reveal_own,
    member_transfer_request,
    member_transfer_withdraw,
)
from gonghui.members.services import (
    correction_request_apply,
    correction_request_reject,
    join_application_approve,
    transfer_accept,
    transfer_release,
    transfer_request,
)
from tests.conftest import is_postgres
from tests.members.concurrency import race
from tests.members.factories import IP, Member, fresh, sign_in
from tests.members.self_service_factories import E12, E123, NEW_PHONE, PHONE, WZE1, events, join, portal_state

# ---------------------------------------------------------------- 3. transfers


class TestTransfer:
    def test_member_transfer_request_is_completed_by_release_and_accept(self, tree, actors, member):
        transfer = member_transfer_request(account=member.account, to_org=tree[WZE1], reason="工作调动", ip=IP)

        transfer = fresh(transfer)
        assert transfer.requested_by_member is True
        assert transfer.requested_by == "会员138****1234"
        assert (transfer.person_id, transfer.membership_id) == (member.person.id, member.membership.id)
        assert (transfer.from_org_id, transfer.to_org_id) == (tree[E12].id, tree[WZE1].id)
        assert transfer.common_parent_id == tree["SZ"].id
        assert transfer.status == TransferStatus.PENDING_RELEASE
        assert transfer.reason == "工作调动"
        requested = events("transfer.request").get()
        assert (requested.actor_kind, requested.actor_id) == ("member", member.account.id)
        assert requested.details == {"from": E12, "to": WZE1, "by_member": True}

        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        new = transfer_accept(actor=actors["other_district_cadre"], transfer=fresh(transfer))

        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.COMPLETED
        assert transfer.new_membership_id == new.id
        old = fresh(member.membership)
        assert old.status == MembershipStatus.TRANSFERRED_OUT
        new = fresh(new)
        assert (new.org_id, new.status, new.source) == (tree[WZE1].id, "active", MembershipSource.TRANSFER_IN)
        assert new.previous_id == old.id
        assert new.joined_on == old.joined_on
        assert own_transfers(account=member.account) == [transfer]

    @pytest.mark.parametrize("released", [False, True], ids=["pending_release", "pending_accept"])
    def test_member_withdraws_own_open_transfer(self, tree, actors, member, released):
        transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
        if released:
            transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)

        member_transfer_withdraw(account=member.account, transfer_id=str(transfer.id), ip=IP)

        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.WITHDRAWN
        assert transfer.decided_by == "会员138****1234"
        assert transfer.decided_at is not None
        assert transfer.new_membership_id is None
        assert fresh(member.membership).status == MembershipStatus.ACTIVE
        event = events("transfer.withdraw").get()
        assert (event.actor_kind, event.details, event.object_org_path) == ("member", {"by": "member"}, tree[E12].path)

    def test_member_cannot_withdraw_another_members_transfer(self, tree, member, other_member):
        theirs = member_transfer_request(account=other_member.account, to_org=tree[E12], reason="工作调动", ip=IP)
        before = portal_state()

        with pytest.raises(NotFound):
            member_transfer_withdraw(account=member.account, transfer_id=str(theirs.id), ip=IP)

        assert portal_state() == before
        assert fresh(theirs).status == TransferStatus.PENDING_RELEASE

    def test_member_cannot_withdraw_a_transfer_opened_by_a_cadre(self, tree, actors, member):
        opened = transfer_request(
            actor=actors["grassroots_cadre"], membership=member.membership, to_org=tree[E123], reason="单位调整"
        )
        assert opened.requested_by_member is False
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_transfer_withdraw(account=member.account, transfer_id=str(opened.id), ip=IP)

        assert exc.value.code == "not_own_request"
        assert exc.value.message == "该接转由工会发起，如需撤回请联系所在工会"
        assert portal_state() == before

    def test_a_completed_transfer_cannot_be_withdrawn(self, tree, actors, member):
        transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        transfer_accept(actor=actors["town_cadre"], transfer=fresh(transfer))
        before = portal_state()

        with pytest.raises(CaseMovedOn):
            member_transfer_withdraw(account=member.account, transfer_id=str(transfer.id), ip=IP)

        assert portal_state() == before

    def test_transfer_request_refusals_change_nothing(self, tree, member):
        unbound_account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as no_reason:
            member_transfer_request(account=member.account, to_org=tree[E123], reason="  ", ip=IP)
        with pytest.raises(ValidationFailed) as same_union:
            member_transfer_request(account=member.account, to_org=tree[E12], reason="工作调动", ip=IP)
        with pytest.raises(ValidationFailed) as not_grassroots:
            member_transfer_request(account=member.account, to_org=tree["SZ-GS-T01"], reason="工作调动", ip=IP)
        with pytest.raises(DomainError) as unbound:
            member_transfer_request(account=unbound_account, to_org=tree[E123], reason="工作调动", ip=IP)

        assert no_reason.value.errors == {"reason": "请填写接转原因"}
        assert same_union.value.errors == {"to_org": "转入工会与当前所在工会相同"}
        assert list(not_grassroots.value.errors) == ["to_org"]
        assert unbound.value.code == "not_bound"
        assert portal_state() == before

    def test_a_second_open_transfer_is_refused(self, tree, member):
        member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_transfer_request(account=member.account, to_org=tree[WZE1], reason="工作调动", ip=IP)

        assert exc.value.code == "duplicate_transfer"
        assert portal_state() == before

    def test_a_worker_who_is_not_a_member_cannot_ask_for_a_transfer(self, tree):
        account = sign_in(NEW_PHONE)
        join(account, tree[E12], name="赵六", seq=201)  # pending, not yet a member
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_transfer_request(account=fresh(account), to_org=tree[E123], reason="工作调动", ip=IP)

        assert exc.value.code == "not_member"
        assert portal_state() == before


# ---------------------------------------------------------------- 4. own numbers


class TestRevealOwn:
    def test_reveal_own_returns_the_full_numbers_and_is_audited(self, member):
        assert member_reveal_own(account=member.account, field="doc_number", ip=IP) == member.number
        assert member_reveal_own(account=member.account, field="phone", ip=IP) == PHONE

        revealed = list(events("person.reveal_own"))
        assert [e.details for e in revealed] == [{"field": "doc_number"}, {"field": "phone"}]
        for event in revealed:
            assert (event.actor_kind, event.actor_id, event.ip) == ("member", member.account.id, IP)
            assert (event.object_type, event.object_id, event.object_label) == ("person", str(member.person.id), "张*")
            assert member.number not in str(event.details) and PHONE not in str(event.details)

    def test_reveal_own_is_refused_for_an_unbound_account(self, db):
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_reveal_own(account=account, field="doc_number", ip=IP)

        assert exc.value.code == "not_bound"
        assert portal_state() == before

    def test_reveal_own_of_another_field_is_refused(self, member):
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            member_reveal_own(account=member.account, field="name", ip=IP)

        assert exc.value.errors == {"field": "只能查看证件号码或手机号码"}
        assert portal_state() == before

    def test_reveal_own_is_readable_by_the_auditors_of_the_members_union(self, tree, actors, member):
        """Audited like any look at a personal number: a cadre's reveal carries the union's path, so the auditors
        of that union (and of the city) read it. The member's own reveal must be readable too."""
        member_reveal_own(account=member.account, field="doc_number", ip=IP)
        event = events("person.reveal_own").get()

        for auditor in ("auditor", "district_auditor"):
            assert audit_events_visible_to(actors[auditor]).filter(pk=event.pk).exists(), auditor


# ---------------------------------------------------------------- 8. messages


def test_case_moved_on_messages_do_not_double_the_status_prefix(tree, actors, member):
    """The status labels already begin with 已 (已通过, 已完成, 已更正): "该申请已已通过" is not Chinese."""
    account = sign_in(NEW_PHONE)
    application = join(account, tree[E123], name="赵六", seq=201)
    join_application_approve(actor=actors["town_cadre"], application=application)
    transfer = member_transfer_request(account=member.account, to_org=tree[E123], reason="工作调动", ip=IP)
    transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
    transfer_accept(actor=actors["town_cadre"], transfer=fresh(transfer))
    correction = member_correction_request(account=fresh(account), changes={"post": "技术员"}, ip=IP)
    correction_request_apply(actor=actors["town_cadre"], correction=correction)

    messages = []
    with pytest.raises(CaseMovedOn) as exc:
        member_application_withdraw(account=fresh(account), application_id=str(application.id), ip=IP)
    messages.append(exc.value.message)
    with pytest.raises(CaseMovedOn) as exc:
        member_transfer_withdraw(account=member.account, transfer_id=str(transfer.id), ip=IP)
    messages.append(exc.value.message)
    with pytest.raises(CaseMovedOn) as exc:
        correction_request_reject(actor=actors["town_cadre"], correction=correction, reason="重复")
    messages.append(exc.value.message)

    assert [("已已" in m) for m in messages] == [False, False, False], messages


# ---------------------------------------------------------------- 9. at the same moment (PostgreSQL)


@pytest.mark.skipif(not is_postgres(), reason="row locks and concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_two_withdrawals_of_one_application_at_once(self, tree):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)
        account = fresh(account)

        results = race(
            *[partial(member_application_withdraw, account=account, application_id=str(application.id)) for _ in "ab"]
        )

        winners = [r for r in results if isinstance(r, JoinApplication)]
        losers = [r for r in results if not isinstance(r, JoinApplication)]
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], CaseMovedOn), results
        assert events("join_application.withdraw").count() == 1

    def test_two_correction_requests_at_once_leave_one_pending_and_a_clear_refusal(self, tree, actors):
        for round_ in range(3):
            member = Member(
                actors["grassroots_cadre"], tree[E12], name="张三", seq=150 + round_ * 2, phone=f"1370000{round_:04d}"
            )
            results = race(
                partial(member_correction_request, account=member.account, changes={"post": "技术员"}, ip=IP),
                partial(member_correction_request, account=member.account, changes={"education": "college"}, ip=IP),
            )

            winners = [r for r in results if isinstance(r, CorrectionRequest)]
            losers = [r for r in results if not isinstance(r, CorrectionRequest)]
            assert len(winners) == 1, results
            assert CorrectionRequest.objects.filter(person=member.person, status="pending").count() == 1
            # The loser is told why, as when the two requests come one after the other; not a database error.
            assert len(losers) == 1 and isinstance(losers[0], DomainError), results
            assert losers[0].code == "duplicate_correction"
