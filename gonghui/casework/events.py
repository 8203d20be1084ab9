"""The casework domain's audit records, one writer per kind of object: a service case, a hardship file, a request to
the parent union (上级审批) and a mutual-insurance plan. Every service of the domain records through these, so that an
object's label, its organisation and the details each record carries are written the same way everywhere."""

from gonghui.audit.services import audit_record
from gonghui.casework.models import HardshipApproval, HardshipFile, InsurancePlan, ServiceCase
from gonghui.common.actor import Actor
from gonghui.common.masking import mask_name


def audit_case(actor: Actor, action: str, case: ServiceCase, details: dict | None = None) -> None:
    """A step of a service case, labelled with its 受理编号 and the applicant's masked name."""
    audit_record(
        actor=actor,
        action=action,
        object_type="service_case",
        object_id=case.id,
        object_label=f"{case.number} {mask_name(case.person.name)}",
        object_org_path=case.org.path,
        details={"kind": case.kind, **(details or {})},
    )


def audit_file(actor: Actor, action: str, file: HardshipFile, details: dict | None = None) -> None:
    """A step of a hardship file (困难职工档案), labelled with the worker's masked name."""
    audit_record(
        actor=actor,
        action=action,
        object_type="hardship_file",
        object_id=file.id,
        object_label=mask_name(file.person.name),
        object_org_path=file.org.path,
        details=details or {},
    )


def audit_approval(actor: Actor, action: str, approval: HardshipApproval, details: dict | None = None) -> None:
    """A step of a request to the parent union (上级审批), with what it is about and who decides."""
    audit_record(
        actor=actor,
        action=action,
        object_type="hardship_approval",
        object_id=approval.id,
        object_label=f"{approval.get_subject_display()} {mask_name(approval.person.name)}",
        object_org_path=approval.org.path,
        details={"subject": approval.subject, "approver": approval.approver.code, **(details or {})},
    )


def audit_plan(actor: Actor, action: str, plan: InsurancePlan, details: dict | None = None) -> None:
    """A change to a mutual-insurance plan (互助保障计划) or its enrolment."""
    audit_record(
        actor=actor,
        action=action,
        object_type="insurance_plan",
        object_id=plan.id,
        object_label=str(plan),
        object_org_path=plan.org.path,
        details=details or {},
    )
