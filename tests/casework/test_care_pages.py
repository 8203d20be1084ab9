"""The mutual-insurance plan pages and the care campaign pages: set up, enrol, record a batch of
visits."""

from decimal import Decimal

import pytest
from django.urls import reverse

from gonghui.casework.care import campaign_create
from gonghui.casework.models import (
    CareCampaign,
    CareVisit,
    InsuranceEnrolment,
    InsurancePlan,
)
from tests.casework.page_factories import (
    E12,
    E123,
    GS,
    ORG_CODE_REFUSED,
    T01,
    WZE1,
    _media,
    audit_count,
    campaign_data,
    casework_state,
    enrolment,
    people,
    plan,
    plan_data,
    text,
    today,
)
from tests.members.factories import enrol

__all__ = ["_media", "people", "plan", "enrolment"]  # fixtures, imported for the tests of this module


def test_setting_up_a_plan(tree, login):
    client = login("district_cadre")
    page = client.get(reverse("admin:plan_new"))
    assert page.status_code == 200
    assert 'name="org_code" value="SZ-GS"' in text(page)
    before = casework_state()
    response = client.post(reverse("admin:plan_new"), {"org_code": E12, **plan_data()})
    assert "互助保障计划由上级工会设立，基层工会为会员办理参保" in text(response)
    response = client.post(reverse("admin:plan_new"), {"org_code": GS, **plan_data(), "ends_on": "2000-01-01"})
    assert "保障期结束日期不能早于开始日期" in text(response)
    assert casework_state() == before

    response = client.post(reverse("admin:plan_new"), {"org_code": GS, **plan_data()})
    plan = InsurancePlan.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("admin:plan_detail", args=[plan.id]))
    assert (plan.org_id, plan.premium, plan.reimbursement_ratio, plan.annual_cap, plan.enrolment_open) == (
        tree[GS].id,
        Decimal("60.00"),
        Decimal("0.500"),
        Decimal("8000.00"),
        True,
    )
    page = text(client.get(response["Location"]))
    assert f"已设立{plan}" in page and "按 50.0% 补助" in page
    assert audit_count("insurance.plan_create", plan.id) == 1


def test_enrolling_a_union_and_a_member_on_the_plan_page(plan, tree, people, system, login):
    extra = enrol(system, tree[E12], name="钱七", seq=105)
    client = login("district_cadre")
    url = reverse("admin:plan_detail", args=[plan.id])

    response = client.post(url, {"action": "enrol_union", "union_code": E12})
    assert (response.status_code, response["Location"]) == (302, url)
    assert set(InsuranceEnrolment.objects.values_list("person_id", flat=True)) == {
        people["m12"].person.id,
        extra.person_id,
    }
    page = text(client.get(url))
    assert "十二号公司工会委员会：本次参保 2 人，合计在保 2 人" in page
    assert "参保人数</dt><dd>2 人" in page
    client.post(url, {"action": "enrol_union", "union_code": E12})
    assert "本次参保 0 人，合计在保 2 人" in text(client.get(url))

    response = client.post(url, {"action": "enrol_member", "card_number": people["m123"].card})
    assert response.status_code == 302
    enrolment = InsuranceEnrolment.objects.get(person=people["m123"].person)
    assert (enrolment.org.code, enrolment.premium, enrolment.enrolled_by) == (E123, Decimal("60.00"), "district_cadre")
    assert audit_count("insurance.enrol", plan.id) == 3

    before = casework_state()
    for form, message in (
        ({"action": "enrol_member", "card_number": people["m123"].card}, f"该会员已参加{plan}"),
        ({"action": "enrol_member", "card_number": people["mwz"].card}, "未找到该会员卡号，请核对"),
        ({"action": "enrol_union", "union_code": T01}, "请选择基层工会为其会员办理参保"),
        ({"action": "enrol_union", "union_code": WZE1}, ORG_CODE_REFUSED),
    ):
        response = client.post(url, form)
        assert response.status_code == 200 and message in text(response), message
    assert casework_state() == before


def test_the_grassroots_cadre_enrols_own_members_on_a_county_plan(plan, people, login):
    client = login("grassroots_cadre")
    url = reverse("admin:plan_detail", args=[plan.id])
    assert client.get(url).status_code == 200
    before = casework_state()
    response = client.post(url, {"action": "enrol_union", "union_code": E123})
    assert ORG_CODE_REFUSED in text(response)
    response = client.post(url, {"action": "enrol_member", "card_number": people["m123"].card})
    assert "未找到该会员卡号，请核对" in text(response)
    assert casework_state() == before
    response = client.post(url, {"action": "enrol_union", "union_code": E12})
    assert response.status_code == 302
    assert list(InsuranceEnrolment.objects.values_list("person_id", flat=True)) == [people["m12"].person.id]


def test_setting_up_a_campaign(tree, login):
    client = login("district_cadre")
    before = casework_state()
    response = client.post(reverse("admin:campaign_new"), {"org_code": GS, **campaign_data(), "budget": "0"})
    assert "预算应大于零" in text(response)
    assert casework_state() == before
    response = client.post(reverse("admin:campaign_new"), {"org_code": GS, **campaign_data()})
    campaign = CareCampaign.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("admin:campaign_detail", args=[campaign.id]))
    assert (campaign.org_id, campaign.kind, campaign.budget, campaign.created_by) == (
        tree[GS].id,
        "warmth",
        Decimal("10000.00"),
        "district_cadre",
    )


@pytest.fixture
def campaign(tree, actors) -> CareCampaign:
    return campaign_create(actor=actors["district_cadre"], org=tree[GS], **campaign_data("1000"))


def visit_rows(*rows: dict) -> dict:
    form = {}
    for index, row in enumerate(rows):
        form.update({f"{name}-{index}": value for name, value in row.items()})
    return form


def test_recording_a_batch_of_visits(campaign, tree, people, login):
    client = login("grassroots_cadre")
    url = reverse("admin:campaign_detail", args=[campaign.id])
    assert 'name="org_code" value="SZ-GS-T01-12"' in text(client.get(url))
    day = today().isoformat()
    form = {
        "org_code": E12,
        **visit_rows(
            {"card_number": people["m12"].card, "money": "200", "visited_on": day},
            {"group_name": "建筑工地", "headcount": "30", "goods": "清凉饮料", "goods_value": "300", "visited_on": day},
        ),
    }
    response = client.post(url, form)
    assert (response.status_code, response["Location"]) == (302, url)
    visits = CareVisit.objects.values_list("person_id", "group_name", "headcount", "money", "goods_value", "org_id")
    assert sorted(visits, key=lambda row: row[1]) == [
        (people["m12"].person.id, "", 1, Decimal("200.00"), Decimal("0.00"), tree[E12].id),
        (None, "建筑工地", 30, Decimal("0.00"), Decimal("300.00"), tree[E12].id),
    ]
    page = text(client.get(url))
    assert "已录入 2 条慰问记录" in page
    assert "剩余 500.00 元" in page
    assert '<div class="gh-stat-label">慰问人数</div><div class="gh-stat-value">31</div>' in page


def test_one_bad_row_refuses_the_whole_batch_and_names_it(campaign, people, login):
    client = login("grassroots_cadre")
    url = reverse("admin:campaign_detail", args=[campaign.id])
    day = today().isoformat()
    before = casework_state()
    response = client.post(
        url,
        {
            "org_code": E12,
            **visit_rows(
                {"card_number": people["m12"].card, "money": "100", "visited_on": day},
                {"group_name": "车间", "headcount": "10", "money": "100", "visited_on": day},
                {"card_number": people["m123"].card, "money": "100", "visited_on": day},
            ),
        },
    )
    assert response.status_code == 200
    page = text(response)
    assert f"第3条：会员卡号 {people['m123'].card} 不是“十二号公司工会委员会”范围内的在册会员" in page
    assert f'name="card_number-2" value="{people["m123"].card}"' in page  # what was typed stays
    assert casework_state() == before


def test_a_batch_over_the_budget_is_refused(campaign, people, login):
    client = login("grassroots_cadre")
    url = reverse("admin:campaign_detail", args=[campaign.id])
    day = today().isoformat()
    before = casework_state()
    response = client.post(
        url,
        {
            "org_code": E12,
            **visit_rows(
                {"card_number": people["m12"].card, "money": "700", "visited_on": day},
                {"group_name": "车间", "headcount": "10", "goods": "慰问品", "goods_value": "500", "visited_on": day},
            ),
        },
    )
    assert response.status_code == 200
    assert "本批合计 1200.00 元，超出活动剩余预算 1000.00 元，请调整后再录入" in text(response)
    assert casework_state() == before


def test_a_bad_row_after_a_blank_one_is_named_by_its_row_on_the_form(campaign, people, login):
    client = login("grassroots_cadre")
    url = reverse("admin:campaign_detail", args=[campaign.id])
    day = today().isoformat()
    form = {
        "org_code": E12,
        "card_number-0": people["m12"].card,
        "money-0": "100",
        "visited_on-0": day,
        # row 2 (index 1) left blank
        "card_number-2": people["m123"].card,
        "money-2": "100",
        "visited_on-2": day,
    }
    before = casework_state()
    page = text(client.post(url, form))
    assert casework_state() == before
    assert f"第3条：会员卡号 {people['m123'].card}" in page
