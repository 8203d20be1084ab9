"""Organisation endpoints. Thin: parse, call one selector; the schemas (api/schemas.py) shape the answer."""

from uuid import UUID

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from gonghui.api.pagination import BoundedLimitOffsetPagination
from gonghui.api.schemas import ErrorOut, MeOut, OrgBrief, OrgDetail
from gonghui.orgs.selectors import org_children, org_get, org_scope_root, org_search

router = Router(tags=["组织"])


@router.get("/me", response=MeOut, summary="当前身份及其管辖范围")
def me(request):
    # The scope's root is read here first: an actor that may read nothing (a role awaiting its second person) is
    # refused with 403 by the API's error handler, which an error raised while the answer is written would not reach.
    org_scope_root(actor=request.actor)
    return request.actor


class SearchQuery(Schema):
    q: str
    limit: int = 20


@router.get("/orgs/search", response={200: list[OrgBrief], 422: ErrorOut}, summary="按名称或代码搜索管辖范围内的组织")
def orgs_search(request, params: Query[SearchQuery]):
    return org_search(actor=request.actor, query=params.q, limit=params.limit)


@router.get("/orgs/{org_id}", response={200: OrgDetail, 404: ErrorOut}, summary="组织详情")
def orgs_detail(request, org_id: UUID):
    return org_get(actor=request.actor, org_id=org_id)


@router.get("/orgs/{org_id}/children", response={200: list[OrgBrief], 404: ErrorOut}, summary="下级组织（分页）")
@paginate(BoundedLimitOffsetPagination)
def orgs_children(request, org_id: UUID):
    return list(org_children(actor=request.actor, org_id=org_id))
