"""Helpers of the portal sign-in tests: the phones and addresses they use, a clock that stands in for the rate limits'
time, a sign-in in one call, and the portal's state to prove a refused call changed nothing."""

from datetime import UTC, date, datetime

from gonghui.audit.models import AuditEvent
from gonghui.members.member_accounts import phone_code_send, phone_code_sign_in
from gonghui.members.models import MemberAccount, PhoneCode
from tests.members.factories import registry_state

PHONE = "13812341234"
OTHER_PHONE = "13912345678"
IP = "203.0.113.7"
OTHER_IP = "198.51.100.9"
STRONG_PASSWORD = "Portal#Pass2026"
E12 = "SZ-GS-T01-12"
BIRTH = date(1990, 5, 17)
# A rate-limit clock that starts on a day boundary (and so on a minute, quarter-hour and hour boundary) plus one hour.
DAY_START = 1_800_000_000 // 86400 * 86400
CODE_REFUSED = "验证码错误或已过期，请重新获取"
WRONG_PASSWORD = {"password": "手机号或密码错误"}


class Clock:
    """Stands in for the `time` module inside gonghui.common.ratelimit and for `timezone.now` in the sign-in module
    (whose per-phone limits count the stored codes by their time)."""

    def __init__(self, start: float):
        self.now = start

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def aware_now(self) -> datetime:
        return datetime.fromtimestamp(self.now, tz=UTC)


def code_text(code: str) -> str:
    return f"您的登录验证码为{code}，5分钟内有效。请勿告诉他人。"


def wrong(code: str) -> str:
    """Another six-digit code."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def sign_in(phone: str = PHONE, ip: str = IP) -> MemberAccount:
    sent = phone_code_send(phone=phone, ip=ip)
    return phone_code_sign_in(phone=phone, code=sent.code, ip=ip)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def portal_state() -> dict:
    """The registry plus the portal's own tables, to prove a refused call changed nothing."""
    return {
        **registry_state(),
        "accounts": sorted(
            MemberAccount.objects.values_list(
                "id",
                "phone_index",
                "person_id",
                "password",
                "is_active",
                "session_version",
                "bound_at",
                "last_login_at",
            )
        ),
        "codes": sorted(
            PhoneCode.objects.values_list("id", "phone_index", "code_hash", "expires_at", "attempts", "used_at")
        ),
    }


def without_audit(state: dict) -> dict:
    return {key: value for key, value in state.items() if key != "audit_events"}


def member_events(action: str):
    return AuditEvent.objects.filter(action=action).order_by("at", "id")
