"""Member registry workflows through the services: enrolment by a cadre. Every refused call is checked to leave the
registry and the audit trail exactly as they were."""

from datetime import date, timedelta

import pytest
from stdnum import luhn

from gonghui.audit.models import AuditEvent
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.members.models import Membership, MembershipSource, MembershipStatus, Person
from gonghui.members.people import document_number_of, phone_of
from gonghui.members.services import member_enrol, membership_leave
from gonghui.orgs.models import OrgStatus
from gonghui.orgs.services import org_dissolve
from tests.members.factories import COMPLETE_PROFILE, enrol, resident_id, unchanged, unchanged_but_looked_up
from tests.members.workflow_factories import (
    BIRTH,
    E12,
    E123,
    NO_MEMBER_PERMS,
    PHONE,
    T01,
    WZE1,
    audit_actions,
    audit_text,
    card_for,
    fresh,
    today,
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
