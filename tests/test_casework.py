"""The service centre (职工服务, gonghui/casework): the case workflow and its deadlines over Chinese holidays,
routing, overdue escalation, consent, mutual insurance, 金秋助学, 困难职工档案, 慰问, attachments, callbacks,
figures and scoping.

"Today" is controlled by the `clock` fixture (autouse): it replaces `django.utils.timezone.now` with a clock that
starts at 10:00 Beijing time on a chosen day and moves on by one microsecond per call, so timestamps stay ordered.
Every refused call is checked to leave the service centre, the registry, the audit trail and the stored files
exactly as they were (`nothing_changes`)."""

import hashlib
import math
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from gonghui.audit.models import AuditEvent
from gonghui.casework.care import campaign_create, campaign_totals, care_visits_record
from gonghui.casework.hardship import (
    add_months,
    hardship_aid_grant,
    hardship_file_establish,
    hardship_file_exit,
    hardship_file_verify,
    hardship_file_view_record,
    hardship_transitions_end,
    income_per_head,
)
from gonghui.casework.insurance import (
    payout_for,
    plan_create,
    plan_enrol_member,
    plan_enrol_union,
    plan_enrolment_set_open,
)
from gonghui.casework.kinds import STEP_WORKING_DAYS
from gonghui.casework.models import (
    CareCampaign,
    CareVisit,
    CaseAttachment,
    CaseEvent,
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
from gonghui.casework.selectors import (
    case_figures,
    case_get,
    cases_escalated_to_me,
    cases_my_queue,
    cases_overdue,
    cases_visible_to,
    own_case_get,
)
from gonghui.casework.services import (
    CaseMovedOn,
    Consent,
    attachment_view_record,
    callback_record,
    callbacks_draw,
    case_accept,
    case_attach,
    case_close,
    case_enter,
    case_reject,
    case_start,
    case_view_record,
    case_withdraw,
    cases_escalate_overdue,
    figures_export_record,
    member_case_apply,
    member_case_attach,
    member_case_rate,
    member_case_withdraw,
)
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.workdays import add_working_days, is_working_day, working_days_between
from gonghui.members.people import document_index
from gonghui.members.services import (
    membership_leave,
    membership_reserve,
    transfer_accept,
    transfer_release,
    transfer_request,
)
from tests.members.factories import IP, Member, enrol, fresh, registry_state, resident_id

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
E12, E123, T01, GS, T02E1 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T01", "SZ-GS", "SZ-GS-T02-E1"
WZ, WZE1 = "SZ-WZ", "SZ-WZ-T01-E1"
MONDAY = date(2025, 11, 3)  # an ordinary working week: no holiday in November 2025
ALL_CONSENT = Consent(health=True, financial=True)
NO_CONSENT = Consent()

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 32

# A child's resident ID (born 2007, 18 in 2025); `seq` tells two children apart.
STUDENT_BIRTH = date(2007, 3, 1)


def student_id(seq: int = 1) -> str:
    return resident_id(STUDENT_BIRTH, seq)


FORMS = {
    "hardship": {
        "summary": "爱人患病住院，家庭生活困难",
        "causes": ["illness"],
        "household_size": "3",
        "household_income": "36000",
        "amount_requested": "2000",
    },
    "legal": {"summary": "公司拖欠三个月工资", "category": "wages", "counterparty": "十二号有限公司"},
    "insurance": {
        "summary": "住院治疗后申请互助保障补助",
        "hospital": "苏州市立医院",
        "admitted_on": "2025-10-01",
        "discharged_on": "2025-10-11",
        "total_cost": "12000",
        "eligible_cost": "8000",
    },
    "student": {
        "summary": "女儿考入苏州大学，申请金秋助学",
        "student_name": "张小红",
        "relation": "子女",
        "school": "苏州大学",
        "grade": "大一",
        "student_doc_number": student_id(1),
    },
}

# What closing a case takes when nothing is granted, per type.
PLAIN_OUTCOMES = {
    "hardship": {"granted": False},
    "legal": {"outcome": "mediated"},
    "insurance": {"payable": False},
    "student": {"granted": False},
}
GRANT_MONEY = {
    "granted": True,
    "tier": "relative",
    "aid_form": "money",
    "amount": "2000",
    "aid_description": "困难帮扶金",
}

# Who handles a case at each union (the cadre of that union, or the nearest one above it).
HANDLER = {
    E12: "grassroots_cadre",
    E123: "town_cadre",
    T01: "town_cadre",
    GS: "district_cadre",
    T02E1: "district_cadre",
    WZ: "other_district_cadre",
    WZE1: "other_district_cadre",
    "SZ": "city_cadre",
}

PLAN = {
    "name": "职工住院互助保障",
    "year": "2025",
    "starts_on": "2025-01-01",
    "ends_on": "2025-12-31",
    "premium": "30",
    "daily_allowance": "100",
    "max_days": "10",
    "deductible": "500",
    "reimbursement_ratio": "50",
    "claim_cap": "3000",
    "annual_cap": "5000",
}


# ---------------------------------------------------------------- the clock


class Clock:
    """`timezone.now()` for the services: a settable Beijing day, one microsecond later on every call."""

    def __init__(self):
        self.set(MONDAY)

    def set(self, day: date, hour: int = 10) -> None:
        self._now = datetime.combine(day, time(hour), tzinfo=SHANGHAI)

    def now(self) -> datetime:
        self._now += timedelta(microseconds=1)
        return self._now.astimezone(UTC)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen.now)
    return frozen


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Attachments are stored under a directory of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- people


@pytest.fixture
def member(tree, actors):
    """张三, member of union "12" (SZ-GS-T01-12), bound to a portal account."""
    return Member(actors["grassroots_cadre"], tree[E12], name="张三", seq=301, phone="13600000001")


@pytest.fixture
def other_member(tree, actors):
    """李四, member of union "123" (SZ-GS-T01-123), bound to a portal account."""
    return Member(actors["town_cadre"], tree[E123], name="李四", seq=302, phone="13600000002")


@pytest.fixture
def wz_member(tree, actors):
    """王五, member of 木渎光电 (SZ-WZ-T01-E1) in the other district, bound to a portal account."""
    return Member(actors["other_district_cadre"], tree[WZE1], name="王五", seq=303, phone="13600000003")


# ---------------------------------------------------------------- applying and handling


def form(kind: str, **fields) -> dict:
    return {**FORMS[kind], **fields}


def apply(member: Member, kind: str, *, consent: Consent = ALL_CONSENT, **fields) -> ServiceCase:
    """The member applies online, with a valid form for `kind` (fields override it)."""
    return member_case_apply(account=member.account, kind=kind, data=form(kind, **fields), consent=consent, ip=IP)


def enter(actor, membership, kind: str, *, consent: Consent = ALL_CONSENT, **fields) -> ServiceCase:
    """A cadre enters an application on the member's behalf."""
    return case_enter(actor=actor, membership=membership, kind=kind, data=form(kind, **fields), consent=consent)


def advance(case: ServiceCase, actors, to: str, *, outcome: dict | None = None, result="已按规定办结") -> ServiceCase:
    """Move a case on to `to` (accepted, in_progress or closed), by the cadre of its handling union."""
    case = fresh(case)
    actor = actors[HANDLER[case.org.code]]
    if case.status == CaseStatus.SUBMITTED:
        case = case_accept(actor=actor, case=case)
    if to == CaseStatus.ACCEPTED:
        return case
    if case.status == CaseStatus.ACCEPTED:
        case = case_start(actor=actor, case=case, lawyer="王律师" if case.kind == "legal" else "")
    if to == CaseStatus.IN_PROGRESS:
        return case
    return case_close(
        actor=actor, case=case, result=result, outcome=PLAIN_OUTCOMES[case.kind] if outcome is None else outcome
    )


def timeline(case: ServiceCase) -> list[str]:
    return list(CaseEvent.objects.filter(case=case).values_list("action", flat=True))


def audit_actions(case: ServiceCase) -> list[str]:
    found = AuditEvent.objects.filter(object_type="service_case", object_id=str(case.id)).order_by("at")
    return list(found.values_list("action", flat=True))


def last_audit(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).order_by("-at").first()


# ---------------------------------------------------------------- nothing changes


def casework_state() -> dict:
    """Everything the service centre (and the registry, and the audit trail) holds, in a comparable form."""
    media_root = Path(settings.MEDIA_ROOT)
    return {
        **registry_state(),
        "cases": list(
            ServiceCase.objects.order_by("id").values_list(
                "id",
                "number",
                "status",
                "org_id",
                "details",
                "step_started_on",
                "due_on",
                "was_overdue",
                "escalated_at",
                "escalated_to_id",
                "accepted_at",
                "started_at",
                "closed_at",
                "handled_by",
                "rejection_reason",
                "result",
                "amount_granted",
                "rating",
                "rating_comment",
                "rated_at",
                "callback_status",
                "callback_drawn_at",
                "callback_result",
                "callback_note",
                "callback_at",
                "callback_by",
                "returned_to_hardship",
            )
        ),
        "events": list(CaseEvent.objects.order_by("id").values_list("id", "case_id", "action", "label", "note")),
        "attachments": list(CaseAttachment.objects.order_by("id").values_list("id", "case_id", "name", "sha256")),
        "serials": list(CaseSerial.objects.order_by("year").values_list("year", "last")),
        "files": list(
            HardshipFile.objects.order_by("id").values_list(
                "id",
                "status",
                "tier",
                "causes",
                "household_size",
                "household_income",
                "income_per_head",
                "verified_on",
                "next_verification_on",
                "exited_on",
                "transition_until",
                "returned",
                "previous_id",
            )
        ),
        "household": list(HouseholdMember.objects.order_by("id").values_list("id", "file_id", "name")),
        "aid": list(HardshipAid.objects.order_by("id").values_list("id", "file_id", "form", "amount", "in_transition")),
        "legal": list(
            LegalAidRecord.objects.order_by("case_id").values_list(
                "case_id", "lawyer", "station", "outcome", "amount_recovered"
            )
        ),
        "plans": list(InsurancePlan.objects.order_by("id").values_list("id", "reimbursement_ratio", "enrolment_open")),
        "enrolments": list(InsuranceEnrolment.objects.order_by("id").values_list("id", "plan_id", "person_id")),
        "claims": list(InsuranceClaim.objects.order_by("case_id").values_list("case_id", "payout")),
        "payouts": list(InsurancePayout.objects.order_by("claim_id").values_list("claim_id", "amount", "reference")),
        "grants": list(StudentGrant.objects.order_by("case_id").values_list("case_id", "student_index", "year")),
        "campaigns": list(CareCampaign.objects.order_by("id").values_list("id", "budget")),
        "visits": list(CareVisit.objects.order_by("id").values_list("id", "money", "goods_value", "headcount")),
        "audit": AuditEvent.objects.count(),
        "media": sorted(str(p.relative_to(media_root)) for p in media_root.rglob("*") if p.is_file())
        if media_root.exists()
        else [],
    }


@contextmanager
def nothing_changes():
    """`with nothing_changes(), pytest.raises(...):` - the refused call wrote nothing at all."""
    before = casework_state()
    yield
    assert casework_state() == before


# ================================================================ 1. the status machine


class TestStatusMachine:
    def test_a_hardship_case_runs_the_whole_loop_with_deadlines_timeline_and_audit(self, member, actors, clock):
        cadre = actors["grassroots_cadre"]

        case = apply(member, "hardship")
        assert case.number == "FW2025000001"
        assert case.status == CaseStatus.SUBMITTED
        assert case.kind == "hardship"
        assert case.source == "online"
        assert case.account_id == member.account.id
        assert case.person_id == member.person.id
        assert case.home_org.code == E12 and case.org.code == E12
        assert case.submitted_by == "会员136****0001"
        assert case.amount_requested == Decimal("2000.00")
        assert case.details == {"causes": ["illness"], "household_size": 3, "household_income": "36000.00"}
        assert (case.step_started_on, case.due_on) == (date(2025, 11, 3), date(2025, 11, 10))

        clock.set(date(2025, 11, 4))
        case = case_accept(actor=cadre, case=case)
        assert case.status == CaseStatus.ACCEPTED
        assert (case.step_started_on, case.due_on) == (date(2025, 11, 4), date(2025, 11, 7))
        assert timezone.localdate(case.accepted_at) == date(2025, 11, 4)
        assert case.handled_by == "grassroots_cadre"

        clock.set(date(2025, 11, 5))
        case = case_start(actor=cadre, case=case, note="入户核实")
        assert case.status == CaseStatus.IN_PROGRESS
        assert (case.step_started_on, case.due_on) == (date(2025, 11, 5), date(2025, 11, 26))
        assert timezone.localdate(case.started_at) == date(2025, 11, 5)

        clock.set(date(2025, 11, 6))
        case = case_close(actor=cadre, case=case, result="经核实发放帮扶金", outcome=GRANT_MONEY)
        case = fresh(case)
        assert case.status == CaseStatus.CLOSED
        assert case.amount_granted == Decimal("2000.00")
        assert case.result == "经核实发放帮扶金"
        assert timezone.localdate(case.closed_at) == date(2025, 11, 6)
        assert case.was_overdue is False

        case = member_case_rate(account=member.account, case_id=case.id, rating=5, comment="办得很快", ip=IP)
        case = fresh(case)
        assert (case.rating, case.rating_comment) == (5, "办得很快")
        assert case.rated_at is not None

        events = list(CaseEvent.objects.filter(case=case).values_list("action", "label", "by", "note"))
        assert events == [
            ("submit", "已提交申请", "会员136****0001", "困难帮扶"),
            ("accept", "已受理", "grassroots_cadre", "请在 2025-11-07 前开始办理"),
            ("start", "办理中", "grassroots_cadre", "入户核实"),
            ("close", "已办结", "grassroots_cadre", "经核实发放帮扶金，发放 2000.00 元"),
            ("rate", "已评价", "会员136****0001", "5 星：办得很快"),
        ]
        assert audit_actions(case) == ["case.submit", "case.accept", "case.start", "case.close", "case.rate"]
        submit = last_audit("case.submit")
        assert submit.details == {"kind": "hardship", "source": "online", "handling_org": E12}
        assert submit.object_label == f"{case.number} 张*"
        assert submit.ip == IP
        assert last_audit("case.close").details == {"kind": "hardship", "amount_granted": "2000.00"}
        assert last_audit("case.rate").details == {"kind": "hardship", "rating": 5}

    def test_case_numbers_count_up_within_a_year_and_start_again_in_the_next(self, member, other_member, clock):
        assert apply(member, "hardship").number == "FW2025000001"
        assert apply(member, "legal").number == "FW2025000002"
        clock.set(date(2026, 1, 5))
        assert apply(other_member, "legal").number == "FW2026000001"
        assert list(CaseSerial.objects.order_by("year").values_list("year", "last")) == [(2025, 2), (2026, 1)]

    def test_the_handling_union_rejects_with_a_reason(self, member, actors):
        case = apply(member, "hardship")

        case = case_reject(actor=actors["grassroots_cadre"], case=case, reason="  家庭收入高于帮扶标准  ")

        case = fresh(case)
        assert case.status == CaseStatus.REJECTED
        assert case.rejection_reason == "家庭收入高于帮扶标准"
        assert case.closed_at is not None and case.handled_by == "grassroots_cadre"
        assert case.due_on == date(2025, 11, 10)  # a closed step keeps its last deadline
        assert timeline(case) == ["submit", "reject"]
        assert CaseEvent.objects.get(case=case, action="reject").note == "家庭收入高于帮扶标准"
        assert audit_actions(case) == ["case.submit", "case.reject"]
        assert last_audit("case.reject").details == {"kind": "hardship", "reason": "家庭收入高于帮扶标准"}

    def test_a_rejection_needs_a_reason(self, member, actors):
        case = apply(member, "hardship")
        for reason, message in [
            ("", "请填写不予受理的理由"),
            ("   ", "请填写不予受理的理由"),
            ("理" * 501, "不予受理的理由不能超过500个字"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                case_reject(actor=actors["grassroots_cadre"], case=case, reason=reason)
            assert refused.value.errors == {"reason": message}

    @pytest.mark.parametrize("stage", [CaseStatus.SUBMITTED, CaseStatus.ACCEPTED])
    def test_the_member_withdraws_before_handling_starts(self, member, actors, stage):
        case = apply(member, "hardship")
        if stage == CaseStatus.ACCEPTED:
            case = advance(case, actors, stage)

        withdrawn = member_case_withdraw(account=member.account, case_id=str(case.id), ip=IP)

        withdrawn = fresh(withdrawn)
        assert withdrawn.status == CaseStatus.WITHDRAWN
        assert withdrawn.closed_at is not None
        assert timeline(withdrawn)[-1] == "withdraw"
        event = CaseEvent.objects.get(case=case, action="withdraw")
        assert (event.by, event.note) == ("会员136****0001", "申请人撤回")
        assert audit_actions(case)[-1] == "case.withdraw"
        assert last_audit("case.withdraw").actor_kind == "member"
        # Withdrawn, the member may apply for the same service again.
        assert apply(member, "hardship").status == CaseStatus.SUBMITTED

    @pytest.mark.parametrize("stage", [CaseStatus.SUBMITTED, CaseStatus.ACCEPTED])
    def test_a_cadre_records_a_withdrawal_with_what_the_member_said(self, member, actors, stage):
        case = apply(member, "hardship")
        if stage == CaseStatus.ACCEPTED:
            case = advance(case, actors, stage)

        case = case_withdraw(actor=actors["grassroots_cadre"], case=case, reason="本人来电：问题已自行解决")

        assert fresh(case).status == CaseStatus.WITHDRAWN
        event = CaseEvent.objects.get(case=case, action="withdraw")
        assert (event.by, event.note) == ("grassroots_cadre", "本人来电：问题已自行解决")
        assert last_audit("case.withdraw").actor_label == "grassroots_cadre"

    def test_a_cadre_withdrawal_needs_what_the_member_said(self, member, actors):
        case = apply(member, "hardship")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_withdraw(actor=actors["grassroots_cadre"], case=case, reason=" ")
        assert refused.value.errors == {"reason": "请填写撤回说明"}

    @pytest.mark.parametrize(
        ("stage", "refused_steps"),
        [
            (
                "submitted",
                {
                    "start": "该申请当前为“待受理”，不能进行此操作",
                    "close": "该申请当前为“待受理”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "accepted",
                {
                    "accept": "该申请当前为“已受理”，不能进行此操作",
                    "reject": "该申请当前为“已受理”，不能进行此操作",
                    "close": "该申请当前为“已受理”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "in_progress",
                {
                    "accept": "该申请当前为“办理中”，不能进行此操作",
                    "reject": "该申请当前为“办理中”，不能进行此操作",
                    "start": "该申请当前为“办理中”，不能进行此操作",
                    "member_withdraw": "该申请当前为“办理中”，已开始办理的申请不能撤回",
                    "cadre_withdraw": "该申请当前为“办理中”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "closed",
                {
                    "accept": "该申请当前为“已办结”，不能进行此操作",
                    "start": "该申请当前为“已办结”，不能进行此操作",
                    "close": "该申请当前为“已办结”，不能进行此操作",
                    "member_withdraw": "该申请当前为“已办结”，已开始办理的申请不能撤回",
                    "cadre_withdraw": "该申请当前为“已办结”，不能进行此操作",
                },
            ),
            (
                "rejected",
                {
                    "accept": "该申请当前为“不予受理”，不能进行此操作",
                    "reject": "该申请当前为“不予受理”，不能进行此操作",
                    "member_withdraw": "该申请当前为“不予受理”，已开始办理的申请不能撤回",
                    "cadre_withdraw": "该申请当前为“不予受理”，不能进行此操作",
                    "rate": "办结后才能评价",
                },
            ),
            (
                "withdrawn",
                {
                    "accept": "该申请当前为“已撤回”，不能进行此操作",
                    "reject": "该申请当前为“已撤回”，不能进行此操作",
                    "start": "该申请当前为“已撤回”，不能进行此操作",
                    "member_withdraw": "该申请当前为“已撤回”，已开始办理的申请不能撤回",
                    "rate": "办结后才能评价",
                },
            ),
            ("rated", {"rate": "您已评价过这件申请", "close": "该申请当前为“已办结”，不能进行此操作"}),
        ],
    )
    def test_a_step_that_does_not_follow_from_the_status_is_refused(self, member, actors, stage, refused_steps):
        cadre = actors["grassroots_cadre"]
        case = apply(member, "hardship")
        if stage in ("accepted", "in_progress", "closed", "rated"):
            case = advance(case, actors, "closed" if stage == "rated" else stage)
        if stage == "rated":
            member_case_rate(account=member.account, case_id=case.id, rating=4)
        if stage == "rejected":
            case_reject(actor=cadre, case=case, reason="不符合条件")
        if stage == "withdrawn":
            member_case_withdraw(account=member.account, case_id=case.id)
        stale = ServiceCase.objects.get(pk=case.pk)
        calls = {
            "accept": lambda: case_accept(actor=cadre, case=stale),
            "reject": lambda: case_reject(actor=cadre, case=stale, reason="不符合条件"),
            "start": lambda: case_start(actor=cadre, case=stale),
            "close": lambda: case_close(actor=cadre, case=stale, result="办结", outcome=GRANT_MONEY),
            "cadre_withdraw": lambda: case_withdraw(actor=cadre, case=stale, reason="本人要求"),
            "member_withdraw": lambda: member_case_withdraw(account=member.account, case_id=stale.id, ip=IP),
            "rate": lambda: member_case_rate(account=member.account, case_id=stale.id, rating=3, ip=IP),
        }

        for action, message in refused_steps.items():
            with nothing_changes(), pytest.raises(CaseMovedOn) as refused:
                calls[action]()
            assert (action, refused.value.message, refused.value.status) == (action, message, 409)

    def test_a_cadre_acting_on_a_case_another_cadre_already_moved_is_told_it_moved_on(self, member, actors):
        case = apply(member, "hardship")
        loaded_by_town = ServiceCase.objects.get(pk=case.pk)
        case_accept(actor=actors["grassroots_cadre"], case=case)

        with nothing_changes(), pytest.raises(CaseMovedOn, match="已受理"):
            case_reject(actor=actors["town_cadre"], case=loaded_by_town, reason="重复申请")

        assert fresh(case).status == CaseStatus.ACCEPTED

    def test_closing_needs_a_result(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "in_progress")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(actor=actors["grassroots_cadre"], case=case, result="  ", outcome=GRANT_MONEY)
        assert refused.value.errors == {"reason": "请填写办理结果"}

    def test_a_rating_outside_one_to_five_stars_is_refused(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed")
        for rating in (0, 6, -1, "abc", "", None, "4.5", "五"):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                member_case_rate(account=member.account, case_id=case.id, rating=rating, ip=IP)
            assert refused.value.errors == {"rating": "请选择 1 到 5 星的评价"}, rating

    def test_a_rating_given_as_text_and_its_comment_length(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            member_case_rate(account=member.account, case_id=case.id, rating="4", comment="好" * 501)
        assert refused.value.errors == {"comment": "评价意见不能超过500个字"}

        rated = fresh(member_case_rate(account=member.account, case_id=case.id, rating=" 1 ", comment=""))
        assert (rated.rating, rated.rating_comment) == (1, "")
        assert CaseEvent.objects.get(case=case, action="rate").note == "1 星"

    def test_a_cadre_enters_an_application_for_a_member_with_the_written_consent(self, member, actors):
        case = enter(actors["grassroots_cadre"], member.membership, "hardship", causes=["unemployment"])

        assert case.source == "cadre"
        assert case.account_id is None
        assert case.submitted_by == "grassroots_cadre"
        assert case.consent_by == "grassroots_cadre核对书面同意书"
        assert case.consent_financial_at is not None and case.consent_health_at is None
        assert timeline(case) == ["submit"]
        assert last_audit("case.submit").details == {"kind": "hardship", "source": "cadre", "handling_org": E12}
        # The member sees it among their own and may withdraw it.
        assert own_case_get(account=member.account, case_id=case.id) == case
        assert member_case_withdraw(account=member.account, case_id=case.id).status == CaseStatus.WITHDRAWN

    def test_a_second_open_application_for_the_same_service_is_refused(self, member, actors):
        apply(member, "hardship")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(member, "hardship", amount_requested="800")
        assert refused.value.code == "duplicate"
        assert refused.value.message == "已有一份正在办理的困难帮扶申请，请等待办结或先撤回"
        # Another service is another matter.
        assert apply(member, "legal").status == CaseStatus.SUBMITTED

    def test_only_active_members_apply(self, member, actors):
        membership_reserve(actor=actors["grassroots_cadre"], membership=member.membership, reason="下岗待业")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(member, "legal")
        assert refused.value.code == "not_member"
        with nothing_changes(), pytest.raises(DomainError) as refused:
            enter(actors["grassroots_cadre"], fresh(member.membership), "legal")
        assert refused.value.code == "not_member"

    def test_a_member_applies_at_most_ten_times_in_a_day(self, member):
        for seq in range(1, 11):
            apply(member, "student", student_doc_number=student_id(seq), student_name=f"张{seq}")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(member, "student", student_doc_number=student_id(11))
        assert refused.value.code == "rate_limited"
        assert refused.value.message == "24小时内提交的申请过多，请明天再试"

    def test_an_invalid_hardship_form_is_refused_naming_the_field(self, member):
        for fields, errors in [
            ({"summary": " "}, {"summary": "请填写申请事由"}),
            ({"causes": []}, {"causes": "请选择至少一项致困原因"}),
            ({"causes": ["laziness"]}, {"causes": "致困原因不在可选范围内"}),
            ({"household_size": "0"}, {"household_size": "家庭人口应在 1 到 20 之间"}),
            ({"household_income": "三万"}, {"household_income": "家庭年收入应为金额，如 1200 或 1200.50"}),
            ({"amount_requested": "-1"}, {"amount_requested": "申请金额不能为负数"}),
            ({"amount_requested": "100.001"}, {"amount_requested": "申请金额最多保留两位小数（精确到分）"}),
            ({"amount_requested": "1000000.01"}, {"amount_requested": "申请金额不能超过 1,000,000 元"}),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "hardship", **fields)
            assert refused.value.errors == errors
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            member_case_apply(account=member.account, kind="loan", data=FORMS["hardship"], consent=ALL_CONSENT)
        assert refused.value.errors == {"kind": "请选择服务类型"}

    def test_an_absurdly_large_amount_is_refused_with_a_message(self, member):
        for amount in ("1e30", "9" * 29):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "hardship", amount_requested=amount)
            assert refused.value.errors == {"amount_requested": "申请金额不能超过 1,000,000 元"}


# ================================================================ 2. deadlines in working days


class TestDeadlines:
    def test_the_calendar_knows_the_holidays_and_the_adjusted_working_days(self):
        assert date(2025, 9, 28).weekday() == 6 and chinese_calendar.is_workday(date(2025, 9, 28))  # 调休 Sunday
        assert date(2025, 10, 11).weekday() == 5 and is_working_day(date(2025, 10, 11))  # 调休 Saturday
        assert not is_working_day(date(2025, 10, 1)) and not is_working_day(date(2025, 10, 8))  # 国庆、中秋
        assert date(2026, 2, 14).weekday() == 5 and is_working_day(date(2026, 2, 14))
        assert not is_working_day(date(2026, 2, 16)) and not is_working_day(date(2026, 2, 23))  # 春节
        assert is_working_day(date(2026, 2, 24))

    @pytest.mark.parametrize(
        ("start", "days", "expected"),
        [
            (date(2025, 11, 3), 0, date(2025, 11, 3)),
            (date(2025, 11, 3), 5, date(2025, 11, 10)),
            (date(2025, 11, 7), 1, date(2025, 11, 10)),  # Friday → Monday
            (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Friday → the working Sunday
            (date(2025, 9, 26), 3, date(2025, 9, 30)),
            (date(2025, 9, 30), 1, date(2025, 10, 9)),  # over National Day and Mid-Autumn, 1-8 October
            (date(2025, 9, 30), 3, date(2025, 10, 11)),  # ... onto the working Saturday
            (date(2025, 9, 30), 5, date(2025, 10, 14)),
            (date(2025, 12, 31), 1, date(2026, 1, 4)),  # New Year 1-3 January, Sunday the 4th worked
            (date(2025, 12, 31), 5, date(2026, 1, 8)),
            (date(2026, 2, 13), 1, date(2026, 2, 14)),  # the working Saturday before Spring Festival
            (date(2026, 2, 13), 2, date(2026, 2, 24)),  # over Spring Festival, 15-23 February
            (date(2026, 2, 13), 5, date(2026, 2, 27)),
            (date(2026, 2, 27), 1, date(2026, 2, 28)),  # the working Saturday after it
        ],
    )
    def test_add_working_days(self, start, days, expected):
        assert add_working_days(start, days) == expected

    def test_add_working_days_refuses_a_negative_count_and_counts_between(self):
        with pytest.raises(ValueError):
            add_working_days(date(2025, 11, 3), -1)
        assert working_days_between(date(2025, 9, 30), date(2025, 10, 14)) == 5
        assert working_days_between(date(2026, 2, 13), date(2026, 2, 28)) == 6
        assert working_days_between(date(2025, 11, 3), date(2025, 11, 3)) == 0

    @pytest.mark.parametrize(
        ("kind", "day", "due"),
        [
            ("hardship", date(2025, 9, 30), date(2025, 10, 14)),
            ("legal", date(2025, 9, 30), date(2025, 10, 11)),
            ("legal", date(2025, 9, 26), date(2025, 9, 30)),
            ("student", date(2026, 2, 13), date(2026, 2, 27)),
            ("legal", date(2026, 2, 13), date(2026, 2, 25)),
            ("hardship", date(2025, 12, 31), date(2026, 1, 8)),
        ],
    )
    def test_an_application_is_due_for_acceptance_in_working_days(self, member, clock, kind, day, due):
        clock.set(day)
        case = apply(member, kind)
        assert case.step_started_on == day
        assert case.due_on == due == add_working_days(day, STEP_WORKING_DAYS[kind][CaseStatus.SUBMITTED])

    def test_each_step_gets_its_own_deadline_over_the_holidays(self, member, actors, clock):
        clock.set(date(2025, 9, 29))
        legal = apply(member, "legal")
        legal = case_accept(actor=actors["district_cadre"], case=legal)
        assert legal.due_on == date(2025, 10, 9)  # 30 September, then 9 October
        legal = case_start(actor=actors["district_cadre"], case=legal, station="姑苏区职工法律援助站")
        assert legal.due_on == add_working_days(date(2025, 9, 29), 30) == date(2025, 11, 17)
        assert LegalAidRecord.objects.get(case=legal).station == "姑苏区职工法律援助站"
        assert CaseEvent.objects.get(case=legal, action="start").note == "指派：姑苏区职工法律援助站"

        clock.set(date(2026, 2, 11))
        case = apply(member, "student")
        assert case.due_on == date(2026, 2, 25)  # 12, 13, 14 (the working Saturday), 24, 25
        clock.set(date(2026, 2, 12))
        case = case_accept(actor=actors["grassroots_cadre"], case=case)
        assert case.due_on == date(2026, 2, 24)  # 13, 14, 24
        clock.set(date(2026, 2, 13))
        case = case_start(actor=actors["grassroots_cadre"], case=case)
        # 14, 24-28 (the 28th a working Saturday), 2-6 and 9-12 March
        assert case.due_on == add_working_days(date(2026, 2, 13), 15) == date(2026, 3, 12)

    def test_legal_aid_starts_only_with_a_lawyer_or_a_station(self, member, actors):
        case = advance(apply(member, "legal"), actors, "accepted")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_start(actor=actors["district_cadre"], case=case)
        assert refused.value.errors == {"lawyer": "请指派承办律师或法律援助站"}
        case_start(actor=actors["district_cadre"], case=case, lawyer="王律师")
        assert LegalAidRecord.objects.get(case=case).lawyer == "王律师"

    def test_a_step_finished_after_its_deadline_marks_the_case_late(self, member, actors, clock):
        case = apply(member, "hardship")  # due 2025-11-10
        clock.set(date(2025, 11, 10))
        case = case_accept(actor=actors["grassroots_cadre"], case=case)
        assert case.was_overdue is False
        clock.set(date(2025, 11, 14))  # accepted step due 2025-11-13
        case = case_start(actor=actors["grassroots_cadre"], case=case)
        assert fresh(case).was_overdue is True


# ================================================================ 3. routing


class TestRouting:
    @pytest.mark.parametrize(
        ("kind", "fields", "handled_by", "note"),
        [
            ("hardship", {"amount_requested": "4999.99"}, E12, "困难帮扶"),
            ("hardship", {"amount_requested": ""}, E12, "困难帮扶"),
            ("hardship", {"amount_requested": "5000"}, GS, "困难帮扶，按规则转由姑苏区总工会承办"),
            ("hardship", {"amount_requested": "12000.50"}, GS, "困难帮扶，按规则转由姑苏区总工会承办"),
            ("legal", {}, GS, "法律援助，按规则转由姑苏区总工会承办"),
            ("student", {"amount_requested": "8000"}, E12, "金秋助学"),
        ],
    )
    def test_a_member_of_union_12_is_served_where_the_rules_say(self, member, kind, fields, handled_by, note):
        case = apply(member, kind, **fields)
        assert case.home_org.code == E12
        assert fresh(case).org.code == handled_by
        assert CaseEvent.objects.get(case=case, action="submit").note == note
        assert last_audit("case.submit").details["handling_org"] == handled_by

    @pytest.mark.parametrize(("kind", "fields"), [("legal", {}), ("hardship", {"amount_requested": "6000"})])
    def test_a_member_in_wuzhong_goes_to_the_wuzhong_federation(self, wz_member, kind, fields):
        case = apply(wz_member, kind, **fields)
        assert (case.home_org.code, fresh(case).org.code) == (WZE1, WZ)

    def test_an_insurance_claim_goes_to_the_union_running_the_plan(self, member, enrolment):
        case = apply(member, "insurance", enrolment=str(enrolment.id))
        assert (case.home_org.code, fresh(case).org.code) == (E12, T01)


# ================================================================ 4. escalation


class TestEscalation:
    def test_overdue_open_cases_go_up_once_per_step(self, member, other_member, wz_member, actors, system, clock):
        a = apply(member, "hardship")  # at "12", due 2025-11-10
        b = apply(member, "legal")  # at 姑苏区, due 2025-11-06
        c = apply(other_member, "student")  # at "123", withdrawn below: never escalated
        d = apply(wz_member, "legal")  # at 吴中区, due 2025-11-06
        member_case_withdraw(account=other_member.account, case_id=c.id)

        with nothing_changes(), pytest.raises(PermissionDenied):  # the daily job's, not a cadre's
            cases_escalate_overdue(actor=actors["city_cadre"], today=date(2025, 11, 7))
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 6)) == 0  # due today is not overdue
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 7)) == 2
        b, d = fresh(b), fresh(d)
        assert (b.escalated_to.code, d.escalated_to.code) == ("SZ", "SZ")
        assert b.was_overdue and d.was_overdue and b.escalated_at is not None
        assert fresh(a).escalated_to is None and fresh(a).was_overdue is False

        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 11)) == 1  # only "a" is new
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 11)) == 0
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 20)) == 0
        a = fresh(a)
        assert (a.escalated_to.code, a.was_overdue) == (T01, True)
        assert fresh(c).escalated_to is None and fresh(c).was_overdue is False
        event = CaseEvent.objects.get(case=a, action="escalate")
        assert (event.label, event.by, event.note) == ("超期上报", "tests", "已超过待受理期限，上报双塔街道总工会督办")
        escalation = AuditEvent.objects.get(action="case.escalate", object_id=str(a.id))
        assert escalation.details == {"kind": "hardship", "to": T01, "due_on": "2025-11-10"}

        assert list(cases_escalated_to_me(actor=actors["town_cadre"])) == [a]
        assert set(cases_escalated_to_me(actor=actors["city_cadre"])) == {b, d}
        assert list(cases_escalated_to_me(actor=actors["district_cadre"])) == []
        assert list(cases_escalated_to_me(actor=actors["grassroots_cadre"])) == []

        # The town union, supervising, may act on it; a new step clears the escalation but not the lateness.
        clock.set(date(2025, 11, 20))
        a = fresh(case_accept(actor=actors["town_cadre"], case=a))
        assert (a.escalated_to, a.escalated_at, a.was_overdue) == (None, None, True)
        assert a.due_on == date(2025, 11, 25)
        assert list(cases_escalated_to_me(actor=actors["town_cadre"])) == []
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 25)) == 0
        assert cases_escalate_overdue(actor=system, today=date(2025, 11, 26)) == 1
        assert fresh(a).escalated_to.code == T01
        assert timeline(a) == ["submit", "escalate", "accept", "escalate"]

        # Closed cases leave the escalated list.
        advance(b, actors, "closed")
        assert list(cases_escalated_to_me(actor=actors["city_cadre"])) == [d]

    def test_overdue_and_queue_selectors_list_the_right_cases_for_each_cadre(
        self, member, other_member, wz_member, actors, clock
    ):
        a = apply(member, "hardship")  # "12", due 11-10
        b = apply(member, "legal")  # 姑苏区, due 11-06
        c = apply(other_member, "hardship")  # "123", due 11-10
        d = apply(wz_member, "legal")  # 吴中区, due 11-06
        clock.set(date(2025, 11, 4))
        c = case_accept(actor=actors["town_cadre"], case=c)  # accepted, due 11-07
        day = date(2025, 11, 10)

        assert list(cases_overdue(actor=actors["district_cadre"], today=day)) == [b, c]
        assert list(cases_overdue(actor=actors["town_cadre"], today=day)) == [c]
        assert list(cases_overdue(actor=actors["grassroots_cadre"], today=day)) == []
        assert list(cases_overdue(actor=actors["other_district_cadre"], today=day)) == [d]
        everywhere = list(cases_overdue(actor=actors["city_cadre"], today=date(2025, 11, 11)))
        assert everywhere in ([b, d, c, a], [d, b, c, a])

        assert list(cases_my_queue(actor=actors["grassroots_cadre"])) == [a]
        assert list(cases_my_queue(actor=actors["district_cadre"])) == [b]
        assert list(cases_my_queue(actor=actors["other_district_cadre"])) == [d]
        assert list(cases_my_queue(actor=actors["town_cadre"])) == []  # "123" is handled at "123", not at the town

        advance(a, actors, "closed")
        assert list(cases_my_queue(actor=actors["grassroots_cadre"])) == []

    def test_the_daily_command_escalates_and_ends_transitions(self, member, clock):
        apply(member, "hardship")
        clock.set(date(2025, 11, 11))
        out = StringIO()
        call_command("escalate_cases", stdout=out)
        said = "已上报 1 件超期服务申请；0 件超期未审批的困难帮扶事项；0 份困难职工档案过渡期结束。"
        assert out.getvalue().strip() == said
        assert last_audit("case.escalate").actor_label == "escalate_cases"


# ================================================================ 5. consent


class TestConsent:
    def test_an_application_without_the_consent_it_needs_writes_nothing(self, member):
        for kind, fields, consent, missing in [
            ("hardship", {"causes": ["unemployment"]}, Consent(health=True), "consent_financial"),
            ("hardship", {"causes": ["illness"]}, Consent(financial=True), "consent_health"),
            ("hardship", {"causes": ["disaster", "disability"]}, Consent(financial=True), "consent_health"),
            ("student", {}, Consent(health=True), "consent_financial"),
            ("legal", {"category": "injury"}, Consent(financial=True), "consent_health"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, kind, consent=consent, **fields)
            assert list(refused.value.errors) == [missing]

    def test_an_insurance_claim_needs_the_health_consent(self, member, enrolment):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            apply(member, "insurance", consent=Consent(financial=True), enrolment=str(enrolment.id))
        assert refused.value.errors == {
            "consent_health": "办理此项服务需要使用健康信息（病情、住院、伤残等），请阅读并同意健康信息使用说明"
        }

    @pytest.mark.parametrize(
        ("kind", "fields", "consent", "health", "financial"),
        [
            ("hardship", {"causes": ["unemployment"]}, Consent(financial=True), False, True),
            ("hardship", {"causes": ["illness", "schooling"]}, ALL_CONSENT, True, True),
            ("student", {}, Consent(financial=True), False, True),
            ("legal", {"category": "wages"}, NO_CONSENT, False, False),
            ("legal", {"category": "injury"}, Consent(health=True), True, False),
        ],
    )
    def test_the_consents_given_are_recorded_with_their_time(self, member, kind, fields, consent, health, financial):
        before = timezone.now()
        case = fresh(apply(member, kind, consent=consent, **fields))
        after = timezone.now()
        assert (case.consent_health_at is not None, case.consent_financial_at is not None) == (health, financial)
        for moment in (case.consent_health_at, case.consent_financial_at):
            assert moment is None or before < moment < after
        if health and financial:
            assert case.consent_health_at == case.consent_financial_at
        assert case.consent_by == "会员本人在线同意"

    def test_every_missing_consent_is_named_at_once(self, member):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            apply(member, "hardship", consent=NO_CONSENT)
        assert refused.value.errors == {
            "consent_financial": "办理此项服务需要核实家庭经济状况，请阅读并同意家庭经济信息使用说明",
            "consent_health": "办理此项服务需要使用健康信息（病情、住院、伤残等），请阅读并同意健康信息使用说明",
        }


# ================================================================ 6. mutual insurance


@pytest.fixture
def plan(tree, actors):
    """A 2025 plan run by the 双塔 town federation: 100 元 a day for at most 10 days, half of the costs above
    500 元 up to 3000 元 a claim, 5000 元 a year."""
    return plan_create(actor=actors["town_cadre"], org=tree[T01], data=dict(PLAN))


@pytest.fixture
def enrolment(plan, member, actors, tree):
    plan_enrol_union(actor=actors["grassroots_cadre"], plan=plan, union=tree[E12])
    return InsuranceEnrolment.objects.get(plan=plan, person=member.person)


def rules(**overrides) -> InsurancePlan:
    values = {
        "daily_allowance": Decimal("100"),
        "max_days": 10,
        "deductible": Decimal("500"),
        "reimbursement_ratio": Decimal("0.5"),
        "claim_cap": Decimal("3000"),
        "annual_cap": Decimal("5000"),
    }
    return InsurancePlan(**{**values, **overrides})


class TestInsurance:
    @pytest.mark.parametrize(
        ("days", "eligible", "paid", "expected"),
        [
            (5, "1500", "0", "1000.00"),  # 5 × 100 + (1500 − 500) × 0.5
            (15, "1500", "0", "1500.00"),  # allowance capped at 10 days
            (3, "400", "0", "300.00"),  # costs under the deductible earn nothing
            (3, "500", "0", "300.00"),
            (3, "10500", "0", "3300.00"),  # 5000 reimbursement capped at 3000 a claim
            (3, "10500", "4000", "1000.00"),  # what is left of the annual cap
            (3, "10500", "5000", "0.00"),
            (3, "10500", "6000", "0.00"),  # never negative
            (1, "0", "0", "100.00"),
        ],
    )
    def test_payout_for_follows_the_plan_rules(self, days, eligible, paid, expected):
        payout = payout_for(rules(), hospital_days=days, eligible_cost=Decimal(eligible), paid_this_year=Decimal(paid))
        assert payout == Decimal(expected)
        assert str(payout) == expected

    def test_payout_for_rounds_half_up_to_the_fen(self):
        plan = rules(daily_allowance=Decimal("0"), reimbursement_ratio=Decimal("0.333"))
        # (600.50 − 500) × 0.333 = 33.4665 → 33.47
        payout = payout_for(plan, hospital_days=1, eligible_cost=Decimal("600.50"), paid_this_year=Decimal("0"))
        assert payout == Decimal("33.47")

    def test_plan_create_reads_the_ratio_as_a_percentage(self, tree, actors):
        plan = fresh(plan_create(actor=actors["town_cadre"], org=tree[T01], data=dict(PLAN)))
        assert plan.reimbursement_ratio == Decimal("0.500")
        assert (plan.premium, plan.claim_cap, plan.annual_cap) == (
            Decimal("30.00"),
            Decimal("3000.00"),
            Decimal("5000.00"),
        )
        assert (plan.starts_on, plan.ends_on, plan.year, plan.max_days) == (
            date(2025, 1, 1),
            date(2025, 12, 31),
            2025,
            10,
        )
        assert last_audit("insurance.plan_create").object_org_path == tree[T01].path
        for name, given, stored in [("甲", "62.5", "0.625"), ("乙", "100", "1.000"), ("丙", "0", "0.000")]:
            data = {**PLAN, "name": name, "reimbursement_ratio": given}
            other = plan_create(actor=actors["district_cadre"], org=tree[GS], data=data)
            assert fresh(other).reimbursement_ratio == Decimal(stored)

    def test_plan_create_refuses(self, tree, actors):
        for username, org, data, error, detail in [
            (
                "district_cadre",
                E12,
                {},
                ValidationFailed,
                {"org": "互助保障计划由上级工会设立，基层工会为会员办理参保"},
            ),
            ("grassroots_cadre", E12, {}, PermissionDenied, None),
            ("other_district_cadre", T01, {}, NotFound, None),
            ("town_cadre", GS, {}, NotFound, None),
            (
                "town_cadre",
                T01,
                {"reimbursement_ratio": "100.1"},
                ValidationFailed,
                {"reimbursement_ratio": "医疗费补助比例应在 0 到 100（%）之间"},
            ),
            (
                "town_cadre",
                T01,
                {"reimbursement_ratio": "62.55"},
                ValidationFailed,
                {"reimbursement_ratio": "医疗费补助比例最多保留一位小数，如 62.5"},
            ),
            (
                "town_cadre",
                T01,
                {"ends_on": "2024-12-31"},
                ValidationFailed,
                {"ends_on": "保障期结束日期不能早于开始日期"},
            ),
            ("town_cadre", T01, {"premium": "0"}, ValidationFailed, {"premium": "每人互助金应大于零"}),
            (
                "town_cadre",
                T01,
                {"max_days": "366"},
                ValidationFailed,
                {"max_days": "每次最多补助天数应在 0 到 365 之间"},
            ),
        ]:
            with nothing_changes(), pytest.raises(error) as refused:
                plan_create(actor=actors[username], org=tree[org], data={**PLAN, **data})
            if detail is not None:
                assert refused.value.errors == detail

    def test_a_plan_name_is_unique_per_union_and_year(self, plan, tree, actors):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            plan_create(actor=actors["town_cadre"], org=tree[T01], data=dict(PLAN))
        assert refused.value.errors == {"name": "2025年已有同名计划"}

    def test_plan_enrol_union_enrols_each_active_member_once(self, plan, tree, actors, member):
        cadre = actors["grassroots_cadre"]
        enrol(cadre, tree[E12], name="赵六", seq=311)
        reserved = enrol(cadre, tree[E12], name="钱七", seq=312)
        membership_reserve(actor=cadre, membership=reserved, reason="长期病假")
        left = enrol(cadre, tree[E12], name="孙八", seq=313)
        membership_leave(actor=cadre, membership=left, reason="调离本单位")
        enrol(actors["town_cadre"], tree[E123], name="周九", seq=314)  # another union

        first = plan_enrol_union(actor=cadre, plan=plan, union=tree[E12], on=date(2025, 11, 3))
        assert first == {"enrolled": 2, "total_in_union": 2, "premium": "60.00"}
        enrolled = InsuranceEnrolment.objects.filter(plan=plan)
        assert sorted(e.person.name for e in enrolled) == ["张三", "赵六"]
        assert {(e.org.code, e.premium, e.enrolled_on, e.enrolled_by) for e in enrolled} == {
            (E12, Decimal("30.00"), date(2025, 11, 3), "grassroots_cadre")
        }
        assert last_audit("insurance.enrol").details == first

        second = plan_enrol_union(actor=cadre, plan=plan, union=tree[E12])
        assert second == {"enrolled": 0, "total_in_union": 2, "premium": "0.00"}
        enrol(cadre, tree[E12], name="吴十", seq=315)
        assert plan_enrol_union(actor=cadre, plan=plan, union=tree[E12])["enrolled"] == 1
        assert InsuranceEnrolment.objects.filter(plan=plan).count() == 3

    def test_plan_enrol_union_refuses(self, plan, tree, actors, member):
        outside = "不在“双塔街道总工会”的计划范围内"
        for username, union, error, detail in [
            ("town_cadre", T01, ValidationFailed, {"org": "请选择基层工会为其会员办理参保"}),
            ("district_cadre", T02E1, ValidationFailed, {"org": "“沧浪精工有限公司工会委员会”" + outside}),
            ("other_district_cadre", WZE1, ValidationFailed, {"org": "“木渎光电有限公司工会委员会”" + outside}),
            ("grassroots_cadre", E123, NotFound, None),
            ("auditor", E12, PermissionDenied, None),
        ]:
            with nothing_changes(), pytest.raises(error) as refused:
                plan_enrol_union(actor=actors[username], plan=plan, union=tree[union])
            if detail is not None:
                assert refused.value.errors == detail

    def test_enrolment_is_stopped_and_resumed_by_the_plans_federation(self, plan, tree, actors, member):
        closed = plan_enrolment_set_open(actor=actors["town_cadre"], plan=plan, is_open=False)
        assert fresh(closed).enrolment_open is False
        assert last_audit("insurance.plan_enrolment_close").object_id == str(plan.id)
        with nothing_changes(), pytest.raises(DomainError, match="^2025年职工住院互助保障已停止参保登记$"):
            plan_enrol_union(actor=actors["grassroots_cadre"], plan=fresh(plan), union=tree[E12])
        with nothing_changes(), pytest.raises(PermissionDenied):
            plan_enrolment_set_open(actor=actors["grassroots_cadre"], plan=plan, is_open=True)
        with nothing_changes(), pytest.raises(NotFound):
            plan_enrolment_set_open(actor=actors["other_district_cadre"], plan=plan, is_open=True)
        plan_enrolment_set_open(actor=actors["district_cadre"], plan=plan, is_open=True)
        assert plan_enrol_union(actor=actors["grassroots_cadre"], plan=fresh(plan), union=tree[E12])["enrolled"] == 1

    def test_a_member_is_enrolled_once(self, plan, enrolment, member, actors):
        with nothing_changes(), pytest.raises(DomainError, match="该会员已参加2025年职工住院互助保障"):
            plan_enrol_member(actor=actors["grassroots_cadre"], plan=plan, membership=member.membership)

    def test_two_claims_share_the_annual_cap_and_are_paid_when_closed(self, member, enrolment, actors):
        # 20 days (capped at 10 → 1000) + min((10500 − 500) × 0.5, 3000) = 4000.
        first = apply(
            member,
            "insurance",
            enrolment=str(enrolment.id),
            admitted_on="2025-10-01",
            discharged_on="2025-10-21",
            total_cost="12000",
            eligible_cost="10500",
        )
        claim = InsuranceClaim.objects.get(case=first)
        assert (claim.hospital_days, claim.eligible_cost, claim.payout) == (20, Decimal("10500.00"), None)
        first = advance(first, actors, "closed", outcome={"payable": "1", "reference": "ZF-2025-001"})
        assert fresh(first).amount_granted == Decimal("4000.00")
        assert InsuranceClaim.objects.get(case=first).payout == Decimal("4000.00")
        paid = InsurancePayout.objects.get(claim__case=first)
        assert (paid.amount, paid.paid_on, paid.reference, paid.paid_by) == (
            Decimal("4000.00"),
            date(2025, 11, 3),
            "ZF-2025-001",
            "town_cadre",
        )
        assert CaseEvent.objects.get(case=first, action="close").note == "已按规定办结，发放 4000.00 元"

        # 3 days → 300 + (2500 − 500) × 0.5 = 1300, but only 1000 is left of the 5000 cap.
        second = apply(
            member,
            "insurance",
            enrolment=str(enrolment.id),
            admitted_on="2025-10-25",
            discharged_on="2025-10-28",
            total_cost="3000",
            eligible_cost="2500",
        )
        second = advance(second, actors, "closed", outcome={"payable": True, "reference": "ZF-2025-002"})
        assert fresh(second).amount_granted == Decimal("1000.00")
        assert InsurancePayout.objects.get(claim__case=second).amount == Decimal("1000.00")
        assert InsurancePayout.objects.count() == 2

    def test_a_claim_closed_as_not_payable_pays_nothing(self, member, enrolment, actors):
        case = apply(member, "insurance", enrolment=str(enrolment.id))
        case = advance(case, actors, "closed", outcome={"payable": False})
        assert fresh(case).amount_granted == Decimal("0.00")
        assert InsuranceClaim.objects.get(case=case).payout == Decimal("0.00")  # the page shows what was decided
        assert not InsurancePayout.objects.exists()
        assert CaseEvent.objects.get(case=case, action="close").note == "已按规定办结"

    def test_a_payable_claim_needs_the_payment_reference_and_writes_nothing_without_it(self, member, enrolment, actors):
        case = advance(apply(member, "insurance", enrolment=str(enrolment.id)), actors, "in_progress")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(actor=actors["town_cadre"], case=case, result="核定赔付", outcome={"payable": True})
        assert refused.value.errors == {"reference": "请填写支付凭证号"}
        assert InsuranceClaim.objects.get(case=case).payout is None

    def test_a_claim_outside_the_plan_or_with_impossible_dates_is_refused(self, member, enrolment):
        for fields, errors in [
            (
                {"admitted_on": "2024-12-30", "discharged_on": "2025-01-05"},
                {"admitted_on": "入院日期不在保障期内（2025-01-01 至 2025-12-31）"},
            ),
            ({"discharged_on": "2025-11-04"}, {"discharged_on": "出院后再申请补助：出院日期不能晚于今天"}),
            ({"discharged_on": "2025-09-30"}, {"discharged_on": "出院日期不能早于入院日期"}),
            ({"eligible_cost": "12000.01"}, {"eligible_cost": "政策范围内自付费用不能超过医疗总费用"}),
            ({"admitted_on": "2025/10/01"}, {"admitted_on": "入院日期格式应为 YYYY-MM-DD"}),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "insurance", enrolment=str(enrolment.id), **fields)
            assert refused.value.errors == errors

    def test_a_claim_on_someone_elses_enrolment_is_refused(self, plan, member, other_member, actors, tree):
        plan_enrol_union(actor=actors["town_cadre"], plan=plan, union=tree[E123])
        theirs = InsuranceEnrolment.objects.get(person=other_member.person)
        for value in (str(theirs.id), "not-an-id", ""):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "insurance", enrolment=value)
            assert list(refused.value.errors) == ["enrolment"]


# ================================================================ 7. 金秋助学


class TestStudentAid:
    def test_a_granted_application_records_the_grant_without_the_students_number(self, member, actors):
        case = apply(member, "student")
        assert case.org.code == E12
        number = student_id(1)
        assert case.details["student_index"] == document_index("resident_id", number)
        assert case.details["student_masked"] == number[:4] + "*" * 10 + number[-4:]
        assert number not in str(case.details)
        assert case.consent_financial_at is not None and case.consent_health_at is None

        case = advance(case, actors, "closed", outcome={"granted": True, "amount": "3000"})

        grant = StudentGrant.objects.get(case=case)
        assert (grant.student_name, grant.school, grant.grade, grant.year) == ("张小红", "苏州大学", "大一", 2025)
        assert (grant.amount, grant.granted_on) == (Decimal("3000.00"), date(2025, 11, 3))
        assert grant.student_index == case.details["student_index"]
        assert fresh(case).amount_granted == Decimal("3000.00")

    def test_a_student_is_granted_once_a_year_whoever_applies(self, member, other_member, actors, clock):
        advance(apply(member, "student"), actors, "closed", outcome={"granted": True, "amount": "3000"})

        for applicant in (member, other_member):
            with nothing_changes(), pytest.raises(DomainError) as refused:
                apply(applicant, "student", student_doc_number=" " + student_id(1).lower() + " ")
            assert refused.value.code == "already_granted"
            assert refused.value.message == "该学生 2025 年已获得金秋助学资助，每名学生每年限资助一次"

        clock.set(date(2026, 3, 2))
        assert apply(other_member, "student").status == CaseStatus.SUBMITTED

    def test_a_student_has_one_open_application_at_a_time(self, member, other_member, actors):
        first = apply(member, "student")
        with nothing_changes(), pytest.raises(DomainError) as refused:
            apply(other_member, "student")
        assert (refused.value.code, refused.value.message) == ("duplicate", "该学生已有一份正在办理的金秋助学申请")
        # Another child of the same member may apply at the same time.
        assert apply(member, "student", student_doc_number=student_id(2), student_name="张小明").kind == "student"
        # Once the first is closed without a grant, the student may apply again.
        advance(first, actors, "closed", outcome={"granted": False})
        assert StudentGrant.objects.count() == 0
        assert apply(other_member, "student").status == CaseStatus.SUBMITTED

    def test_an_invalid_student_id_number_is_refused_with_a_clear_message(self, member):
        good = student_id(1)
        wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
        for number, message in [
            ("", "学生证件号码不能为空"),
            (good[:-1], "学生居民身份证号码应为18位（或15位旧号码），实际为17位"),
            (wrong_check, "学生居民身份证号码校验位不正确，请核对是否有输错的数字"),
            ("3.20508E+17", "学生身份证号被 Excel 转成了科学计数法，请将该列设为文本格式后重新录入"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                apply(member, "student", student_doc_number=number)
            assert refused.value.errors == {"student_doc_number": message}

    def test_a_fifteen_year_old_starting_vocational_school_may_apply(self, member, clock):
        # The membership rule (16 and over) does not apply to a student.
        clock.set(date(2025, 9, 1))
        case = apply(member, "student", student_doc_number=resident_id(date(2010, 6, 1), 5), school="苏州技师学院")
        assert case.status == CaseStatus.SUBMITTED
        born_tomorrow = resident_id(date(2025, 9, 2), 6)
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            apply(member, "student", student_doc_number=born_tomorrow)
        assert refused.value.errors == {"student_doc_number": "学生出生日期 2025-09-02 晚于今天，请核对证件号码"}

    def test_the_grant_counts_for_the_year_the_application_was_made_in(self, member, other_member, actors, clock):
        clock.set(date(2025, 12, 30))
        case = apply(member, "student")
        clock.set(date(2026, 1, 5))
        advance(case, actors, "closed", outcome={"granted": True, "amount": "2500"})
        grant = StudentGrant.objects.get(case=case)
        assert (grant.year, grant.granted_on) == (2025, date(2026, 1, 5))
        # The 2026 round is still open to the same student.
        assert apply(other_member, "student").status == CaseStatus.SUBMITTED

    def test_a_student_grant_needs_a_positive_amount(self, member, actors):
        case = advance(apply(member, "student"), actors, "in_progress")
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(
                actor=actors["grassroots_cadre"], case=case, result="资助", outcome={"granted": "1", "amount": "0"}
            )
        assert refused.value.errors == {"amount": "资助金额应大于零"}


# ================================================================ 8. 困难职工档案


def household(size="3", income="35000", causes=("illness",), tier="relative") -> dict:
    return {"tier": tier, "causes": list(causes), "household_size": size, "household_income": income}


class TestHardshipFile:
    def test_the_file_follows_its_member_to_a_new_union(self, member, actors, tree):
        first = advance(apply(member, "hardship"), actors, "closed", outcome=GRANT_MONEY)
        file = HardshipFile.objects.get(person=member.person)
        assert (file.org.code, first.home_org.code) == (E12, E12)
        town = actors["town_cadre"]
        transfer = transfer_request(actor=town, membership=member.membership, to_org=tree[E123], reason="工作调动")
        transfer_accept(actor=town, transfer=transfer_release(actor=town, transfer=transfer))

        second = advance(apply(member, "hardship"), actors, "closed", outcome=GRANT_MONEY)
        file = HardshipFile.objects.get(person=member.person)
        assert (second.home_org.code, second.org.code, file.org.code) == (E123, E123, E123)
        assert file.aid.count() == 2
        moved = last_audit("hardship.move")
        assert (moved.object_id, moved.details["from"], moved.details["to"]) == (str(file.id), E12, E123)

    @pytest.mark.parametrize(
        ("income", "size", "expected"),
        [
            ("36000", 3, "1000.00"),
            ("35000", 3, "972.22"),
            ("10000", 3, "277.78"),
            ("1230.06", 1, "102.51"),  # 102.505: half up, not to even
            ("0", 4, "0.00"),
        ],
    )
    def test_income_per_head_is_monthly_to_the_fen_rounded_half_up(self, income, size, expected):
        assert income_per_head(Decimal(income), size) == Decimal(expected)

    @pytest.mark.parametrize(
        ("day", "months", "expected"),
        [
            (date(2025, 11, 3), 12, date(2026, 11, 3)),
            (date(2024, 2, 29), 12, date(2025, 2, 28)),
            (date(2025, 8, 31), 6, date(2026, 2, 28)),
            (date(2025, 10, 31), 3, date(2026, 1, 31)),
            (date(2026, 1, 15), 0, date(2026, 1, 15)),
        ],
    )
    def test_add_months_keeps_the_day_or_the_end_of_a_shorter_month(self, day, months, expected):
        assert add_months(day, months) == expected

    def test_closing_granted_hardship_cases_files_the_household_and_records_the_aid(self, member, actors, clock):
        case = apply(member, "hardship", causes=["illness", "disability"], household_income="35000")
        case = advance(case, actors, "closed", outcome=GRANT_MONEY)

        file = HardshipFile.objects.get(person=member.person)
        assert (file.org.code, file.status, file.tier) == (E12, "active", "relative")
        assert file.causes == ["illness", "disability"]
        assert (file.household_size, file.household_income, file.income_per_head) == (
            3,
            Decimal("35000.00"),
            Decimal("972.22"),
        )
        assert (file.established_on, file.verified_on, file.next_verification_on) == (
            date(2025, 11, 3),
            date(2025, 11, 3),
            date(2026, 11, 3),
        )
        assert (file.returned, file.previous, file.case_id) == (False, None, case.id)
        aid = HardshipAid.objects.get(file=file)
        assert (aid.form, aid.amount, aid.granted_on, aid.granted_by, aid.in_transition, aid.case_id) == (
            "money",
            Decimal("2000.00"),
            date(2025, 11, 3),
            "grassroots_cadre",
            False,
            case.id,
        )
        assert last_audit("hardship.establish").details == {"tier": "relative", "returned": False}
        assert last_audit("hardship.aid").details == {"form": "money", "amount": "2000.00", "in_transition": False}

        # A second granted application adds to the same file and refreshes its figures; goods are not money paid.
        clock.set(date(2025, 12, 1))
        second = apply(member, "hardship", causes=["unemployment"], household_size="4", household_income="24000")
        goods = {"granted": "on", "aid_form": "goods", "amount": "800", "aid_description": "米、油、棉被"}
        second = advance(second, actors, "closed", outcome=goods)
        assert fresh(second).amount_granted == Decimal("0.00")
        assert HardshipFile.objects.count() == 1
        file = fresh(file)
        assert (file.tier, file.causes, file.household_size, file.income_per_head) == (
            "relative",
            ["unemployment"],
            4,
            Decimal("500.00"),
        )
        assert list(HardshipAid.objects.filter(file=file).order_by("granted_on").values_list("form", "amount")) == [
            ("money", Decimal("2000.00")),
            ("goods", Decimal("800.00")),
        ]

    def test_closing_without_a_grant_files_nothing(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "closed", outcome={"granted": False})
        assert fresh(case).amount_granted is None
        assert not HardshipFile.objects.exists() and not HardshipAid.objects.exists()

    def test_a_first_grant_needs_the_tier_and_writes_nothing_without_it(self, member, actors):
        case = advance(apply(member, "hardship"), actors, "in_progress")
        outcome = {**GRANT_MONEY, "tier": ""}
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_close(actor=actors["grassroots_cadre"], case=case, result="发放帮扶金", outcome=outcome)
        assert refused.value.errors == {"tier": "请选择困难类别"}

    def test_the_yearly_verification_updates_the_file_and_its_next_date(self, member, actors, clock):
        cadre = actors["grassroots_cadre"]
        file = hardship_file_establish(actor=cadre, membership=member.membership, data=household())
        clock.set(date(2026, 3, 2))
        data = {
            **household(size="2", income="30000", causes=("illness",), tier="relative"),
            "household": [
                {"name": "张大", "relation": "配偶", "situation": "患病", "annual_income": "0"},
                {"name": "", "relation": "", "situation": "", "annual_income": ""},
            ],
        }

        file = fresh(hardship_file_verify(actor=cadre, file=file, data=data))

        assert (file.verified_on, file.next_verification_on) == (date(2026, 3, 2), date(2027, 3, 2))
        assert (file.tier, file.household_size, file.income_per_head) == ("relative", 2, Decimal("1250.00"))
        assert list(file.household.values_list("name", "relation", "annual_income")) == [
            ("张大", "配偶", Decimal("0.00"))
        ]
        assert last_audit("hardship.verify").details == {"tier": "relative", "income_per_head": "1250.00"}

    def test_a_bad_household_row_is_named(self, member, actors):
        rows = [{"name": "张大", "relation": "配偶"}, {"name": "张二", "annual_income": "x"}]
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            hardship_file_establish(
                actor=actors["grassroots_cadre"], membership=member.membership, data={**household(), "household": rows}
            )
        assert refused.value.errors == {"household": "第2位家庭成员：请填写与职工关系"}

    def test_one_open_file_per_person(self, member, actors):
        hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, data=household())
        with nothing_changes(), pytest.raises(DomainError, match="该职工已有在档的困难职工档案"):
            hardship_file_establish(actor=actors["town_cadre"], membership=member.membership, data=household())

    def test_exit_with_a_transition_period_then_return_to_hardship(self, member, actors, system, clock):
        cadre = actors["grassroots_cadre"]
        money = {"form": "money", "amount": "300", "description": "过渡期生活补助"}
        file = hardship_file_establish(actor=cadre, membership=member.membership, data=household())
        clock.set(date(2026, 1, 15))
        file = fresh(hardship_file_exit(actor=cadre, file=file, reason="夫妻二人均已稳定就业", transition_months=3))
        assert (file.status, file.exited_on, file.transition_until) == (
            "transition",
            date(2026, 1, 15),
            date(2026, 4, 15),
        )
        assert file.exit_reason == "夫妻二人均已稳定就业"
        assert last_audit("hardship.exit").details == {"transition_months": 3}

        with nothing_changes(), pytest.raises(DomainError, match="该档案当前为“脱困过渡期”，不能再办理脱困"):
            hardship_file_exit(actor=cadre, file=file, reason="再次脱困")

        clock.set(date(2026, 4, 15))  # the last day of the transition
        aid = hardship_aid_grant(actor=cadre, file=file, data=money)
        assert (aid.in_transition, aid.granted_on, aid.amount) == (True, date(2026, 4, 15), Decimal("300.00"))

        clock.set(date(2026, 4, 16))
        with nothing_changes(), pytest.raises(DomainError) as refused:
            hardship_aid_grant(actor=cadre, file=file, data=money)
        assert refused.value.message == "该档案的脱困过渡期已于 2026-04-15 结束，不能再发放帮扶"

        assert hardship_transitions_end(actor=system, today=date(2026, 4, 15)) == 0
        assert hardship_transitions_end(actor=system, today=date(2026, 4, 16)) == 1
        assert hardship_transitions_end(actor=system, today=date(2026, 4, 16)) == 0
        assert fresh(file).status == "exited"
        assert last_audit("hardship.transition_end").object_id == str(file.id)
        service = {"form": "service", "amount": "0", "description": "就业指导"}
        with nothing_changes(), pytest.raises(DomainError, match="该档案已解困脱困，过渡期已结束，不能再发放帮扶"):
            hardship_aid_grant(actor=cadre, file=file, data=service)
        with nothing_changes(), pytest.raises(DomainError, match="已解困脱困的档案不需要核查"):
            hardship_file_verify(actor=cadre, file=file, data=household())

        # 返困: a new application is flagged, and the file it opens points back at the exited one.
        clock.set(date(2026, 5, 6))
        case = apply(member, "hardship", causes=["disaster"])
        assert case.returned_to_hardship is True
        advance(case, actors, "closed", outcome={**GRANT_MONEY, "tier": "accidental"})
        new_file = HardshipFile.objects.get(person=member.person, status="active")
        assert (new_file.returned, new_file.previous_id, new_file.tier) == (True, file.id, "accidental")
        assert fresh(file).status == "exited"
        assert last_audit("hardship.establish").details == {"tier": "accidental", "returned": True}

    def test_a_file_established_after_a_home_visit_for_someone_who_had_exited_is_flagged(self, member, actors):
        cadre = actors["grassroots_cadre"]
        first = hardship_file_establish(actor=cadre, membership=member.membership, data=household())
        hardship_file_exit(actor=cadre, file=first, reason="已脱困", transition_months=0)
        first = fresh(first)
        assert (first.status, first.transition_until) == ("exited", date(2025, 11, 3))
        again = hardship_file_establish(actor=cadre, membership=member.membership, data=household(tier="relative"))
        assert (again.returned, again.previous_id) == (True, first.id)
        # A case while a file is open is not a return.
        assert apply(member, "hardship").returned_to_hardship is False

    def test_the_transition_lasts_zero_to_twelve_months(self, member, actors):
        file = hardship_file_establish(actor=actors["grassroots_cadre"], membership=member.membership, data=household())
        for months in (13, -1, "六"):
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                hardship_file_exit(
                    actor=actors["grassroots_cadre"], file=file, reason="已脱困", transition_months=months
                )
            assert refused.value.errors == {"transition_months": "过渡期应为 0 到 12 个月"}
        with nothing_changes(), pytest.raises(NotFound):
            hardship_file_exit(actor=actors["other_district_cadre"], file=file, reason="已脱困")


# ================================================================ 9. 慰问


CAMPAIGN = {
    "kind": "warmth",
    "name": "2026年元旦春节送温暖",
    "starts_on": "2025-10-01",
    "ends_on": "2025-12-31",
    "budget": "5000",
}


@pytest.fixture
def campaign(tree, actors):
    return campaign_create(actor=actors["district_cadre"], org=tree[GS], data=dict(CAMPAIGN))


def person_row(member: Member, money="500", day="2025-11-01") -> dict:
    return {"card_number": member.membership.card_number, "money": money, "visited_on": day}


def group_row(name="环卫班组", headcount="12", money="1200", goods="米、油", goods_value="300", day="2025-11-02"):
    return {
        "group_name": name,
        "headcount": headcount,
        "money": money,
        "goods": goods,
        "goods_value": goods_value,
        "visited_on": day,
    }


class TestCare:
    def test_a_campaign_is_set_up_by_an_upper_union(self, tree, actors):
        campaign = fresh(campaign_create(actor=actors["district_cadre"], org=tree[GS], data=dict(CAMPAIGN)))
        assert (campaign.kind, campaign.budget, campaign.created_by) == ("warmth", Decimal("5000.00"), "district_cadre")
        assert (campaign.starts_on, campaign.ends_on) == (date(2025, 10, 1), date(2025, 12, 31))
        assert last_audit("care.campaign_create").details == {"budget": "5000.00"}

    def test_campaign_create_refuses(self, tree, actors):
        for username, org, data, error in [
            ("grassroots_cadre", E12, {}, PermissionDenied),
            ("auditor", "SZ", {}, PermissionDenied),
            ("other_district_cadre", GS, {}, NotFound),
            ("town_cadre", GS, {}, NotFound),
            ("district_cadre", GS, {"ends_on": "2025-09-30"}, ValidationFailed),
            ("district_cadre", GS, {"budget": "0"}, ValidationFailed),
            ("district_cadre", GS, {"kind": "party"}, ValidationFailed),
        ]:
            with nothing_changes(), pytest.raises(error):
                campaign_create(actor=actors[username], org=tree[org], data={**CAMPAIGN, **data})

    def test_visits_to_a_member_and_to_a_group_are_recorded_and_totalled(self, campaign, member, tree, actors):
        visits = care_visits_record(
            actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[person_row(member), group_row()]
        )

        assert len(visits) == 2
        by_person, by_group = CareVisit.objects.order_by("visited_on")
        assert (by_person.person_id, by_person.headcount, by_person.money) == (member.person.id, 1, Decimal("500.00"))
        assert (by_group.person, by_group.group_name, by_group.headcount) == (None, "环卫班组", 12)
        assert (by_group.goods, by_group.goods_value, by_group.org.code) == ("米、油", Decimal("300.00"), E12)
        assert campaign_totals(campaign) == {
            "visits": 2,
            "people": 13,
            "money": Decimal("1700.00"),
            "goods_value": Decimal("300.00"),
            "spent": Decimal("2000.00"),
            "remaining": Decimal("3000.00"),
        }
        assert last_audit("care.visits_record").details == {"visits": 2, "amount": "2000.00", "org": E12}

        # The rest of the budget, to the fen, may be spent; one fen more may not.
        with nothing_changes(), pytest.raises(DomainError) as refused:
            care_visits_record(
                actor=actors["town_cadre"], campaign=campaign, org=tree[T01], rows=[group_row(money="2700.01")]
            )
        assert refused.value.code == "over_budget"
        assert refused.value.message == "本批合计 3000.01 元，超出活动剩余预算 3000.00 元，请调整后再录入"
        # The town records for its whole subtree: 张三 of union "12" is found by his card number.
        rows = [group_row(money="2200"), person_row(member, money="500", day="2025-11-03")]
        care_visits_record(actor=actors["town_cadre"], campaign=campaign, org=tree[T01], rows=rows)
        assert campaign_totals(campaign) == {
            "visits": 4,
            "people": 26,
            "money": Decimal("4400.00"),
            "goods_value": Decimal("600.00"),
            "spent": Decimal("5000.00"),
            "remaining": Decimal("0.00"),
        }

    def test_one_bad_row_records_nothing_and_names_its_number(self, campaign, member, other_member, tree, actors):
        outsider = other_member.membership.card_number  # a member of union "123", outside union "12"
        group = {"group_name": "保安队", "visited_on": "2025-11-01"}
        for bad, message in [
            (
                {"card_number": outsider, "money": "100", "visited_on": "2025-11-01"},
                f"第2条：会员卡号 {outsider} 不是“十二号公司工会委员会”范围内的在册会员",
            ),
            ({**group, "headcount": ""}, "第2条：请填写慰问人数"),
            ({**group, "headcount": "3"}, "第2条：请填写慰问金或慰问品"),
            (
                {**group, "headcount": "3", "money": "10", "visited_on": "2026-01-01"},
                "第2条：慰问日期应在活动期间（2025-10-01 至 2025-12-31）",
            ),
            ({**group, "headcount": "3", "money": "10", "visited_on": "2025-11-04"}, "第2条：慰问日期不能晚于今天"),
            ({**group, "headcount": "3", "goods_value": "10"}, "第2条：填写了慰问品折价，请同时写明慰问品"),
            (
                {**group, "card_number": "X"},
                "第2条：每条记录填写会员卡号（慰问个人）或慰问群体名称（慰问群体），二者填一项",
            ),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                care_visits_record(
                    actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[person_row(member), bad]
                )
            assert refused.value.errors == {"rows": message}

    def test_the_row_number_counts_blank_lines_of_the_form(self, campaign, member, tree, actors):
        blank = {"card_number": "", "group_name": "", "money": "", "visited_on": ""}
        rows = [person_row(member), blank, group_row(headcount="")]
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            care_visits_record(actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=rows)
        assert refused.value.errors == {"rows": "第3条：请填写慰问人数"}

    def test_visits_by_a_union_outside_the_campaign_or_the_actor_are_refused(self, campaign, tree, actors):
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            care_visits_record(
                actor=actors["other_district_cadre"], campaign=campaign, org=tree[WZE1], rows=[group_row()]
            )
        assert refused.value.errors == {"org": "“木渎光电有限公司工会委员会”不在“姑苏区总工会”组织的活动范围内"}
        with nothing_changes(), pytest.raises(NotFound):
            care_visits_record(actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E123], rows=[group_row()])
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            care_visits_record(
                actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[{"money": " "}]
            )
        assert refused.value.errors == {"rows": "请至少填写一条慰问记录"}
        with nothing_changes(), pytest.raises(PermissionDenied):
            care_visits_record(actor=actors["auditor"], campaign=campaign, org=tree[E12], rows=[group_row()])


# ================================================================ 10. attachments


EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


class TestAttachments:
    def test_the_member_attaches_pdf_jpg_and_png_evidence_to_their_open_case(self, media, member):
        case = apply(member, "hardship")
        for name, content, content_type, listed_as in [
            ("诊断证明.pdf", PDF, "application/pdf", "诊断证明.pdf"),
            ("C:\\Users\\me\\住院发票.JPG", JPEG, "image/jpeg", "住院发票.jpg"),
            ("照片.pdf", PNG + b"\x01", "image/png", "照片.png"),  # the content decides the extension
            ("证明.exe", PDF + b"\x01", "application/pdf", "证明.pdf"),
            ("../../etc/passwd", PDF + b"\x02", "application/pdf", "passwd.pdf"),
            ("scan", PNG, "image/png", "scan.png"),
            ("", JPEG + b"\x01", "image/jpeg", "证明材料.jpg"),
        ]:
            attachment = member_case_attach(account=member.account, case_id=case.id, name=name, content=content, ip=IP)

            attachment = fresh(attachment)
            assert (attachment.name, attachment.content_type, attachment.size) == (
                listed_as,
                content_type,
                len(content),
            )
            assert attachment.sha256 == hashlib.sha256(content).hexdigest()
            assert attachment.uploaded_by == "会员136****0001"
            assert attachment.file.name.startswith("casework/")
            assert attachment.file.name.endswith(attachment.id.hex + EXTENSIONS[content_type])
            assert (media / attachment.file.name).read_bytes() == content
            with default_storage.open(attachment.file.name) as stored:
                assert stored.read() == content
            assert last_audit("case.attach").details == {"kind": "hardship", "file": listed_as, "size": len(content)}
        notes = CaseEvent.objects.filter(case=case, action="attach").values_list("note", flat=True)
        assert list(notes) == [
            "诊断证明.pdf",
            "住院发票.jpg",
            "照片.png",
            "证明.pdf",
            "passwd.pdf",
            "scan.png",
            "证明材料.jpg",
        ]
        assert len([p for p in media.rglob("*") if p.is_file()]) == 7

    def test_anything_but_a_small_pdf_jpg_or_png_is_refused(self, media, member, actors):
        case = apply(member, "hardship")
        for content, message in [
            (b"MZ\x90\x00\x03\x00\x00\x00", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"just some text, named like a pdf", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"<html><script>alert(1)</script>", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"PK\x03\x04 a zip or docx", "只能上传 PDF、JPG 或 PNG 格式的证明材料"),
            (b"", "文件是空的，请重新选择"),
            (b"%PDF-" + b"0" * (10 * 1024 * 1024 - 4), "文件不能超过 10 MB"),
        ]:
            with nothing_changes(), pytest.raises(ValidationFailed) as refused:
                member_case_attach(account=member.account, case_id=case.id, name="证明.pdf", content=content)
            assert refused.value.errors == {"file": message}
            with nothing_changes(), pytest.raises(ValidationFailed):
                case_attach(actor=actors["grassroots_cadre"], case=case, name="证明.pdf", content=content)

    def test_exactly_ten_mebibytes_is_accepted(self, media, member):
        case = apply(member, "hardship")
        content = b"%PDF-" + b"0" * (10 * 1024 * 1024 - 5)
        attachment = member_case_attach(account=member.account, case_id=case.id, name="a.pdf", content=content)
        assert attachment.size == 10 * 1024 * 1024

    def test_an_eleventh_attachment_is_refused(self, media, member, actors):
        case = apply(member, "hardship")
        for number in range(10):
            member_case_attach(
                account=member.account, case_id=case.id, name=f"第{number}页.pdf", content=PDF + bytes([number])
            )
        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            case_attach(actor=actors["grassroots_cadre"], case=case, name="第11页.pdf", content=PDF)
        assert refused.value.errors == {"file": "每件申请最多上传 10 份材料"}
        assert CaseAttachment.objects.filter(case=case).count() == 10
        assert len([p for p in media.rglob("*") if p.is_file()]) == 10

    def test_the_member_attaches_only_to_their_own_open_case(self, media, member, other_member, actors):
        theirs = apply(other_member, "hardship")
        with nothing_changes(), pytest.raises(NotFound):
            member_case_attach(account=member.account, case_id=theirs.id, name="a.pdf", content=PDF)

        case = advance(apply(member, "hardship"), actors, "closed")
        with nothing_changes(), pytest.raises(CaseMovedOn):
            member_case_attach(account=member.account, case_id=case.id, name="a.pdf", content=PDF)
        # The handling union may still file evidence on a closed case...
        assert case_attach(actor=actors["grassroots_cadre"], case=case, name="回执.pdf", content=PDF).case_id == case.id
        # ... but not on a withdrawn or rejected one.
        withdrawn = apply(member, "legal")
        member_case_withdraw(account=member.account, case_id=withdrawn.id)
        rejected = apply(member, "student")
        case_reject(actor=actors["grassroots_cadre"], case=rejected, reason="不符合条件")
        for finished, cadre in ((withdrawn, "district_cadre"), (rejected, "grassroots_cadre")):
            with nothing_changes(), pytest.raises(CaseMovedOn):
                case_attach(actor=actors[cadre], case=finished, name="a.pdf", content=PDF)
            with nothing_changes(), pytest.raises(CaseMovedOn):
                member_case_attach(account=member.account, case_id=finished.id, name="a.pdf", content=PDF)

    @pytest.mark.parametrize("end", ["closed", "withdrawn"])
    def test_the_refusal_to_attach_to_a_finished_case_reads_well(self, media, member, actors, end):
        case = apply(member, "hardship")
        if end == "closed":
            case = advance(case, actors, "closed")
        else:
            member_case_withdraw(account=member.account, case_id=case.id)
        with nothing_changes(), pytest.raises(CaseMovedOn) as refused:
            member_case_attach(account=member.account, case_id=case.id, name="a.pdf", content=PDF)
        expected = {"closed": "该申请已办结，不能再上传材料", "withdrawn": "该申请已撤回，不能再上传材料"}
        assert refused.value.message == expected[end]


# ================================================================ 11. callbacks


@pytest.fixture
def closed_cases(tree, actors, member, wz_member, clock):
    """Cases closed in November 2025: three at union "12" and one at 姑苏区 (legal); around them, one closed in
    October, one open, one rejected, and one closed in 吴中区."""
    cadre = actors["grassroots_cadre"]
    people = [enrol(cadre, tree[E12], name=name, seq=seq) for name, seq in (("甲", 321), ("乙", 322), ("丙", 323))]
    clock.set(date(2025, 10, 20))
    october = advance(enter(cadre, people[0], "student"), actors, "closed")
    clock.set(date(2025, 11, 3))
    at_12 = [advance(enter(cadre, person, "hardship"), actors, "closed") for person in people]
    at_gs = advance(apply(member, "legal"), actors, "closed")
    open_case = enter(cadre, people[0], "legal")
    rejected = enter(cadre, people[1], "legal")
    case_reject(actor=actors["district_cadre"], case=rejected, reason="不属于劳动争议")
    wuzhong = advance(apply(wz_member, "legal"), actors, "closed")
    return {"at_12": at_12, "at_gs": at_gs, "october": october, "open": open_case, "rejected": rejected, "wz": wuzhong}


NOVEMBER = {"start": date(2025, 11, 1), "end": date(2025, 11, 30)}


class TestCallbacks:
    def test_a_share_of_the_cases_closed_in_the_period_is_drawn_never_twice(self, tree, actors, closed_cases):
        pool = {c.id for c in closed_cases["at_12"]} | {closed_cases["at_gs"].id}

        drawn = callbacks_draw(actor=actors["district_cadre"], org=tree[GS], share=Decimal("0.3"), **NOVEMBER)

        assert len(drawn) == math.ceil(4 * Decimal("0.3")) == 2
        assert {c.id for c in drawn} <= pool
        pending = ServiceCase.objects.filter(callback_status="pending")
        assert set(pending.values_list("id", flat=True)) == {c.id for c in drawn}
        assert all(fresh(c).callback_drawn_at is not None for c in drawn)
        audit = last_audit("case.callback_draw")
        assert audit.details == {"pool": 4, "drawn": 2, "start": "2025-11-01", "end": "2025-11-30"}

        rest = callbacks_draw(actor=actors["district_cadre"], org=tree[GS], share=Decimal("1"), **NOVEMBER)
        assert {c.id for c in rest} == pool - {c.id for c in drawn}
        assert callbacks_draw(actor=actors["district_cadre"], org=tree[GS], share=Decimal("1"), **NOVEMBER) == []
        never = [closed_cases[key].id for key in ("october", "open", "rejected", "wz")]
        assert not ServiceCase.objects.filter(id__in=never).exclude(callback_status="").exists()

    def test_at_least_one_is_drawn_and_only_from_the_subtree_handled(self, tree, actors, closed_cases):
        drawn = callbacks_draw(actor=actors["town_cadre"], org=tree[T01], share=Decimal("0.01"), **NOVEMBER)
        assert len(drawn) == 1
        assert drawn[0].id in {c.id for c in closed_cases["at_12"]}
        everything = callbacks_draw(actor=actors["town_cadre"], org=tree[T01], share=Decimal("1"), **NOVEMBER)
        assert len(everything) == 2  # the legal case handled at 姑苏区 is outside the town's subtree
        assert last_audit("case.callback_draw").details["pool"] == 2

    def test_callbacks_draw_refuses(self, tree, actors, closed_cases):
        for username, org, share, start, error, detail in [
            ("district_cadre", GS, Decimal("0"), date(2025, 11, 1), ValidationFailed, "share"),
            ("district_cadre", GS, Decimal("1.01"), date(2025, 11, 1), ValidationFailed, "share"),
            ("district_cadre", GS, Decimal("0.1"), date(2025, 12, 1), ValidationFailed, "end"),
            ("other_district_cadre", GS, Decimal("0.1"), date(2025, 11, 1), NotFound, None),
            ("town_cadre", GS, Decimal("0.1"), date(2025, 11, 1), NotFound, None),
            ("auditor", GS, Decimal("0.1"), date(2025, 11, 1), PermissionDenied, None),
        ]:
            with nothing_changes(), pytest.raises(error) as refused:
                callbacks_draw(actor=actors[username], org=tree[org], start=start, end=date(2025, 11, 30), share=share)
            if detail is not None:
                assert list(refused.value.errors) == [detail]

    def test_a_callback_is_recorded_once_and_only_for_a_drawn_case(self, tree, actors, closed_cases):
        cadre = actors["district_cadre"]
        (drawn,) = callbacks_draw(actor=cadre, org=tree[GS], share=Decimal("0.01"), **NOVEMBER)
        not_drawn = next(c for c in [*closed_cases["at_12"], closed_cases["at_gs"]] if c.id != drawn.id)

        with nothing_changes(), pytest.raises(ValidationFailed) as refused:
            callback_record(actor=cadre, case=drawn, result="great")
        assert refused.value.errors == {"result": "请选择回访结果"}
        for case in (not_drawn, closed_cases["open"]):
            with nothing_changes(), pytest.raises(CaseMovedOn, match="该申请不在待回访名单中"):
                callback_record(actor=cadre, case=case, result="satisfied")

        done = fresh(callback_record(actor=cadre, case=drawn, result="basically", note="  希望再快一些 "))
        assert (done.callback_status, done.callback_result, done.callback_note) == ("done", "basically", "希望再快一些")
        assert (done.callback_by, done.callback_at is not None) == ("district_cadre", True)
        event = CaseEvent.objects.get(case=drawn, action="callback")
        assert (event.label, event.note) == ("已回访", "基本满意 希望再快一些")
        assert last_audit("case.callback").details == {"kind": drawn.kind, "result": "basically"}

        with nothing_changes(), pytest.raises(CaseMovedOn, match="该申请不在待回访名单中"):
            callback_record(actor=cadre, case=drawn, result="satisfied")


# ================================================================ 12. figures


@pytest.fixture
def figures_world(tree, actors, member, other_member, wz_member, enrolment, clock):
    """November 2025, counted on the 20th. Applied on the 3rd, closed on the 5th:
    - 张三 (union "12"): hardship granted 2000 元 (rated 4); legal aid at 姑苏区, mediated, 8000 元 recovered
      (rated 2); an insurance claim paid 4000 元 by the 双塔 plan;
    - 李四 (union "123"): hardship left unanswered, overdue since the 11th;
    - 陈一 (沧浪精工, another town of 姑苏区): student aid granted 3000 元;
    - 王五 (吴中区): hardship granted 1000 元;
    - 慰问 at union "12": 张三 (500 元) and a team of 12 (1200 元 and 300 元 of goods)."""
    hardship = apply(member, "hardship")
    stuck = apply(other_member, "hardship")
    legal = apply(member, "legal")
    claim = apply(
        member,
        "insurance",
        enrolment=str(enrolment.id),
        admitted_on="2025-10-01",
        discharged_on="2025-10-21",
        eligible_cost="10500",
    )
    chen = enrol(actors["district_cadre"], tree[T02E1], name="陈一", seq=331)
    student = enter(actors["district_cadre"], chen, "student")
    wz_case = apply(wz_member, "hardship", amount_requested="1000")
    campaign = campaign_create(actor=actors["district_cadre"], org=tree[GS], data=dict(CAMPAIGN))
    care_visits_record(
        actor=actors["grassroots_cadre"], campaign=campaign, org=tree[E12], rows=[person_row(member), group_row()]
    )
    clock.set(date(2025, 11, 5))
    advance(hardship, actors, "closed", outcome={**GRANT_MONEY, "tier": "relative"})
    member_case_rate(account=member.account, case_id=hardship.id, rating=4)
    advance(legal, actors, "closed", outcome={"outcome": "mediated", "amount_recovered": "8000"})
    member_case_rate(account=member.account, case_id=legal.id, rating=2)
    advance(claim, actors, "closed", outcome={"payable": True, "reference": "ZF-1"})
    advance(student, actors, "closed", outcome={"granted": True, "amount": "3000"})
    advance(wz_case, actors, "closed", outcome={**GRANT_MONEY, "amount": "1000"})
    clock.set(date(2025, 11, 20))
    return {"stuck": stuck}


def rows_by_kind(rows) -> dict:
    return {row.kind: row for row in rows}


class TestFigures:
    def test_a_town_cadre_counts_the_cases_of_its_members(self, tree, actors, figures_world):
        rows = case_figures(actor=actors["town_cadre"], org=tree[T01], **NOVEMBER)

        assert [row.kind for row in rows] == ["hardship", "legal", "insurance", "student", "care"]
        by = rows_by_kind(rows)
        hardship = by["hardship"]
        assert (hardship.label, hardship.cases, hardship.closed, hardship.people) == ("困难帮扶", 2, 1, 1)
        assert hardship.money == Decimal("2000.00") and str(hardship.money) == "2000.00"
        assert (hardship.overdue, hardship.overdue_share) == (1, 0.5)
        assert (hardship.avg_rating, hardship.rated) == (4.0, 1)
        assert hardship.avg_days == pytest.approx(2.0, abs=1e-3)
        assert hardship.extra == {"goods_value": Decimal("0.00"), "open_files": 1, "returned_files": 0}

        legal = by["legal"]
        assert (legal.cases, legal.closed, legal.people, legal.money) == (1, 1, 1, Decimal("0.00"))
        assert (legal.overdue, legal.overdue_share, legal.avg_rating) == (0, 0.0, 2.0)
        assert legal.extra == {"amount_recovered": Decimal("8000.00")}

        insurance = by["insurance"]
        assert (insurance.cases, insurance.people, insurance.money) == (1, 1, Decimal("4000.00"))
        assert str(insurance.money) == "4000.00"
        assert insurance.extra == {"enrolled": 1, "premium": Decimal("30.00")}

        student = by["student"]
        assert (student.cases, student.people, student.money) == (0, 0, Decimal("0.00"))
        assert (student.overdue_share, student.avg_rating, student.avg_days) == (None, None, None)

        care = by["care"]
        assert (care.label, care.cases, care.people, care.money) == ("慰问", 2, 13, Decimal("1700.00"))
        assert care.extra == {"goods_value": Decimal("300.00")}

    def test_the_district_adds_its_other_towns_and_the_city_adds_the_other_district(self, tree, actors, figures_world):
        district = rows_by_kind(case_figures(actor=actors["district_cadre"], org=tree[GS], **NOVEMBER))
        student = district["student"]
        assert (student.cases, student.people, student.money) == (1, 1, Decimal("3000.00"))
        assert (district["hardship"].cases, district["hardship"].money) == (2, Decimal("2000.00"))

        city = rows_by_kind(case_figures(actor=actors["city_cadre"], org=tree["SZ"], **NOVEMBER))
        assert (city["hardship"].cases, city["hardship"].people, city["hardship"].money) == (3, 2, Decimal("3000.00"))
        assert city["hardship"].overdue_share == pytest.approx(1 / 3)
        assert city["hardship"].extra["open_files"] == 2

        wuzhong = rows_by_kind(case_figures(actor=actors["other_district_cadre"], org=tree[WZ], **NOVEMBER))
        assert (wuzhong["hardship"].cases, wuzhong["hardship"].money) == (1, Decimal("1000.00"))
        assert (wuzhong["legal"].cases, wuzhong["student"].cases, wuzhong["care"].cases) == (0, 0, 0)

    def test_a_period_before_anything_happened_counts_nothing(self, tree, actors, figures_world):
        rows = case_figures(actor=actors["town_cadre"], org=tree[T01], start=date(2025, 10, 1), end=date(2025, 10, 31))
        assert [(row.cases, row.people, row.money) for row in rows] == [(0, 0, Decimal("0.00"))] * 5

    def test_figures_outside_the_actors_subtree_are_not_found(self, tree, actors):
        for username, org, error in [
            ("town_cadre", GS, NotFound),
            ("other_district_cadre", GS, NotFound),
            ("grassroots_cadre", E123, NotFound),
            ("auditor", "SZ", PermissionDenied),
            ("sysadmin", "SZ", PermissionDenied),
        ]:
            with nothing_changes(), pytest.raises(error):
                case_figures(actor=actors[username], org=tree[org], **NOVEMBER)


# ================================================================ 13. scoping


def _in_stage(case, actors, stage, tree):
    if stage in (CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS):
        return advance(case, actors, stage)
    if stage == "pending_callback":
        case = advance(case, actors, "closed")
        callbacks_draw(actor=actors["grassroots_cadre"], org=tree[E12], start=MONDAY, end=MONDAY, share=Decimal("1"))
        return fresh(case)
    return case


OUTSIDE_CALLS = {
    # action: (the stage in which it would succeed, the call)
    "accept": (CaseStatus.SUBMITTED, lambda actor, case: case_accept(actor=actor, case=case)),
    "reject": (CaseStatus.SUBMITTED, lambda actor, case: case_reject(actor=actor, case=case, reason="不符合条件")),
    "withdraw": (CaseStatus.ACCEPTED, lambda actor, case: case_withdraw(actor=actor, case=case, reason="本人要求")),
    "start": (CaseStatus.ACCEPTED, lambda actor, case: case_start(actor=actor, case=case)),
    "close": (
        CaseStatus.IN_PROGRESS,
        lambda actor, case: case_close(actor=actor, case=case, result="办结", outcome={"granted": False}),
    ),
    "attach": (
        CaseStatus.SUBMITTED,
        lambda actor, case: case_attach(actor=actor, case=case, name="a.pdf", content=PDF),
    ),
    "callback_record": (
        "pending_callback",
        lambda actor, case: callback_record(actor=actor, case=case, result="satisfied"),
    ),
}


class TestScoping:
    @pytest.mark.parametrize("action", list(OUTSIDE_CALLS))
    def test_a_cadre_of_another_district_finds_nothing_and_changes_nothing(self, tree, member, actors, action):
        stage, call = OUTSIDE_CALLS[action]
        case = _in_stage(apply(member, "hardship"), actors, stage, tree)

        with nothing_changes(), pytest.raises(NotFound):
            case_get(actor=actors["other_district_cadre"], case_id=case.id)
        with nothing_changes(), pytest.raises(NotFound):
            call(actors["other_district_cadre"], fresh(case))
        # So is a cadre of the neighbouring union "123", whose code only looks like an extension of "12".
        neighbour = replace(actors["grassroots_cadre"], org_id=tree[E123].id, scope_path=tree[E123].path)
        with nothing_changes(), pytest.raises(NotFound):
            case_get(actor=neighbour, case_id=case.id)
        with nothing_changes(), pytest.raises(NotFound):
            call(neighbour, fresh(case))
        # The union handling it may.
        call(actors["grassroots_cadre"], fresh(case))

    def test_administrators_do_not_handle_cases(self, member, actors):
        case = apply(member, "hardship")
        for username in ("auditor", "district_auditor", "sysadmin", "secadmin"):
            with nothing_changes(), pytest.raises(PermissionDenied):
                case_get(actor=actors[username], case_id=case.id)
            with nothing_changes(), pytest.raises(PermissionDenied):
                cases_visible_to(actors[username])
            with nothing_changes(), pytest.raises(PermissionDenied):
                case_accept(actor=actors[username], case=case)
            with nothing_changes(), pytest.raises(PermissionDenied):
                enter(actors[username], member.membership, "legal")

    def test_a_member_reaches_only_their_own_cases(self, member, other_member, actors):
        theirs = advance(apply(other_member, "hardship"), actors, "closed")
        open_theirs = apply(other_member, "legal")
        assert own_case_get(account=member.account, case_id=apply(member, "legal").id).person_id == member.person.id

        for case_id in (theirs.id, open_theirs.id, str(open_theirs.id), "not-an-id"):
            with pytest.raises(NotFound):
                own_case_get(account=member.account, case_id=case_id)
        with nothing_changes(), pytest.raises(NotFound):
            member_case_withdraw(account=member.account, case_id=open_theirs.id, ip=IP)
        with nothing_changes(), pytest.raises(NotFound):
            member_case_rate(account=member.account, case_id=theirs.id, rating=1, ip=IP)
        with nothing_changes(), pytest.raises(NotFound):
            member_case_attach(account=member.account, case_id=open_theirs.id, name="a.pdf", content=PDF, ip=IP)
        assert fresh(open_theirs).status == CaseStatus.SUBMITTED and fresh(theirs).rating is None

    def test_the_members_own_union_follows_a_county_case_but_cannot_act_on_it(self, member, actors):
        legal = apply(member, "legal")
        grassroots = actors["grassroots_cadre"]

        assert case_get(actor=grassroots, case_id=legal.id) == legal
        assert legal in cases_visible_to(grassroots)
        assert list(cases_my_queue(actor=grassroots)) == []
        for call in (
            lambda: case_accept(actor=grassroots, case=legal),
            lambda: case_reject(actor=grassroots, case=legal, reason="不符合条件"),
            lambda: case_withdraw(actor=grassroots, case=legal, reason="本人要求"),
            lambda: case_attach(actor=grassroots, case=legal, name="a.pdf", content=PDF),
        ):
            with nothing_changes(), pytest.raises(NotFound):
                call()
        assert case_accept(actor=actors["district_cadre"], case=legal).status == CaseStatus.ACCEPTED

    def test_what_each_cadre_sees(self, member, other_member, wz_member, actors):
        at_12 = apply(member, "hardship")
        legal = apply(member, "legal")
        at_123 = apply(other_member, "hardship")
        wuzhong = apply(wz_member, "legal")

        def seen(username):
            return set(cases_visible_to(actors[username]))

        assert seen("grassroots_cadre") == {at_12, legal}
        assert seen("town_cadre") == {at_12, legal, at_123}
        assert seen("district_cadre") == {at_12, legal, at_123}
        assert seen("other_district_cadre") == {wuzhong}
        assert seen("city_cadre") == {at_12, legal, at_123, wuzhong}
        with pytest.raises(NotFound):
            case_get(actor=actors["grassroots_cadre"], case_id=at_123.id)
        with pytest.raises(NotFound):
            case_get(actor=actors["district_cadre"], case_id="00000000-0000-0000-0000-000000000000")

    def test_looking_at_health_and_money_details_and_exporting_figures_is_audited(self, tree, member, actors):
        cadre = actors["grassroots_cadre"]
        case = apply(member, "hardship")
        attachment = member_case_attach(account=member.account, case_id=case.id, name="诊断.pdf", content=PDF)
        file = hardship_file_establish(actor=cadre, membership=member.membership, data=household())

        case_view_record(actor=cadre, case=case)
        attachment_view_record(actor=cadre, attachment=attachment)
        hardship_file_view_record(actor=cadre, file=file)
        figures_export_record(actor=actors["town_cadre"], org=tree[T01], **NOVEMBER)

        view = last_audit("case.view")
        assert (view.actor_label, view.object_id, view.details) == (
            "grassroots_cadre",
            str(case.id),
            {"kind": "hardship"},
        )
        assert last_audit("case.attachment_view").details == {"kind": "hardship", "file": "诊断.pdf"}
        assert last_audit("hardship.view").object_id == str(file.id)
        export = last_audit("case.figures_export")
        assert (export.object_id, export.details) == (str(tree[T01].id), {"start": "2025-11-01", "end": "2025-11-30"})
        for username, error in (("other_district_cadre", NotFound), ("auditor", PermissionDenied)):
            with nothing_changes(), pytest.raises(error):
                figures_export_record(actor=actors[username], org=tree[T01], **NOVEMBER)

    def test_a_cadre_enters_applications_only_for_members_in_scope(self, other_member, wz_member, actors):
        for membership in (other_member.membership, wz_member.membership):
            with nothing_changes(), pytest.raises(NotFound):
                enter(actors["grassroots_cadre"], membership, "legal")
        assert enter(actors["town_cadre"], other_member.membership, "legal").source == "cadre"
