"""Organisation endpoints. Thin: parse, call one selector, shape the answer."""

from uuid import UUID

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from gonghui.api.pagination import BoundedLimitOffsetPagination
from gonghui.api.schemas import ErrorOut, MeOut, OrgBrief, OrgDetail
from gonghui.common.masking import mask_phone
from gonghui.orgs.models import Organisation
from gonghui.orgs.selectors import org_breadcrumbs, org_children, org_get, org_scope_root, org_search

router = Router(tags=["组织"])


def org_brief(org: Organisation) -> dict:
    return {
        "id": org.id,
        "name": org.name,
        "code": org.code,
        "org_type": org.org_type,
        "org_type_label": org.get_org_type_display(),
        "level": org.level,
        "status": org.status,
        "has_children": org.numchild > 0,
    }


def org_detail(actor, org: Organisation) -> dict:
    crumbs = org_breadcrumbs(actor=actor, org=org)
    parent = crumbs[-2] if len(crumbs) > 1 else None
    return {
        **org_brief(org),
        "parent_id": parent.id if parent else None,
        "depth": org.depth,
        "region_code": org.region_code,
        "uscc": org.uscc,
        "founded_on": org.founded_on,
        "term_ends_on": org.term_ends_on,
        "address": org.address,
        "contact_person": org.contact_person,
        "contact_phone_masked": mask_phone(org.contact_phone),
        "children_count": org.numchild,
        "breadcrumbs": [org_brief(o) for o in crumbs[:-1]],
    }


@router.get("/me", response=MeOut, summary="当前身份及其管辖范围")
def me(request):
    actor = request.actor
    return {
        "kind": actor.kind,
        "label": actor.label,
        "role": actor.role,
        "org": org_brief(org_scope_root(actor=actor)),
    }


class SearchQuery(Schema):
    q: str
    limit: int = 20


@router.get("/orgs/search", response={200: list[OrgBrief], 422: ErrorOut}, summary="按名称或代码搜索管辖范围内的组织")
def orgs_search(request, params: Query[SearchQuery]):
    return [org_brief(o) for o in org_search(actor=request.actor, query=params.q, limit=params.limit)]


@router.get("/orgs/{org_id}", response={200: OrgDetail, 404: ErrorOut}, summary="组织详情")
def orgs_detail(request, org_id: UUID):
    return org_detail(request.actor, org_get(actor=request.actor, org_id=org_id))


@router.get("/orgs/{org_id}/children", response={200: list[OrgBrief], 404: ErrorOut}, summary="下级组织（分页）")
@paginate(BoundedLimitOffsetPagination)
def orgs_children(request, org_id: UUID):
    return [org_brief(o) for o in org_children(actor=request.actor, org_id=org_id)]
