"""Join applications (入会申请) in the caller's scope: list, submit on a worker's behalf, decide."""

from datetime import date
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from gonghui.api.members import EnrolIn, _person_fields
from gonghui.api.pagination import BoundedLimitOffsetPagination
from gonghui.api.schemas import ErrorOut, UnionBrief
from gonghui.members.selectors import join_application_get, join_applications_visible_to, membership_holding_named_for
from gonghui.members.services import (
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_submit,
    join_application_withdraw,
)
from gonghui.orgs.selectors import org_get

router = Router(tags=["会员"])
# Operation ids keep the names these routes had when they lived in members.py: clients generated from the
# OpenAPI document call them by these names.
OPERATION_PREFIX = "gonghui_api_members_"


class ApplicationOut(Schema):
    # `already_member_of` names the union only when it lies in the caller's subtree ("其他工会" otherwise).

    id: UUID
    person_name: str
    doc_number_masked: str
    union: UnionBrief
    status: str
    status_label: str
    source_label: str
    submitted_at: str
    due_on: date
    overdue: bool
    decided_by: str
    decision_reason: str
    membership_id: UUID | None
    already_member_of: str

    @staticmethod
    def resolve_person_name(application) -> str:
        return application.person.name

    @staticmethod
    def resolve_doc_number_masked(application) -> str:
        return application.person.doc_masked

    @staticmethod
    def resolve_union(application):
        return application.org

    @staticmethod
    def resolve_status_label(application) -> str:
        return application.get_status_display()

    @staticmethod
    def resolve_source_label(application) -> str:
        return application.get_source_display()

    @staticmethod
    def resolve_submitted_at(application) -> str:
        return application.submitted_at.isoformat()

    @staticmethod
    def resolve_overdue(application) -> bool:
        return application.status == "pending" and application.due_on < timezone.localdate()

    @staticmethod
    def resolve_already_member_of(application, context) -> str:
        actor = context["request"].actor
        holding, union_name = membership_holding_named_for(actor=actor, person=application.person)
        elsewhere = holding is not None and holding.org_id != application.org_id and application.status == "pending"
        return union_name if elsewhere else ""


class ApplicationListQuery(Schema):
    status: str = "pending"
    overdue: bool = False


@router.get(
    "/join-applications",
    operation_id=f"{OPERATION_PREFIX}applications_list",
    response={200: list[ApplicationOut]},
    summary="入会申请（管辖范围内）",
)
@paginate(BoundedLimitOffsetPagination)
def applications_list(request, params: Query[ApplicationListQuery]):
    applications = join_applications_visible_to(request.actor)
    if params.status != "all":
        applications = applications.filter(status=params.status)
    if params.overdue:
        applications = applications.filter(status="pending", due_on__lt=timezone.localdate())
    return applications.order_by("due_on", "submitted_at")


class ApplicationIn(EnrolIn):
    note: str = ""


@router.post(
    "/join-applications",
    operation_id=f"{OPERATION_PREFIX}applications_submit",
    response={201: ApplicationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="代为提交入会申请（干部录入；按证件号码查找登记记录，与号码查询同计频次、记入审计日志）",
)
def applications_submit(request, body: ApplicationIn):
    actor = request.actor
    org = org_get(actor=actor, org_id=body.org_id)
    fields = _person_fields(body, exclude={"org_id", "joined_on"})
    return 201, join_application_submit(actor=actor, org=org, **fields)


class DecisionIn(Schema):
    reason: str = ""


@router.post(
    "/join-applications/{application_id}/{decision}",
    operation_id=f"{OPERATION_PREFIX}applications_decide",
    response={200: ApplicationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="审核入会申请：approve 通过、reject 不予通过（须填理由）、withdraw 撤回、convert 改为会员接转",
)
def applications_decide(
    request, application_id: UUID, decision: Literal["approve", "reject", "withdraw", "convert"], body: DecisionIn
):
    actor = request.actor
    application = join_application_get(actor=actor, application_id=application_id)
    if decision == "approve":
        join_application_approve(actor=actor, application=application, comment=body.reason)
    elif decision == "reject":
        join_application_reject(actor=actor, application=application, reason=body.reason)
    elif decision == "convert":
        join_application_convert_to_transfer(actor=actor, application=application, reason=body.reason)
    else:
        join_application_withdraw(actor=actor, application=application)
    return join_application_get(actor=actor, application_id=application_id)
