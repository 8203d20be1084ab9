"""The hardship file pages: establish, verify, exit with or without a transition period, aid."""

from decimal import Decimal

import pytest
from django.urls import reverse

from gonghui.casework.hardship import add_months, hardship_file_establish
from gonghui.casework.models import (
    AidForm,
    HardshipAid,
    HardshipFile,
    HardshipFileStatus,
)
from tests.casework.page_factories import (
    E12,
    _media,
    audit_count,
    casework_state,
    file_data,
    fresh,
    people,
    text,
    today,
)

__all__ = ["_media", "people"]  # fixtures, imported for the tests of this module


# ---------------------------------------------------------------- 6. hardship files, plans, campaigns, callbacks


def test_establishing_a_file_after_a_home_visit(people, tree, login):
    client = login("grassroots_cadre")
    before = casework_state()
    response = client.post(
        reverse("admin:hardship_file_new"), {"card_number": people["m12"].card, **file_data(tier="")}
    )
    assert response.status_code == 200 and "请选择困难类别" in text(response)
    assert casework_state() == before

    response = client.post(reverse("admin:hardship_file_new"), {"card_number": people["m12"].card, **file_data()})
    file = HardshipFile.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("admin:hardship_file_detail", args=[file.id]))
    assert (file.person_id, file.org_id, file.status, file.income_per_head) == (
        people["m12"].person.id,
        tree[E12].id,
        HardshipFileStatus.ACTIVE,
        Decimal("1000.00"),
    )
    page = text(client.get(response["Location"]))
    assert "已建立困难职工档案" in page and "张三 的困难职工档案" in page and "因病" in page

    again = client.post(reverse("admin:hardship_file_new"), {"card_number": people["m12"].card, **file_data()})
    assert "该职工已有在档的困难职工档案" in text(again)
    assert HardshipFile.objects.count() == 1


def test_household_members_are_entered_one_per_line(people, login):
    client = login("grassroots_cadre")
    lines = "李芳 配偶 患病 0\n张小明，子女，在读，0\n\n王秀 母亲 退休 18000.50"
    data = {"card_number": people["m12"].card, **file_data(household_text=lines)}
    response = client.post(reverse("admin:hardship_file_new"), data)
    assert response.status_code == 302
    file = HardshipFile.objects.get()
    rows = list(file.household.order_by("id").values_list("name", "relation", "situation", "annual_income"))
    assert rows == [
        ("李芳", "配偶", "患病", Decimal("0.00")),
        ("张小明", "子女", "在读", Decimal("0.00")),
        ("王秀", "母亲", "退休", Decimal("18000.50")),
    ]
    before = casework_state()
    bad = client.post(
        reverse("admin:hardship_file_detail", args=[file.id]),
        {"action": "verify", **file_data(household_text="李芳 配偶 患病 很多")},
    )
    assert bad.status_code == 200 and "第1位家庭成员：年收入应为金额" in text(bad)
    assert casework_state() == before


@pytest.fixture
def hardship_file(actors, people) -> HardshipFile:
    return hardship_file_establish(actor=actors["grassroots_cadre"], membership=people["m12"].membership, **file_data())


def _file(file) -> str:
    return reverse("admin:hardship_file_detail", args=[file.id])


def test_verifying_a_file_records_the_household_again(hardship_file, login):
    client = login("grassroots_cadre")
    form = {"action": "verify", "tier": "accidental", "causes": ["illness", "disability"], "household_size": "4"}
    before = casework_state()
    response = client.post(_file(hardship_file), {**form, "household_income": "很多"})
    assert response.status_code == 200 and "家庭年收入应为金额，如 1200 或 1200.50" in text(response)
    assert casework_state() == before

    response = client.post(_file(hardship_file), {**form, "household_income": "24000"})
    assert (response.status_code, response["Location"]) == (302, _file(hardship_file))
    file = fresh(hardship_file)
    assert (file.tier, file.causes, file.household_size, file.household_income, file.income_per_head) == (
        "accidental",
        ["illness", "disability"],
        4,
        Decimal("24000.00"),
        Decimal("500.00"),
    )
    assert (file.verified_on, file.next_verification_on) == (today(), add_months(today(), 12))
    assert audit_count("hardship.verify", file.id) == 1
    page = text(client.get(_file(file)))
    assert "年度核查已记录，下次核查期限已顺延一年" in page and "因病、因残" in page


def test_exit_with_a_transition_period_still_allows_aid(hardship_file, login):
    client = login("grassroots_cadre")
    before = casework_state()
    for months, message in (
        ("13", "过渡期应为 0 到 12 个月"),
        ("", "过渡期应为 0 到 12 个月"),
        ("-1", "过渡期应为 0 到 12 个月"),
    ):
        response = client.post(
            _file(hardship_file), {"action": "exit", "reason": "已再就业", "transition_months": months}
        )
        assert response.status_code == 200 and message in text(response), months
    response = client.post(_file(hardship_file), {"action": "exit", "reason": "", "transition_months": "3"})
    assert "请填写脱困说明" in text(response)
    assert casework_state() == before

    response = client.post(_file(hardship_file), {"action": "exit", "reason": "已再就业", "transition_months": "3"})
    assert response.status_code == 302
    file = fresh(hardship_file)
    assert (file.status, file.exited_on, file.transition_until, file.exit_reason) == (
        HardshipFileStatus.TRANSITION,
        today(),
        add_months(today(), 3),
        "已再就业",
    )
    response = client.post(_file(file), {"action": "aid", "form": "goods", "amount": "300", "description": "米面油"})
    assert response.status_code == 302
    aid = HardshipAid.objects.get()
    assert (aid.form, aid.amount, aid.description, aid.in_transition, aid.case_id) == (
        AidForm.GOODS,
        Decimal("300.00"),
        "米面油",
        True,
        None,
    )
    page = text(client.get(_file(file)))
    assert "帮扶已记录" in page and "物资（过渡期）" in page
    assert f"过渡期至 {add_months(today(), 3):%Y-%m-%d}" in page
    assert 'value="exit"' not in page  # no second exit


def test_after_an_exit_without_transition_aid_is_refused(hardship_file, login):
    client = login("grassroots_cadre")
    response = client.post(_file(hardship_file), {"action": "exit", "reason": "家庭收入稳定", "transition_months": "0"})
    assert response.status_code == 302
    file = fresh(hardship_file)
    assert (file.status, file.transition_until) == (HardshipFileStatus.EXITED, today())
    page = text(client.get(_file(file)))
    assert 'value="aid"' not in page and 'value="verify"' not in page

    before = casework_state()
    response = client.post(_file(file), {"action": "aid", "form": "money", "amount": "500", "description": "生活补助"})
    assert response.status_code == 200
    assert "该档案已解困脱困，过渡期已结束，不能再发放帮扶" in text(response)
    response = client.post(_file(file), {"action": "verify", **file_data()})
    assert "已解困脱困的档案不需要核查" in text(response)
    assert casework_state() == before
    assert HardshipAid.objects.count() == 0


def test_aid_on_an_open_file(hardship_file, login):
    client = login("grassroots_cadre")
    before = casework_state()
    for form, message in (
        ({"form": "money", "amount": "", "description": "生活补助"}, "请填写金额/物资折价"),
        ({"form": "goods", "amount": "0", "description": "米面油"}, "金额/物资折价应大于零"),
        ({"form": "", "amount": "500", "description": "生活补助"}, "请选择帮扶形式"),
        ({"form": "money", "amount": "500", "description": ""}, "请填写帮扶内容"),
    ):
        response = client.post(_file(hardship_file), {"action": "aid", **form})
        assert response.status_code == 200 and message in text(response), message
    assert casework_state() == before

    client.post(_file(hardship_file), {"action": "aid", "form": "service", "amount": "", "description": "联系就业培训"})
    client.post(
        _file(hardship_file), {"action": "aid", "form": "money", "amount": "800", "description": "月度生活补助"}
    )
    assert sorted(HardshipAid.objects.values_list("form", "amount", "in_transition")) == [
        ("money", Decimal("800.00"), False),
        ("service", Decimal("0.00"), False),
    ]
    assert audit_count("hardship.aid", hardship_file.id) == 2
