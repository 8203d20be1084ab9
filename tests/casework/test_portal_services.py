"""The member's side of the service centre in the portal: apply online, follow, withdraw, rate and add
evidence."""

import re
import uuid
from urllib.parse import urlencode

import pytest
from django.test import Client
from django.urls import reverse

from gonghui.casework.models import (
    CaseAttachment,
    CaseKind,
    CaseSource,
    CaseStatus,
    ServiceCase,
)
from gonghui.casework.services import (
    case_accept,
    case_attach,
    case_close,
    case_start,
)
from gonghui.common.actor import system_actor
from gonghui.members.models import MemberAccount
from gonghui.members.services import membership_leave
from tests.casework.page_factories import (
    EXE,
    FINANCIAL_CONSENT,
    FORMAT_REFUSED,
    HEALTH_CONSENT,
    PDF,
    TEXT,
    _case,
    _media,
    advance,
    audit_count,
    body,
    casework_state,
    enrolment,
    enter,
    fresh,
    hardship_data,
    insurance_data,
    legal_data,
    people,
    plan,
    portal_member,
    portal_sign_in,
    student_data,
    text,
    upload,
)

__all__ = ["_media", "people", "enrolment", "plan"]  # fixtures, imported for the tests of this module


# ---------------------------------------------------------------- 7. the portal


PORTAL_TILES = [
    ("hardship", "困", "困难帮扶"),
    ("legal", "法", "法律援助"),
    ("insurance", "保", "互助保障"),
    ("student", "学", "金秋助学"),
]


def test_the_portal_home_offers_the_four_services_and_my_services(people):
    page = text(portal_member(people["m12"]).get(reverse("portal:home")))
    for kind, icon, title in PORTAL_TILES:
        tile = (
            f'<a class="tile" href="{reverse("portal:service_apply", args=[kind])}">'
            f'<span class="icon" aria-hidden="true">{icon}</span>{title}</a>'
        )
        assert tile in page, kind
    mine = f'<a class="tile" href="{reverse("portal:services")}"><span class="icon" aria-hidden="true">服</span>'
    assert mine + "我的服务</a>" in page


def portal_form(kind: str, enrolment=None) -> dict:
    """The online form, as the portal sends it, without any consent ticked; each needs at least one consent."""
    return {
        "hardship": hardship_data(),
        "legal": legal_data("injury"),
        "insurance": insurance_data(enrolment) if enrolment else {},
        "student": student_data(),
    }[kind]


NEEDED_CONSENTS = {
    "hardship": {"consent_financial": FINANCIAL_CONSENT, "consent_health": HEALTH_CONSENT},
    "legal": {"consent_health": HEALTH_CONSENT},
    "insurance": {"consent_health": HEALTH_CONSENT},
    "student": {"consent_financial": FINANCIAL_CONSENT},
}


@pytest.mark.parametrize("kind", ["hardship", "legal", "insurance", "student"])
def test_applying_online_needs_the_consents_and_then_follows_the_case(enrolment, people, kind):
    who = people["m12"]
    client = portal_member(who)
    url = reverse("portal:service_apply", args=[kind])
    label = dict((k, t) for k, _i, t in PORTAL_TILES)[kind]
    page = text(client.get(url))
    assert f"<h1>申请{label}</h1>" in page and "提交申请" in page
    if kind == "insurance":
        assert f'<option value="{enrolment.id}"' in page

    form = portal_form(kind, enrolment)
    before = casework_state()
    response = client.post(url, form)
    assert response.status_code == 200
    page = text(response)
    for message in NEEDED_CONSENTS[kind].values():
        assert f'<p class="err" role="alert">{message}</p>' in page
    assert casework_state() == before

    response = client.post(url, {**form, **dict.fromkeys(NEEDED_CONSENTS[kind], "on")})
    case = ServiceCase.objects.get()
    assert (response.status_code, response["Location"]) == (302, reverse("portal:service_case", args=[case.id]))
    account = MemberAccount.objects.get(person=who.person)
    assert (case.kind, case.person_id, case.account_id, case.source, case.status) == (
        kind,
        who.person.id,
        account.id,
        CaseSource.ONLINE,
        CaseStatus.SUBMITTED,
    )
    assert (case.submitted_by, case.consent_by) == ("会员138****1234", "会员本人在线同意")
    page = text(client.get(response["Location"]))
    assert f"受理编号 {case.number}" in page
    steps = re.findall(r'<li class="step step-(\w+)">\s*<strong>([^<]+)</strong>', page)
    assert steps == [("done", "已提交"), ("current", "受理"), ("todo", "办理"), ("todo", "办结")]
    assert f"承办工会：{case.org.name}" in page
    assert f"工会将在 {case.due_on:%Y-%m-%d} 前受理" in page
    services = text(client.get(reverse("portal:services")))
    assert f"{label} · {case.number}" in services and "待受理" in services


def test_the_timeline_follows_the_case_to_its_end(actors, people):
    grassroots = actors["grassroots_cadre"]
    who = people["m12"]
    client = portal_member(who)
    client.post(
        reverse("portal:service_apply", args=["hardship"]),
        {**hardship_data(), "consent_financial": "on", "consent_health": "on"},
    )
    case = ServiceCase.objects.get()
    url = reverse("portal:service_case", args=[case.id])

    def steps():
        return re.findall(r'<li class="step step-(\w+)">\s*<strong>([^<]+)</strong>', text(client.get(url)))

    case = case_accept(actor=grassroots, case=case)
    assert steps() == [("done", "已提交"), ("done", "已受理"), ("current", "办理"), ("todo", "办结")]
    case = case_start(actor=grassroots, case=case)
    assert steps() == [("done", "已提交"), ("done", "已受理"), ("current", "办理中"), ("todo", "办结")]
    outcome = {"granted": "on", "tier": "relative", "aid_form": "money", "amount": "1500", "aid_description": "救助金"}
    case_close(actor=grassroots, case=case, result="给予生活救助", outcome=outcome)
    assert steps() == [
        ("done", "已提交"),
        ("done", "已受理"),
        ("done", "办理中"),
        ("done", "已办结"),
        ("current", "评价"),
    ]
    page = text(client.get(url))
    assert "给予生活救助，发放 1500.00 元" in page
    assert "待评价" in text(client.get(reverse("portal:services")))


def test_an_unbound_account_is_told_to_verify_first_and_cannot_apply(people):
    client = portal_sign_in("13500003333")
    before = casework_state()
    for kind in ("hardship", "legal"):
        url = reverse("portal:service_apply", args=[kind])
        for response in (client.get(url), client.post(url, {**portal_form(kind), "consent_health": "on"})):
            assert response.status_code == 200
            page = text(response)
            assert '请先<a href="/bind/">核验身份</a>，再申请职工服务。' in page
            assert "提交申请" not in page
    assert '请先<a href="/bind/">核验身份</a>，再申请职工服务。' in text(client.get(reverse("portal:services")))
    assert casework_state() == before


def test_a_former_member_is_told_services_are_for_members_and_cannot_apply(actors, people):
    who = people["m12"]
    client = portal_member(who)
    membership_leave(actor=actors["grassroots_cadre"], membership=who.membership, reason="离职")
    before = casework_state()
    url = reverse("portal:service_apply", args=["legal"])
    for response in (client.get(url), client.post(url, {**legal_data(), "consent_health": "on"})):
        assert response.status_code == 200
        page = text(response)
        assert '职工服务面向正式会员。请先<a href="/join/">申请入会</a>。' in page
        assert "提交申请" not in page
    assert "或联系所在工会恢复会籍" in text(client.get(reverse("portal:services")))
    assert casework_state() == before


@pytest.fixture
def member_case(people) -> tuple[Client, ServiceCase]:
    """张三 applied online for legal aid (handled by SZ-GS)."""
    client = portal_member(people["m12"])
    response = client.post(reverse("portal:service_apply", args=["legal"]), legal_data())
    assert response.status_code == 302
    return client, ServiceCase.objects.get()


@pytest.mark.parametrize("accepted", [False, True])
def test_the_member_withdraws_before_handling_starts(member_case, actors, accepted):
    client, case = member_case
    url = reverse("portal:service_case", args=[case.id])
    if accepted:
        case_accept(actor=actors["district_cadre"], case=case)
    assert 'name="action" value="withdraw"' in text(client.get(url))
    response = client.post(url, {"action": "withdraw"})
    assert (response.status_code, response["Location"]) == (302, url)
    case = fresh(case)
    assert case.status == CaseStatus.WITHDRAWN
    assert case.events.get(action="withdraw").by == "会员138****1234"
    page = text(client.get(url))
    steps = re.findall(r'<li class="step step-(\w+)">\s*<strong>([^<]+)</strong>', page)
    assert steps == [("done", "已提交"), ("refused", "已撤回")]
    assert "<p>申请人撤回</p>" in page
    assert 'value="withdraw"' not in page and 'value="attach"' not in page


def test_the_member_reads_why_the_union_refused(member_case, login):
    client, case = member_case
    login("district_cadre").post(_case(case.id), {"action": "reject", "reason": "不属于劳动争议"})
    page = text(client.get(reverse("portal:service_case", args=[case.id])))
    steps = re.findall(r'<li class="step step-(\w+)">\s*<strong>([^<]+)</strong>', page)
    assert steps == [("done", "已提交"), ("refused", "不予受理")]
    assert "<p>理由：不属于劳动争议</p>" in page
    assert 'value="withdraw"' not in page and 'value="attach"' not in page and 'value="rate"' not in page


def test_the_member_cannot_withdraw_once_handling_started(member_case, actors):
    client, case = member_case
    advance(actors["district_cadre"], case, "in_progress")
    url = reverse("portal:service_case", args=[case.id])
    assert 'value="withdraw"' not in text(client.get(url))
    before = casework_state()
    response = client.post(url, {"action": "withdraw"})
    assert response.status_code == 200
    assert '<p class="alert" role="alert">该申请当前为“办理中”，已开始办理的申请不能撤回</p>' in text(response)
    assert casework_state() == before


def test_rating_after_close(member_case, actors):
    client, case = member_case
    url = reverse("portal:service_case", args=[case.id])
    before = casework_state()
    response = client.post(url, {"action": "rate", "rating": "5"})
    assert "办结后才能评价" in text(response)
    assert casework_state() == before

    advance(actors["district_cadre"], case, "closed", outcome="mediated")
    page = text(client.get(url))
    assert "评价办理结果" in page
    before = casework_state()
    for rating in ("0", "6", "abc", "", "4.5"):
        response = client.post(url, {"action": "rate", "rating": rating, "comment": "还行"})
        assert response.status_code == 200, rating
        assert '<p class="err" role="alert">请选择 1 到 5 星的评价</p>' in text(response), rating
    assert casework_state() == before

    response = client.post(url, {"action": "rate", "rating": "5", "comment": "很满意"})
    assert response.status_code == 302
    case = fresh(case)
    assert (case.rating, case.rating_comment) == (5, "很满意") and case.rated_at is not None
    assert audit_count("case.rate", case.id) == 1
    page = text(client.get(url))
    assert "<p>5 星：很满意</p>" in page and "评价办理结果" not in page
    before = casework_state()
    response = client.post(url, {"action": "rate", "rating": "1"})
    assert "您已评价过这件申请" in text(response)
    assert casework_state() == before


def test_the_member_adds_evidence_while_the_case_is_open(member_case):
    client, case = member_case
    url = reverse("portal:service_case", args=[case.id])
    before = casework_state()
    for name, content in (("病历.exe", EXE), ("说明.txt", TEXT)):
        response = client.post(url, {"action": "attach", "file": upload(name, content)})
        assert response.status_code == 200
        assert f'<p class="err" role="alert">{FORMAT_REFUSED}</p>' in text(response)
    response = client.post(url, {"action": "attach"})
    assert "请选择要上传的照片或文件" in text(response)
    assert casework_state() == before

    response = client.post(url, {"action": "attach", "file": upload("工资条.pdf", PDF, "application/pdf")})
    assert (response.status_code, response["Location"]) == (302, url)
    attachment = CaseAttachment.objects.get()
    assert (attachment.name, attachment.uploaded_by) == ("工资条.pdf", "会员138****1234")
    assert reverse("portal:service_attachment", args=[attachment.id]) in text(client.get(url))
    download = client.get(reverse("portal:service_attachment", args=[attachment.id]))
    assert download.status_code == 200 and body(download) == PDF


def test_evidence_after_close_is_refused_in_plain_chinese(member_case, actors):
    client, case = member_case
    advance(actors["district_cadre"], case, "closed", outcome="mediated")
    url = reverse("portal:service_case", args=[case.id])
    before = casework_state()
    response = client.post(url, {"action": "attach", "file": upload("补充.pdf", PDF)})
    assert casework_state() == before
    page = text(response)
    assert "已已" not in page
    assert "该申请已办结，不能再上传材料" in page


def test_another_members_case_is_the_missing_page_and_nothing_changes(member_case, people):
    owner, case_b = member_case  # 张三 (member B here) owns the case; 李四 (member A) tries to reach it
    owner.post(
        reverse("portal:service_case", args=[case_b.id]),
        {"action": "attach", "file": upload("工资条.pdf", PDF, "application/pdf")},
    )
    attachment = CaseAttachment.objects.get()
    intruder = portal_member(people["m123"])
    missing = uuid.uuid4()
    pairs = [
        (reverse("portal:service_case", args=[case_b.id]), reverse("portal:service_case", args=[missing])),
        (
            reverse("portal:service_attachment", args=[attachment.id]),
            reverse("portal:service_attachment", args=[missing]),
        ),
    ]
    before = casework_state()
    for hidden_url, absent_url in pairs:
        hidden, absent = intruder.get(hidden_url), intruder.get(absent_url)
        assert hidden.status_code == absent.status_code == 404
        assert body(hidden) == body(absent)
        assert case_b.number.encode() not in body(hidden)
    case_url, missing_url = pairs[0]
    for form in (
        lambda: {"action": "withdraw"},
        lambda: {"action": "rate", "rating": "5"},
        lambda: {"action": "attach", "file": upload("a.pdf", PDF)},
    ):
        hidden, absent = intruder.post(case_url, form()), intruder.post(missing_url, form())
        assert hidden.status_code == absent.status_code == 404
        assert hidden.content == absent.content
    assert intruder.get(reverse("portal:service_case", args=["not-a-uuid"])).content == absent.content
    assert casework_state() == before
    assert case_b.number not in text(intruder.get(reverse("portal:services")))


def test_a_case_entered_by_a_cadre_shows_in_the_members_portal(actors, people):
    case = enter(actors["grassroots_cadre"], people["m12"], CaseKind.LEGAL, legal_data())
    client = portal_member(people["m12"])
    assert f"法律援助 · {case.number}" in text(client.get(reverse("portal:services")))
    page = text(client.get(reverse("portal:service_case", args=[case.id])))
    assert f"受理编号 {case.number}" in page and "承办工会：姑苏区总工会" in page


def test_an_unknown_service_type_is_the_missing_page(people):
    client = portal_member(people["m12"])
    unknown = client.get(reverse("portal:service_apply", args=["loan"]))
    missing = client.get(reverse("portal:service_case", args=[uuid.uuid4()]))
    assert unknown.status_code == missing.status_code == 404
    assert unknown.content == missing.content


def test_visitors_and_back_office_sessions_are_sent_to_sign_in(member_case, login):
    _client, case = member_case
    attachment = case_attach(actor=system_actor("tests"), case=case, name="a.pdf", content=PDF)
    urls = [
        reverse("portal:services"),
        reverse("portal:service_apply", args=["hardship"]),
        reverse("portal:service_case", args=[case.id]),
        reverse("portal:service_attachment", args=[attachment.id]),
    ]
    before = casework_state()
    for client in (Client(), login("district_cadre")):
        for url in urls:
            for response in (client.get(url), client.post(url, {"action": "withdraw", **legal_data()})):
                assert response.status_code == 302, url
                assert response["Location"] == f"{reverse('portal:login')}?{urlencode({'next': url})}"
    assert casework_state() == before


def test_the_timeline_shows_the_parent_unions_approval_while_it_waits(actors, people):
    from gonghui.casework.approval import hardship_approval_approve
    from gonghui.casework.models import HardshipApproval

    grassroots = actors["grassroots_cadre"]
    client = portal_member(people["m12"])
    client.post(
        reverse("portal:service_apply", args=["hardship"]),
        {**hardship_data(), "consent_financial": "on", "consent_health": "on"},
    )
    case = case_start(actor=grassroots, case=case_accept(actor=grassroots, case=ServiceCase.objects.get()))
    outcome = {"granted": "on", "tier": "relative", "aid_form": "money", "amount": "2500", "aid_description": "救助金"}
    case = case_close(actor=grassroots, case=case, result="给予一次性救助", outcome=outcome)
    url = reverse("portal:service_case", args=[case.id])
    page = text(client.get(url))
    steps = re.findall(r'<li class="step step-(\w+)">\s*<strong>([^<]+)</strong>', page)
    assert steps == [
        ("done", "已提交"),
        ("done", "已受理"),
        ("done", "办理中"),
        ("current", "上级审批"),
        ("todo", "办结"),
    ]
    assert f"已报上级工会审批，审批期限 {case.due_on:%Y-%m-%d}" in page
    hardship_approval_approve(actor=actors["town_cadre"], approval=HardshipApproval.objects.get(case=case))
    steps = re.findall(r'<li class="step step-(\w+)">\s*<strong>([^<]+)</strong>', text(client.get(url)))
    assert steps[:4] == [("done", "已提交"), ("done", "已受理"), ("done", "办理中"), ("done", "已办结")]
