"""Member registry workflows through the services: enrolment, join applications, transfers (接转), leave / reserve /
restore / cancel, corrections and reveals, database constraints, concurrent decisions (PostgreSQL), e-member cards
and data quality. Every refused call is checked to leave the registry and the audit trail exactly as they were."""

import contextlib
import json
import threading
from datetime import date, timedelta
from decimal import Decimal
from functools import partial

import pytest
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone
from stdnum import luhn

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.workdays import add_working_days
from gonghui.members import cards
from gonghui.members.cards import card_token_issue, card_token_verify
from gonghui.members.models import (
    ApplicationStatus,
    JoinApplication,
    Membership,
    MembershipSource,
    MembershipStatus,
    Person,
    QualityFlag,
    TransferRequest,
    TransferStatus,
)
from gonghui.members.people import document_number_of, phone_of
from gonghui.members.quality import quality_summary, rectification_count, rectification_list
from gonghui.members.selectors import join_applications_overdue, person_history, transfers_escalated
from gonghui.members.services import (
    applications,
    declared_total_record,
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_submit,
    join_application_withdraw,
    member_enrol,
    membership_cancel,
    membership_leave,
    membership_reserve,
    membership_restore,
    person_reveal,
    person_update,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
    transfers_escalate_overdue,
)
from gonghui.orgs.models import OrgStatus
from gonghui.orgs.services import org_dissolve
from tests.conftest import is_postgres
from tests.members.concurrency import race
from tests.members.factories import COMPLETE_PROFILE, enrol, resident_id, unchanged, unchanged_but_looked_up

E12 = "SZ-GS-T01-12"
E123 = "SZ-GS-T01-123"
WZE1 = "SZ-WZ-T01-E1"
T01 = "SZ-GS-T01"
PHONE = "13812341234"
BIRTH = date(1990, 5, 17)
NO_MEMBER_PERMS = ("sysadmin", "secadmin", "auditor")


def today() -> date:
    return timezone.localdate()


def card_for(region: str, serial: int, year: int | None = None) -> str:
    body = f"{region}{year or today().year:04d}{serial:06d}"
    return body + luhn.calc_check_digit(body)


def audit_actions() -> list[str]:
    """The trail written after the fixtures (which create the organisations), oldest first."""
    events = AuditEvent.objects.exclude(action__startswith="org.").order_by("at", "id")
    return list(events.values_list("action", flat=True))


def audit_text() -> str:
    """Every label and detail of the trail as one string, to search for personal numbers."""
    rows = AuditEvent.objects.values("object_label", "details", "object_id")
    return json.dumps(list(rows), ensure_ascii=False, default=str)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def submit(actor, org, *, name="李四", seq=2, birth=BIRTH, **extra):
    fields = {**COMPLETE_PROFILE, **extra}
    return join_application_submit(
        actor=actor,
        org=org,
        doc_type=fields.pop("doc_type", "resident_id"),
        doc_number=fields.pop("doc_number", resident_id(birth, seq)),
        name=name,
        **fields,
    )


# ---------------------------------------------------------------- 1. enrolment by a cadre


class TestEnrol:
    def test_creates_sealed_person_and_active_membership_with_audit(self, tree, actors):
        number = resident_id(BIRTH, 123)
        membership = member_enrol(
            actor=actors["grassroots_cadre"],
            org=tree[E12],
            doc_type="resident_id",
            doc_number=number,
            phone=PHONE,
            name="张三",
            **COMPLETE_PROFILE,
        )

        person = Person.objects.get()
        assert person.name == "张三"
        assert person.doc_type == "resident_id"
        assert number.encode() not in bytes(person.doc_number_enc)
        assert number not in person.doc_index
        assert person.doc_masked == number[:4] + "*" * 10 + number[-4:]
        assert person.doc_masked.startswith("3205**********")
        assert document_number_of(person) == number
        assert PHONE.encode() not in bytes(person.phone_enc)
        assert person.phone_masked == "138****1234"
        assert phone_of(person) == PHONE
        assert person.birth_date == BIRTH
        assert person.sex == "M"  # sequence 123: odd
        assert person.region_code == "320508"
        assert person.quality_flags == 0

        membership = Membership.objects.get(pk=membership.pk)
        assert membership.person_id == person.id
        assert membership.org_id == tree[E12].id
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.source == MembershipSource.CADRE
        assert membership.joined_on == today()
        assert membership.ended_on is None
        assert membership.previous is None
        card = membership.card_number
        assert len(card) == 17 and card.isdigit()
        assert card[:6] == tree[E12].region_code == "320508"
        assert card[6:10] == str(today().year)
        assert card[10:16] == "000001"
        assert luhn.is_valid(card)
        assert card == card_for("320508", 1)

        assert audit_actions() == ["person.create", "membership.enrol", "member.search_by_number"]
        created = AuditEvent.objects.get(action="person.create")
        assert created.object_type == "person"
        assert created.object_id == str(person.id)
        assert created.actor_label == "grassroots_cadre"
        assert created.object_org_path == tree[E12].path
        assert created.details == {"doc_type": "resident_id", "doc": person.doc_masked}
        enrolled = AuditEvent.objects.get(action="membership.enrol")
        assert enrolled.object_type == "membership"
        assert enrolled.object_id == str(membership.id)
        assert enrolled.object_org_path == tree[E12].path
        assert enrolled.details == {"source": "cadre", "org": E12}
        text = audit_text()
        assert number not in text
        assert PHONE not in text
        assert "张三" not in text  # names are masked in labels

    def test_card_serials_count_per_region_and_year(self, tree, actors):
        first = enrol(actors["grassroots_cadre"], tree[E12], name="张一", seq=11)
        second = enrol(actors["town_cadre"], tree[E123], name="张二", seq=13)  # same region 320508
        third = enrol(actors["other_district_cadre"], tree[WZE1], name="张三", seq=15)  # region 320506
        assert first.card_number == card_for("320508", 1)
        assert second.card_number == card_for("320508", 2)
        assert third.card_number == card_for("320506", 1)
        assert all(luhn.is_valid(m.card_number) for m in (first, second, third))

    def test_import_source_and_past_join_date(self, tree, actors):
        membership = enrol(
            actors["town_cadre"], tree[E12], name="张三", source=MembershipSource.IMPORT, joined_on=date(2012, 3, 1)
        )
        assert membership.source == "import"
        assert membership.joined_on == date(2012, 3, 1)

    @pytest.mark.parametrize(
        ("extra", "field"),
        [
            ({"source": MembershipSource.ONLINE}, "source"),
            ({"source": MembershipSource.TRANSFER_IN}, "source"),
            ({"joined_on": date(2005, 1, 1)}, "joined_on"),  # before the 16th birthday (2006-05-17)
            ({"phone": "0512-1234"}, "phone"),
            ({"ethnicity": "火星族"}, "ethnicity"),
        ],
    )
    def test_invalid_input_refused(self, tree, actors, extra, field):
        # Only the age check needs the registry's record, so only it follows an (audited) lookup.
        with unchanged_but_looked_up() if field == "joined_on" else unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["grassroots_cadre"], tree[E12], name="张三", **extra)
        assert field in exc.value.errors

    def test_join_date_in_future_refused(self, tree, actors):
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["grassroots_cadre"], tree[E12], name="张三", joined_on=today() + timedelta(days=1))
        assert "joined_on" in exc.value.errors

    def test_same_person_again_refused_in_same_and_other_union(self, tree, actors):
        number = resident_id(BIRTH, 21)
        enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number)
        for actor, code, message in (
            ("grassroots_cadre", E12, "该人员已是本会的会员"),
            ("town_cadre", E123, f"该人员已是“{tree[E12].name}”的会员，可发起会员接转"),
            ("other_district_cadre", WZE1, "该人员已是其他工会会员，可发起会员接转"),
        ):
            with unchanged_but_looked_up(), pytest.raises(DomainError) as exc:
                enrol(actors[actor], tree[code], name="张三", number=number)
            assert (exc.value.code, exc.value.message) == ("already_member", message)
        assert Membership.objects.count() == 1
        assert Person.objects.count() == 1

    @pytest.mark.parametrize("code", [T01, "SZ-GS-T01-C1", "SZ-GS", "SZ"])
    def test_non_grassroots_org_refused(self, tree, actors, code):
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["city_cadre"], tree[code], name="张三")
        assert "org" in exc.value.errors

    def test_dissolved_union_refused(self, tree, actors, system):
        org_dissolve(actor=system, org=tree[E123], reason="企业注销")
        union = fresh(tree[E123])
        assert union.status == OrgStatus.DISSOLVED
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["town_cadre"], union, name="张三")
        assert "org" in exc.value.errors

    @pytest.mark.parametrize(
        ("username", "code"),
        [
            ("other_district_cadre", E12),
            ("grassroots_cadre", E123),  # "12" must not cover "123"
            ("town_cadre", "SZ-GS-T02-E1"),
            ("district_cadre", WZE1),
        ],
    )
    def test_out_of_scope_actor_gets_not_found(self, tree, actors, username, code):
        with unchanged(), pytest.raises(NotFound):
            enrol(actors[username], tree[code], name="张三")

    @pytest.mark.parametrize("username", NO_MEMBER_PERMS)
    def test_admins_without_member_permissions_refused(self, tree, actors, username):
        with unchanged(), pytest.raises(PermissionDenied):
            enrol(actors[username], tree[E12], name="张三")

    def test_different_name_for_registered_document_refused(self, tree, actors):
        number = resident_id(BIRTH, 31)
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number)
        with unchanged_but_looked_up(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["town_cadre"], tree[E123], name="李四", number=number)
        assert exc.value.errors == {"name": "姓名与证件号码不符，请核对证件原件后重新填写"}
        # Still refused once the first membership has ended.
        membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职")
        with unchanged_but_looked_up(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["town_cadre"], tree[E123], name="李四", number=number)
        assert exc.value.errors == {"name": "姓名与证件号码不符，请核对证件原件后重新填写"}
        assert Person.objects.get().name == "张三"

    def test_document_typed_differently_is_the_same_person(self, tree, actors):
        number = resident_id(date(1970, 1, 2), 17)
        legacy = number[:6] + number[8:17]  # the 15-digit number of the same card
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=legacy, doc_type="居民身份证")
        person = Person.objects.get()
        assert person.doc_type == "resident_id"
        assert document_number_of(person) == number
        assert person.birth_date == date(1970, 1, 2)
        assert membership.status == MembershipStatus.ACTIVE
        full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
        for typed in (number, full_width, f" {number[:6]} {number[6:]} ", number.lower()):
            with unchanged_but_looked_up(), pytest.raises(DomainError) as exc:
                enrol(actors["town_cadre"], tree[E123], name="张三", number=typed)
            assert exc.value.code == "already_member"
        assert Person.objects.count() == 1

    @pytest.mark.parametrize("kind", ["check_character", "length", "spreadsheet", "region", "birth_date"])
    def test_invalid_document_refused(self, tree, actors, kind):
        valid = resident_id(BIRTH, 123)
        number = {
            "check_character": valid[:17] + ("0" if valid[17] != "0" else "1"),
            "length": valid[:16],
            "spreadsheet": "3.20508199005171E+17",
            "region": resident_id(BIRTH, 123, region="999999"),
            "birth_date": "320508" + "19900230" + "123" + "0",
        }[kind]
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number)
        assert "doc_number" in exc.value.errors

    def test_under_sixteen_refused(self, tree, actors):
        young = today().replace(year=today().year - 15) - timedelta(days=40)
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=resident_id(young, 1))
        assert "doc_number" in exc.value.errors

    def test_passport_needs_birth_date(self, tree, actors):
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            enrol(actors["grassroots_cadre"], tree[E12], name="JOHNSMITH", doc_type="passport", number="E12345678")
        assert "birth_date" in exc.value.errors
        assert Person.objects.count() == 0

        membership = enrol(
            actors["grassroots_cadre"],
            tree[E12],
            name="JOHNSMITH",
            doc_type="passport",
            number="e1234 5678",
            birth_date=date(1985, 3, 2),
            sex="F",
            phone="13900001111",
        )
        person = Person.objects.get()
        assert membership.status == MembershipStatus.ACTIVE
        assert person.doc_type == "passport"
        assert document_number_of(person) == "E12345678"
        assert person.doc_masked == "E123*5678"
        assert person.birth_date == date(1985, 3, 2)
        assert person.sex == "F"
        assert person.region_code == ""
        assert person.quality_flags == 0


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


# ---------------------------------------------------------------- 4. leave, reserve, restore, cancel


class TestMembershipChanges:
    def test_leave(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", joined_on=date(2020, 1, 1))
        for reason in ("", "  ", None):
            with unchanged(), pytest.raises(ValidationFailed) as exc:
                membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason=reason)
            assert "reason" in exc.value.errors
        for on in (today() + timedelta(days=1), date(2019, 12, 31)):
            with unchanged(), pytest.raises(ValidationFailed) as exc:
                membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职", on=on)
            assert "ended_on" in exc.value.errors
        with unchanged(), pytest.raises(NotFound):
            membership_leave(actor=actors["other_district_cadre"], membership=membership, reason="离职")
        with unchanged(), pytest.raises(PermissionDenied):
            membership_leave(actor=actors["sysadmin"], membership=membership, reason="离职")

        membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason=" 离职 ")
        membership = fresh(membership)
        assert membership.status == MembershipStatus.LEFT
        assert membership.ended_on == today()
        assert membership.end_reason == "离职"
        event = AuditEvent.objects.get(action="membership.leave")
        assert event.details == {"reason": "离职", "on": today().isoformat()}

        for call in (
            lambda: membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="再退"),
            lambda: membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="保留"),
            lambda: membership_restore(actor=actors["grassroots_cadre"], membership=membership, reason="恢复"),
            lambda: membership_cancel(actor=actors["grassroots_cadre"], membership=membership, reason="注销"),
        ):
            with unchanged(), pytest.raises(CaseMovedOn):
                call()

    def test_leave_on_a_past_date(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", joined_on=date(2020, 1, 1))
        membership_leave(actor=actors["town_cadre"], membership=membership, reason="退休", on=date(2020, 1, 1))
        membership = fresh(membership)
        assert membership.ended_on == date(2020, 1, 1)
        assert membership.status == MembershipStatus.LEFT

    def test_reserve_restore_and_leave_from_reserved(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        with unchanged(), pytest.raises(CaseMovedOn):
            membership_restore(actor=actors["grassroots_cadre"], membership=membership)
        with unchanged(), pytest.raises(ValidationFailed):
            membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="")

        membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="失业")
        membership = fresh(membership)
        assert membership.status == MembershipStatus.RESERVED
        assert membership.ended_on is None
        assert membership.end_reason == "失业"
        with unchanged(), pytest.raises(CaseMovedOn):
            membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="再保留")
        # A reserved member still holds membership: no second enrolment.
        with unchanged_but_looked_up(), pytest.raises(DomainError) as exc:
            enrol(actors["town_cadre"], tree[E123], name="张三")
        assert exc.value.code == "already_member"

        membership_restore(actor=actors["grassroots_cadre"], membership=membership, reason="再就业")
        membership = fresh(membership)
        assert membership.status == MembershipStatus.ACTIVE
        assert membership.end_reason == ""
        assert AuditEvent.objects.get(action="membership.restore").details == {"reason": "再就业"}

        membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="长期病假")
        membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职")
        membership = fresh(membership)
        assert membership.status == MembershipStatus.LEFT
        assert membership.ended_on == today()
        assert [a for a in audit_actions() if a.startswith("membership.")] == [
            "membership.enrol",
            "membership.reserve",
            "membership.restore",
            "membership.reserve",
            "membership.leave",
        ]

    def test_cancel(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", joined_on=date(2018, 1, 1))
        with unchanged(), pytest.raises(ValidationFailed):
            membership_cancel(actor=actors["grassroots_cadre"], membership=membership, reason="")
        membership_cancel(actor=actors["district_cadre"], membership=membership, reason="错录", on=date(2018, 2, 1))
        membership = fresh(membership)
        assert membership.status == MembershipStatus.CANCELLED
        assert membership.ended_on == date(2018, 2, 1)
        assert membership.end_reason == "错录"
        assert AuditEvent.objects.get(action="membership.cancel").details == {"reason": "错录", "on": "2018-02-01"}
        with unchanged(), pytest.raises(CaseMovedOn):
            membership_cancel(actor=actors["grassroots_cadre"], membership=membership, reason="再注销")

    def test_history_kept_after_leave_and_reenrolment(self, tree, actors):
        number = resident_id(BIRTH, 81)
        first = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number, joined_on=date(2016, 1, 1))
        membership_leave(actor=actors["grassroots_cadre"], membership=first, reason="离职")
        second = enrol(actors["town_cadre"], tree[E123], name="张三", number=number)
        assert Person.objects.count() == 1
        assert second.person_id == first.person_id
        assert second.card_number != first.card_number
        # The second enrolment of a known person creates no person record.
        assert AuditEvent.objects.filter(action="person.create").count() == 1

        history = person_history(actor=actors["town_cadre"], person=second.person)
        assert [m.id for m in history["memberships"]] == [second.id, first.id]
        assert [m.status for m in history["memberships"]] == [MembershipStatus.ACTIVE, MembershipStatus.LEFT]
        # The union the person left still sees its own past member, and nothing of the union they joined since.
        history = person_history(actor=actors["grassroots_cadre"], person=first.person)
        assert [m.id for m in history["memberships"]] == [first.id]
        with pytest.raises(NotFound):
            person_history(actor=actors["other_district_cadre"], person=first.person)


# ---------------------------------------------------------------- 5. correction and reveal


class TestPersonUpdateAndReveal:
    def test_correction_changes_and_audits_masked(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", phone=PHONE)
        person = membership.person
        new_phone = "13900001111"
        person_update(
            actor=actors["grassroots_cadre"],
            person=person,
            name="张三丰",
            phone=new_phone,
            work_unit="新单位",
            education="postgraduate",
        )
        person = fresh(person)
        assert person.name == "张三丰"
        assert person.phone_masked == "139****1111"
        assert phone_of(person) == new_phone
        assert person.work_unit == "新单位"
        assert person.education == "postgraduate"
        assert person.quality_flags == 0

        event = AuditEvent.objects.get(action="person.correct")
        assert event.object_id == str(person.id)
        assert event.object_org_path == tree[E12].path
        assert event.details == {
            "changes": {
                "name": ["张*", "张**"],
                "mobile": ["138****1234", "139****1111"],
                "work_unit": ["十二号有限公司", "新单位"],
                "education": ["bachelor", "postgraduate"],
            }
        }
        text = audit_text()
        assert PHONE not in text
        assert new_phone not in text
        assert "张三丰" not in text

    def test_invalid_phone_changes_nothing(self, tree, actors):
        person = enrol(actors["grassroots_cadre"], tree[E12], name="张三", phone=PHONE).person
        for phone in ("12345", "0512-65241234", "1381234123x"):
            with unchanged(), pytest.raises(ValidationFailed) as exc:
                person_update(actor=actors["grassroots_cadre"], person=person, name="李四", phone=phone)
            assert "phone" in exc.value.errors
        person = fresh(person)
        assert person.name == "张三"
        assert phone_of(person) == PHONE

    def test_document_of_someone_else_refused(self, tree, actors):
        first = enrol(actors["grassroots_cadre"], tree[E12], name="张三", seq=91).person
        other_number = resident_id(BIRTH, 93)
        enrol(actors["grassroots_cadre"], tree[E12], name="李四", number=other_number)
        with unchanged(), pytest.raises(ValidationFailed) as exc:
            person_update(actor=actors["grassroots_cadre"], person=first, doc_number=other_number)
        assert "doc_number" in exc.value.errors
        assert document_number_of(fresh(first)) == resident_id(BIRTH, 91)

    def test_document_correction_rederives_birth_and_sex(self, tree, actors):
        old_number = resident_id(BIRTH, 95)
        person = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=old_number).person
        new_number = resident_id(date(1991, 2, 3), 96, region="320506")
        person_update(actor=actors["grassroots_cadre"], person=person, doc_number=new_number)
        person = fresh(person)
        assert document_number_of(person) == new_number
        assert person.birth_date == date(1991, 2, 3)
        assert person.sex == "F"
        assert person.region_code == "320506"
        changes = AuditEvent.objects.get(action="person.correct").details["changes"]
        assert changes["doc"] == [old_number[:4] + "*" * 10 + old_number[-4:], person.doc_masked]
        assert changes["birth_date"] == ["1990-05-17", "1991-02-03"]
        assert changes["sex"] == ["M", "F"]
        text = audit_text()
        assert old_number not in text
        assert new_number not in text

    def test_correction_only_by_holding_union(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", phone=PHONE)
        for username in ("other_district_cadre", *NO_MEMBER_PERMS):
            with unchanged(), pytest.raises(PermissionDenied):
                person_update(actor=actors[username], person=membership.person, name="李四")
        membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职")
        with unchanged(), pytest.raises(PermissionDenied):
            person_update(actor=actors["grassroots_cadre"], person=membership.person, name="李四")

    def test_reveal(self, tree, actors):
        number = resident_id(BIRTH, 97)
        person = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number, phone=PHONE).person
        for reason in ("", "   ", None):
            with unchanged(), pytest.raises(ValidationFailed) as exc:
                person_reveal(actor=actors["grassroots_cadre"], person=person, field="doc_number", reason=reason)
            assert "reason" in exc.value.errors
        with unchanged(), pytest.raises(ValidationFailed):
            person_reveal(actor=actors["grassroots_cadre"], person=person, field="name", reason="核对")
        for username in NO_MEMBER_PERMS:
            with unchanged(), pytest.raises(PermissionDenied):
                person_reveal(actor=actors[username], person=person, field="doc_number", reason="核对")
        with unchanged(), pytest.raises(NotFound):
            person_reveal(actor=actors["other_district_cadre"], person=person, field="doc_number", reason="核对")

        assert (
            person_reveal(actor=actors["grassroots_cadre"], person=person, field="doc_number", reason=" 核对身份 ")
            == number
        )
        event = AuditEvent.objects.get(action="person.reveal")
        assert event.details == {"field": "doc_number", "reason": "核对身份"}
        assert event.actor_label == "grassroots_cadre"
        assert event.object_id == str(person.id)
        assert person_reveal(actor=actors["city_cadre"], person=person, field="phone", reason="联系本人") == PHONE
        assert AuditEvent.objects.filter(action="person.reveal").count() == 2
        text = audit_text()
        assert number not in text
        assert PHONE not in text

    def test_reveal_follows_the_person_not_the_history(self, tree, actors):
        """After a transfer the old union keeps the history but may no longer reveal; the target may while the
        transfer is open and after it completes; an applicant's union may reveal while it decides."""
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", phone=PHONE)
        person = membership.person
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[WZE1], reason="调动"
        )
        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        assert (
            person_reveal(actor=actors["other_district_cadre"], person=person, field="phone", reason="接收前核对")
            == PHONE
        )
        transfer_accept(actor=actors["other_district_cadre"], transfer=transfer)
        with unchanged(), pytest.raises(NotFound):
            person_reveal(actor=actors["grassroots_cadre"], person=person, field="phone", reason="核对")
        assert person_reveal(actor=actors["other_district_cadre"], person=person, field="phone", reason="核对") == PHONE

        applicant = submit(actors["grassroots_cadre"], tree[E12], name="李四", seq=52).person
        assert person_reveal(actor=actors["town_cadre"], person=applicant, field="doc_number", reason="审核") == (
            resident_id(BIRTH, 52)
        )

    def test_reveal_respects_prefix_trap(self, tree, actors):
        person = enrol(actors["town_cadre"], tree[E123], name="张三", phone=PHONE).person
        with unchanged(), pytest.raises(NotFound):
            person_reveal(actor=actors["grassroots_cadre"], person=person, field="phone", reason="核对")


# ---------------------------------------------------------------- 6. database constraints


class TestDatabaseConstraints:
    def _row(self, person, org, *, status, card, ended_on=None):
        return Membership.objects.create(
            person=person,
            org=org,
            status=status,
            joined_on=date(2020, 1, 1),
            source=MembershipSource.CADRE,
            card_number=card,
            ended_on=ended_on,
        )

    @pytest.mark.parametrize("status", ["active", "reserved"])
    def test_one_holding_membership_per_person(self, tree, actors, status):
        person = enrol(actors["grassroots_cadre"], tree[E12], name="张三").person
        with pytest.raises(IntegrityError), transaction.atomic():
            self._row(person, tree[E123], status=status, card="X0000000000000001")
        assert Membership.objects.filter(person=person).count() == 1
        for i, ended in enumerate(["left", "transferred_out", "cancelled"]):
            self._row(person, tree[E123], status=ended, card=f"X000000000000001{i}", ended_on=today())
        assert Membership.objects.filter(person=person).count() == 4

    def test_end_date_matches_status(self, tree, actors):
        person = enrol(actors["grassroots_cadre"], tree[E12], name="张三").person
        membership_leave(actor=actors["grassroots_cadre"], membership=person.memberships.get(), reason="离职")
        with pytest.raises(IntegrityError), transaction.atomic():
            self._row(person, tree[E123], status="left", card="X0000000000000002")
        with pytest.raises(IntegrityError), transaction.atomic():
            self._row(person, tree[E123], status="active", card="X0000000000000003", ended_on=today())
        assert Membership.objects.count() == 1

    def test_person_document_unique(self, tree, actors):
        person = enrol(actors["grassroots_cadre"], tree[E12], name="张三").person
        with pytest.raises(IntegrityError), transaction.atomic():
            Person.objects.create(
                name="李四", doc_type=person.doc_type, doc_index=person.doc_index, doc_number_enc=b"x", doc_masked="x"
            )
        Person.objects.create(
            name="李四", doc_type="passport", doc_index=person.doc_index, doc_number_enc=b"x", doc_masked="x"
        )
        assert Person.objects.count() == 2

    def test_card_number_unique(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        other = enrol(actors["grassroots_cadre"], tree[E12], name="李四", seq=3).person
        membership_leave(actor=actors["grassroots_cadre"], membership=other.memberships.get(), reason="离职")
        with pytest.raises(IntegrityError), transaction.atomic():
            self._row(other, tree[E123], status="active", card=membership.card_number)


# ---------------------------------------------------------------- 7. concurrency (PostgreSQL)


def split(results, winner_type):
    winners = [r for r in results if isinstance(r, winner_type)]
    losers = [r for r in results if not isinstance(r, winner_type)]
    return winners, losers


needs_postgres = pytest.mark.skipif(
    not is_postgres(), reason="row locks (SELECT ... FOR UPDATE) and concurrent writers need PostgreSQL"
)


@needs_postgres
@pytest.mark.django_db(transaction=True)
class TestConcurrency:
    def test_two_cadres_approve_the_same_application(self, tree, actors):
        for round_ in range(3):
            application = submit(actors["grassroots_cadre"], tree[E12], name="李四", seq=100 + round_ * 2)
            copies = [JoinApplication.objects.select_related("org", "person").get(pk=application.pk) for _ in "ab"]
            results = race(
                partial(join_application_approve, actor=actors["grassroots_cadre"], application=copies[0]),
                partial(join_application_approve, actor=actors["town_cadre"], application=copies[1]),
            )
            winners, losers = split(results, Membership)
            assert len(winners) == 1, results
            assert len(losers) == 1 and isinstance(losers[0], CaseMovedOn), results
            assert Membership.objects.filter(person_id=application.person_id).count() == 1
            assert fresh(application).status == ApplicationStatus.APPROVED
            assert fresh(application).membership_id == winners[0].id
            assert (
                AuditEvent.objects.filter(action="join_application.approve", object_id=str(application.pk)).count() == 1
            )

    def test_two_target_cadres_accept_the_same_transfer(self, tree, actors):
        for round_ in range(3):
            membership = enrol(actors["other_district_cadre"], tree[WZE1], name="王五", seq=110 + round_ * 2)
            transfer = transfer_request(
                actor=actors["other_district_cadre"], membership=membership, to_org=tree[E12], reason="调动"
            )
            transfer_release(actor=actors["other_district_cadre"], transfer=transfer)
            copies = [TransferRequest.objects.select_related("from_org", "to_org").get(pk=transfer.pk) for _ in "ab"]
            results = race(
                partial(transfer_accept, actor=actors["grassroots_cadre"], transfer=copies[0]),
                partial(transfer_accept, actor=actors["town_cadre"], transfer=copies[1]),
            )
            winners, losers = split(results, Membership)
            assert len(winners) == 1, results
            assert len(losers) == 1 and isinstance(losers[0], CaseMovedOn), results
            rows = Membership.objects.filter(person_id=membership.person_id)
            assert rows.count() == 2
            assert rows.filter(status="active").get().id == winners[0].id
            assert rows.filter(status="transferred_out").get().id == membership.id
            assert fresh(transfer).status == TransferStatus.COMPLETED
            assert fresh(transfer).new_membership_id == winners[0].id
            assert AuditEvent.objects.filter(action="transfer.accept", object_id=str(transfer.pk)).count() == 1

    def test_two_cadres_enrol_the_same_new_person(self, tree, actors):
        number = resident_id(BIRTH, 121)
        results = race(
            lambda: enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number),
            lambda: enrol(actors["town_cadre"], tree[E123], name="张三", number=number),
        )
        winners, losers = split(results, Membership)
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], DomainError), results
        assert losers[0].code == "already_member"
        assert Person.objects.count() == 1
        assert Membership.objects.count() == 1

    def test_two_cadres_reenrol_a_known_person(self, tree, actors):
        number = resident_id(BIRTH, 123)
        first = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number)
        membership_leave(actor=actors["grassroots_cadre"], membership=first, reason="离职")
        results = race(
            lambda: enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number),
            lambda: enrol(actors["town_cadre"], tree[E123], name="张三", number=number),
        )
        winners, losers = split(results, Membership)
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], DomainError), results
        assert losers[0].code == "already_member"
        assert Membership.objects.filter(status="active").count() == 1
        assert Membership.objects.count() == 2

    def test_different_people_enrolled_at_once_get_distinct_serials(self, tree, actors):
        results = race(
            lambda: enrol(actors["grassroots_cadre"], tree[E12], name="张三", seq=131),
            lambda: enrol(actors["town_cadre"], tree[E123], name="李四", seq=133),
        )
        assert all(isinstance(r, Membership) for r in results), results
        assert sorted(r.card_number for r in results) == [card_for("320508", 1), card_for("320508", 2)]

    def test_accept_and_refuse_at_once(self, tree, actors):
        membership = enrol(actors["other_district_cadre"], tree[WZE1], name="王五", seq=141)
        transfer = transfer_request(
            actor=actors["other_district_cadre"], membership=membership, to_org=tree[E12], reason="调动"
        )
        transfer_release(actor=actors["other_district_cadre"], transfer=transfer)
        copies = [TransferRequest.objects.get(pk=transfer.pk) for _ in "ab"]
        results = race(
            lambda: transfer_accept(actor=actors["grassroots_cadre"], transfer=copies[0]),
            lambda: transfer_refuse(actor=actors["town_cadre"], transfer=copies[1], reason="不接收"),
        )
        assert sum(isinstance(r, CaseMovedOn) for r in results) == 1, results
        transfer = fresh(transfer)
        if isinstance(results[0], Membership):
            assert transfer.status == TransferStatus.COMPLETED
            assert Membership.objects.filter(person_id=membership.person_id, status="active").get().org_id == (
                tree[E12].id
            )
        else:
            assert isinstance(results[1], TransferRequest), results
            assert transfer.status == TransferStatus.REFUSED
            assert fresh(membership).status == MembershipStatus.ACTIVE
            assert Membership.objects.filter(person_id=membership.person_id).count() == 1

    def test_two_cadres_submit_for_the_same_known_person(self, tree, actors, monkeypatch):
        """Both pass the "no pending application to this union" check before either inserts: the loser must be told
        the application exists (a DomainError), not hit the database constraint as an unhandled IntegrityError."""
        number = resident_id(BIRTH, 151)
        withdrawn = submit(actors["grassroots_cadre"], tree[E12], doc_number=number)
        join_application_withdraw(actor=actors["grassroots_cadre"], application=withdrawn)

        both_checked = threading.Barrier(2)
        original = applications.add_working_days

        def after_the_check(start, days):  # called right after the duplicate check, right before the insert
            # A locking implementation keeps the second caller out until the first commits: the wait times out.
            with contextlib.suppress(threading.BrokenBarrierError):
                both_checked.wait(timeout=3)
            return original(start, days)

        monkeypatch.setattr(applications, "add_working_days", after_the_check)
        results = race(
            lambda: submit(actors["grassroots_cadre"], tree[E12], doc_number=number),
            lambda: submit(actors["town_cadre"], tree[E12], doc_number=number),
        )
        winners, losers = split(results, JoinApplication)
        assert len(winners) == 1, results
        assert JoinApplication.objects.filter(status="pending").count() == 1
        assert len(losers) == 1
        assert isinstance(losers[0], DomainError), f"expected DomainError, got {losers[0]!r}"
        assert (losers[0].code, losers[0].message) == (
            "duplicate_application",
            "该人员已有一份向本会提交的待审核入会申请，请直接审核该申请",
        )


# ---------------------------------------------------------------- 8. e-member cards


class TestCards:
    def test_valid_token_verified_and_audited(self, tree, actors):
        number = resident_id(BIRTH, 131)
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三", number=number, phone=PHONE)
        token = card_token_issue(membership)
        assert number not in token
        assert PHONE not in token
        payload = signing.loads(token, salt=cards.CARD_TOKEN_SALT)
        assert payload == {"m": str(membership.id), "c": membership.card_number}

        check = card_token_verify(actor=actors["other_district_cadre"], token=token)
        assert check.valid is True
        assert check.reason == ""
        assert check.card_number == membership.card_number
        assert check.name_masked == "张*"
        assert check.union_name == tree[E12].name
        assert check.status_label == "正式会员"
        event = AuditEvent.objects.get(action="card.verify")
        assert event.result == AuditResult.SUCCESS
        assert event.details == {"valid": True, "reason": ""}
        assert event.object_label == membership.card_number
        assert event.actor_label == "other_district_cadre"
        assert number not in audit_text()

    def test_expired_token_invalid(self, tree, actors, monkeypatch):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        token = card_token_issue(membership)
        monkeypatch.setattr(cards, "CARD_TOKEN_SECONDS", -1)
        check = card_token_verify(actor=actors["grassroots_cadre"], token=token)
        assert check.valid is False
        assert "过期" in check.reason
        assert check.card_number == ""
        event = AuditEvent.objects.get(action="card.verify")
        assert event.result == AuditResult.FAILED
        assert event.details["valid"] is False

    def test_tampered_token_invalid(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        token = card_token_issue(membership)
        flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
        forged = signing.dumps({"m": str(membership.id), "c": membership.card_number}, salt="another.salt")
        for bad in (flipped, "x" + token, forged, "", "not-a-token"):
            check = card_token_verify(actor=actors["grassroots_cadre"], token=bad)
            assert check.valid is False, bad
            assert "无效" in check.reason
        assert AuditEvent.objects.filter(action="card.verify", result=AuditResult.FAILED).count() == 5

    def test_token_of_ended_membership_invalid(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        token = card_token_issue(membership)
        membership_reserve(actor=actors["grassroots_cadre"], membership=membership, reason="待业")
        check = card_token_verify(actor=actors["grassroots_cadre"], token=token)
        assert check.valid is True
        assert check.status_label == "保留会籍"
        membership_leave(actor=actors["grassroots_cadre"], membership=membership, reason="离职")
        check = card_token_verify(actor=actors["grassroots_cadre"], token=token)
        assert check.valid is False
        assert check.reason == "会籍已退会，会员卡已失效"
        assert check.card_number == membership.card_number

    def test_token_of_transferred_membership_invalid_new_card_valid(self, tree, actors):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        old_token = card_token_issue(membership)
        transfer = transfer_request(
            actor=actors["grassroots_cadre"], membership=membership, to_org=tree[E123], reason="调动"
        )
        transfer_release(actor=actors["grassroots_cadre"], transfer=transfer)
        new = transfer_accept(actor=actors["town_cadre"], transfer=transfer)
        assert card_token_verify(actor=actors["town_cadre"], token=old_token).valid is False
        assert card_token_verify(actor=actors["town_cadre"], token=card_token_issue(new)).valid is True

    @pytest.mark.parametrize("username", NO_MEMBER_PERMS)
    def test_verify_needs_permission(self, tree, actors, username):
        membership = enrol(actors["grassroots_cadre"], tree[E12], name="张三")
        token = card_token_issue(membership)
        with unchanged(), pytest.raises(PermissionDenied):
            card_token_verify(actor=actors[username], token=token)


# ---------------------------------------------------------------- 9. data quality


class TestQuality:
    def _populate(self, tree, actors):
        cadre = actors["grassroots_cadre"]
        enrol(cadre, tree[E12], name="甲一", seq=201, phone="13800000001")  # passes every check
        enrol(cadre, tree[E12], name="乙二", seq=203, phone="13800000002")  # phone shared with 丙三
        enrol(cadre, tree[E12], name="丙三", seq=205, phone="13800000002")
        enrol(cadre, tree[E12], name="丁四", seq=207)  # no phone
        enrol(cadre, tree[E12], name="王五", seq=209, phone="13800000003")  # born 1990-05-17, male
        enrol(
            actors["town_cadre"],
            tree[E123],
            name="王五",
            doc_type="passport",
            number="G12345678",
            birth_date=BIRTH,
            sex="M",
            phone="13800000004",
        )  # the same worker under a passport

    def test_summary_and_rectification_list(self, tree, actors):
        self._populate(tree, actors)
        declared = declared_total_record(actor=actors["grassroots_cadre"], org=tree[E12], total=7)
        assert declared.as_of == today()
        assert declared.recorded_by == "grassroots_cadre"
        # Recorded later but about an earlier date: it does not replace the current figure.
        declared_total_record(actor=actors["town_cadre"], org=tree[E12], total=10, as_of=date(2024, 1, 1))
        events = AuditEvent.objects.filter(action="declared_total.record")
        assert sorted(e.details["total"] for e in events) == [7, 10]
        assert events.get(details__total=7).details == {"total": 7, "as_of": today().isoformat()}

        summary = quality_summary(actor=actors["town_cadre"], org=tree[T01])
        assert summary.unions == 2  # 12 and 123; the community union is not grassroots
        assert summary.unions_declared == 1
        assert summary.declared_total == 7  # the latest declaration counts
        assert summary.registered == 6
        assert summary.registered_in_declared == 5
        assert summary.passing == 1
        assert summary.coverage_rate == Decimal("71.4")  # 5 / 7
        assert summary.accuracy_rate == Decimal("16.7")  # 1 / 6

        items = rectification_list(actor=actors["town_cadre"], org=tree[T01])
        found = {(item.membership.org.code, item.membership.person.name): item.problems for item in items}
        assert found == {
            (E12, "乙二"): ["手机号码与他人重复"],
            (E12, "丙三"): ["手机号码与他人重复"],
            (E12, "丁四"): ["手机号码缺失或无效"],
            (E12, "王五"): ["疑似重复人员（姓名、出生日期、性别相同）"],
            (E123, "王五"): ["疑似重复人员（姓名、出生日期、性别相同）"],
        }
        assert [item.membership.org.code for item in items] == [E12, E12, E12, E12, E123]
        assert rectification_count(actor=actors["town_cadre"], org=tree[T01]) == 5
        assert Person.objects.get(name="丁四").quality_flags == QualityFlag.PHONE

        # A union's own view.
        own = quality_summary(actor=actors["grassroots_cadre"], org=tree[E12])
        assert (own.unions, own.declared_total, own.registered, own.passing) == (1, 7, 5, 1)
        assert own.coverage_rate == Decimal("71.4")
        assert own.accuracy_rate == Decimal("20.0")

    def test_rates_follow_corrections_and_leaving(self, tree, actors):
        self._populate(tree, actors)
        cadre = actors["grassroots_cadre"]
        declared_total_record(actor=cadre, org=tree[E12], total=5)
        person = Person.objects.get(name="丁四")
        person_update(actor=cadre, person=person, phone="13800000009")
        duplicate = Membership.objects.get(person__name="丙三")
        membership_leave(actor=cadre, membership=duplicate, reason="离职")
        summary = quality_summary(actor=cadre, org=tree[E12])
        assert summary.registered == 4
        assert summary.coverage_rate == Decimal("80.0")
        names = {item.membership.person.name for item in rectification_list(actor=cadre, org=tree[E12])}
        assert "丁四" not in names
        assert "王五" in names

    def test_union_no_longer_active_is_listed(self, tree, actors):
        from gonghui.orgs.models import Organisation

        enrol(actors["town_cadre"], tree[E123], name="甲一", seq=211, phone="13800000011")
        Organisation.objects.filter(pk=tree[E123].pk).update(status=OrgStatus.DISSOLVED)
        items = rectification_list(actor=actors["town_cadre"], org=tree[T01])
        assert [(i.membership.person.name, i.problems) for i in items] == [("甲一", ["所在工会已撤销或合并"])]
        summary = quality_summary(actor=actors["town_cadre"], org=tree[T01])
        assert summary.unions == 1
        assert (summary.registered, summary.passing) == (1, 0)
        assert summary.accuracy_rate == Decimal("0.0")

    def test_no_declaration_no_rate(self, tree, actors):
        summary = quality_summary(actor=actors["district_cadre"], org=tree["SZ-GS"])
        assert summary.unions == 3
        assert summary.declared_total == 0
        assert summary.coverage_rate is None
        assert summary.accuracy_rate is None

    def test_declared_total_refused_cases(self, tree, actors):
        for org, total, error in (
            (tree[T01], 10, ValidationFailed),
            (tree[E12], -1, ValidationFailed),
            (tree[E12], True, ValidationFailed),
            (tree[E12], "10", ValidationFailed),
            (tree[E12], 1_000_001, ValidationFailed),
        ):
            with unchanged(), pytest.raises(error):
                declared_total_record(actor=actors["town_cadre"], org=org, total=total)
        with unchanged(), pytest.raises(ValidationFailed):
            declared_total_record(actor=actors["town_cadre"], org=tree[E12], total=3, as_of=today() + timedelta(days=1))
        with unchanged(), pytest.raises(NotFound):
            declared_total_record(actor=actors["other_district_cadre"], org=tree[E12], total=3)
        with unchanged(), pytest.raises(PermissionDenied):
            declared_total_record(actor=actors["sysadmin"], org=tree[E12], total=3)

    def test_quality_scope(self, tree, actors):
        with pytest.raises(NotFound):
            quality_summary(actor=actors["other_district_cadre"], org=tree[T01])
        with pytest.raises(NotFound):
            rectification_list(actor=actors["grassroots_cadre"], org=tree[E123])
        with pytest.raises(PermissionDenied):
            quality_summary(actor=actors["auditor"], org=tree["SZ"])
