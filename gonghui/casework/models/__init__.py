"""The service centre (职工服务): one closed-loop workflow for the services a union gives its members, and the
records each service keeps.

A `ServiceCase` is one request: 申请 → 受理 (or 不予受理) → 办理 → 办结 → 评价, with working-day deadlines per
step, escalation when overdue, attachments, consent and a callback sample. What each type adds lives beside it:
困难职工档案 (HardshipFile, its household members and the aid granted), 法律援助 (LegalAidRecord), 职工互助保障
(InsurancePlan, InsuranceEnrolment, InsuranceClaim, InsurancePayout), 金秋助学 (StudentGrant) and 慰问
(CareCampaign, CareVisit). Amounts are Decimal 元 with two places.

The models live in one module per service (cases, hardship, benefits); all are imported here, so that Django
registers them and callers import them from gonghui.casework.models.
"""

from gonghui.casework.models.benefits import (
    CareCampaign,
    CareKind,
    CareVisit,
    DisputeCategory,
    InsuranceClaim,
    InsuranceEnrolment,
    InsurancePayout,
    InsurancePlan,
    LegalAidRecord,
    LegalOutcome,
    StudentGrant,
)
from gonghui.casework.models.cases import (
    MONEY,
    OPEN_CASE_STATUSES,
    CallbackResult,
    CallbackStatus,
    CaseAttachment,
    CaseEvent,
    CaseKind,
    CaseSerial,
    CaseSource,
    CaseStatus,
    ServiceCase,
)
from gonghui.casework.models.hardship import (
    OPEN_FILE_STATUSES,
    AidApproval,
    AidForm,
    ApprovalStatus,
    ApprovalSubject,
    HardshipAid,
    HardshipAidRule,
    HardshipApproval,
    HardshipCause,
    HardshipFile,
    HardshipFileStatus,
    HardshipTier,
    HouseholdMember,
    PaymentMethod,
)

__all__ = [
    "MONEY",
    "AidApproval",
    "AidForm",
    "ApprovalStatus",
    "ApprovalSubject",
    "CallbackResult",
    "CallbackStatus",
    "CareCampaign",
    "CareKind",
    "CareVisit",
    "CaseAttachment",
    "CaseEvent",
    "CaseKind",
    "CaseSerial",
    "CaseSource",
    "CaseStatus",
    "DisputeCategory",
    "HardshipAid",
    "HardshipAidRule",
    "HardshipApproval",
    "HardshipCause",
    "HardshipFile",
    "HardshipFileStatus",
    "HardshipTier",
    "HouseholdMember",
    "InsuranceClaim",
    "InsuranceEnrolment",
    "InsurancePayout",
    "InsurancePlan",
    "LegalAidRecord",
    "LegalOutcome",
    "OPEN_CASE_STATUSES",
    "OPEN_FILE_STATUSES",
    "PaymentMethod",
    "ServiceCase",
    "StudentGrant",
]
