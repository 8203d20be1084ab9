"""What a member does for themself in the portal, through the services: join (binding the account on the way) and
withdraw an application. Every refusal is checked to leave the registry, the portal accounts and the correction
requests as they were."""

import pytest
from django.utils import timezone

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, ValidationFailed
from gonghui.common.workdays import add_working_days
from gonghui.members.member_accounts import WRONG_PAIR_MESSAGE, BindingRefused, member_account_bind
from gonghui.members.models import ApplicationStatus, Membership, MembershipSource, MembershipStatus, Person
from gonghui.members.people import document_number_of, phone_of
from gonghui.members.selectors import own_memberships
from gonghui.members.self_service import member_application_withdraw, member_join_apply
from gonghui.members.services import join_application_approve, membership_leave
from tests.members.factories import BIRTH, IP, enrol, fresh, registry_state, resident_id, sign_in
from tests.members.self_service_factories import (
    CONSENT_MESSAGE,
    E12,
    E123,
    NEW_PHONE,
    OTHER_PHONE,
    events,
    join,
    portal_state,
    without_audit,
)

# ---------------------------------------------------------------- 1. joining


class TestJoin:
    def test_unbound_account_joins_by_giving_name_document_and_profile(self, tree):
        account = sign_in(NEW_PHONE)
        number = resident_id(BIRTH, 201)

        application = join(account, tree[E12], name="赵六", seq=201, note="本人申请入会")

        application = fresh(application)
        assert application.status == ApplicationStatus.PENDING
        assert application.source == MembershipSource.ONLINE
        assert application.org_id == tree[E12].id
        assert application.submitted_by == "会员137****1111"
        assert application.consent_at is not None
        assert application.note == "本人申请入会"
        assert application.membership_id is None
        assert application.due_on == add_working_days(timezone.localdate(), 15)
        person = application.person
        assert person.name == "赵六"
        assert document_number_of(person) == number
        assert phone_of(person) == NEW_PHONE  # the verified login phone
        assert (person.education, person.work_unit) == ("bachelor", "十二号有限公司")
        account = fresh(account)
        assert account.person_id == person.id
        assert account.bound_at is not None
        assert Membership.objects.count() == 0
        member_trail = AuditEvent.objects.filter(actor_kind="member").exclude(action="member.login")
        assert sorted(member_trail.values_list("action", flat=True)) == [
            "join_application.submit",
            "member.bind",
            "person.create",
        ]
        assert member_trail.get(action="member.bind").details == {"phone_recorded": False}
        assert member_trail.get(action="join_application.submit").details == {
            "source": "online",
            "already_member_elsewhere": False,
        }

    def test_grassroots_cadre_approves_the_online_application_and_the_membership_is_active(self, tree, actors):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)

        membership = join_application_approve(actor=actors["grassroots_cadre"], application=application)

        membership = fresh(membership)
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.source == MembershipSource.ONLINE
        assert membership.org_id == tree[E12].id
        assert membership.person_id == fresh(account).person_id
        application = fresh(application)
        assert application.status == ApplicationStatus.APPROVED
        assert application.membership_id == membership.id
        assert own_memberships(account=fresh(account)) == [membership]

    def test_join_without_consent_is_refused_and_writes_nothing(self, tree):
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            join(account, tree[E12], name="赵六", seq=201, consent=False)

        assert exc.value.errors == {"consent": CONSENT_MESSAGE}
        assert portal_state() == before
        assert fresh(account).person_id is None

    def test_join_without_consent_on_an_existing_record_leaves_the_account_unbound(self, tree, actors):
        former = enrol(actors["grassroots_cadre"], tree[E12], name="赵六", seq=201)
        membership_leave(actor=actors["grassroots_cadre"], membership=former, reason="离职")
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(ValidationFailed) as exc:
            join(account, tree[E12], name="赵六", seq=201, consent=False)

        assert exc.value.errors == {"consent": CONSENT_MESSAGE}
        assert portal_state() == before  # the binding made on the way was rolled back with the application

    def test_unbound_account_with_an_existing_record_and_the_right_name_joins_as_that_record(self, tree, actors):
        former = enrol(actors["grassroots_cadre"], tree[E12], name="赵六", seq=201)
        membership_leave(actor=actors["grassroots_cadre"], membership=former, reason="离职")
        account = sign_in(NEW_PHONE)

        application = join(account, tree[E123], name="赵六", seq=201)

        assert Person.objects.count() == 1
        assert application.person_id == former.person_id
        assert fresh(account).person_id == former.person_id
        assert phone_of(fresh(former.person)) == NEW_PHONE  # the record had no phone: the login phone is recorded
        assert events("member.bind").get().details == {"phone_recorded": True}

    def test_existing_document_with_a_wrong_name_gets_the_binding_refusal_and_writes_nothing(self, tree, member):
        account = sign_in(NEW_PHONE)
        before = portal_state()

        with pytest.raises(BindingRefused) as joining:
            join(account, tree[E123], name="张四", seq=101)  # 张三's document
        with pytest.raises(BindingRefused) as binding:
            member_account_bind(account=account, name="张四", doc_type="resident_id", doc_number=member.number, ip=IP)

        def answer(exc):
            return (type(exc), exc.errors, exc.message, exc.code, str(exc))

        assert answer(joining.value) == answer(binding.value)
        assert joining.value.errors == {"doc_number": WRONG_PAIR_MESSAGE}
        after = portal_state()
        assert without_audit(after) == without_audit(before)
        assert after["audit_events"] == before["audit_events"] + 2
        refused = list(events("member.bind").filter(actor_id=account.id))
        assert [(e.result, e.details) for e in refused] == [(AuditResult.FAILED, {"reason": "wrong_pair"})] * 2

    def test_bound_member_already_holding_a_membership_is_told_to_transfer(self, tree, member):
        before = portal_state()

        with pytest.raises(DomainError) as exc:
            member_join_apply(account=member.account, org=tree[E123], consent=True, ip=IP)

        assert exc.value.code == "already_member"
        assert exc.value.message == "您已是“十二号公司工会委员会”的会员。如需转到其他工会，请申请会员接转"
        assert portal_state() == before

    def test_bound_worker_without_membership_applies_as_their_record(self, tree):
        account = sign_in(NEW_PHONE)
        first = join(account, tree[E12], name="赵六", seq=201)
        member_application_withdraw(account=fresh(account), application_id=str(first.id), ip=IP)

        again = member_join_apply(account=fresh(account), org=tree[E123], consent=True, note="换个工会", ip=IP)

        assert again.person_id == first.person_id
        assert (again.org_id, again.source, again.status) == (tree[E123].id, "online", ApplicationStatus.PENDING)
        assert Person.objects.count() == 1
        before = portal_state()
        with pytest.raises(DomainError) as exc:
            member_join_apply(account=fresh(account), org=tree[E12], consent=True, ip=IP)
        assert exc.value.code == "duplicate_application"
        assert portal_state() == before


# ---------------------------------------------------------------- 2. withdrawing an application


class TestApplicationWithdraw:
    def test_member_withdraws_own_pending_application(self, tree):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)

        withdrawn = member_application_withdraw(account=fresh(account), application_id=str(application.id), ip=IP)

        application = fresh(application)
        assert withdrawn.id == application.id
        assert application.status == ApplicationStatus.WITHDRAWN
        assert application.decided_by == "会员137****1111"
        assert application.decision_reason == "申请人撤回"
        assert application.decided_at is not None
        event = events("join_application.withdraw").get()
        assert (event.actor_kind, event.actor_id, event.object_id) == ("member", account.id, str(application.id))
        assert event.details == {"by": "applicant"}
        assert event.object_org_path == tree[E12].path

    def test_another_members_application_is_not_found_and_stays_pending(self, tree):
        mine = sign_in(NEW_PHONE)
        join(mine, tree[E12], name="赵六", seq=201)
        theirs = sign_in(OTHER_PHONE)
        their_application = join(theirs, tree[E12], name="钱七", seq=202)
        before = portal_state()

        for application_id in (str(their_application.id), their_application.id, "not-an-id"):
            with pytest.raises(NotFound):
                member_application_withdraw(account=fresh(mine), application_id=application_id, ip=IP)

        assert portal_state() == before
        assert fresh(their_application).status == ApplicationStatus.PENDING

    def test_unbound_account_has_no_application_to_withdraw(self, tree):
        application = join(sign_in(NEW_PHONE), tree[E12], name="赵六", seq=201)
        stranger = sign_in(OTHER_PHONE)
        before = portal_state()

        with pytest.raises(NotFound):
            member_application_withdraw(account=stranger, application_id=str(application.id), ip=IP)

        assert portal_state() == before

    def test_withdrawing_a_decided_application_raises_case_moved_on(self, tree, actors):
        account = sign_in(NEW_PHONE)
        application = join(account, tree[E12], name="赵六", seq=201)
        join_application_approve(actor=actors["grassroots_cadre"], application=application)
        before = portal_state()

        with pytest.raises(CaseMovedOn) as exc:
            member_application_withdraw(account=fresh(account), application_id=str(application.id), ip=IP)

        assert (exc.value.code, exc.value.status) == ("conflict", 409)
        assert "已通过" in exc.value.message
        assert portal_state() == before
        assert fresh(application).status == ApplicationStatus.APPROVED


def test_an_online_application_must_give_what_a_complete_record_needs(tree):
    account = sign_in(NEW_PHONE)
    before = registry_state()

    with pytest.raises(ValidationFailed) as exc:
        join(account, tree[E12], name="李新", seq=5, work_unit="", education="")

    assert exc.value.errors == {"education": "请选择学历", "work_unit": "请填写工作单位"}
    assert registry_state() == before
