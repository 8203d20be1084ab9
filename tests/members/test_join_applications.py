"""Member registry workflows through the services: join applications. Every refused call is checked to leave the
registry and the audit trail exactly as they were."""

from datetime import date, timedelta

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.workdays import add_working_days
from gonghui.members.models import (
    ApplicationStatus,
    JoinApplication,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    TransferStatus,
)
from gonghui.members.selectors import join_applications_overdue
from gonghui.members.services import (
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_withdraw,
    transfer_accept,
    transfer_release,
)
from gonghui.orgs.services import org_dissolve
from tests.members.factories import enrol, resident_id, unchanged, unchanged_but_looked_up
from tests.members.workflow_factories import (
    BIRTH,
    E12,
    E123,
    NO_MEMBER_PERMS,
    PHONE,
    WZE1,
    audit_actions,
    audit_text,
    card_for,
    fresh,
    submit,
    today,
)

# ---------------------------------------------------------------- 2. join applications


class TestJoinApplications:
    def test_submit_is_pending_with_deadline_in_working_days(self, tree, actors):
        application = submit(actors["grassroots_cadre"], tree[E12], phone=PHONE, note="  希望入会  ")
        application = fresh(application)
        assert application.status == ApplicationStatus.PENDING
        assert application.source == MembershipSource.CADRE
        assert application.due_on == add_working_days(today(), 15)
        assert application.submitted_by == "grassroots_cadre"
        assert application.consent_at is None
        assert application.note == "希望入会"
        assert application.membership is None
        assert Membership.objects.count() == 0
        assert audit_actions() == ["person.create", "join_application.submit", "member.search_by_number"]
        event = AuditEvent.objects.get(action="join_application.submit")
        assert event.details == {"source": "cadre", "already_member_elsewhere": False}
        assert PHONE not in audit_text()

    def test_approve_creates_membership(self, tree, actors):
        application = submit(actors["grassroots_cadre"], tree[E12])
        membership = join_application_approve(actor=actors["town_cadre"], application=application, comment=" 同意 ")
        membership = fresh(membership)
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.source == MembershipSource.CADRE
        assert membership.org_id == tree[E12].id
        assert membership.joined_on == today()
        assert membership.card_number == card_for("320508", 1)
        application = fresh(application)
        assert application.status == ApplicationStatus.APPROVED
        assert application.membership_id == membership.id
        assert application.decided_by == "town_cadre"
        assert application.decision_reason == "同意"
        assert application.decided_at is not None
        event = AuditEvent.objects.get(action="join_application.approve")
        assert event.details == {"card_number": membership.card_number}
        assert event.object_id == str(application.id)

    def test_online_application_needs_consent_and_source_follows(self, tree, actors):
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            submit(actors["grassroots_cadre"], tree[E12], source=MembershipSource.ONLINE)
        assert "consent" in exc.value.errors

        application = submit(actors["grassroots_cadre"], tree[E12], source=MembershipSource.ONLINE, consent=True)
        assert application.consent_at is not None
        membership = join_application_approve(actor=actors["grassroots_cadre"], application=application)
        assert fresh(membership).source == MembershipSource.ONLINE

    def test_reject_needs_a_reason(self, tree, actors):
        application = submit(actors["grassroots_cadre"], tree[E12])
        for reason in ("", "   ", None, "理" * 501):
            with unchanged(), pytest.raises(ValidationFailed) as exc:
                join_application_reject(actor=actors["grassroots_cadre"], application=application, reason=reason)
            assert "reason" in exc.value.errors
        join_application_reject(actor=actors["grassroots_cadre"], application=application, reason=" 非本单位职工 ")
        application = fresh(application)
        assert application.status == ApplicationStatus.REJECTED
        assert application.decision_reason == "非本单位职工"
        assert application.decided_by == "grassroots_cadre"
        assert Membership.objects.count() == 0
        event = AuditEvent.objects.get(action="join_application.reject")
        assert event.details == {"reason": "非本单位职工"}

    def test_withdraw(self, tree, actors):
        application = submit(actors["grassroots_cadre"], tree[E12])
        join_application_withdraw(actor=actors["grassroots_cadre"], application=application)
        application = fresh(application)
        assert application.status == ApplicationStatus.WITHDRAWN
        assert application.decided_by == "grassroots_cadre"
        assert "join_application.withdraw" in audit_actions()
        # A new application may follow a closed one.
        again = submit(actors["grassroots_cadre"], tree[E12])
        assert again.status == ApplicationStatus.PENDING
        assert again.person_id == application.person_id

    @pytest.mark.parametrize("first", ["approve", "reject", "withdraw", "convert"])
    @pytest.mark.parametrize("second", ["approve", "reject", "withdraw", "convert"])
    def test_decided_application_moves_no_further(self, tree, actors, first, second):
        actor = actors["grassroots_cadre"]
        if first == "convert":  # only an applicant who is a member elsewhere can be converted
            enrol(actors["other_district_cadre"], tree[WZE1], name="李四", seq=2)
        calls = {
            "approve": lambda app: join_application_approve(actor=actor, application=app),
            "reject": lambda app: join_application_reject(actor=actor, application=app, reason="不符合条件"),
            "withdraw": lambda app: join_application_withdraw(actor=actor, application=app),
            "convert": lambda app: join_application_convert_to_transfer(actor=actor, application=app),
        }
        application = submit(actor, tree[E12])
        calls[first](application)
        status = fresh(application).status
        with unchanged(), pytest.raises(CaseMovedOn):
            calls[second](application)
        assert fresh(application).status == status

    def test_union_dissolved_after_submission(self, tree, actors, system):
        application = submit(actors["town_cadre"], tree[E123])
        org_dissolve(actor=system, org=tree[E123], reason="企业注销")
        with unchanged(), pytest.raises(ValidationFailed):
            join_application_approve(actor=actors["town_cadre"], application=application)
        join_application_reject(actor=actors["town_cadre"], application=application, reason="工会已撤销")
        assert fresh(application).status == ApplicationStatus.REJECTED

    def test_duplicate_pending_application_refused(self, tree, actors):
        submit(actors["grassroots_cadre"], tree[E12])
        for actor in ("grassroots_cadre", "town_cadre"):
            with unchanged_but_looked_up(), pytest.raises(DomainError) as exc:
                submit(actors[actor], tree[E12])
            assert (exc.value.code, exc.value.message) == (
                "duplicate_application",
                "该人员已有一份向本会提交的待审核入会申请，请直接审核该申请",
            )
        assert JoinApplication.objects.count() == 1
        # An application pending with one union does not stop another union entering its own.
        submit(actors["town_cadre"], tree[E123])
        assert sorted(JoinApplication.objects.values_list("org__code", "status")) == [
            (E12, "pending"),
            (E123, "pending"),
        ]

    def test_member_of_same_union_cannot_apply(self, tree, actors):
        number = resident_id(BIRTH, 41)
        enrol(actors["grassroots_cadre"], tree[E12], name="李四", number=number)
        with unchanged_but_looked_up(), pytest.raises(DomainError) as exc:
            submit(actors["grassroots_cadre"], tree[E12], doc_number=number)
        assert exc.value.code == "already_member"

    def test_scope_and_role(self, tree, actors):
        with unchanged(), pytest.raises(NotFound):
            submit(actors["other_district_cadre"], tree[E12])
        with unchanged(), pytest.raises(NotFound):
            submit(actors["grassroots_cadre"], tree[E123])
        application = submit(actors["grassroots_cadre"], tree[E12])
        with unchanged(), pytest.raises(NotFound):
            join_application_approve(actor=actors["other_district_cadre"], application=application)
        with unchanged(), pytest.raises(NotFound):
            join_application_reject(actor=actors["other_district_cadre"], application=application, reason="不同意")
        for username in NO_MEMBER_PERMS:
            with unchanged(), pytest.raises(PermissionDenied):
                join_application_approve(actor=actors[username], application=application)
            with unchanged(), pytest.raises(PermissionDenied):
                submit(actors[username], tree[E12], seq=99)

    def test_member_elsewhere_cannot_be_approved_but_converted_to_transfer(self, tree, actors):
        number = resident_id(BIRTH, 51)
        old = enrol(actors["other_district_cadre"], tree[WZE1], name="王五", number=number, joined_on=date(2014, 6, 1))
        application = submit(actors["grassroots_cadre"], tree[E12], name="王五", doc_number=number)
        assert application.status == ApplicationStatus.PENDING
        assert AuditEvent.objects.get(action="join_application.submit").details["already_member_elsewhere"] is True
        assert Person.objects.count() == 1

        with unchanged(), pytest.raises(DomainError) as exc:
            join_application_approve(actor=actors["grassroots_cadre"], application=application)
        assert exc.value.code == "already_member"

        transfer = join_application_convert_to_transfer(
            actor=actors["grassroots_cadre"], application=application, reason="调入本单位"
        )
        transfer = fresh(transfer)
        assert transfer.status == TransferStatus.PENDING_RELEASE
        assert transfer.membership_id == old.id
        assert transfer.from_org_id == tree[WZE1].id
        assert transfer.to_org_id == tree[E12].id
        assert transfer.common_parent_id == tree["SZ"].id
        assert transfer.reason == "调入本单位"
        assert transfer.requested_by_member is False
        application = fresh(application)
        assert application.status == ApplicationStatus.CONVERTED
        assert application.membership is None
        assert application.decided_by == "grassroots_cadre"
        convert = AuditEvent.objects.get(action="join_application.convert")
        assert convert.details == {"transfer": str(transfer.id)}
        assert AuditEvent.objects.filter(action="transfer.request").count() == 1

        # The transfer then runs its ordinary course.
        transfer_release(actor=actors["other_district_cadre"], transfer=transfer)
        new = transfer_accept(actor=actors["grassroots_cadre"], transfer=transfer)
        assert new.org_id == tree[E12].id
        assert new.joined_on == date(2014, 6, 1)
        assert new.source == MembershipSource.TRANSFER_IN

    def test_online_application_converted_is_requested_by_member(self, tree, actors):
        number = resident_id(BIRTH, 53)
        enrol(actors["other_district_cadre"], tree[WZE1], name="王五", number=number)
        application = submit(
            actors["grassroots_cadre"], tree[E12], name="王五", doc_number=number, source="online", consent=True
        )
        transfer = join_application_convert_to_transfer(actor=actors["grassroots_cadre"], application=application)
        assert transfer.requested_by_member is True
        assert transfer.reason == "入会申请转为会员接转"

    def test_convert_needs_membership_elsewhere(self, tree, actors):
        application = submit(actors["grassroots_cadre"], tree[E12])
        with unchanged(), pytest.raises(DomainError):
            join_application_convert_to_transfer(actor=actors["grassroots_cadre"], application=application)
        assert fresh(application).status == ApplicationStatus.PENDING

    def test_overdue_applications_seen_by_upper_unions_in_subtree(self, tree, actors):
        overdue = submit(actors["grassroots_cadre"], tree[E12], name="李四", seq=61)
        on_time = submit(actors["town_cadre"], tree[E123], name="赵六", seq=63)
        JoinApplication.objects.filter(pk=overdue.pk).update(due_on=today() - timedelta(days=3))

        def seen(username):
            return {a.id for a in join_applications_overdue(actor=actors[username])}

        assert seen("town_cadre") == {overdue.id}
        assert seen("district_cadre") == {overdue.id}
        assert seen("city_cadre") == {overdue.id}
        assert seen("grassroots_cadre") == {overdue.id}
        assert seen("other_district_cadre") == set()
        assert on_time.id not in seen("city_cadre")
        # Decided applications are no longer overdue.
        join_application_reject(actor=actors["town_cadre"], application=overdue, reason="超期未补材料")
        assert seen("district_cadre") == set()
        with pytest.raises(PermissionDenied):
            join_applications_overdue(actor=actors["sysadmin"])
