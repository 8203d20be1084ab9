"""Service-level helpers of the service-centre tests (职工服务, gonghui/casework): forms, the frozen clock,
moving a case on, the state that must not change."""

from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings

from gonghui.audit.models import AuditEvent
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
from gonghui.casework.services import Consent, case_accept, case_close, case_enter, case_start, member_case_apply
from tests.members.factories import IP, Member, fresh, registry_state, resident_id

SHANGHAI = ZoneInfo("Asia/Shanghai")


E12, E123, T01, GS, T02E1 = "SZ-GS-T01-12", "SZ-GS-T01-123", "SZ-GS-T01", "SZ-GS", "SZ-GS-T02-E1"


WZ, WZE1 = "SZ-WZ", "SZ-WZ-T01-E1"


MONDAY = date(2025, 11, 3)  # an ordinary working week: no holiday in November 2025


ALL_CONSENT = Consent(health=True, financial=True)


PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


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


# ================================================================ 8. 困难职工档案


def household(size="3", income="35000", causes=("illness",), tier="relative") -> dict:
    return {"tier": tier, "causes": list(causes), "household_size": size, "household_income": income}


# ================================================================ 9. 慰问


CAMPAIGN = {
    "kind": "warmth",
    "name": "2026年元旦春节送温暖",
    "starts_on": "2025-10-01",
    "ends_on": "2025-12-31",
    "budget": "5000",
}


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


NOVEMBER = {"start": date(2025, 11, 1), "end": date(2025, 11, 30)}
