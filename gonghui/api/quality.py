"""Data quality of the registry (入库率与准确率): the figures of an organisation, the rectification list, and the
declared member total a union reports."""

from datetime import date
from uuid import UUID

from ninja import Query, Router, Schema

from gonghui.api.member_schemas import MemberOut
from gonghui.api.pagination import MAX_OFFSET, MAX_PAGE_SIZE
from gonghui.api.schemas import ErrorOut, UnionBrief
from gonghui.members.quality import quality_summary, rectification_list
from gonghui.members.services import declared_total_record
from gonghui.orgs.selectors import org_get

router = Router(tags=["会员"])
# Operation ids keep the names these routes had when they lived in members.py: clients generated from the
# OpenAPI document call them by these names.
OPERATION_PREFIX = "gonghui_api_members_"


def _rate(value) -> float | None:
    return float(value) if value is not None else None


class QualityOut(Schema):
    org: UnionBrief
    unions: int
    unions_declared: int
    declared_total: int
    registered_in_declared: int
    registered: int
    passing: int
    coverage_rate: float | None
    accuracy_rate: float | None
    stale_unions: int
    coverage_flag: str

    @staticmethod
    def resolve_coverage_rate(summary) -> float | None:
        return _rate(summary.coverage_rate)

    @staticmethod
    def resolve_accuracy_rate(summary) -> float | None:
        return _rate(summary.accuracy_rate)


@router.get(
    "/orgs/{org_id}/quality",
    operation_id=f"{OPERATION_PREFIX}orgs_quality",
    response={200: QualityOut, 404: ErrorOut},
    summary="入库率与准确率",
)
def orgs_quality(request, org_id: UUID):
    return quality_summary(actor=request.actor, org=org_get(actor=request.actor, org_id=org_id))


class RectificationOut(Schema):
    member: MemberOut
    problems: list[str]

    @staticmethod
    def resolve_member(item):
        return item.membership


@router.get(
    "/orgs/{org_id}/rectification",
    operation_id=f"{OPERATION_PREFIX}orgs_rectification",
    response={200: list[RectificationOut], 404: ErrorOut},
    summary="整改清单：未通过检查的会员记录及原因",
)
def orgs_rectification(
    request,
    org_id: UUID,
    limit: int = Query(100, ge=1, le=MAX_PAGE_SIZE),
    offset: int = Query(0, ge=0, le=MAX_OFFSET),
):
    org = org_get(actor=request.actor, org_id=org_id)
    return rectification_list(actor=request.actor, org=org, limit=limit, offset=offset)


class DeclaredIn(Schema):
    total: int
    as_of: date | None = None


class DeclaredOut(Schema):
    org: UnionBrief
    total: int
    as_of: date


@router.post(
    "/orgs/{org_id}/declared-total",
    operation_id=f"{OPERATION_PREFIX}orgs_declared_total",
    response={201: DeclaredOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="填报实有会员数",
)
def orgs_declared_total(request, org_id: UUID, body: DeclaredIn):
    org = org_get(actor=request.actor, org_id=org_id)
    declared = declared_total_record(actor=request.actor, org=org, total=body.total, as_of=body.as_of)
    return 201, {"org": org, "total": declared.total, "as_of": declared.as_of}
