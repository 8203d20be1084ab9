"""Member registry endpoints. Thin: parse, call one selector or service, shape the answer. Personal numbers leave
only masked, except through `reveal`, which states a reason and is audited."""

from datetime import date
from typing import Literal
from uuid import UUID

from django.utils import timezone
from ninja import Query, Router, Schema
from ninja.pagination import paginate

from gonghui.api.auth import client_ip
from gonghui.api.pagination import MAX_OFFSET, MAX_PAGE_SIZE, BoundedLimitOffsetPagination
from gonghui.api.schemas import ErrorOut
from gonghui.common.errors import ValidationFailed
from gonghui.common.ratelimit import rate_limit_require
from gonghui.members.cards import card_token_verify
from gonghui.members.documents import DOC_TYPE_LABELS, check_document, doc_type_code
from gonghui.members.models import JoinApplication, Membership, TransferRequest
from gonghui.members.quality import quality_summary, rectification_list
from gonghui.members.search import MemberQuery, member_search
from gonghui.members.selectors import (
    join_application_get,
    join_applications_visible_to,
    membership_get,
    membership_holding_named_for,
    person_history,
    transfer_get,
    transfers_awaiting,
    transfers_escalated,
    transfers_visible_to,
    union_directory_get,
    union_directory_search,
)
from gonghui.members.services import (
    declared_total_record,
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_submit,
    join_application_withdraw,
    member_enrol,
    membership_cancel,
    membership_leave,
    membership_reserve,
    membership_restore,
    membership_reveal,
    person_update,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_request,
    transfer_withdraw,
)
from gonghui.orgs.selectors import org_get

router = Router(tags=["会员"])


class Shaped:
    """A queryset whose page is shaped into dicts only after the paginator slices it: a list endpoint over a
    million members reads one page and one count, never the whole result."""

    def __init__(self, queryset, shape):
        self.queryset = queryset
        self.shape = shape

    def all(self):  # the paginator counts through .all().count()
        return self.queryset

    def __getitem__(self, window: slice) -> list[dict]:
        return [self.shape(item) for item in self.queryset[window]]


public = Router(tags=["公共服务"])

DOCUMENT_CHECKS_PER_MINUTE = 120


# ---------------------------------------------------------------- shapes


class UnionBrief(Schema):
    id: UUID
    name: str
    code: str


class MemberOut(Schema):
    id: UUID
    person_id: UUID
    name: str
    doc_type: str
    doc_type_label: str
    doc_number_masked: str
    phone_masked: str
    sex: str
    birth_date: date | None
    union: UnionBrief
    status: str
    status_label: str
    joined_on: date
    source: str
    source_label: str
    card_number: str
    ended_on: date | None
    end_reason: str


class PersonProfile(Schema):
    ethnicity: str
    education: str
    political_status: str
    hukou_type: str
    is_migrant_worker: bool
    employment_form: str
    employment_form_label: str
    is_new_employment: bool
    work_unit: str
    post: str
    skill_level: str
    is_model_worker: bool
    remarks: str


class HistoryItem(Schema):
    id: UUID
    union: UnionBrief
    status_label: str
    joined_on: date
    ended_on: date | None
    end_reason: str
    card_number: str


class MemberDetail(MemberOut):
    profile: PersonProfile
    history: list[HistoryItem]


def _union(org) -> dict:
    return {"id": org.id, "name": org.name, "code": org.code}


def member_out(membership: Membership) -> dict:
    person = membership.person
    return {
        "id": membership.id,
        "person_id": person.id,
        "name": person.name,
        "doc_type": person.doc_type,
        "doc_type_label": person.get_doc_type_display(),
        "doc_number_masked": person.doc_masked,
        "phone_masked": person.phone_masked,
        "sex": person.get_sex_display(),
        "birth_date": person.birth_date,
        "union": _union(membership.org),
        "status": membership.status,
        "status_label": membership.get_status_display(),
        "joined_on": membership.joined_on,
        "source": membership.source,
        "source_label": membership.get_source_display(),
        "card_number": membership.card_number,
        "ended_on": membership.ended_on,
        "end_reason": membership.end_reason,
    }


def member_detail(actor, membership: Membership) -> dict:
    person = membership.person
    history = person_history(actor=actor, person=person)["memberships"]
    return {
        **member_out(membership),
        "profile": {
            "ethnicity": person.ethnicity,
            "education": person.get_education_display() if person.education else "",
            "political_status": person.get_political_status_display() if person.political_status else "",
            "hukou_type": person.get_hukou_type_display() if person.hukou_type else "",
            "is_migrant_worker": person.is_migrant_worker,
            "employment_form": person.employment_form,
            "employment_form_label": person.get_employment_form_display() if person.employment_form else "",
            "is_new_employment": person.is_new_employment,
            "work_unit": person.work_unit,
            "post": person.post,
            "skill_level": person.get_skill_level_display() if person.skill_level else "",
            "is_model_worker": person.is_model_worker,
            "remarks": person.remarks,
        },
        "history": [
            {
                "id": m.id,
                "union": _union(m.org),
                "status_label": m.get_status_display(),
                "joined_on": m.joined_on,
                "ended_on": m.ended_on,
                "end_reason": m.end_reason,
                "card_number": m.card_number,
            }
            for m in history
        ],
    }


# ---------------------------------------------------------------- public: document check


class DocumentCheckIn(Schema):
    type: str
    number: str


class DocumentCheckOut(Schema):
    valid: bool
    normalised: str
    reason: str


@public.post(
    "/documents/check",
    auth=None,
    response={200: DocumentCheckOut, 429: ErrorOut},
    summary="证件号码校验（不存储、不记录）",
    description="类型可用：" + "、".join(DOC_TYPE_LABELS.values()) + "。返回规范化后的号码；无效时给出中文原因。",
)
def documents_check(request, body: DocumentCheckIn):
    rate_limit_require(
        f"document-check:{client_ip(request)}",
        limit=DOCUMENT_CHECKS_PER_MINUTE,
        window_seconds=60,
        message="校验过于频繁，请稍后再试",
    )
    return check_document(body.type, body.number)


class CardVerifyIn(Schema):
    token: str


class CardVerifyOut(Schema):
    valid: bool
    reason: str
    name_masked: str
    union_name: str
    card_number: str
    status_label: str


@public.post("/cards/verify", response={200: CardVerifyOut, 403: ErrorOut}, summary="核验电子会员卡二维码")
def cards_verify(request, body: CardVerifyIn):
    result = card_token_verify(actor=request.actor, token=body.token)
    return result.__dict__


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
    return Shaped(member_search(actor=actor, query=query), member_out)


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
    return Shaped(member_search(actor=actor, query=query), member_out)


@router.get("/members/{membership_id}", response={200: MemberDetail, 404: ErrorOut}, summary="会员详情（号码已脱敏）")
def members_detail(request, membership_id: UUID):
    return member_detail(request.actor, membership_get(actor=request.actor, membership_id=membership_id))


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
    return 201, member_out(membership)


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
    return member_out(membership_get(actor=actor, membership_id=membership_id))


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
    return member_out(MEMBERSHIP_ACTIONS[action](actor, membership, body))


# ---------------------------------------------------------------- join applications


class ApplicationOut(Schema):
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


def application_out(actor, application: JoinApplication) -> dict:
    """`already_member_of` names the union only when it lies in the actor's subtree ("其他工会" otherwise)."""
    holding, union_name = membership_holding_named_for(actor=actor, person=application.person)
    elsewhere = holding is not None and holding.org_id != application.org_id and application.status == "pending"
    return {
        "id": application.id,
        "person_name": application.person.name,
        "doc_number_masked": application.person.doc_masked,
        "union": _union(application.org),
        "status": application.status,
        "status_label": application.get_status_display(),
        "source_label": application.get_source_display(),
        "submitted_at": application.submitted_at.isoformat(),
        "due_on": application.due_on,
        "overdue": application.status == "pending" and application.due_on < timezone.localdate(),
        "decided_by": application.decided_by,
        "decision_reason": application.decision_reason,
        "membership_id": application.membership_id,
        "already_member_of": union_name if elsewhere else "",
    }


class ApplicationListQuery(Schema):
    status: str = "pending"
    overdue: bool = False


@router.get("/join-applications", response={200: list[ApplicationOut]}, summary="入会申请（管辖范围内）")
@paginate(BoundedLimitOffsetPagination)
def applications_list(request, params: Query[ApplicationListQuery]):
    applications = join_applications_visible_to(request.actor)
    if params.status != "all":
        applications = applications.filter(status=params.status)
    if params.overdue:
        applications = applications.filter(status="pending", due_on__lt=timezone.localdate())
    return Shaped(applications.order_by("due_on", "submitted_at"), lambda item: application_out(request.actor, item))


class ApplicationIn(EnrolIn):
    note: str = ""


@router.post(
    "/join-applications",
    response={201: ApplicationOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="代为提交入会申请（干部录入；按证件号码查找登记记录，与号码查询同计频次、记入审计日志）",
)
def applications_submit(request, body: ApplicationIn):
    actor = request.actor
    org = org_get(actor=actor, org_id=body.org_id)
    fields = _person_fields(body, exclude={"org_id", "joined_on"})
    application = join_application_submit(actor=actor, org=org, **fields)
    return 201, application_out(actor, application)


class DecisionIn(Schema):
    reason: str = ""


@router.post(
    "/join-applications/{application_id}/{decision}",
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
    return application_out(actor, join_application_get(actor=actor, application_id=application_id))


# ---------------------------------------------------------------- transfers


class TransferOut(Schema):
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


def transfer_out(transfer: TransferRequest) -> dict:
    """Both unions see who is moving: the target needs the name to receive the member."""
    name = transfer.person.name
    open_ = transfer.status in ("pending_release", "pending_accept")
    return {
        "id": transfer.id,
        "person_name": name,
        "card_number": transfer.membership.card_number,
        "from_union": _union(transfer.from_org),
        "to_union": _union(transfer.to_org),
        "common_parent": _union(transfer.common_parent),
        "status": transfer.status,
        "status_label": transfer.get_status_display(),
        "reason": transfer.reason,
        "requested_by": transfer.requested_by,
        "due_on": transfer.due_on,
        "overdue": open_ and transfer.due_on < timezone.localdate(),
        "escalated": transfer.escalated_at is not None,
        "refused_by_side": transfer.refused_by_side,
        "refusal_reason": transfer.refusal_reason,
        "new_membership_id": transfer.new_membership_id,
    }


class TransferListQuery(Schema):
    box: Literal["awaiting", "escalated", "all"] = "awaiting"


@router.get(
    "/transfers",
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
    return Shaped(transfers.select_related("membership"), transfer_out)


class TransferIn(Schema):
    membership_id: UUID
    to_org_id: UUID
    reason: str


@router.post(
    "/transfers",
    response={201: TransferOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="发起会员接转（转入工会可在全市范围内选择）",
)
def transfers_request(request, body: TransferIn):
    actor = request.actor
    membership = membership_get(actor=actor, membership_id=body.membership_id)
    to_org = union_directory_get(org_id=body.to_org_id)
    transfer = transfer_request(actor=actor, membership=membership, to_org=to_org, reason=body.reason)
    return 201, transfer_out(transfer)


@router.post(
    "/transfers/{transfer_id}/{step}",
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
    return transfer_out(transfer_get(actor=actor, transfer_id=transfer_id))


class DirectoryQuery(Schema):
    q: str
    limit: int = 20


@router.get("/unions/directory", response={200: list[UnionBrief]}, summary="全市基层工会名录（选择转入工会）")
def unions_directory(request, params: Query[DirectoryQuery]):
    return [_union(o) for o in union_directory_search(query=params.q, limit=params.limit)]


# ---------------------------------------------------------------- data quality


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


@router.get("/orgs/{org_id}/quality", response={200: QualityOut, 404: ErrorOut}, summary="入库率与准确率")
def orgs_quality(request, org_id: UUID):
    summary = quality_summary(actor=request.actor, org=org_get(actor=request.actor, org_id=org_id))
    return {
        **summary.__dict__,
        "org": _union(summary.org),
        "coverage_rate": float(summary.coverage_rate) if summary.coverage_rate is not None else None,
        "accuracy_rate": float(summary.accuracy_rate) if summary.accuracy_rate is not None else None,
    }


class RectificationOut(Schema):
    member: MemberOut
    problems: list[str]


@router.get(
    "/orgs/{org_id}/rectification",
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
    items = rectification_list(actor=request.actor, org=org, limit=limit, offset=offset)
    return [{"member": member_out(i.membership), "problems": i.problems} for i in items]


class DeclaredIn(Schema):
    total: int
    as_of: date | None = None


class DeclaredOut(Schema):
    org: UnionBrief
    total: int
    as_of: date


@router.post(
    "/orgs/{org_id}/declared-total",
    response={201: DeclaredOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="填报实有会员数",
)
def orgs_declared_total(request, org_id: UUID, body: DeclaredIn):
    org = org_get(actor=request.actor, org_id=org_id)
    declared = declared_total_record(actor=request.actor, org=org, total=body.total, as_of=body.as_of)
    return 201, {"org": _union(org), "total": declared.total, "as_of": declared.as_of}
