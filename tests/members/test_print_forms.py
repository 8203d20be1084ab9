"""Printable 入会登记表 (member and join application) and the printable e-member card: the person's fields, the union,
dates and signature boxes on an A4 print page without navigation; the document number masked unless a role that may
unmask states a reason (then audited like 查看完整号码); another subtree's record answers 404."""

from datetime import date

import pytest

from gonghui.audit.models import AuditEvent
from gonghui.members.services import join_application_submit
from tests.members.factories import COMPLETE_PROFILE, enrol, resident_id

NUMBER = resident_id(date(1990, 5, 17), 41)


@pytest.fixture
def member(tree, actors):
    return enrol(
        actors["town_cadre"],
        tree["SZ-GS-T01-12"],
        name="陈静",
        number=NUMBER,
        phone="13912345678",
        political_status="cpc",
        post="质检员",
    )


@pytest.fixture
def application(tree, actors):
    return join_application_submit(
        actor=actors["town_cadre"],
        org=tree["SZ-GS-T01-12"],
        doc_type="resident_id",
        doc_number=resident_id(date(1993, 8, 9), 43),
        name="林峰",
        post="电工",
        political_status="cyl",
        **COMPLETE_PROFILE,
    )


def reveals():
    return list(AuditEvent.objects.filter(action="person.reveal").values_list("details", flat=True))


def test_member_registration_form_is_a_print_page_with_the_fields_masked(member, login):
    client = login("town_cadre")
    detail = client.get(f"/admin/registry/members/{member.id}/")
    assert f'href="/admin/registry/members/{member.id}/print/"' in detail.text
    page = client.get(f"/admin/registry/members/{member.id}/print/")
    assert page.status_code == 200
    text = page.text
    assert "工会会员入会登记表" in text
    assert '<link rel="stylesheet" href="/static/backoffice/print.css">' in text
    assert "data-gh-print" in text and ">打印</button>" in text
    assert "sidebar" not in text.lower()  # no back-office frame: nothing but the form reaches the paper
    for value in [
        "陈静",
        "汉族",
        "大学本科",
        "中共党员",
        "质检员",
        "十二号有限公司",
        "十二号公司工会委员会",
        "SZ-GS-T01-12",
    ]:
        assert value in text, value
    assert member.card_number in text
    assert "申请人（签名）" in text and "（盖章）" in text
    assert NUMBER not in text
    assert member.person.doc_masked in text
    assert "13912345678" not in text and "139****5678" in text
    assert reveals() == []  # opening the page is not a look at the full number


def test_the_full_number_needs_a_reason_and_is_audited(member, login):
    client = login("town_cadre")
    refused = client.post(f"/admin/registry/members/{member.id}/print/", {"reason": ""})
    assert NUMBER not in refused.text
    assert "请填写查看原因" in refused.text
    assert reveals() == []
    shown = client.post(f"/admin/registry/members/{member.id}/print/", {"reason": "打印存档"})
    assert NUMBER in shown.text
    assert "含完整证件号码，请妥善保管" in shown.text
    assert reveals() == [{"field": "doc_number", "reason": "打印存档"}]


def test_the_application_form_shows_what_the_review_page_now_shows(application, login):
    client = login("town_cadre")
    review = client.get(f"/admin/registry/applications/{application.id}/").text
    for label, value in [("民族", "汉族"), ("学历", "大学本科"), ("政治面貌", "共青团员"), ("岗位/职务", "电工")]:
        assert f"<dt>{label}</dt>" in review
        assert value in review, value
    assert f'href="/admin/registry/applications/{application.id}/print/"' in review
    page = client.get(f"/admin/registry/applications/{application.id}/print/").text
    for value in ["林峰", "汉族", "大学本科", "共青团员", "电工", "待审核", "十二号公司工会委员会"]:
        assert value in page, value
    assert application.submitted_at.astimezone().date().isoformat()[:4] in page


@pytest.mark.parametrize(("who", "status"), [("other_district_cadre", 404), ("auditor", 403)])
def test_another_subtree_or_role_is_refused_as_on_the_detail_page(member, application, login, who, status):
    client = login(who)
    assert client.get(f"/admin/registry/members/{member.id}/").status_code == status
    assert client.get(f"/admin/registry/members/{member.id}/print/").status_code == status
    assert client.get(f"/admin/registry/applications/{application.id}/print/").status_code == status
    assert client.post(f"/admin/registry/members/{member.id}/print/", {"reason": "x"}).status_code == status
    assert reveals() == []


def test_member_card_page_prints_the_card_alone(member, login):
    page = login("town_cadre").get(f"/admin/registry/members/{member.id}/card/").text
    assert '<link rel="stylesheet" href="/static/backoffice/card-print.css">' in page
    assert "data-gh-print" in page and ">打印</button>" in page
    assert 'class="gh-card gh-narrow gh-member-card"' in page
