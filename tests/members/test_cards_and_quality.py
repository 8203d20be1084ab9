"""Member registry workflows through the services: e-member cards and data quality."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import signing

from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.common.errors import NotFound, PermissionDenied, ValidationFailed
from gonghui.members import cards
from gonghui.members.cards import card_token_issue, card_token_verify
from gonghui.members.models import Membership, Person, QualityFlag
from gonghui.members.quality import quality_summary, rectification_count, rectification_list
from gonghui.members.services import (
    declared_total_record,
    membership_leave,
    membership_reserve,
    person_update,
    transfer_accept,
    transfer_release,
    transfer_request,
)
from gonghui.orgs.models import OrgStatus
from tests.members.factories import enrol, resident_id, unchanged
from tests.members.workflow_factories import BIRTH, E12, E123, NO_MEMBER_PERMS, PHONE, T01, audit_text, today

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
