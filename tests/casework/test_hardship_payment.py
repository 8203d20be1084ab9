"""发放签收 of hardship aid, 批量受理, the printable 困难职工档案卡 and the approval pages
(gonghui/casework/approval.py, batch.py, hardship.py and their back-office pages).

The tree, the accounts, the standard and the clock are as described in tests/casework/test_hardship_approval.py."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from gonghui.accounts.models import User
from gonghui.audit.models import AuditEvent
from gonghui.casework.approval import aid_rule, hardship_approval_approve
from gonghui.casework.batch import NOT_FOUND, cases_accept_batch
from gonghui.casework.hardship import hardship_aid_grant, hardship_aid_pay, hardship_file_establish
from gonghui.casework.models import CaseEvent, HardshipAid, HardshipApproval, HardshipFile
from gonghui.casework.services import case_accept
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from tests.casework.approval_factories import FILE_DATA, MONDAY, grant, pay_form, state, unchanged, waiting
from tests.casework.factories import E12, advance, apply, enter, last_audit
from tests.members.factories import fresh

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "media")]


# ================================================================ 发放签收


class TestPayment:
    def test_paid_once_exactly_the_amount_granted(self, member, actors):
        case, approval = waiting(member, actors, "3000")
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        aid = HardshipAid.objects.get(case=case)
        cadre = actors["grassroots_cadre"]

        with unchanged(), pytest.raises(ValidationFailed) as wrong:
            hardship_aid_pay(actor=cadre, aid=aid, **pay_form("2999.99"))
        assert wrong.value.errors == {"paid_amount": "实发金额应与核定的帮扶金额 3000.00 元一致"}
        with unchanged(), pytest.raises(ValidationFailed) as future:
            hardship_aid_pay(actor=cadre, aid=aid, **pay_form(paid_on="2025-11-04"))
        assert future.value.errors == {"paid_on": "发放日期不能晚于今天"}
        with unchanged(), pytest.raises(ValidationFailed):
            hardship_aid_pay(actor=cadre, aid=aid, **pay_form(receipt_no=""))
        with unchanged(), pytest.raises(NotFound):
            hardship_aid_pay(actor=actors["other_district_cadre"], aid=aid, **pay_form())

        paid = hardship_aid_pay(actor=cadre, aid=aid, **pay_form(paid_method="cash", receiver="李芳", signer="李芳"))
        paid = fresh(paid)
        assert (
            paid.paid_on,
            paid.paid_method,
            paid.paid_amount,
            paid.receiver,
            paid.signer,
            paid.receipt_no,
            paid.paid_recorded_by,
        ) == (date(2025, 11, 3), "cash", Decimal("3000.00"), "李芳", "李芳", "SZ-12-2025-0007", "grassroots_cadre")
        assert last_audit("hardship.pay").details == {
            "aid": str(aid.id),
            "amount": "3000.00",
            "method": "cash",
            "receipt_no": "SZ-12-2025-0007",
        }
        with (
            unchanged(),
            pytest.raises(
                DomainError, match="该笔帮扶已于 2025-11-03 发放签收（收据编号 SZ-12-2025-0007），不能重复发放"
            ),
        ):
            hardship_aid_pay(actor=cadre, aid=aid, **pay_form(receipt_no="SZ-12-2025-0008"))

    def test_goods_have_no_payment(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant("500", form="goods"))
        aid = HardshipAid.objects.get(case=case)
        with unchanged(), pytest.raises(DomainError, match="只有资金帮扶需要登记发放签收"):
            hardship_aid_pay(actor=actors["grassroots_cadre"], aid=aid, **pay_form("500"))

    def test_the_database_refuses_a_payment_other_than_the_amount_or_of_an_unapproved_grant(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed", outcome=grant("1000"))
        aid = HardshipAid.objects.get(case=case)
        receipt = {
            "paid_on": MONDAY,
            "paid_method": "cash",
            "receiver": "张三",
            "signer": "张三",
            "receipt_no": "R1",
            "paid_recorded_at": fresh(case).closed_at,
        }
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("999.00"), **receipt)
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("1000.00"), approval="pending", **receipt)
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("1000.00"), **{**receipt, "signer": ""})
        HardshipAid.objects.filter(pk=aid.pk).update(paid_amount=Decimal("1000.00"), **receipt)

    def test_the_database_refuses_a_refusal_without_a_reason(self, member, actors):
        _, approval = waiting(member, actors, "3000")
        with pytest.raises(IntegrityError), transaction.atomic():
            HardshipApproval.objects.filter(pk=approval.pk).update(status="refused", decided_at=approval.requested_at)


# ================================================================ 批量受理


class TestBatchAccept:
    def test_each_case_is_accepted_or_refused_on_its_own_with_its_reason(self, member, tree, actors, sibling, system):
        from tests.members.factories import enrol

        first = apply(member, "hardship")
        legal = enter(actors["grassroots_cadre"], member.membership, "legal")  # handled by the district
        other = enrol(system, tree["SZ-GS-T02-E1"], name="钱七", seq=88)
        elsewhere = enter(actors["district_cadre"], other, "hardship")  # union of 沧浪街道: not visible here
        done = enter(actors["grassroots_cadre"], enrol(system, tree[E12], name="孙八", seq=89), "hardship")
        case_accept(actor=actors["grassroots_cadre"], case=done)
        before_denied = AuditEvent.objects.filter(result="denied").count()

        report = cases_accept_batch(
            actor=actors["grassroots_cadre"],
            case_ids=[str(first.id), str(legal.id), str(elsewhere.id), str(done.id), "nonsense", str(first.id)],
            note="批量受理",
        )
        assert [(item.number, item.accepted, item.reason) for item in report] == [
            (first.number, True, ""),
            (legal.number, False, "该申请由姑苏区总工会承办，本级不能受理"),
            ("", False, NOT_FOUND),
            (done.number, False, "该申请当前为“已受理”，不能进行此操作"),
            ("", False, NOT_FOUND),
        ]
        assert [item.name for item in report] == ["张*", "张*", "", "孙*", ""]
        assert (fresh(first).status, fresh(legal).status, fresh(elsewhere).status) == (
            "accepted",
            "submitted",
            "submitted",
        )
        assert CaseEvent.objects.filter(case=first, action="accept").get().note == "批量受理"
        accepted = AuditEvent.objects.filter(action="case.accept", object_id=str(first.id))
        assert list(accepted.values_list("result", flat=True)) == ["success"]
        denied = AuditEvent.objects.filter(result="denied").order_by("at")
        assert denied.count() - before_denied == 2
        assert list(denied.values_list("object_id", "details"))[-2:] == [
            (str(legal.id), {"kind": "legal", "batch": True, "reason": "该申请由姑苏区总工会承办，本级不能受理"}),
            (str(done.id), {"kind": "hardship", "batch": True, "reason": "该申请当前为“已受理”，不能进行此操作"}),
        ]

    def test_an_empty_selection_or_a_reader_changes_nothing(self, member, actors):
        case = apply(member, "hardship")
        with unchanged(), pytest.raises(ValidationFailed):
            cases_accept_batch(actor=actors["grassroots_cadre"], case_ids=[])
        with unchanged(), pytest.raises(PermissionDenied):
            cases_accept_batch(actor=actors["auditor"], case_ids=[str(case.id)])

    def test_select_confirm_post_report_in_the_case_list(self, member, actors, login):
        first = apply(member, "hardship")
        second = enter(actors["grassroots_cadre"], member.membership, "legal")
        client = login("grassroots_cadre")
        changelist = reverse("admin:casework_servicecase_changelist")
        selected = {"action": "accept_selected", "_selected_action": [str(first.id), str(second.id)]}
        page = client.post(changelist, selected)
        assert page.status_code == 200
        text = page.content.decode()
        assert "已选 2 件，其中 1 件为本级可受理的“待受理”申请" in text
        assert fresh(first).status == "submitted"  # nothing accepted before the confirmation
        report = client.post(changelist, {**selected, "confirm": "yes", "note": ""})
        text = report.content.decode()
        assert "已受理 1 件，未受理 1 件。" in text
        assert "该申请由姑苏区总工会承办，本级不能受理" in text
        assert fresh(first).status == "accepted" and fresh(second).status == "submitted"


# ================================================================ pages


class TestPages:
    def test_approve_through_the_page_and_pay_through_the_form(self, member, actors, login):
        case, approval = waiting(member, actors, "3000")
        town = login("town_cadre")
        listing = town.get(reverse("admin:hardship_approvals"))
        assert str(approval.id) in listing.content.decode()
        detail = reverse("admin:hardship_approval_detail", args=[approval.id])
        page = town.get(detail).content.decode()
        assert "单笔帮扶 3000.00 元，超过相对困难审批限额 2000.00 元" in page and "批准" in page
        assert town.post(detail, {"action": "approve", "note": "同意"}).status_code == 302
        assert fresh(case).status == "closed"

        aid = HardshipAid.objects.get(case=case)
        grassroots = login("grassroots_cadre")
        pay = reverse("admin:hardship_aid_pay", args=[aid.id])
        wrong = grassroots.post(pay, pay_form("300"))
        assert "实发金额应与核定的帮扶金额 3000.00 元一致" in wrong.content.decode()
        assert grassroots.post(pay, pay_form()).status_code == 302
        assert fresh(aid).receipt_no == "SZ-12-2025-0007"

    def test_a_sibling_gets_404_on_every_page(self, member, actors, login, sibling):
        case, approval = waiting(member, actors, "3000")
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval)
        aid = HardshipAid.objects.get(case=case)
        from django.test import Client

        client = Client()
        client.force_login(User.objects.get(username="t02_cadre"))
        before = state()
        for url in (
            reverse("admin:hardship_approval_detail", args=[approval.id]),
            reverse("admin:hardship_aid_pay", args=[aid.id]),
            reverse("admin:hardship_file_card", args=[aid.file_id]),
        ):
            assert client.get(url).status_code == 404
        assert client.post(reverse("admin:hardship_aid_pay", args=[aid.id]), pay_form()).status_code == 404
        assert state() == before

    def test_the_standard_page_reads_for_every_cadre_and_saves_for_the_city(self, actors, login):
        url = reverse("admin:hardship_aid_rules")
        town = login("town_cadre")
        page = town.get(url).content.decode()
        assert "<td>深度困难</td>" in page and 'name="deep-grant_limit"' not in page
        assert town.post(url, {"deep-grant_limit": "1"}).status_code == 404
        city = login("city_cadre")
        form = {"deep-file_needs_approval": "on", "deep-grant_limit": "2500", "relative-grant_limit": "2000"}
        assert city.post(url, {**form, "accidental-grant_limit": "3000"}).status_code == 302
        assert aid_rule("deep").grant_limit == Decimal("2500.00")

    def test_the_printable_file_card(self, member, actors, login):
        case, approval = waiting(member, actors, "3000", tier="deep")
        hardship_approval_approve(actor=actors["town_cadre"], approval=approval, note="同意建档")
        file = HardshipFile.objects.get()
        hardship_aid_pay(actor=actors["grassroots_cadre"], aid=HardshipAid.objects.get(), **pay_form())
        client = login("grassroots_cadre")
        detail = client.get(reverse("admin:hardship_file_detail", args=[file.id])).content.decode()
        card_url = reverse("admin:hardship_file_card", args=[file.id])
        assert card_url in detail
        page = client.get(card_url)
        assert page.status_code == 200
        text = page.content.decode()
        assert "<h1>困难职工档案卡</h1>" in text
        assert "data-gh-print>打印</button>" in text
        assert "backoffice/print.css" in text and "casework/file_card.css" in text
        assert member.person.doc_masked in text and member.number not in text
        assert '<td data-field="tier">深度困难</td>' in text
        assert '<td data-field="income_per_head">1000.00 元</td>' in text
        assert "2025-11-03 银行转账 · 签收人 张三 · 收据 SZ-12-2025-0007" in text
        assert '<td class="gh-card-num" data-field="aid_total">3000.00</td>' in text
        assert "职工（签名）" in text and "审批人（签名）" in text
        assert "style=" not in text and "<script>" not in text
        assert last_audit("hardship.print").object_id == str(file.id)


class TestCaseListExport:
    def test_the_case_list_exports_what_it_shows_scoped_and_audited(self, member, actors, login, tree, system):
        import io

        from python_calamine import CalamineWorkbook

        from tests.members.factories import enrol

        mine = apply(member, "hardship")
        legal = enter(actors["grassroots_cadre"], member.membership, "legal")
        far = enter(actors["other_district_cadre"], enrol(system, tree["SZ-WZ-T01-E1"], name="钱远", seq=16), "legal")
        url = reverse("admin:casework_servicecase_export_list") + "?kind__exact=hardship"
        client = login("grassroots_cadre")
        assert client.get(url).status_code == 200  # the confirmation page; a GET writes nothing
        assert not AuditEvent.objects.filter(action="list.export").exists()
        response = client.post(url)
        rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_index(0).to_python()
        numbers = {cell for row in rows for cell in row}
        assert mine.number in numbers and legal.number not in numbers and far.number not in numbers
        event = AuditEvent.objects.get(action="list.export")
        assert (event.details["rows"], event.details["list"], event.details["filters"]) == (
            1,
            "服务申请",
            {"kind__exact": "hardship"},
        )


def test_an_annual_check_cannot_move_a_household_into_the_deep_level(member, actors):
    from gonghui.casework.hardship import hardship_file_verify

    file = hardship_file_establish(
        actor=actors["grassroots_cadre"], membership=member.membership, **{**FILE_DATA, "tier": "relative"}
    )
    with unchanged(), pytest.raises(ValidationFailed) as refused:
        hardship_file_verify(actor=actors["grassroots_cadre"], file=file, **FILE_DATA)
    assert refused.value.errors == {"tier": "认定为深度困难须经上级工会审批：请通过困难帮扶申请办结报批"}
    hardship_file_verify(actor=actors["grassroots_cadre"], file=file, **{**FILE_DATA, "tier": "accidental"})
    assert fresh(file).tier == "accidental"


def test_the_approving_unions_workbench_counts_what_waits_for_it(member, actors, login):
    from tests.backoffice.factories import page_of, stat

    file = hardship_file_establish(
        actor=actors["grassroots_cadre"], membership=member.membership, **{**FILE_DATA, "tier": "relative"}
    )
    hardship_aid_grant(
        actor=actors["grassroots_cadre"], file=file, **{"form": "money", "amount": "2600", "description": "重病救助"}
    )
    label = "待本级审批（困难帮扶）"
    assert stat(page_of(login, "town_cadre"), label) == "1"
    assert stat(page_of(login, "grassroots_cadre"), label) == "0"  # she asked; her parent decides
    town = page_of(login, "town_cadre")
    assert f'href="{reverse("admin:hardship_approvals")}">下级工会报请审批</a>' in town


@pytest.mark.parametrize(
    ("username", "listed"),
    [("sysadmin", False), ("city_cadre", True), ("grassroots_cadre", True), ("auditor", False)],
)
def test_the_menu_offers_the_standard_to_whoever_may_read_it(tree, login, username, listed):
    page = login(username).get(reverse("admin:index")).content.decode()
    assert (f'href="{reverse("admin:hardship_aid_rules")}"' in page) is listed
