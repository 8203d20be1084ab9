"""Member registry workflows through the services: leave / reserve / restore / cancel, corrections and reveals, and the
database constraints. Every refused call is checked to leave the registry and the audit trail exactly as they were."""

from datetime import date, timedelta

import pytest
from django.db import IntegrityError, transaction

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import CaseMovedOn, DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.members.models import Membership, MembershipSource, MembershipStatus, Person
from gonghui.members.people import document_number_of, phone_of
from gonghui.members.selectors import person_history
from gonghui.members.services import (
    membership_cancel,
    membership_leave,
    membership_reserve,
    membership_restore,
    person_reveal,
    person_update,
    transfer_accept,
    transfer_release,
    transfer_request,
)
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
    fresh,
    submit,
    today,
)

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
