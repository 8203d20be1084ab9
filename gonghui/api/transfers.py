"""Member transfers (会员接转) between unions, and the city-wide union directory used to choose the target."""

from datetime import date
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from gonghui.api.applications import DecisionIn
from gonghui.api.pagination import BoundedLimitOffsetPagination
from gonghui.api.schemas import ErrorOut, UnionBrief
from gonghui.members.selectors import (
    membership_get,
    transfer_get,
    transfers_awaiting,
    transfers_escalated,
    transfers_visible_to,
    union_directory_get,
    union_directory_search,
)
from gonghui.members.services import (
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
)

router = Router(tags=["会员"])
# Operation ids keep the names these routes had when they lived in members.py: clients generated from the
# OpenAPI document call them by these names.
OPERATION_PREFIX = "gonghui_api_members_"


class TransferOut(Schema):
    # Both unions see who is moving: the target needs the name to receive the member.

    id: UUID
    person_name: str
    card_number: str
    from_union: UnionBrief
    to_union: UnionBrief
    common_parent: UnionBrief
    status: str
    status_label: str
    reason: str
    requested_by: str
    due_on: date
    overdue: bool
    escalated: bool
    refused_by_side: str
    refusal_reason: str
    new_membership_id: UUID | None

    @staticmethod
    def resolve_person_name(transfer) -> str:
        return transfer.person.name

    @staticmethod
    def resolve_card_number(transfer) -> str:
        return transfer.membership.card_number

    @staticmethod
    def resolve_from_union(transfer):
        return transfer.from_org

    @staticmethod
    def resolve_to_union(transfer):
        return transfer.to_org

    @staticmethod
    def resolve_status_label(transfer) -> str:
        return transfer.get_status_display()

    @staticmethod
    def resolve_overdue(transfer) -> bool:
        open_ = transfer.status in ("pending_release", "pending_accept")
        return open_ and transfer.due_on < timezone.localdate()

    @staticmethod
    def resolve_escalated(transfer) -> bool:
        return transfer.escalated_at is not None


class TransferListQuery(Schema):
    box: Literal["awaiting", "escalated", "all"] = "awaiting"


@router.get(
    "/transfers",
    operation_id=f"{OPERATION_PREFIX}transfers_list",
    response={200: list[TransferOut]},
    summary="会员接转：awaiting 待本级处理、escalated 超期上报、all 全部",
)
@paginate(BoundedLimitOffsetPagination)
def transfers_list(request, params: Query[TransferListQuery]):
    actor = request.actor
    if params.box == "awaiting":
        transfers = transfers_awaiting(actor=actor)
    elif params.box == "escalated":
        transfers = transfers_escalated(actor=actor)
    else:
        transfers = transfers_visible_to(actor).order_by("-requested_at")
    return transfers.select_related("membership")


class TransferIn(Schema):
    membership_id: UUID
    to_org_id: UUID
    reason: str


@router.post(
    "/transfers",
    operation_id=f"{OPERATION_PREFIX}transfers_request",
    response={201: TransferOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="发起会员接转（转入工会可在全市范围内选择）",
)
def transfers_request(request, body: TransferIn):
    actor = request.actor
    membership = membership_get(actor=actor, membership_id=body.membership_id)
    to_org = union_directory_get(org_id=body.to_org_id)
    return 201, transfer_request(actor=actor, membership=membership, to_org=to_org, reason=body.reason)


@router.post(
    "/transfers/{transfer_id}/{step}",
    operation_id=f"{OPERATION_PREFIX}transfers_step",
    response={200: TransferOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="处理接转：release 同意转出、accept 接收、refuse 拒绝（须填理由）、withdraw 撤回",
)
def transfers_step(
    request, transfer_id: UUID, step: Literal["release", "accept", "refuse", "withdraw"], body: DecisionIn
):
    actor = request.actor
    transfer = transfer_get(actor=actor, transfer_id=transfer_id)
    if step == "release":
        transfer_release(actor=actor, transfer=transfer)
    elif step == "accept":
        transfer_accept(actor=actor, transfer=transfer)
    elif step == "refuse":
        transfer_refuse(actor=actor, transfer=transfer, reason=body.reason)
    else:
        transfer_withdraw(actor=actor, transfer=transfer)
    return transfer_get(actor=actor, transfer_id=transfer_id)


class DirectoryQuery(Schema):
    q: str
    limit: int = 20


@router.get(
    "/unions/directory",
    operation_id=f"{OPERATION_PREFIX}unions_directory",
    response={200: list[UnionBrief]},
    summary="全市基层工会名录（选择转入工会）",
)
def unions_directory(request, params: Query[DirectoryQuery]):
    return union_directory_search(query=params.q, limit=params.limit)
