"""Helpers and fixtures of the service centre page tests (tests/casework/test_*_page*.py): the workers,
the scoped world of two districts, the form data of each service and the portal sign-in."""

import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.casework.care import campaign_create, care_visits_record
from gonghui.casework.hardship import hardship_file_establish
from gonghui.casework.insurance import plan_create, plan_enrol_member
from gonghui.casework.models import (
    CallbackStatus,
    CareCampaign,
    CareVisit,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    CaseSerial,
    CaseStatus,
    HardshipAid,
    HardshipFile,
    HouseholdMember,
    InsuranceClaim,
    InsuranceEnrolment,
    InsurancePayout,
    InsurancePlan,
    LegalAidRecord,
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
)
from gonghui.common.sms import MemorySmsSender
from gonghui.error_pages import FORBIDDEN
from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
from gonghui.members.models import MemberAccount, Membership
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


@pytest.fixture
def legal_case(actors, people) -> ServiceCase:
    """张三 (union 12) asks for legal aid; the county federation SZ-GS handles it."""
    case = enter(actors["grassroots_cadre"], people["m12"], CaseKind.LEGAL, legal_data())
    assert case.org.code == GS
    return case


@pytest.fixture
def plan(tree, actors) -> InsurancePlan:
    return make_plan(actors["district_cadre"], tree[GS])


@pytest.fixture
def enrolment(plan, actors, people) -> InsuranceEnrolment:
    return plan_enrol_member(actor=actors["grassroots_cadre"], plan=plan, membership=people["m12"].membership)
