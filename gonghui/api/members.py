"""Member registry endpoints: list, search, detail, enrol, correct, reveal and the membership transitions. Thin:
parse, call one selector or service; the schemas (api/member_schemas.py) shape the answer. Personal numbers leave
only masked, except through `reveal`, which states a reason and is audited. Join applications, transfers, data
quality and the public checks have their own modules."""

from datetime import date
from typing import Literal
from uuid import UUID

from ninja import Query, Router, Schema
from ninja.pagination import paginate

from gonghui.api.member_schemas import MemberDetail, MemberOut
from gonghui.api.pagination import BoundedLimitOffsetPagination
from gonghui.api.schemas import ErrorOut
from gonghui.common.errors import ValidationFailed
from gonghui.members.documents import doc_type_code
from gonghui.members.search import MemberQuery, member_search
from gonghui.members.selectors import membership_get
from gonghui.members.services import (
    member_enrol,
    membership_cancel,
    membership_leave,
    membership_reserve,
    membership_restore,
    membership_reveal,
    person_update,
)
from gonghui.orgs.selectors import org_get

router = Router(tags=["会员"])


# ---------------------------------------------------------------- members


class MemberListQuery(Schema):
    org_id: UUID | None = None
    name: str = ""
    name_prefix: bool = False
    card_number: str = ""
    status: str = ""


def _org_or_none(actor, org_id):
    return org_get(actor=actor, org_id=org_id) if org_id else None


@router.get(
    "/members",
    response={200: list[MemberOut], 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="会员名单（按工会、姓名、卡号；证件号和手机号查询请用 POST /members/search）",
)
@paginate(BoundedLimitOffsetPagination)
def members_list(request, params: Query[MemberListQuery]):
    actor = request.actor
    org = _org_or_none(actor, params.org_id)
    if org is None and not (params.name or params.card_number):
        org = org_get(actor=actor, org_id=actor.org_id) if actor.org_id else None
    query = MemberQuery(
        org=org, name=params.name, name_prefix=params.name_prefix, card_number=params.card_number, status=params.status
    )
    return member_search(actor=actor, query=query)


class MemberSearchIn(Schema):
    doc_type: str = "居民身份证"
    doc_number: str = ""
    phone: str = ""
    card_number: str = ""
    name: str = ""
    name_prefix: bool = False
    org_id: UUID | None = None
    status: str = ""


@router.post(
    "/members/search",
    response={200: list[MemberOut], 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="会员查询（证件号码、手机号码等；按号码查询会记入审计日志）",
)
@paginate(BoundedLimitOffsetPagination)
def members_search(request, body: MemberSearchIn):
    actor = request.actor
    doc_type = doc_type_code(body.doc_type)
    if body.doc_number and doc_type is None:
        raise ValidationFailed({"doc_type": "证件类型不正确"})
    query = MemberQuery(
        doc_type=doc_type or "resident_id",
        doc_number=body.doc_number,
        phone=body.phone,
        card_number=body.card_number,
        name=body.name,
        name_prefix=body.name_prefix,
        org=_org_or_none(actor, body.org_id),
        status=body.status,
    )
    return member_search(actor=actor, query=query)


@router.get("/members/{membership_id}", response={200: MemberDetail, 404: ErrorOut}, summary="会员详情（号码已脱敏）")
def members_detail(request, membership_id: UUID):
    return membership_get(actor=request.actor, membership_id=membership_id)


class EnrolIn(Schema):
    org_id: UUID
    doc_type: str = "居民身份证"
    doc_number: str
    name: str
    phone: str = ""
    joined_on: date | None = None
    birth_date: date | None = None
    sex: str = ""
    ethnicity: str = ""
    education: str = ""
    political_status: str = ""
    hukou_type: str = ""
    employment_form: str = ""
    work_unit: str = ""
    post: str = ""
    skill_level: str = ""
    is_model_worker: bool = False
    remarks: str = ""


def _person_fields(body: Schema, *, exclude: set[str]) -> dict:
    return {k: v for k, v in body.dict().items() if k not in exclude}


@router.post(
    "/members",
    response={201: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="干部录入会员（按证件号码查找登记记录，与号码查询同计频次、记入审计日志）",
)
def members_enrol(request, body: EnrolIn):
    actor = request.actor
    org = org_get(actor=actor, org_id=body.org_id)
    membership = member_enrol(actor=actor, org=org, **_person_fields(body, exclude={"org_id"}))
    return 201, membership


class RevealIn(Schema):
    field: Literal["doc_number", "phone"]
    reason: str


class RevealOut(Schema):
    field: str
    value: str


@router.post(
    "/members/{membership_id}/reveal",
    response={200: RevealOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="查看完整号码（须填写原因，记入审计日志）",
)
def members_reveal(request, membership_id: UUID, body: RevealIn):
    membership = membership_get(actor=request.actor, membership_id=membership_id)
    value = membership_reveal(actor=request.actor, membership=membership, field=body.field, reason=body.reason)
    return {"field": body.field, "value": value}


class CorrectIn(Schema):
    name: str | None = None
    phone: str | None = None
    doc_type: str | None = None
    doc_number: str | None = None
    birth_date: date | None = None
    sex: str | None = None
    ethnicity: str | None = None
    education: str | None = None
    political_status: str | None = None
    hukou_type: str | None = None
    employment_form: str | None = None
    work_unit: str | None = None
    post: str | None = None
    skill_level: str | None = None
    is_model_worker: bool | None = None
    remarks: str | None = None


@router.patch(
    "/members/{membership_id}/person",
    response={200: MemberOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="更正个人信息（修改前后记入审计日志）",
)
def members_correct(request, membership_id: UUID, body: CorrectIn):
    actor = request.actor
    membership = membership_get(actor=actor, membership_id=membership_id)
    changes = {k: v for k, v in body.dict().items() if v is not None}
    if "doc_type" in changes:
        changes["doc_type"] = doc_type_code(changes["doc_type"]) or changes["doc_type"]
    person_update(actor=actor, person=membership.person, **changes)
    return membership_get(actor=actor, membership_id=membership_id)


class ReasonIn(Schema):
    reason: str = ""
    on: date | None = None


MEMBERSHIP_ACTIONS = {
    "leave": lambda actor, m, body: membership_leave(actor=actor, membership=m, reason=body.reason, on=body.on),
    "cancel": lambda actor, m, body: membership_cancel(actor=actor, membership=m, reason=body.reason, on=body.on),
    "reserve": lambda actor, m, body: membership_reserve(actor=actor, membership=m, reason=body.reason),
    "restore": lambda actor, m, body: membership_restore(actor=actor, membership=m, reason=body.reason),
}


@router.post(
    "/members/{membership_id}/{action}",
    response={200: MemberOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="退会（leave）、注销（cancel）、保留会籍（reserve）、恢复（restore）",
)
def members_transition(
    request, membership_id: UUID, action: Literal["leave", "cancel", "reserve", "restore"], body: ReasonIn
):
    actor = request.actor
    membership = membership_get(actor=actor, membership_id=membership_id)
    return MEMBERSHIP_ACTIONS[action](actor, membership, body)
