"""Small helpers for the member-registry tests: valid resident ID numbers, a complete profile, enrolment in one call
and a snapshot of everything the registry (and the audit trail) holds, to prove that a refused call changed nothing."""

from contextlib import contextmanager
from datetime import date

from stdnum.cn import ric

from gonghui.audit.models import AuditEvent
from gonghui.members.member_accounts import member_account_bind, phone_code_send, phone_code_sign_in
from gonghui.members.models import (
    CardSerial,
    CorrectionRequest,
    DeclaredTotal,
    JoinApplication,
    MemberAccount,
    Membership,
    Person,
    TransferRequest,
)
from gonghui.members.services import join_application_submit, member_enrol, transfer_request
from gonghui.orgs.models import OrgAgeFigures, OrgFigures, OrgMonthFigures

# Every field the quality checks require, besides name, birth date and sex (which the resident ID carries).
COMPLETE_PROFILE = {
    "ethnicity": "汉族",
    "education": "bachelor",
    "employment_form": "standard",
    "work_unit": "十二号有限公司",
}


def resident_id(birth: date, seq: int = 1, region: str = "320508") -> str:
    """A valid 18-digit resident ID. The last digit of `seq` decides the sex: odd male, even female."""
    body = f"{region}{birth:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def enrol(actor, org, *, name: str, number: str | None = None, seq: int = 1, phone: str | None = None, **extra):
    """Enrol a person born 1990-05-17 (unless `number` says otherwise) with a complete profile."""
    fields = {**COMPLETE_PROFILE, **extra}
    return member_enrol(
        actor=actor,
        org=org,
        doc_type=fields.pop("doc_type", "resident_id"),
        doc_number=number or resident_id(date(1990, 5, 17), seq),
        phone=phone,
        name=name,
        **fields,
    )


def registry_state() -> dict:
    """Everything a service may write, in a comparable form."""
    return {
        "persons": sorted(
            Person.objects.values_list(
                "id",
                "name",
                "doc_type",
                "doc_index",
                "doc_masked",
                "phone_index",
                "phone_masked",
                "birth_date",
                "sex",
                "work_unit",
                "education",
                "quality_flags",
                "updated_at",
            )
        ),
        "memberships": sorted(
            Membership.objects.values_list(
                "id", "person_id", "org_id", "status", "joined_on", "ended_on", "end_reason", "card_number", "source"
            )
        ),
        "applications": sorted(
            JoinApplication.objects.values_list(
                "id", "status", "decided_at", "decided_by", "decision_reason", "membership_id"
            )
        ),
        "transfers": sorted(
            TransferRequest.objects.values_list(
                "id",
                "status",
                "due_on",
                "released_by",
                "decided_by",
                "refused_by_side",
                "refusal_reason",
                "escalated_at",
                "new_membership_id",
            )
        ),
        "declared_totals": DeclaredTotal.objects.count(),
        "card_serials": sorted(CardSerial.objects.values_list("region_code", "year", "last")),
        "audit_events": AuditEvent.objects.count(),
        "member_accounts": sorted(
            MemberAccount.objects.values_list("id", "person_id", "password", "session_version", "is_active")
        ),
        "corrections": sorted(CorrectionRequest.objects.values_list("id", "status", "decided_by", "decision_reason")),
    }


@contextmanager
def unchanged():
    """`with unchanged(), pytest.raises(...):` - the refused call wrote nothing, not even an audit event."""
    before = registry_state()
    yield
    assert registry_state() == before


@contextmanager
def unchanged_but_looked_up(count: int = 1):
    """`with unchanged_but_looked_up(), pytest.raises(...):` - the refused enrolment or application wrote nothing
    but the audit line of its registry lookup (`member.search_by_number`), which is kept whatever the outcome."""
    before = registry_state()
    seen = set(AuditEvent.objects.values_list("id", flat=True))
    yield
    after = registry_state()
    added = AuditEvent.objects.exclude(id__in=seen).order_by("at", "id")
    assert list(added.values_list("action", flat=True)) == ["member.search_by_number"] * count
    assert {**after, "audit_events": after["audit_events"] - count} == before


def registry_sample(tree, actors, system) -> dict:
    """A member of 十二号公司工会 (SZ-GS-T01-12), a pending join application to it entered by the town cadre, and a
    transfer requested into it of a member of the neighbouring union (SZ-GS-T01-123)."""
    union = tree["SZ-GS-T01-12"]
    member = enrol(system, union, name="张三", seq=11)
    other = enrol(system, tree["SZ-GS-T01-123"], name="李四", seq=13)
    application = join_application_submit(
        actor=actors["town_cadre"],
        org=union,
        doc_type="resident_id",
        doc_number=resident_id(date(1988, 3, 9), 21),
        name="王五",
    )
    transfer = transfer_request(actor=actors["town_cadre"], membership=other, to_org=union, reason="工作调动")
    return {"member": member, "application": application, "transfer": transfer}


# ---------------------------------------------------------------- the member portal

IP = "203.0.113.7"
BIRTH = date(1990, 5, 17)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def sign_in(phone: str) -> MemberAccount:
    sent = phone_code_send(phone=phone, ip=IP)
    return phone_code_sign_in(phone=phone, code=sent.code, ip=IP)


class Member:
    """A person enrolled by their union, signed in on the portal and bound to the record."""

    def __init__(self, actor, org, *, name, seq, phone):
        self.number = resident_id(BIRTH, seq)
        self.membership = enrol(actor, org, name=name, number=self.number, phone=phone)
        self.person = self.membership.person
        self.phone = phone
        account = sign_in(phone)
        member_account_bind(account=account, name=name, doc_type="resident_id", doc_number=self.number, ip=IP)
        self.account = fresh(account)


# ---------------------------------------------------------------- the per-organisation figures


def figures_snapshot(*, with_failing: bool = False) -> dict:
    """Every figure row without the all-zero ones (a recount writes none); the 准确率 numerator only when asked
    (it is refreshed by the nightly re-check, not kept per change), never the time of that check."""
    stock = {}
    for row in OrgFigures.objects.values():
        org_id = row.pop("org_id")
        row.pop("failing_checked_at")
        if not with_failing:
            row.pop("failing")
        if any(row.values()):
            stock[org_id] = row
    months = {}
    for row in OrgMonthFigures.objects.values():
        key = (row.pop("org_id"), row.pop("month"))
        row.pop("id")
        if any(row.values()):
            months[key] = row
    ages = {(r["org_id"], r["birth_year"]): r["members"] for r in OrgAgeFigures.objects.values() if r["members"]}
    return {"stock": stock, "months": months, "ages": ages}
