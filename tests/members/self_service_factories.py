"""Helpers of the member self-service tests: the unions and phones they use, a worker's online application, and the
portal's state (registry, accounts, correction requests) to prove a refused call changed nothing."""

from gonghui.audit.models import AuditEvent
from gonghui.members.models import CorrectionRequest, MemberAccount, Person
from gonghui.members.self_service import member_join_apply
from tests.members.factories import BIRTH, COMPLETE_PROFILE, IP, registry_state, resident_id

E12 = "SZ-GS-T01-12"
E123 = "SZ-GS-T01-123"
WZE1 = "SZ-WZ-T01-E1"
PHONE = "13812341234"
OTHER_PHONE = "13912345678"
NEW_PHONE = "13700001111"


CONSENT_MESSAGE = "请阅读并同意个人信息保护说明后提交"


def portal_state() -> dict:
    """The registry, the portal accounts and the correction requests, to prove a refused call changed nothing."""
    return {
        **registry_state(),
        "accounts": sorted(
            MemberAccount.objects.values_list("id", "person_id", "bound_at", "session_version", "password")
        ),
        "corrections": sorted(
            CorrectionRequest.objects.values_list(
                "id", "person_id", "org_id", "changes", "note", "status", "decided_by", "decision_reason"
            )
        ),
        "person_profiles": sorted(
            Person.objects.values_list("id", "education", "post", "ethnicity", "political_status", "phone_index")
        ),
    }


def without_audit(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "audit_events"}


def join(account, org, *, name, seq, consent=True, **extra):
    """An unbound worker's application: name, document and the complete profile."""
    fields = {**COMPLETE_PROFILE, **extra}
    return member_join_apply(
        account=account,
        org=org,
        consent=consent,
        ip=IP,
        doc_type="resident_id",
        doc_number=fields.pop("doc_number", resident_id(BIRTH, seq)),
        name=name,
        **fields,
    )


def events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("at", "id")
