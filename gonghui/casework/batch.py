"""批量受理: a cadre accepts several submitted cases at once from the case list. Each case goes through the ordinary
accept service in its own transaction, so each is checked (scope, status) and audited on its own, and one refusal
does not stop the others. The report says, per case, whether it was accepted and why not."""

from dataclasses import dataclass

from gonghui.audit.models import AuditResult
from gonghui.audit.services import audit_record
from gonghui.casework.selectors import case_get
from gonghui.casework.services import case_accept
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.masking import mask_name
from gonghui.common.roles import Perm

MAX_BATCH = 200
NOT_FOUND = "未找到该申请，或不在您的管辖范围内"


@dataclass(frozen=True)
class BatchItem:
    case_id: str
    number: str
    name: str  # the applicant's name, masked
    accepted: bool
    reason: str = ""


def cases_accept_batch(*, actor: Actor, case_ids: list[str], note: str = "") -> list[BatchItem]:
    """Accept each case in turn with `case_accept`; a case that may not be accepted is reported and its refusal
    audited (result 拒绝), nothing of it changed."""
    actor.require(Perm.CASES_MANAGE)
    wanted = list(dict.fromkeys(str(raw) for raw in case_ids if str(raw).strip()))
    if not wanted:
        raise ValidationFailed({"cases": "请先勾选要受理的申请"})
    if len(wanted) > MAX_BATCH:
        raise ValidationFailed({"cases": f"一次最多受理 {MAX_BATCH} 件申请"})
    report = []
    for raw in wanted:
        try:
            case = case_get(actor=actor, case_id=raw)
        except NotFound:
            report.append(BatchItem(case_id=raw, number="", name="", accepted=False, reason=NOT_FOUND))
            continue
        label = mask_name(case.person.name)
        try:
            case_accept(actor=actor, case=case, note=note)
        except NotFound:
            reason = f"该申请由{case.org.name}承办，本级不能受理"
        except DomainError as exc:
            reason = exc.message
        else:
            report.append(BatchItem(case_id=str(case.id), number=case.number, name=label, accepted=True))
            continue
        audit_record(
            actor=actor,
            action="case.accept",
            object_type="service_case",
            object_id=case.id,
            object_label=f"{case.number} {label}",
            object_org_path=case.org.path,
            result=AuditResult.DENIED,
            details={"kind": case.kind, "batch": True, "reason": reason},
        )
        report.append(BatchItem(case_id=str(case.id), number=case.number, name=label, accepted=False, reason=reason))
    return report
