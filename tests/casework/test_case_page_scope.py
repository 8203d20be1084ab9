"""Scope of the service centre pages: out of scope answers like a missing id, the admin lists show exactly
the rows in scope, the three administrators get no casework."""

import uuid

import pytest
from django.urls import reverse

from gonghui.casework.models import (
    CareCampaign,
    HardshipFile,
    InsuranceEnrolment,
    InsurancePlan,
    ServiceCase,
    StudentGrant,
)
from tests.casework.page_factories import (
    CARD_REFUSED,
    FORBIDDEN_MARK,
    GS,
    ORG_CODE_REFUSED,
    WZ,
    World,
    _media,
    audit_count,
    body,
    call,
    campaign_data,
    casework_state,
    enrolment,
    file_data,
    hardship_data,
    object_requests,
    people,
    plan,
    plan_data,
    student_data,
    text,
    today,
    world,
)

__all__ = ["_media", "people", "world", "plan", "enrolment"]  # fixtures, imported for the tests of this module


def test_the_other_districts_cadre_gets_the_missing_page_for_everything_of_gusu(world, people, login):
    client = login("other_district_cadre")
    for label, method, hidden_url, missing_url, data in object_requests(world, people):
        before = casework_state()
        hidden = call(client, method, hidden_url, data)
        assert casework_state() == before, label
        missing = call(client, method, missing_url, data)
        assert hidden.status_code == missing.status_code == 404, (label, hidden.status_code)
        assert body(hidden) == body(missing), label
        assert casework_state() == before, label
        for secret in (world.sub.number, world.closed.number, "张三", "李四", "赵六"):
            assert secret not in body(hidden).decode(), (label, secret)


OBJECT_REQUEST_LABELS = [
    "case page",
    "accept",
    "reject",
    "withdraw",
    "start",
    "close",
    "callback",
    "attach",
    "attachment",
    "file page",
    "verify",
    "exit",
    "aid",
    "plan page",
    "enrol union",
    "enrol member",
    "campaign page",
    "visits",
    "enrolment (admin)",
    "student grant (admin)",
    "case history (admin)",
    "file history (admin)",
    "plan history (admin)",
    "campaign history (admin)",
]


@pytest.mark.parametrize("label", OBJECT_REQUEST_LABELS)
def test_the_same_requests_succeed_for_the_district_that_holds_them(world, people, login, label):
    """The control for the test above: each request is one that 姑苏's own cadre may make, so the 404 comes from
    the scope alone."""
    requests = {row[0]: row for row in object_requests(world, people)}
    assert sorted(requests) == sorted(OBJECT_REQUEST_LABELS)
    _label, method, url, _missing, data = requests[label]
    before = casework_state()
    response = call(login("district_cadre"), method, url, data)
    assert response.status_code == (200 if method == "get" else 302), (label, response.status_code)
    if method == "post":
        assert response["Location"] == url
        assert casework_state() != before


def test_detail_page_redirects_of_the_admin_lists_lead_to_the_same_missing_page(world, login):
    """Opening a row of a list goes to our own detail page, which then answers 404 out of scope, as for a missing id."""
    client = login("other_district_cadre")
    missing = uuid.uuid4()
    pairs = [
        ("servicecase", "admin:case_detail", world.sub.id),
        ("hardshipfile", "admin:hardship_file_detail", world.file12.id),
        ("insuranceplan", "admin:plan_detail", world.plan.id),
        ("carecampaign", "admin:campaign_detail", world.campaign.id),
    ]
    for model, detail, hidden_id in pairs:
        before = casework_state()
        hidden = client.get(f"/admin/casework/{model}/{hidden_id}/change/")
        absent = client.get(f"/admin/casework/{model}/{missing}/change/")
        assert hidden.status_code == absent.status_code == 302, model
        assert (hidden["Location"], absent["Location"]) == (
            reverse(detail, args=[hidden_id]),
            reverse(detail, args=[missing]),
        )
        hidden_page, absent_page = client.get(hidden["Location"]), client.get(absent["Location"])
        assert hidden_page.status_code == absent_page.status_code == 404
        assert hidden_page.content == absent_page.content
        assert casework_state() == before


def test_the_read_only_admin_pages_open_in_scope(world, login):
    client = login("district_cadre")
    enrolment = client.get(f"/admin/casework/insuranceenrolment/{world.enrolment.id}/change/")
    grant = client.get(f"/admin/casework/studentgrant/{world.closed.id}/change/")
    assert enrolment.status_code == grant.status_code == 200
    assert "张小花" in text(grant)
    assert world.closed.details["student_index"] not in text(grant)
    assert student_data(12)["student_doc_number"] not in text(grant)


def test_forms_of_the_other_district_cannot_reach_gusu_and_write_nothing(world, people, login):
    client = login("other_district_cadre")
    m12 = people["m12"]
    before = casework_state()

    page = text(
        client.post(
            reverse("admin:case_new"),
            {
                "kind": "hardship",
                "card_number": m12.card,
                **hardship_data(),
                "consent_financial": "on",
                "consent_health": "on",
            },
        )
    )
    assert CARD_REFUSED in page
    page = text(client.post(reverse("admin:hardship_file_new"), {"card_number": m12.card, **file_data()}))
    assert "未找到该会员卡号，请核对（只能为本级及下级工会的会员建档）" in page
    page = text(client.post(reverse("admin:plan_new"), {"org_code": GS, **plan_data()}))
    assert ORG_CODE_REFUSED in page
    page = text(client.post(reverse("admin:campaign_new"), {"org_code": GS, **campaign_data()}))
    assert ORG_CODE_REFUSED in page
    share = {"start": today().isoformat(), "end": today().isoformat(), "share": "100"}
    page = text(client.post(reverse("admin:case_callbacks"), {"org_code": GS, **share}))
    assert ORG_CODE_REFUSED in page
    assert casework_state() == before

    callbacks = text(client.get(reverse("admin:case_callbacks")))
    assert world.closed.number not in callbacks and "没有待回访的申请" in callbacks


def test_figures_of_an_organisation_out_of_scope_are_the_missing_page_and_export_nothing(world, login):
    client = login("other_district_cadre")
    before = casework_state()
    for extra in ({}, {"format": "xlsx"}):
        hidden = client.get(reverse("admin:service_figures"), {"org": GS, **extra})
        absent = client.get(reverse("admin:service_figures"), {"org": "SZ-NOPE-99", **extra})
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
    assert casework_state() == before
    assert audit_count("case.figures_export") == 0
    own = client.get(reverse("admin:service_figures"), {"org": WZ})
    assert own.status_code == 200
    assert own.context["org"].code == WZ


CHANGELISTS = {
    "servicecase": ServiceCase,
    "hardshipfile": HardshipFile,
    "insuranceplan": InsurancePlan,
    "insuranceenrolment": InsuranceEnrolment,
    "studentgrant": StudentGrant,
    "carecampaign": CareCampaign,
}

# What each cadre's lists hold, by the World's attribute names (a student grant is keyed by its case).
LIST_CONTENTS = {
    "district_cadre": {
        "servicecase": {"sub", "acc", "prog", "closed"},
        "hardshipfile": {"file12", "file_t2"},
        "insuranceplan": {"plan"},
        "insuranceenrolment": {"enrolment"},
        "studentgrant": {"closed"},
        "carecampaign": {"campaign"},
    },
    "grassroots_cadre": {
        # 李四's case is of union 123 and handled at SZ-GS: neither end lies under union 12.
        "servicecase": {"sub", "prog", "closed"},
        "hardshipfile": {"file12"},
        "insuranceplan": {"plan"},
        "insuranceenrolment": {"enrolment"},
        "studentgrant": {"closed"},
        "carecampaign": {"campaign"},
    },
    "other_district_cadre": {
        "servicecase": {"wz_case", "wz_student"},
        "hardshipfile": {"wz_file"},
        "insuranceplan": {"wz_plan"},
        "insuranceenrolment": {"wz_enrolment"},
        "studentgrant": {"wz_student"},
        "carecampaign": {"wz_campaign"},
    },
    "city_cadre": {
        "servicecase": {"sub", "acc", "prog", "closed", "wz_case", "wz_student"},
        "hardshipfile": {"file12", "file_t2", "wz_file"},
        "insuranceplan": {"plan", "wz_plan"},
        "insuranceenrolment": {"enrolment", "wz_enrolment"},
        "studentgrant": {"closed", "wz_student"},
        "carecampaign": {"campaign", "wz_campaign"},
    },
}


@pytest.mark.parametrize("username", sorted(LIST_CONTENTS))
def test_admin_lists_show_exactly_the_rows_in_scope(world, login, username):
    client = login(username)
    everything = {name: getattr(world, name) for name in World.__dataclass_fields__}
    for model, expected in LIST_CONTENTS[username].items():
        response = client.get(f"/admin/casework/{model}/")
        assert response.status_code == 200, model
        shown = {obj.pk for obj in response.context["cl"].result_list}
        assert shown == {everything[name].pk for name in expected}, (username, model)
        page = text(response)
        hidden = set(everything) - expected
        if model == "servicecase":
            for name in hidden:
                if isinstance(everything[name], ServiceCase):
                    assert everything[name].number not in page, (username, name)


CASEWORK_PAGES = [
    reverse("admin:case_new"),
    reverse("admin:case_new") + "?kind=hardship",
    reverse("admin:service_figures"),
    reverse("admin:service_figures") + "?format=xlsx",
    reverse("admin:case_callbacks"),
    reverse("admin:hardship_file_new"),
    reverse("admin:plan_new"),
    reverse("admin:campaign_new"),
    *(f"/admin/casework/{model}/" for model in CHANGELISTS),
]


@pytest.mark.parametrize("username", ["auditor", "sysadmin", "secadmin"])
def test_the_three_administrators_get_no_casework_at_all(world, people, login, username):
    client = login(username)
    before = casework_state()
    responses = []
    for url in CASEWORK_PAGES:
        responses.append((url, client.get(url)))
        responses.append((url, client.post(url, {"kind": "hardship", "card_number": people["m12"].card})))
    for label, method, hidden_url, missing_url, data in object_requests(world, people):
        if "(admin)" in label:
            continue  # Django's own object pages: see below
        hidden = call(client, method, hidden_url, data)
        missing = call(client, method, missing_url, data)
        assert body(hidden) == body(missing), label
        responses.append((label, hidden))
    for url, response in responses:
        assert response.status_code == 403, (url, response.status_code)
        content = body(response)
        assert FORBIDDEN_MARK in content, url
        for secret in (world.sub.number, world.closed.number, "张三", "李四", "困难帮扶", "职工服务"):
            assert secret.encode() not in content, (url, secret)
    for model, page in (
        ("servicecase", "case_new"),
        ("hardshipfile", "hardship_file_new"),
        ("insuranceplan", "plan_new"),
    ):
        # The lists' "add" buttons lead to our own pages, which refuse these roles.
        response = client.get(f"/admin/casework/{model}/add/")
        assert (response.status_code, response["Location"]) == (302, reverse(f"admin:{page}"))
        assert client.get(response["Location"]).status_code == 403
    for label, _method, hidden_url, missing_url, _data in object_requests(world, people):
        if "(admin)" in label:
            hidden, missing = client.get(hidden_url), client.get(missing_url)
            assert hidden.status_code == missing.status_code, label
            # Django's change page refuses the role (403); its history page finds nothing in an empty list (404).
            assert hidden.status_code == (404 if "history" in label else 403), label
            assert body(hidden) == body(missing), label
    assert casework_state() == before


@pytest.mark.parametrize("username", ["auditor", "sysadmin", "secadmin"])
def test_the_three_administrators_see_no_service_centre_on_the_workbench(world, login, username):
    page = text(login(username).get(reverse("admin:index")))
    assert "/admin/casework/" not in page
    assert "/admin/services/" not in page
    assert "职工服务待办" not in page
    for title in (
        "服务申请",
        "代为录入申请",
        "困难职工档案",
        "互助保障计划",
        "金秋助学名单",
        "慰问活动",
        "办结回访",
        "服务统计",
    ):
        assert title not in page, title
    # The sidebar group's heading is rendered but its list is empty (and so hidden by its CSS rule).
    group = page.split("职工服务", 1)[1].split("</ol>", 1)[0]
    assert "<li" not in group


def test_cadres_see_the_service_centre_in_the_sidebar(world, login):
    page = text(login("grassroots_cadre").get(reverse("admin:index")))
    group = page.split("职工服务", 1)[1].split("</ol>", 1)[0]
    for url in (
        "/admin/casework/servicecase/",
        reverse("admin:case_new"),
        "/admin/casework/hardshipfile/",
        reverse("admin:case_callbacks"),
        reverse("admin:service_figures"),
    ):
        assert url in group, url
