"""Public services (公共服务): checking a document number and verifying an e-member card's QR code."""

from ninja import Router, Schema

from gonghui.api.auth import client_ip
from gonghui.api.schemas import ErrorOut
from gonghui.common.ratelimit import rate_limit_require
from gonghui.members.cards import card_token_verify
from gonghui.members.documents import DOC_TYPE_LABELS, check_document

router = Router(tags=["公共服务"])

DOCUMENT_CHECKS_PER_MINUTE = 120
# Operation ids keep the names these routes had when they lived in members.py: clients generated from the
# OpenAPI document call them by these names.
OPERATION_PREFIX = "gonghui_api_members_"


class DocumentCheckIn(Schema):
    type: str
    number: str


class DocumentCheckOut(Schema):
    valid: bool
    normalised: str
    reason: str


@router.post(
    "/documents/check",
    operation_id=f"{OPERATION_PREFIX}documents_check",
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


@router.post(
    "/cards/verify",
    operation_id=f"{OPERATION_PREFIX}cards_verify",
    response={200: CardVerifyOut, 403: ErrorOut},
    summary="核验电子会员卡二维码",
)
def cards_verify(request, body: CardVerifyIn):
    return card_token_verify(actor=request.actor, token=body.token)
