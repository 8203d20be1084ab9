"""电子会员卡: the QR code carries a signed, expiring token naming the membership and its card number, never a
personal number. A station or partner checks it with `POST /api/v1/cards/verify`."""

from dataclasses import dataclass

from django.core import signing
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.masking import mask_name
from gonghui.common.roles import Perm
from gonghui.members import events
from gonghui.members.models import HOLDING_STATUSES, Membership

CARD_TOKEN_SALT = "gonghui.members.card"  # noqa: S105 - a namespace, not a secret
CARD_TOKEN_SECONDS = 300  # the card page refreshes its code every minute; a screenshot is useless after 5


def card_token_issue(membership: Membership) -> str:
    """A compact signed token: membership id and card number, with the time of issue."""
    return signing.dumps({"m": str(membership.id), "c": membership.card_number}, salt=CARD_TOKEN_SALT, compress=True)


@dataclass(frozen=True)
class CardCheck:
    valid: bool
    reason: str = ""
    name_masked: str = ""
    union_name: str = ""
    card_number: str = ""
    status_label: str = ""


def card_token_verify(*, actor: Actor, token: str) -> CardCheck:
    """Valid when the signature holds, the token is fresh and the membership is still held. Audited: a check is a
    look at who is a member."""
    actor.require(Perm.CARDS_VERIFY)
    result = _check(token)
    events.card_verified(actor, card_number=result.card_number, valid=result.valid, reason=result.reason)
    return result


def _check(token: str) -> CardCheck:
    try:
        payload = signing.loads(token or "", salt=CARD_TOKEN_SALT, max_age=CARD_TOKEN_SECONDS)
    except signing.SignatureExpired:
        return CardCheck(valid=False, reason="二维码已过期，请会员刷新电子会员卡")
    except signing.BadSignature:
        return CardCheck(valid=False, reason="二维码无效，不是本平台签发的电子会员卡")
    membership = Membership.objects.select_related("person", "org").filter(id=payload.get("m")).first()
    if membership is None or membership.card_number != payload.get("c"):
        return CardCheck(valid=False, reason="会员卡不存在")
    if membership.status not in HOLDING_STATUSES:
        return CardCheck(
            valid=False,
            reason=f"会籍{membership.get_status_display()}，会员卡已失效",
            card_number=membership.card_number,
        )
    return CardCheck(
        valid=True,
        name_masked=mask_name(membership.person.name),
        union_name=membership.org.name,
        card_number=membership.card_number,
        status_label=membership.get_status_display(),
    )


def card_qr_svg(membership: Membership) -> str:
    """The QR code of a fresh token as inline SVG (segno), for the card page."""
    import segno

    return segno.make(card_token_issue(membership), error="m").svg_inline(scale=4, dark="#1f2937")


def card_issued_at() -> str:
    return timezone.localtime().strftime("%H:%M:%S")
