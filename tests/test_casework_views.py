"""The service centre (职工服务) through the test client: the back-office pages and admin lists of cases, hardship
files, mutual-insurance plans, care campaigns, callbacks and figures, the workbench section, and the member's side in
the portal. Every page is scoped: out of scope answers exactly like a missing id and changes nothing; the three
administrators get no casework at all; a refused form shows its Chinese message and writes nothing."""

import io
import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import quote, unquote, urlencode

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from python_calamine import CalamineWorkbook

from gonghui.audit.models import AuditEvent
from gonghui.casework.care import campaign_create, care_visits_record
from gonghui.casework.hardship import add_months, hardship_file_establish
from gonghui.casework.insurance import plan_create, plan_enrol_member
from gonghui.casework.models import (
    AidForm,
    CallbackResult,
    CallbackStatus,
    CareCampaign,
    CareVisit,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    CaseSerial,
    CaseSource,
    CaseStatus,
    HardshipAid,
    HardshipFile,
    HardshipFileStatus,
    HouseholdMember,
    InsuranceClaim,
    InsuranceEnrolment,
    InsurancePayout,
    InsurancePlan,
    LegalAidRecord,
    LegalOutcome,
    ServiceCase,
    StudentGrant,
)
from gonghui.casework.services import (
    Consent,
    callbacks_draw,
    case_accept,
    case_attach,
    case_close,
    case_enter,
    case_start,
    case_withdraw,
    cases_escalate_overdue,
    member_case_rate,
)
from gonghui.common.actor import system_actor
from gonghui.common.sms import MemorySmsSender
from gonghui.error_pages import FORBIDDEN
from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
from gonghui.members.models import MemberAccount, Membership
from gonghui.members.services import membership_leave
from gonghui.stats.periods import period_from
from tests.members.factories import enrol, resident_id

GS, T01, E12, E123, T2E1 = "SZ-GS", "SZ-GS-T01", "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T02-E1"
WZ, WZE1 = "SZ-WZ", "SZ-WZ-T01-E1"
BIRTH = date(1990, 5, 17)

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48
TEXT = "这是一段文字说明，不是扫描件".encode()

FORMAT_REFUSED = "只能上传 PDF、JPG 或 PNG 格式的证明材料"
CARD_REFUSED = "未找到该会员卡号，请核对（只能为本级及下级工会的会员录入）"
ORG_CODE_REFUSED = "未找到该组织代码，或不在您的管辖范围内"
FINANCIAL_CONSENT = "办理此项服务需要核实家庭经济状况，请阅读并同意家庭经济信息使用说明"
HEALTH_CONSENT = "办理此项服务需要使用健康信息（病情、住院、伤残等），请阅读并同意健康信息使用说明"
FORBIDDEN_MARK = f"<h1>{FORBIDDEN[0]}</h1>".encode()  # the project's 403 page
ALL_CONSENT = Consent(health=True, financial=True)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    """Evidence files land in a fresh folder per test."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


def today() -> date:
    return timezone.localdate()


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def media_files() -> list[str]:
    root = str(django_settings.MEDIA_ROOT)
    found = []
    for folder, _dirs, files in os.walk(root):
        found.extend(os.path.relpath(os.path.join(folder, name), root) for name in files)
    return sorted(found)


def casework_state() -> dict:
    """Everything the service centre may write (and the audit trail and stored files), to prove a refusal wrote
    nothing."""
    return {
        "cases": sorted(
            ServiceCase.objects.values_list(
                "id",
                "status",
                "org_id",
                "summary",
                "amount_granted",
                "rejection_reason",
                "result",
                "rating",
                "callback_status",
                "callback_result",
                "accepted_at",
                "started_at",
                "closed_at",
                "handled_by",
                "due_on",
                "escalated_to_id",
            )
        ),
        "events": sorted(CaseEvent.objects.values_list("id", "case_id", "action", "note")),
        "attachments": sorted(CaseAttachment.objects.values_list("id", "case_id", "sha256")),
        "files": sorted(
            HardshipFile.objects.values_list(
                "id",
                "status",
                "tier",
                "causes",
                "household_size",
                "household_income",
                "verified_on",
                "exited_on",
                "transition_until",
                "updated_at",
            )
        ),
        "household": sorted(HouseholdMember.objects.values_list("id", "file_id", "name")),
        "aid": sorted(HardshipAid.objects.values_list("id", "file_id", "form", "amount")),
        "legal": sorted(
            LegalAidRecord.objects.values_list("case_id", "lawyer", "station", "outcome", "amount_recovered")
        ),
        "plans": sorted(InsurancePlan.objects.values_list("id", "org_id", "name", "year")),
        "enrolments": sorted(InsuranceEnrolment.objects.values_list("id", "plan_id", "person_id")),
        "claims": sorted(InsuranceClaim.objects.values_list("case_id", "payout")),
        "payouts": sorted(InsurancePayout.objects.values_list("claim_id", "amount", "reference")),
        "grants": sorted(StudentGrant.objects.values_list("case_id", "amount")),
        "campaigns": sorted(CareCampaign.objects.values_list("id", "org_id", "name", "budget")),
        "visits": sorted(CareVisit.objects.values_list("id", "campaign_id", "money", "goods_value")),
        "serials": sorted(CaseSerial.objects.values_list("year", "last")),
        "audit_events": AuditEvent.objects.count(),
        "media": media_files(),
    }


def audit_count(action: str, object_id=None) -> int:
    found = AuditEvent.objects.filter(action=action)
    if object_id is not None:
        found = found.filter(object_id=str(object_id))
    return found.count()


def text(response) -> str:
    return response.content.decode()


# ---------------------------------------------------------------- people and applications


@dataclass
class Worker:
    """A member of a union, enrolled with a phone so that they can sign in to the portal."""

    name: str
    number: str
    phone: str
    membership: Membership

    @property
    def card(self) -> str:
        return self.membership.card_number

    @property
    def person(self):
        return self.membership.person


def worker(system, org, *, name: str, seq: int, phone: str) -> Worker:
    number = resident_id(BIRTH, seq)
    membership = enrol(system, org, name=name, number=number, phone=phone)
    return Worker(name=name, number=number, phone=phone, membership=membership)


@pytest.fixture
def people(tree, system) -> dict[str, Worker]:
    return {
        "m12": worker(system, tree[E12], name="张三", seq=101, phone="13812341234"),
        "m123": worker(system, tree[E123], name="李四", seq=102, phone="13912345678"),
        "mt2": worker(system, tree[T2E1], name="赵六", seq=103, phone="13700001111"),
        "mwz": worker(system, tree[WZE1], name="王五", seq=104, phone="13600002222"),
    }


def hardship_data(amount: str = "2000", causes=("illness",)) -> dict:
    return {
        "summary": "妻子患病住院，家庭支出困难",
        "causes": list(causes),
        "household_size": "3",
        "household_income": "36000",
        "amount_requested": amount,
    }


def legal_data(category: str = "wages") -> dict:
    return {
        "summary": "公司拖欠三个月工资",
        "category": category,
        "counterparty": "某某制造有限公司",
        "amount_requested": "18000",
    }


def insurance_data(enrolment) -> dict:
    return {
        "summary": "住院治疗，申请互助保障补助",
        "enrolment": str(enrolment.id),
        "hospital": "苏州市立医院",
        "admitted_on": (today() - timedelta(days=10)).isoformat(),
        "discharged_on": (today() - timedelta(days=5)).isoformat(),
        "total_cost": "8000",
        "eligible_cost": "6000",
    }


def student_data(seq: int = 12) -> dict:
    return {
        "summary": "女儿考入大学，家庭困难",
        "student_name": "张小花",
        "student_doc_number": resident_id(date(2007, 9, 1), seq),
        "relation": "子女",
        "school": "苏州大学",
        "grade": "本科一年级",
        "amount_requested": "3000",
    }


PLAN_DATA = {
    "name": "职工住院互助保障",
    "premium": "60",
    "daily_allowance": "50",
    "max_days": "10",
    "deductible": "1000",
    "reimbursement_ratio": "50",
    "claim_cap": "5000",
    "annual_cap": "8000",
}


def plan_data() -> dict:
    """A plan running since over a year ago: a hospital stay ten days ago lies inside it."""
    return {
        **PLAN_DATA,
        "year": str(today().year),
        "starts_on": (today() - timedelta(days=400)).isoformat(),
        "ends_on": (today() + timedelta(days=30)).isoformat(),
    }


# Daily allowance 50 × 5 days + (6000 − 1000) × 50% = 250 + 2500.
EXPECTED_PAYOUT = Decimal("2750.00")


def make_plan(actor, org) -> InsurancePlan:
    return plan_create(actor=actor, org=org, **plan_data())


def enter(actor, who: Worker, kind: str, data: dict, consent: Consent = ALL_CONSENT) -> ServiceCase:
    return case_enter(actor=actor, membership=who.membership, kind=kind, data=data, consent=consent)


def advance(actor, case: ServiceCase, to: str, **outcome) -> ServiceCase:
    """Take a submitted case to `to` (accepted, in_progress or closed) through the services."""
    case = case_accept(actor=actor, case=case)
    if to == CaseStatus.ACCEPTED:
        return case
    extra = {"station": "姑苏区职工法律援助站"} if case.kind == CaseKind.LEGAL else {}
    case = case_start(actor=actor, case=case, **extra)
    if to == CaseStatus.IN_PROGRESS:
        return case
    return case_close(actor=actor, case=case, result="已按规定办结", outcome=outcome)


def campaign_data(budget: str = "10000") -> dict:
    return {
        "kind": "warmth",
        "name": "元旦春节送温暖",
        "starts_on": (today() - timedelta(days=30)).isoformat(),
        "ends_on": (today() + timedelta(days=30)).isoformat(),
        "budget": budget,
    }


def file_data(**changes) -> dict:
    return {"tier": "relative", "causes": ["illness"], "household_size": "3", "household_income": "36000", **changes}


# ---------------------------------------------------------------- the portal side


def last_code(phone: str) -> str:
    sent = [body for to, body in MemorySmsSender.outbox if to == phone]
    return re.search(r"\d{6}", sent[-1]).group(0)


def portal_sign_in(phone: str) -> Client:
    client = Client()
    client.post(reverse("portal:login"), {"phone": phone, "action": "send"})
    response = client.post(reverse("portal:login"), {"phone": phone, "code": last_code(phone)})
    assert response.status_code == 302
    return client


def portal_member(who: Worker) -> Client:
    """The worker signed in on the portal and bound to their record through the binding page."""
    client = portal_sign_in(who.phone)
    response = client.post(
        reverse("portal:bind"), {"name": who.name, "doc_type": "resident_id", "doc_number": who.number}
    )
    assert response.status_code == 302
    assert MemberAccount.objects.get(person=who.person).person_id == who.person.id
    return client


def bound_account(who: Worker) -> MemberAccount:
    """The worker's portal account bound through the services (for setting up data, not for page tests)."""
    sent = phone_code_send(phone=who.phone)
    account = phone_code_sign_in(phone=who.phone, code=sent.code)
    member_account_bind(account=account, name=who.name, doc_type="resident_id", doc_number=who.number)
    return MemberAccount.objects.get(pk=account.pk)


# ---------------------------------------------------------------- 1. scoping of every page and list


@dataclass
class World:
    """One of everything in 姑苏 (SZ-GS) and a little in 吴中 (SZ-WZ)."""

    sub: ServiceCase  # 法律援助 of 张三 (union 12), handled by SZ-GS, 待受理
    acc: ServiceCase  # 困难帮扶 of 李四 (union 123) asking 6000 元, handled by SZ-GS, 已受理
    prog: ServiceCase  # 互助保障 of 张三, handled by SZ-GS (the plan's union), 办理中
    closed: ServiceCase  # 金秋助学 of 张三, handled by union 12, 已办结 with a grant, drawn for callback
    attachment: CaseAttachment  # on `closed`
    file12: HardshipFile  # 张三's file at union 12
    file_t2: HardshipFile  # 赵六's file at SZ-GS-T02-E1
    plan: InsurancePlan  # run by SZ-GS
    enrolment: InsuranceEnrolment  # 张三 in `plan`
    campaign: CareCampaign  # run by SZ-GS
    wz_case: ServiceCase  # 法律援助 of 王五, handled by SZ-WZ
    wz_student: ServiceCase  # 金秋助学 of 王五, closed with a grant
    wz_file: HardshipFile
    wz_plan: InsurancePlan
    wz_enrolment: InsuranceEnrolment
    wz_campaign: CareCampaign


@pytest.fixture
def world(tree, actors, people) -> World:
    district, grassroots, wz = actors["district_cadre"], actors["grassroots_cadre"], actors["other_district_cadre"]
    m12, m123, mt2, mwz = people["m12"], people["m123"], people["mt2"], people["mwz"]
    plan = make_plan(district, tree[GS])
    enrolment = plan_enrol_member(actor=grassroots, plan=plan, membership=m12.membership)
    sub = enter(grassroots, m12, CaseKind.LEGAL, legal_data())
    acc = advance(district, enter(district, m123, CaseKind.HARDSHIP, hardship_data("6000")), CaseStatus.ACCEPTED)
    prog = advance(district, enter(grassroots, m12, CaseKind.INSURANCE, insurance_data(enrolment)), "in_progress")
    closed = enter(grassroots, m12, CaseKind.STUDENT, student_data(12))
    closed = advance(grassroots, closed, CaseStatus.CLOSED, granted="on", amount="3000")
    attachment = case_attach(actor=grassroots, case=closed, name="录取通知书.pdf", content=PDF)
    assert [c.id for c in callbacks_draw(actor=district, org=tree[GS], start=today(), end=today(), share=1)] == [
        closed.id
    ]
    file12 = hardship_file_establish(actor=grassroots, membership=m12.membership, **file_data())
    file_t2 = hardship_file_establish(actor=district, membership=mt2.membership, **file_data(tier="deep"))
    campaign = campaign_create(actor=district, org=tree[GS], **campaign_data())
    care_visits_record(
        actor=grassroots,
        campaign=campaign,
        org=tree[E12],
        rows=[{"card_number": m12.card, "money": "500", "visited_on": today().isoformat()}],
    )
    wz_plan = make_plan(wz, tree[WZ])
    wz_student = advance(wz, enter(wz, mwz, CaseKind.STUDENT, student_data(14)), "closed", granted="on", amount="2000")
    world = World(
        sub=sub,
        acc=acc,
        prog=prog,
        closed=closed,
        attachment=attachment,
        file12=file12,
        file_t2=file_t2,
        plan=plan,
        enrolment=enrolment,
        campaign=campaign,
        wz_case=enter(wz, mwz, CaseKind.LEGAL, legal_data()),
        wz_student=wz_student,
        wz_file=hardship_file_establish(actor=wz, membership=mwz.membership, **file_data()),
        wz_plan=wz_plan,
        wz_enrolment=plan_enrol_member(actor=wz, plan=wz_plan, membership=mwz.membership),
        wz_campaign=campaign_create(actor=wz, org=tree[WZ], **campaign_data()),
    )
    assert (sub.org.code, acc.org.code, prog.org.code, closed.org.code) == (GS, GS, GS, E12)
    assert (sub.status, acc.status, prog.status, closed.status) == ("submitted", "accepted", "in_progress", "closed")
    assert fresh(closed).callback_status == CallbackStatus.PENDING
    return world


def _case(case_id) -> str:
    return reverse("admin:case_detail", args=[case_id])


def object_requests(world: World, people: dict[str, Worker]) -> list[tuple]:
    """(label, method, url of the 姑苏 object, url of a missing id, form data) for every page addressed by id, with
    a form that would be accepted from someone whose scope covered the object."""
    missing = uuid.uuid4()
    file_url = reverse("admin:hardship_file_detail", args=[world.file12.id])
    file_missing = reverse("admin:hardship_file_detail", args=[missing])
    plan_url, plan_missing = (reverse("admin:plan_detail", args=[x]) for x in (world.plan.id, missing))
    campaign_url, campaign_missing = (reverse("admin:campaign_detail", args=[x]) for x in (world.campaign.id, missing))
    attachment_url, attachment_missing = (
        reverse("admin:case_attachment", args=[x]) for x in (world.attachment.id, missing)
    )
    return [
        ("case page", "get", _case(world.sub.id), _case(missing), None),
        ("accept", "post", _case(world.sub.id), _case(missing), lambda: {"action": "accept", "note": "材料齐全"}),
        ("reject", "post", _case(world.sub.id), _case(missing), lambda: {"action": "reject", "reason": "不符合条件"}),
        ("withdraw", "post", _case(world.sub.id), _case(missing), lambda: {"action": "withdraw", "reason": "已解决"}),
        ("start", "post", _case(world.acc.id), _case(missing), lambda: {"action": "start"}),
        (
            "close",
            "post",
            _case(world.prog.id),
            _case(missing),
            lambda: {"action": "close", "result": "核定支付", "payable": "on", "reference": "ZF-001"},
        ),
        (
            "callback",
            "post",
            _case(world.closed.id),
            _case(missing),
            lambda: {"action": "callback", "callback_result": "satisfied", "note": "满意"},
        ),
        (
            "attach",
            "post",
            _case(world.closed.id),
            _case(missing),
            lambda: {"action": "attach", "file": upload("证明.pdf", PDF, "application/pdf")},
        ),
        ("attachment", "get", attachment_url, attachment_missing, None),
        ("file page", "get", file_url, file_missing, None),
        (
            "verify",
            "post",
            file_url,
            file_missing,
            lambda: {"action": "verify", **file_data(tier="accidental", household_income="24000")},
        ),
        (
            "exit",
            "post",
            file_url,
            file_missing,
            lambda: {"action": "exit", "reason": "再就业", "transition_months": "3"},
        ),
        (
            "aid",
            "post",
            file_url,
            file_missing,
            lambda: {"action": "aid", "form": "money", "amount": "500", "description": "生活补助"},
        ),
        ("plan page", "get", plan_url, plan_missing, None),
        ("enrol union", "post", plan_url, plan_missing, lambda: {"action": "enrol_union", "union_code": E123}),
        (
            "enrol member",
            "post",
            plan_url,
            plan_missing,
            lambda: {"action": "enrol_member", "card_number": people["m123"].card},
        ),
        ("campaign page", "get", campaign_url, campaign_missing, None),
        (
            "visits",
            "post",
            campaign_url,
            campaign_missing,
            lambda: {
                "org_code": E12,
                "card_number-0": people["m12"].card,
                "money-0": "100",
                "visited_on-0": today().isoformat(),
            },
        ),
        (
            "enrolment (admin)",
            "get",
            f"/admin/casework/insuranceenrolment/{world.enrolment.id}/change/",
            f"/admin/casework/insuranceenrolment/{missing}/change/",
            None,
        ),
        (
            "student grant (admin)",
            "get",
            f"/admin/casework/studentgrant/{world.closed.id}/change/",
            f"/admin/casework/studentgrant/{missing}/change/",
            None,
        ),
        (
            "case history (admin)",
            "get",
            f"/admin/casework/servicecase/{world.sub.id}/history/",
            f"/admin/casework/servicecase/{missing}/history/",
            None,
        ),
        (
            "file history (admin)",
            "get",
            f"/admin/casework/hardshipfile/{world.file12.id}/history/",
            f"/admin/casework/hardshipfile/{missing}/history/",
            None,
        ),
        (
            "plan history (admin)",
            "get",
            f"/admin/casework/insuranceplan/{world.plan.id}/history/",
            f"/admin/casework/insuranceplan/{missing}/history/",
            None,
        ),
        (
            "campaign history (admin)",
            "get",
            f"/admin/casework/carecampaign/{world.campaign.id}/history/",
            f"/admin/casework/carecampaign/{missing}/history/",
            None,
        ),
    ]


def call(client: Client, method: str, url: str, data_factory):
    data = data_factory() if data_factory else {}
    return client.get(url, data) if method == "get" else client.post(url, data)


def body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


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


# ---------------------------------------------------------------- 2. the case page and its actions


ACTIONS = ("accept", "reject", "start", "close", "withdraw", "attach", "callback")


def buttons(page: str) -> set[str]:
    return {action for action in ACTIONS if f'name="action" value="{action}"' in page}


@pytest.fixture
def legal_case(actors, people) -> ServiceCase:
    """张三 (union 12) asks for legal aid; the county federation SZ-GS handles it."""
    case = enter(actors["grassroots_cadre"], people["m12"], CaseKind.LEGAL, legal_data())
    assert case.org.code == GS
    return case


def test_viewing_a_case_shows_it_and_writes_one_view_event(legal_case, login):
    client = login("district_cadre")
    response = client.get(_case(legal_case.id))

    assert response.status_code == 200
    page = text(response)
    assert legal_case.number in page
    assert "张三" in page and "劳动报酬" in page and "某某制造有限公司" in page and "十二号公司工会委员会" in page
    assert buttons(page) == {"accept", "reject", "withdraw", "attach"}
    assert audit_count("case.view") == 1
    event = AuditEvent.objects.get(action="case.view")
    assert (event.actor_label, event.object_type, event.object_id, event.details) == (
        "district_cadre",
        "service_case",
        str(legal_case.id),
        {"kind": "legal"},
    )
    assert event.object_label == f"{legal_case.number} 张*"


def test_accepting_a_case(legal_case, login):
    client = login("district_cadre")
    response = client.post(_case(legal_case.id), {"action": "accept", "note": "材料齐全"})

    assert (response.status_code, response["Location"]) == (302, _case(legal_case.id))
    case = fresh(legal_case)
    assert (case.status, case.handled_by) == (CaseStatus.ACCEPTED, "district_cadre")
    assert case.accepted_at is not None
    assert list(case.events.values_list("action", "label", "by", "note")) == [
        ("submit", "已提交申请", "grassroots_cadre", "法律援助，按规则转由姑苏区总工会承办"),
        ("accept", "已受理", "district_cadre", "材料齐全"),
    ]
    assert audit_count("case.accept", case.id) == 1
    page = text(client.get(response["Location"]))
    assert buttons(page) == {"start", "withdraw", "attach"}
    assert 'name="station"' in page and 'name="lawyer"' in page


def test_rejecting_needs_a_reason_and_then_tells_it(legal_case, login):
    client = login("district_cadre")
    before = casework_state()
    for reason in ("", "   "):
        response = client.post(_case(legal_case.id), {"action": "reject", "reason": reason})
        assert response.status_code == 200
        assert "请填写不予受理的理由" in text(response)
        assert casework_state() == before

    response = client.post(_case(legal_case.id), {"action": "reject", "reason": "不属于劳动争议"})
    assert response.status_code == 302
    case = fresh(legal_case)
    assert (case.status, case.rejection_reason, case.handled_by) == (
        CaseStatus.REJECTED,
        "不属于劳动争议",
        "district_cadre",
    )
    assert case.closed_at is not None
    assert audit_count("case.reject", case.id) == 1
    page = text(client.get(_case(case.id)))
    assert "不予受理理由" in page and "不属于劳动争议" in page
    assert buttons(page) == set()


def test_starting_legal_aid_needs_a_lawyer_or_a_station(legal_case, actors, login):
    case_accept(actor=actors["district_cadre"], case=legal_case)
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(legal_case.id), {"action": "start", "lawyer": " ", "station": ""})
    assert response.status_code == 200
    assert "请指派承办律师或法律援助站" in text(response)
    assert casework_state() == before

    response = client.post(
        _case(legal_case.id), {"action": "start", "station": "姑苏区职工法律援助站", "lawyer": "王律师"}
    )
    assert response.status_code == 302
    case = fresh(legal_case)
    assert case.status == CaseStatus.IN_PROGRESS and case.started_at is not None
    assert LegalAidRecord.objects.filter(case=case).values_list("station", "lawyer").get() == (
        "姑苏区职工法律援助站",
        "王律师",
    )
    assert case.events.get(action="start").note == "指派：姑苏区职工法律援助站，王律师"
    page = text(client.get(_case(case.id)))
    assert buttons(page) == {"close", "attach"}
    assert "承办：姑苏区职工法律援助站 王律师" in page


def test_closing_hardship_with_aid_opens_the_file_and_records_the_aid(tree, actors, people, login):
    grassroots = actors["grassroots_cadre"]
    case = advance(grassroots, enter(grassroots, people["m12"], CaseKind.HARDSHIP, hardship_data()), "in_progress")
    assert case.org.code == E12
    client = login("grassroots_cadre")
    form = {
        "action": "close",
        "result": "经入户核查，给予生活救助",
        "granted": "on",
        "tier": "relative",
        "aid_form": "money",
        "amount": "1500",
        "aid_description": "生活救助金",
    }
    before = casework_state()
    refused = client.post(_case(case.id), {**form, "tier": ""})
    assert refused.status_code == 200 and "请选择困难类别" in text(refused)
    assert casework_state() == before

    response = client.post(_case(case.id), form)
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted, case.result) == (CaseStatus.CLOSED, Decimal("1500.00"), form["result"])
    file = HardshipFile.objects.get(person=people["m12"].person)
    assert (
        file.org_id,
        file.status,
        file.tier,
        file.causes,
        file.household_size,
        file.household_income,
        file.income_per_head,
        file.case_id,
        file.established_on,
        file.next_verification_on,
        file.returned,
    ) == (
        tree[E12].id,
        HardshipFileStatus.ACTIVE,
        "relative",
        ["illness"],
        3,
        Decimal("36000.00"),
        Decimal("1000.00"),
        case.id,
        today(),
        add_months(today(), 12),
        False,
    )
    aid = HardshipAid.objects.get()
    assert (aid.file_id, aid.case_id, aid.form, aid.amount, aid.description, aid.granted_on, aid.granted_by) == (
        file.id,
        case.id,
        AidForm.MONEY,
        Decimal("1500.00"),
        "生活救助金",
        today(),
        "grassroots_cadre",
    )
    assert aid.in_transition is False
    assert (audit_count("case.close"), audit_count("hardship.establish"), audit_count("hardship.aid")) == (1, 1, 1)
    page = text(client.get(_case(case.id)))
    assert "资金 1500.00 元 · 生活救助金" in page
    assert reverse("admin:hardship_file_detail", args=[file.id]) in page
    assert "（发放 1500.00 元）" in page


def test_closing_hardship_without_aid_opens_no_file(actors, people, login):
    grassroots = actors["grassroots_cadre"]
    case = advance(grassroots, enter(grassroots, people["m12"], CaseKind.HARDSHIP, hardship_data()), "in_progress")
    response = login("grassroots_cadre").post(_case(case.id), {"action": "close", "result": "经核查家庭收入超过标准"})

    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, None)
    assert HardshipFile.objects.count() == HardshipAid.objects.count() == 0


def test_closing_legal_aid_records_how_it_ended(legal_case, actors, login):
    case = advance(actors["district_cadre"], legal_case, "in_progress")
    client = login("district_cadre")
    before = casework_state()
    for form, message in (
        ({"result": "", "outcome": "mediated"}, "请填写办理结果"),
        ({"result": "调解结案", "outcome": ""}, "请选择结案方式"),
        ({"result": "调解结案", "outcome": "mediated", "amount_recovered": "-5"}, "挽回经济损失不能为负数"),
    ):
        response = client.post(_case(case.id), {"action": "close", **form})
        assert response.status_code == 200 and message in text(response), message
        assert casework_state() == before

    response = client.post(
        _case(case.id),
        {"action": "close", "result": "经调解公司支付欠薪", "outcome": "mediated", "amount_recovered": "18000"},
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, None)
    record = LegalAidRecord.objects.get(case=case)
    assert (record.outcome, record.amount_recovered) == (LegalOutcome.MEDIATED, Decimal("18000.00"))
    assert "结案：调解成功 · 挽回 18000.00 元" in text(client.get(_case(case.id)))


@pytest.fixture
def plan(tree, actors) -> InsurancePlan:
    return make_plan(actors["district_cadre"], tree[GS])


@pytest.fixture
def enrolment(plan, actors, people) -> InsuranceEnrolment:
    return plan_enrol_member(actor=actors["grassroots_cadre"], plan=plan, membership=people["m12"].membership)


def test_closing_an_insurance_claim_computes_the_payout_by_the_plans_rules(enrolment, actors, people, login):
    district = actors["district_cadre"]
    case = enter(actors["grassroots_cadre"], people["m12"], CaseKind.INSURANCE, insurance_data(enrolment))
    assert case.org.code == GS
    case = advance(district, case, "in_progress")
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(case.id), {"action": "close", "result": "核定补助", "payable": "on", "reference": ""})
    assert response.status_code == 200 and "请填写支付凭证号" in text(response)
    assert casework_state() == before
    assert InsuranceClaim.objects.get(case=case).payout is None

    response = client.post(
        _case(case.id), {"action": "close", "result": "按计划规则核定补助", "payable": "on", "reference": "ZF-2026-001"}
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, EXPECTED_PAYOUT)
    claim = InsuranceClaim.objects.get(case=case)
    assert (claim.hospital_days, claim.payout) == (5, EXPECTED_PAYOUT)
    paid = InsurancePayout.objects.get()
    assert (paid.claim_id, paid.amount, paid.reference, paid.paid_on, paid.paid_by) == (
        case.id,
        EXPECTED_PAYOUT,
        "ZF-2026-001",
        today(),
        "district_cadre",
    )
    page = text(client.get(_case(case.id)))
    assert "住院 5 天 · 核定补助 2750.00 元 · 已支付（凭证 ZF-2026-001）" in page


def test_closing_student_aid_grants_once_and_never_shows_the_students_number(actors, people, login):
    grassroots = actors["grassroots_cadre"]
    data = student_data(12)
    case = advance(grassroots, enter(grassroots, people["m12"], CaseKind.STUDENT, data), "in_progress")
    client = login("grassroots_cadre")
    before = casework_state()
    response = client.post(_case(case.id), {"action": "close", "result": "给予资助", "granted": "on", "amount": "0"})
    assert response.status_code == 200 and "资助金额应大于零" in text(response)
    assert casework_state() == before

    response = client.post(
        _case(case.id), {"action": "close", "result": "给予金秋助学金", "granted": "on", "amount": "3000"}
    )
    assert response.status_code == 302
    case = fresh(case)
    assert (case.status, case.amount_granted) == (CaseStatus.CLOSED, Decimal("3000.00"))
    grant = StudentGrant.objects.get()
    assert (
        grant.case_id,
        grant.student_name,
        grant.school,
        grant.grade,
        grant.year,
        grant.amount,
        grant.granted_on,
    ) == (
        case.id,
        "张小花",
        "苏州大学",
        "本科一年级",
        today().year,
        Decimal("3000.00"),
        today(),
    )
    assert grant.student_masked == case.details["student_masked"] != data["student_doc_number"]
    page = text(client.get(_case(case.id)))
    assert f"{today().year} 年 3000.00 元" in page
    assert grant.student_masked in page
    assert data["student_doc_number"] not in page


def test_recording_a_withdrawal_needs_what_the_applicant_said(legal_case, actors, login):
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(legal_case.id), {"action": "withdraw", "reason": ""})
    assert response.status_code == 200 and "请填写撤回说明" in text(response)
    assert casework_state() == before

    response = client.post(_case(legal_case.id), {"action": "withdraw", "reason": "申请人电话告知已与公司和解"})
    assert response.status_code == 302
    case = fresh(legal_case)
    assert case.status == CaseStatus.WITHDRAWN and case.closed_at is not None
    assert case.events.get(action="withdraw").note == "申请人电话告知已与公司和解"
    assert audit_count("case.withdraw", case.id) == 1
    assert buttons(text(client.get(_case(case.id)))) == set()


def test_a_case_in_progress_can_no_longer_be_withdrawn(legal_case, actors, login):
    advance(actors["district_cadre"], legal_case, "in_progress")
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(legal_case.id), {"action": "withdraw", "reason": "申请人要求撤回"})
    assert response.status_code == 200
    assert "该申请当前为“办理中”，不能进行此操作" in text(response)
    assert casework_state() == before


def test_attaching_evidence_accepts_scans_and_refuses_anything_else(legal_case, login):
    client = login("district_cadre")
    url = _case(legal_case.id)
    before = casework_state()
    for name, content in (("setup.exe", EXE), ("说明.txt", TEXT), ("伪装.pdf", EXE), ("空.pdf", b"")):
        response = client.post(url, {"action": "attach", "file": upload(name, content)})
        assert response.status_code == 200, name
        assert (FORMAT_REFUSED if content else "文件是空的，请重新选择") in text(response), name
        assert casework_state() == before, name
    response = client.post(url, {"action": "attach"})
    assert response.status_code == 200 and "请选择要上传的文件" in text(response)
    assert casework_state() == before
    assert media_files() == []

    response = client.post(url, {"action": "attach", "file": upload("劳动合同.pdf", PDF, "application/pdf")})
    assert response.status_code == 302
    response = client.post(url, {"action": "attach", "file": upload("工资条照片", PNG, "image/png")})
    assert response.status_code == 302
    first, second = CaseAttachment.objects.order_by("uploaded_at", "id")
    assert (first.name, first.content_type, first.size, first.uploaded_by) == (
        "劳动合同.pdf",
        "application/pdf",
        len(PDF),
        "district_cadre",
    )
    assert (second.name, second.content_type) == ("工资条照片.png", "image/png")
    assert first.file.read() == PDF
    assert media_files() == sorted([first.file.name, second.file.name])
    assert list(legal_case.events.filter(action="attach").values_list("note", flat=True)) == [
        "劳动合同.pdf",
        "工资条照片.png",
    ]
    assert audit_count("case.attach", legal_case.id) == 2
    page = text(client.get(url))
    assert reverse("admin:case_attachment", args=[first.id]) in page and "工资条照片.png" in page


def test_downloading_evidence_returns_the_file_and_is_audited(legal_case, actors, login):
    attachment = case_attach(actor=actors["district_cadre"], case=legal_case, name="劳动合同.pdf", content=PDF)
    for username in ("district_cadre", "grassroots_cadre"):  # the handling union, and the applicant's own
        response = login(username).get(reverse("admin:case_attachment", args=[attachment.id]))
        assert response.status_code == 200, username
        assert body(response) == PDF
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"] == (
            "attachment; filename*=utf-8''%E5%8A%B3%E5%8A%A8%E5%90%88%E5%90%8C.pdf"
        )
    events = AuditEvent.objects.filter(action="case.attachment_view").order_by("at", "id")
    assert [(e.actor_label, e.object_id, e.details) for e in events] == [
        (username, str(legal_case.id), {"kind": "legal", "file": "劳动合同.pdf"})
        for username in ("district_cadre", "grassroots_cadre")
    ]


def test_the_members_own_union_follows_county_legal_aid_but_cannot_act(legal_case, actors, login):
    case_attach(actor=actors["district_cadre"], case=legal_case, name="劳动合同.pdf", content=PDF)
    client = login("grassroots_cadre")
    response = client.get(_case(legal_case.id))
    assert response.status_code == 200
    page = text(response)
    assert legal_case.number in page and "劳动合同.pdf" in page
    assert buttons(page) == set()
    assert 'type="file"' not in page
    assert audit_count("case.view", legal_case.id) == 1

    missing = _case(uuid.uuid4())
    forms = [
        {"action": "accept"},
        {"action": "reject", "reason": "不符合条件"},
        {"action": "withdraw", "reason": "申请人撤回"},
        {"action": "start", "station": "援助站"},
        {"action": "close", "result": "办结", "outcome": "mediated"},
        {"action": "callback", "callback_result": "satisfied"},
    ]
    before = casework_state()
    for form in forms:
        refused = client.post(_case(legal_case.id), form)
        absent = client.post(missing, form)
        assert refused.status_code == absent.status_code == 404, form
        assert refused.content == absent.content, form
        assert casework_state() == before, form
    refused = client.post(_case(legal_case.id), {"action": "attach", "file": upload("a.pdf", PDF)})
    absent = client.post(missing, {"action": "attach", "file": upload("a.pdf", PDF)})
    assert refused.status_code == absent.status_code == 404
    assert refused.content == absent.content
    assert casework_state() == before
    assert fresh(legal_case).status == CaseStatus.SUBMITTED


def test_a_case_of_union_123_is_missing_for_the_cadre_of_union_12(actors, people, login):
    """The path-prefix trap: "12" and "123" differ only by a suffix."""
    case = enter(actors["town_cadre"], people["m123"], CaseKind.HARDSHIP, hardship_data())
    assert case.org.code == E123
    client = login("grassroots_cadre")
    before = casework_state()
    hidden, absent = client.get(_case(case.id)), client.get(_case(uuid.uuid4()))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.content == absent.content
    assert casework_state() == before


def test_a_drawn_case_takes_its_callback_result(legal_case, tree, actors, login):
    district = actors["district_cadre"]
    case = advance(district, legal_case, "closed", outcome="mediated")
    client = login("district_cadre")
    assert "callback" not in buttons(text(client.get(_case(case.id))))
    callbacks_draw(actor=district, org=tree[GS], start=today(), end=today(), share=Decimal("1"))
    page = text(client.get(_case(case.id)))
    assert "callback" in buttons(page) and "待回访" in page

    before = casework_state()
    response = client.post(_case(case.id), {"action": "callback", "callback_result": "", "note": "电话回访"})
    assert response.status_code == 200 and "请选择回访结果" in text(response)
    assert casework_state() == before

    response = client.post(_case(case.id), {"action": "callback", "callback_result": "satisfied", "note": "对结果满意"})
    assert response.status_code == 302
    case = fresh(case)
    assert (case.callback_status, case.callback_result, case.callback_note, case.callback_by) == (
        CallbackStatus.DONE,
        CallbackResult.SATISFIED,
        "对结果满意",
        "district_cadre",
    )
    assert case.events.get(action="callback").note == "满意 对结果满意"
    page = text(client.get(_case(case.id)))
    assert "已回访 · 满意 对结果满意" in page
    assert "callback" not in buttons(page)


# ---------------------------------------------------------------- 3. the workbench


@dataclass
class Desk:
    l1: ServiceCase  # 法律援助 of 张三 at SZ-GS, 待受理
    l2: ServiceCase  # 法律援助 of 李四 at SZ-GS, 已受理
    l3: ServiceCase  # 法律援助 of 赵六 at SZ-GS, 待受理, overdue and escalated to SZ
    h1: ServiceCase  # 困难帮扶 of 张三 at union 12, 待受理, overdue and escalated to SZ-GS-T01
    h2: ServiceCase  # 困难帮扶 of 李四 at union 123, 待受理, in time
    s1: ServiceCase  # 金秋助学 of 李四 at union 123, withdrawn (past its old deadline: not counted)
    w1: ServiceCase  # 法律援助 of 王五 at SZ-WZ, 待受理, overdue and escalated to SZ


@pytest.fixture
def desk(actors, people) -> Desk:
    district, town, wz = actors["district_cadre"], actors["town_cadre"], actors["other_district_cadre"]
    m12, m123, mt2, mwz = people["m12"], people["m123"], people["mt2"], people["mwz"]
    desk = Desk(
        l1=enter(town, m12, CaseKind.LEGAL, legal_data()),
        l2=advance(district, enter(town, m123, CaseKind.LEGAL, legal_data()), CaseStatus.ACCEPTED),
        l3=enter(district, mt2, CaseKind.LEGAL, legal_data()),
        h1=enter(town, m12, CaseKind.HARDSHIP, hardship_data()),
        h2=enter(town, m123, CaseKind.HARDSHIP, hardship_data()),
        s1=case_withdraw(actor=town, case=enter(town, m123, CaseKind.STUDENT, student_data()), reason="不再需要"),
        w1=enter(wz, mwz, CaseKind.LEGAL, legal_data()),
    )
    late = [desk.l3.id, desk.h1.id, desk.s1.id, desk.w1.id]
    ServiceCase.objects.filter(id__in=late).update(due_on=today() - timedelta(days=3))
    assert cases_escalate_overdue(actor=system_actor("tests")) == 3
    return desk


STAT_LABELS = ("职工服务待办（本级承办）", "超期服务申请", "上报本级督办")

# (my queue, overdue in my subtree, escalated to my union) and the cases behind each.
WORKBENCH = {
    "district_cadre": ({"l1", "l2", "l3"}, {"l3", "h1"}, set()),
    "town_cadre": (set(), {"h1"}, {"h1"}),
    "city_cadre": (set(), {"l3", "h1", "w1"}, {"l3", "w1"}),
    "grassroots_cadre": ({"h1"}, {"h1"}, set()),
    "other_district_cadre": ({"w1"}, {"w1"}, set()),
}


def stat(page: str, label: str) -> int:
    found = re.search(rf'<div class="gh-stat-label">{label}</div><div class="gh-stat-value">(\d+)</div>', page)
    assert found, label
    return int(found.group(1))


@pytest.mark.parametrize("username", sorted(WORKBENCH))
def test_the_workbench_counts_my_queue_overdue_and_escalated_cases(desk, login, username):
    response = login(username).get(reverse("admin:index"))
    assert response.status_code == 200
    page = text(response)
    queue, overdue, escalated = WORKBENCH[username]
    assert [stat(page, label) for label in STAT_LABELS] == [len(queue), len(overdue), len(escalated)]
    services = response.context["services"]
    number = {name: getattr(desk, name).number for name in Desk.__dataclass_fields__}
    assert {c.number for c in services["queue"]} == {number[n] for n in queue}
    assert {c.number for c in services["overdue"]} == {number[n] for n in overdue}
    assert {c.number for c in services["escalated"]} == {number[n] for n in escalated}
    shown = queue | overdue | escalated
    for name, value in number.items():
        assert (value in page) == (name in shown), (username, name)


def one_click(page: str, case: ServiceCase, action: str) -> bool:
    form = (
        f'<form method="post" action="{_case(case.id)}" class="gh-inline">'
        r'<input type="hidden" name="csrfmiddlewaretoken" value="[^"]+">'
        f'<input type="hidden" name="action" value="{action}">'
        f'<input type="hidden" name="next" value="{reverse("admin:index")}">'
    )
    return re.search(form, page) is not None


def test_one_click_accept_from_the_workbench_comes_back_to_it(desk, login):
    client = login("district_cadre")
    page = text(client.get(reverse("admin:index")))
    assert one_click(page, desk.l1, "accept") and one_click(page, desk.l3, "accept")
    assert not one_click(page, desk.l2, "start")  # legal aid is started on its page, where a lawyer is assigned
    assert f'<a class="gh-link" href="{_case(desk.l2.id)}">处理</a>' in page

    response = client.post(_case(desk.l1.id), {"action": "accept", "next": reverse("admin:index")})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    assert fresh(desk.l1).status == CaseStatus.ACCEPTED
    page = text(client.get(response["Location"]))
    assert "已受理" in page
    assert stat(page, STAT_LABELS[0]) == 3  # still open, now waiting for 开始办理
    assert not one_click(page, desk.l1, "accept")


def test_one_click_start_is_offered_for_an_accepted_hardship_case(desk, actors, login):
    case_accept(actor=actors["grassroots_cadre"], case=desk.h1)
    client = login("grassroots_cadre")
    assert one_click(text(client.get(reverse("admin:index"))), desk.h1, "start")
    response = client.post(_case(desk.h1.id), {"action": "start", "next": reverse("admin:index")})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    assert fresh(desk.h1).status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/admin/", "http://evil.example", "javascript:alert(1)"]
)
def test_an_unsafe_next_is_ignored(desk, login, target):
    client = login("district_cadre")
    response = client.post(_case(desk.l1.id), {"action": "accept", "next": target})
    assert (response.status_code, response["Location"]) == (302, _case(desk.l1.id))
    assert fresh(desk.l1).status == CaseStatus.ACCEPTED


OVERDUE_FILTER = {
    ("district_cadre", "yes"): {"l3", "h1"},
    ("district_cadre", "escalated"): {"l3", "h1"},
    ("town_cadre", "yes"): {"h1"},
    ("city_cadre", "escalated"): {"l3", "h1", "w1"},
    ("other_district_cadre", "ever"): {"w1"},
    ("grassroots_cadre", "ever"): {"h1"},
}


@pytest.mark.parametrize(("username", "value"), sorted(OVERDUE_FILTER))
def test_the_overdue_filter_of_the_case_list(desk, login, username, value):
    """The workbench links to the list filtered by 办理时限; the filter stays inside the scope."""
    response = login(username).get("/admin/casework/servicecase/", {"overdue": value})
    assert response.status_code == 200
    shown = {case.pk for case in response.context["cl"].result_list}
    assert shown == {getattr(desk, name).pk for name in OVERDUE_FILTER[(username, value)]}


def test_acting_on_an_escalated_case_clears_its_escalation(desk, login):
    client = login("town_cadre")
    assert one_click(text(client.get(reverse("admin:index"))), desk.h1, "accept")
    page = text(client.get(_case(desk.h1.id)))
    assert "已超期上报双塔街道总工会" in page and '<strong class="gh-error">已超期</strong>' in page

    response = client.post(_case(desk.h1.id), {"action": "accept", "next": reverse("admin:index")})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:index"))
    case = fresh(desk.h1)
    assert (case.status, case.was_overdue, case.escalated_at, case.escalated_to_id) == ("accepted", True, None, None)
    assert case.due_on > today()
    page = text(client.get(response["Location"]))
    assert [stat(page, label) for label in STAT_LABELS] == [0, 0, 0]


def test_a_refused_one_click_stays_on_the_case_and_changes_nothing(desk, login):
    client = login("district_cadre")
    before = casework_state()
    response = client.post(_case(desk.l2.id), {"action": "accept", "next": reverse("admin:index")})
    assert response.status_code == 200
    assert "该申请当前为“已受理”，不能进行此操作" in text(response)
    assert casework_state() == before


# ---------------------------------------------------------------- 4. entering an application on a member's behalf


def test_entering_starts_by_choosing_the_service(login):
    response = login("town_cadre").get(reverse("admin:case_new"))
    assert response.status_code == 200
    page = text(response)
    for kind, label in (
        ("hardship", "困难帮扶"),
        ("legal", "法律援助"),
        ("insurance", "互助保障"),
        ("student", "金秋助学"),
    ):
        assert f'<a class="gh-link" href="?kind={kind}">{label}</a>' in page


def test_a_card_outside_my_subtree_is_refused_and_nothing_is_written(people, login):
    client = login("town_cadre")  # SZ-GS-T01: union 12 and 123, not SZ-GS-T02 nor 吴中
    before = casework_state()
    for who in ("mt2", "mwz"):
        form = {"kind": "hardship", "card_number": people[who].card, **hardship_data()}
        response = client.post(reverse("admin:case_new"), {**form, "consent_financial": "on", "consent_health": "on"})
        assert response.status_code == 200
        page = text(response)
        assert CARD_REFUSED in page
        assert people[who].name not in page
    response = client.post(reverse("admin:case_new"), {"kind": "legal", "card_number": "", **legal_data()})
    assert CARD_REFUSED in text(response)
    assert casework_state() == before


def _entry_form(kind: str, who: Worker, enrolment=None) -> dict:
    data = {
        "hardship": hardship_data(),
        "legal": legal_data(),
        "insurance": insurance_data(enrolment) if enrolment else {},
        "student": student_data(),
    }[kind]
    return {"kind": kind, "card_number": who.card, **data}


# kind, changes to the form, the consents ticked, the message expected (None: accepted)
CONSENT_CASES = [
    ("hardship", {}, {}, FINANCIAL_CONSENT),
    ("hardship", {}, {"consent_financial"}, HEALTH_CONSENT),  # 因病 needs the health consent too
    ("hardship", {"causes": ["unemployment"]}, {"consent_financial"}, None),
    ("hardship", {}, {"consent_financial", "consent_health"}, None),
    ("legal", {}, set(), None),
    ("legal", {"category": "injury"}, set(), HEALTH_CONSENT),
    ("legal", {"category": "injury"}, {"consent_health"}, None),
    ("insurance", {}, {"consent_financial"}, HEALTH_CONSENT),
    ("insurance", {}, {"consent_health"}, None),
    ("student", {}, {"consent_health"}, FINANCIAL_CONSENT),
    ("student", {}, {"consent_financial"}, None),
]


@pytest.mark.parametrize(("kind", "changes", "ticked", "message"), CONSENT_CASES)
def test_entering_needs_the_written_consents_of_the_type(enrolment, people, login, kind, changes, ticked, message):
    client = login("grassroots_cadre")
    form = {**_entry_form(kind, people["m12"], enrolment), **changes, **dict.fromkeys(ticked, "on")}
    before = casework_state()
    response = client.post(reverse("admin:case_new") + f"?kind={kind}", form)
    if message:
        assert response.status_code == 200
        assert message in text(response)
        assert casework_state() == before
        return
    assert response.status_code == 302
    case = ServiceCase.objects.get()
    assert response["Location"] == _case(case.id)
    assert (case.kind, case.person_id, case.source, case.submitted_by, case.status) == (
        kind,
        people["m12"].person.id,
        CaseSource.CADRE,
        "grassroots_cadre",
        CaseStatus.SUBMITTED,
    )
    assert case.consent_by == "grassroots_cadre核对书面同意书"
    assert (case.consent_financial_at is not None) == (kind in ("hardship", "student"))
    health = kind == "insurance" or changes.get("category") == "injury" or (kind == "hardship" and not changes)
    assert (case.consent_health_at is not None) == health
    assert case.org.code == {"hardship": E12, "legal": GS, "insurance": GS, "student": E12}[kind]
    assert audit_count("case.submit", case.id) == 1
    page = text(client.get(response["Location"]))
    assert f"已录入，受理编号 {case.number}，承办工会：{case.org.name}" in page


def test_a_large_hardship_request_goes_to_the_county_federation(people, login):
    client = login("grassroots_cadre")
    form = {"kind": "hardship", "card_number": people["m12"].card, **hardship_data("5000")}
    response = client.post(reverse("admin:case_new"), {**form, "consent_financial": "on", "consent_health": "on"})
    assert response.status_code == 302
    case = ServiceCase.objects.get()
    assert (case.home_org.code, case.org.code, case.amount_requested) == (E12, GS, Decimal("5000.00"))
    assert case.events.get().note == "困难帮扶，按规则转由姑苏区总工会承办"


def test_an_incomplete_form_shows_the_field_and_keeps_what_was_typed(people, login):
    client = login("grassroots_cadre")
    form = {"kind": "hardship", "card_number": people["m12"].card, **hardship_data(), "household_size": "0"}
    before = casework_state()
    response = client.post(reverse("admin:case_new"), {**form, "consent_financial": "on", "consent_health": "on"})
    page = text(response)
    assert "家庭人口应在 1 到 20 之间" in page
    assert 'value="36000"' in page and people["m12"].card in page
    assert casework_state() == before


def test_the_grassroots_cadre_cannot_set_up_plans_or_campaigns(tree, login):
    client = login("grassroots_cadre")
    before = casework_state()
    for url, form in (
        (reverse("admin:plan_new"), {"org_code": GS, **plan_data()}),
        (reverse("admin:campaign_new"), {"org_code": E12, **campaign_data()}),
    ):
        for response in (client.get(url), client.post(url, form)):
            assert response.status_code == 403, url
            assert FORBIDDEN_MARK in response.content
    assert casework_state() == before


# ---------------------------------------------------------------- 5. figures and their export


@pytest.fixture
def figures_data(tree, actors, people, enrolment):
    """A small known year in 姑苏, and one case in 吴中 that must not be counted there."""
    district, grassroots, wz = actors["district_cadre"], actors["grassroots_cadre"], actors["other_district_cadre"]
    m12, m123, mt2, mwz = people["m12"], people["m123"], people["mt2"], people["mwz"]
    hardship = enter(grassroots, m12, CaseKind.HARDSHIP, hardship_data())
    advance(
        grassroots,
        hardship,
        "closed",
        granted="on",
        tier="relative",
        aid_form="money",
        amount="1500",
        aid_description="生活救助金",
    )
    legal = enter(district, m123, CaseKind.LEGAL, legal_data())
    advance(district, legal, "closed", outcome="mediated", amount_recovered="8000")
    open_legal = enter(district, mt2, CaseKind.LEGAL, legal_data())
    ServiceCase.objects.filter(id=open_legal.id).update(due_on=today() - timedelta(days=1))
    claim = advance(district, enter(grassroots, m12, CaseKind.INSURANCE, insurance_data(enrolment)), "in_progress")
    case_close(actor=district, case=claim, result="核定补助", outcome={"payable": "on", "reference": "ZF-1"})
    student = advance(grassroots, enter(grassroots, m12, CaseKind.STUDENT, student_data()), "in_progress")
    case_close(actor=grassroots, case=student, result="资助", outcome={"granted": "on", "amount": "3000"})
    member_case_rate(account=bound_account(m12), case_id=hardship.id, rating=4)
    member_case_rate(account=bound_account(m123), case_id=legal.id, rating=5, comment="很满意")
    campaign = campaign_create(actor=district, org=tree[GS], **campaign_data())
    care_visits_record(
        actor=grassroots,
        campaign=campaign,
        org=tree[E12],
        rows=[
            {"card_number": m12.card, "money": "200", "visited_on": today().isoformat()},
            {
                "group_name": "建筑工地",
                "headcount": "30",
                "goods": "清凉饮料",
                "goods_value": "900",
                "visited_on": today().isoformat(),
            },
        ],
    )
    wz_case = enter(wz, mwz, CaseKind.HARDSHIP, hardship_data())
    advance(
        wz,
        wz_case,
        "closed",
        granted="on",
        tier="relative",
        aid_form="money",
        amount="999",
        aid_description="生活救助金",
    )


HEADINGS = [
    "服务类型",
    "申请/慰问（件）",
    "受助人数",
    "发放金额（元）",
    "物资折价（元）",
    "办结（件）",
    "平均办理天数",
    "超期件数",
    "超期率",
    "评价件数",
    "平均评价（星）",
    "挽回经济损失（元）",
]
# The year in 姑苏: cases, people, money, goods, closed, days, overdue, share, rated, rating, recovered.
GUSU_ROWS = [
    ["困难帮扶", 1, 1, 1500, 0, 1, 0, 0, 0, 1, 4, ""],
    ["法律援助", 2, 1, 0, 0, 1, 0, 1, 0.5, 1, 5, 8000],
    ["互助保障", 1, 1, 2750, 0, 1, 0, 0, 0, 0, "", ""],
    ["金秋助学", 1, 1, 3000, 0, 1, 0, 0, 0, 0, "", ""],
    ["慰问", 2, 31, 200, 900, "", "", "", "", "", "", ""],
    ["合计", 7, "", 7450, 900, 4, "", "", "", "", "", ""],
]


def test_the_figures_page_counts_the_known_year(figures_data, login):
    response = login("district_cadre").get(reverse("admin:service_figures"))
    assert response.status_code == 200
    assert (response.context["org"].code, response.context["label"]) == (GS, f"{today().year}年")
    rows = [
        (r.label, r.cases, r.people, r.money, r.extra.get("goods_value"), r.closed, r.overdue, r.rated, r.avg_rating)
        for r in response.context["rows"]
    ]
    assert rows == [
        ("困难帮扶", 1, 1, Decimal("1500.00"), Decimal("0.00"), 1, 0, 1, 4.0),
        ("法律援助", 2, 1, Decimal("0.00"), None, 1, 1, 1, 5.0),
        ("互助保障", 1, 1, Decimal("2750.00"), None, 1, 0, 0, None),
        ("金秋助学", 1, 1, Decimal("3000.00"), None, 1, 0, 0, None),
        ("慰问", 2, 31, Decimal("200.00"), Decimal("900.00"), 0, 0, 0, None),
    ]
    extras = {r.kind: r.extra for r in response.context["rows"]}
    assert extras["hardship"]["open_files"] == 1
    assert extras["legal"]["amount_recovered"] == Decimal("8000.00")
    assert (extras["insurance"]["enrolled"], extras["insurance"]["premium"]) == (1, Decimal("60.00"))
    page = text(response)
    assert "1 件（50.0%）" in page and "4.00 星（1 件）" in page
    assert "法律援助挽回经济损失 8000.00 元。" in page and "互助保障参保 1 人次，互助金 60.00 元。" in page


def test_the_city_sees_both_districts_and_each_district_only_its_own(figures_data, login):
    city = login("city_cadre")
    hardship = {
        code: city.get(reverse("admin:service_figures"), {"org": code}).context["rows"][0] for code in ("SZ", GS, WZ)
    }
    assert {code: (r.cases, r.people, r.money) for code, r in hardship.items()} == {
        "SZ": (2, 2, Decimal("2499.00")),
        GS: (1, 1, Decimal("1500.00")),
        WZ: (1, 1, Decimal("999.00")),
    }
    wz = login("other_district_cadre").get(reverse("admin:service_figures")).context["rows"]
    assert [(r.label, r.cases, r.money) for r in wz] == [
        ("困难帮扶", 1, Decimal("999.00")),
        ("法律援助", 0, Decimal("0.00")),
        ("互助保障", 0, Decimal("0.00")),
        ("金秋助学", 0, Decimal("0.00")),
        ("慰问", 0, Decimal("0.00")),
    ]


def test_the_xlsx_export_reads_back_with_its_title_unit_headings_and_numbers(figures_data, login):
    client = login("district_cadre")
    response = client.get(reverse("admin:service_figures"), {"format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    year = today().year
    filename = f"姑苏区总工会职工服务统计表（{year}年）.xlsx"

    assert response["Content-Disposition"] == f"attachment; filename*=UTF-8''{quote(filename)}"
    book = CalamineWorkbook.from_filelike(io.BytesIO(response.content))
    assert book.sheet_names == ["职工服务统计"]
    sheet = book.get_sheet_by_name("职工服务统计").to_python()
    assert sheet[0][0] == "姑苏区总工会职工服务统计表"
    assert sheet[0][1:] == [""] * 11
    assert sheet[1][0] == "填报单位：姑苏区总工会"
    assert sheet[1][6] == f"统计期间：{year}年01月01日至{year}年12月31日"
    assert sheet[2] == HEADINGS
    assert sheet[3:9] == GUSU_ROWS
    assert sheet[9] == [""] * 12
    assert sheet[10][0].startswith("说明：1. 申请件数按提交日期统计")
    assert sheet[13][0].startswith("制表：district_cadre　　制表时间：")

    events = AuditEvent.objects.filter(action="case.figures_export")
    assert [(e.actor_label, e.object_type, e.object_label, e.details) for e in events] == [
        ("district_cadre", "organisation", "姑苏区总工会", {"start": f"{year}-01-01", "end": f"{year}-12-31"})
    ]
    client.get(reverse("admin:service_figures"))  # looking at the page is not an export
    assert audit_count("case.figures_export") == 1


def test_a_period_without_activity_exports_zeros(figures_data, login):
    last_year = today().year - 1
    response = login("district_cadre").get(
        reverse("admin:service_figures"), {"format": "xlsx", "period": "year", "year": str(last_year)}
    )
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("职工服务统计").to_python()
    assert sheet[1][6] == f"统计期间：{last_year}年01月01日至{last_year}年12月31日"
    assert [row[:6] for row in sheet[3:9]] == [
        ["困难帮扶", 0, 0, 0, 0, 0],
        ["法律援助", 0, 0, 0, 0, 0],
        ["互助保障", 0, 0, 0, 0, 0],
        ["金秋助学", 0, 0, 0, 0, 0],
        ["慰问", 0, 0, 0, 0, ""],
        ["合计", 0, "", 0, 0, 0],
    ]
    assert [row[8] for row in sheet[3:8]] == [""] * 5  # no cases: no overdue share


PERIODS = [
    ({"period": "year", "year": "2025"}, date(2025, 1, 1), date(2025, 12, 31), "2025年"),
    ({"period": "quarter", "year": "2025", "quarter": "1"}, date(2025, 1, 1), date(2025, 3, 31), "2025年第1季度"),
    ({"period": "quarter", "year": "2025", "quarter": "2"}, date(2025, 4, 1), date(2025, 6, 30), "2025年第2季度"),
    ({"period": "quarter", "year": "2025", "quarter": "4"}, date(2025, 10, 1), date(2025, 12, 31), "2025年第4季度"),
    ({"period": "quarter", "year": "2025", "quarter": "9"}, date(2025, 10, 1), date(2025, 12, 31), "2025年第4季度"),
    ({"period": "month", "year": "2024", "month": "2"}, date(2024, 2, 1), date(2024, 2, 29), "2024年2月"),
    ({"period": "month", "year": "2025", "month": "12"}, date(2025, 12, 1), date(2025, 12, 31), "2025年12月"),
    (
        {"period": "custom", "start": "2025-03", "end": "2025-04"},
        date(2025, 3, 1),
        date(2025, 4, 30),
        "2025年3月至2025年4月",
    ),
    (
        {"period": "custom", "year": "2024", "start": "2025-04-10", "end": "2025-03-05"},
        date(2024, 1, 1),
        date(2024, 12, 31),
        "2024年",
    ),
    ({"period": "custom", "year": "2024", "start": "昨天", "end": ""}, date(2024, 1, 1), date(2024, 12, 31), "2024年"),
]


@pytest.mark.parametrize(("query", "start", "end", "label"), PERIODS)
def test_the_period_picks_the_right_dates(tree, login, query, start, end, label):
    response = login("district_cadre").get(reverse("admin:service_figures"), query)
    assert response.status_code == 200
    assert (response.context["start"], response.context["end"], response.context["label"]) == (start, end, label)
    assert f"姑苏区总工会 · 职工服务统计 · {label}" in text(response)


def test_a_value_that_cannot_be_read_falls_back_to_the_current_one(tree, login):
    now = today()
    quarter = (now.month - 1) // 3 + 1
    client = login("district_cadre")
    cases = [
        ({"period": "quarter", "year": "2025", "quarter": "x"}, f"2025年第{quarter}季度"),
        ({"period": "month", "year": "2025", "month": "十二"}, f"2025年{now.month}月"),
        ({"period": "year", "year": "明年"}, f"{now.year}年"),
        ({"period": "year", "year": "99999"}, f"{now.year}年"),  # outside 2000–2100: the current year
        ({"period": "year", "year": "1999"}, f"{now.year}年"),
        ({"period": "month", "year": "2025", "month": "0"}, f"2025年{now.month}月"),
        ({"period": "weekly", "year": "2025"}, "2025年"),
    ]
    for query, label in cases:
        response = client.get(reverse("admin:service_figures"), query)
        assert response.status_code == 200, query
        assert response.context["label"] == label, query


@pytest.mark.parametrize(
    ("query", "start", "end", "label"),
    [
        # A custom period is whole months, as in the statistics: the days named are read as their months.
        (
            {"period": "custom", "start": "2025-03-05", "end": "2025-04-10"},
            date(2025, 3, 1),
            date(2025, 4, 30),
            "2025年3月至2025年4月",
        ),
        # A value outside its range is not read (the current one stands), rather than pulled to the nearest bound.
        ({"period": "year", "year": "1999"}, None, None, None),
        ({"period": "month", "year": "2025", "month": "0"}, None, None, None),
    ],
)
def test_the_figures_read_a_period_as_the_statistics_do(tree, login, query, start, end, label):
    """The case figures and the statistics agree on every period (gonghui.stats.periods is the reference)."""
    now = today()
    expected = period_from(query, today=now)
    response = login("district_cadre").get(reverse("admin:service_figures"), query)
    context = (response.context["start"], response.context["end"], response.context["label"])
    assert context == (expected.start, expected.end, expected.label)
    if start is not None:
        assert context == (start, end, label)
    elif query["period"] == "year":
        assert context == (date(now.year, 1, 1), date(now.year, 12, 31), f"{now.year}年")
    else:
        assert context[2] == f"2025年{now.month}月"


def test_the_export_link_keeps_the_chosen_period(tree, login):
    query = {"org": GS, "period": "quarter", "year": "2025", "quarter": "3"}
    response = login("district_cadre").get(reverse("admin:service_figures"), query)
    assert response.context["export_query"] == "org=SZ-GS&period=quarter&year=2025&quarter=3&format=xlsx"
    assert 'href="?org=SZ-GS&amp;period=quarter&amp;year=2025&amp;quarter=3&amp;format=xlsx"' in text(response)
    assert audit_count("case.figures_export") == 0


def test_the_export_of_a_quarter_names_it_in_the_file(tree, login):
    response = login("district_cadre").get(
        reverse("admin:service_figures"), {"format": "xlsx", "period": "quarter", "year": "2025", "quarter": "3"}
    )

    assert unquote(response["Content-Disposition"]).endswith("姑苏区总工会职工服务统计表（2025年第3季度）.xlsx")
    sheet = CalamineWorkbook.from_filelike(io.BytesIO(response.content)).get_sheet_by_name("职工服务统计").to_python()
    assert sheet[1][6] == "统计期间：2025年07月01日至2025年09月30日"
    event = AuditEvent.objects.get(action="case.figures_export")
    assert event.details == {"start": "2025-07-01", "end": "2025-09-30"}


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


def test_drawing_callbacks_puts_cases_on_the_list(legal_case, actors, people, login):
    district = actors["district_cadre"]
    advance(district, legal_case, "closed", outcome="mediated")
    other = advance(
        district, enter(district, people["m123"], CaseKind.LEGAL, legal_data()), "closed", outcome="mediated"
    )
    client = login("district_cadre")
    page = text(client.get(reverse("admin:case_callbacks")))
    assert "没有待回访的申请" in page and 'name="org_code" value="SZ-GS"' in page

    before = casework_state()
    base = {"org_code": GS, "start": today().isoformat(), "end": today().isoformat()}
    for form, message in (
        ({**base, "share": "abc"}, "抽取比例应为 1 到 100 之间的数字"),
        ({**base, "share": "0"}, "抽取比例应在 1% 到 100% 之间"),
        ({**base, "share": "100", "start": "昨天"}, "开始日期格式应为 YYYY-MM-DD"),
        ({**base, "share": "100", "end": (today() - timedelta(days=1)).isoformat()}, "结束日期不能早于开始日期"),
        ({**base, "share": "100", "org_code": WZ}, ORG_CODE_REFUSED),
    ):
        response = client.post(reverse("admin:case_callbacks"), form)
        assert response.status_code == 200 and message in text(response), message
    assert casework_state() == before

    response = client.post(reverse("admin:case_callbacks"), {**base, "share": "100"})
    assert (response.status_code, response["Location"]) == (302, reverse("admin:case_callbacks"))
    assert set(ServiceCase.objects.filter(callback_status="pending").values_list("id", flat=True)) == {
        legal_case.id,
        other.id,
    }
    page = text(client.get(reverse("admin:case_callbacks")))
    assert "已抽取 2 件办结申请进行回访" in page
    assert legal_case.number in page and other.number in page
    assert "待回访" in text(client.get(_case(legal_case.id)))
    assert audit_count("case.callback_draw") == 1

    response = client.post(reverse("admin:case_callbacks"), {**base, "share": "100"}, follow=True)
    assert "该期间没有可抽取的办结申请" in text(response)
    assert audit_count("case.callback_draw") == 1


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
