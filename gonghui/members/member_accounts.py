"""Member portal sign-in: one-time SMS codes, an optional password, and binding the phone to the person's record.

A code is six random digits, stored only as a keyed hash, valid for CODE_TTL_SECONDS, single use, and retired after
CODE_MAX_ATTEMPTS wrong tries. Sending is limited per phone (one a minute, ten a day) and per IP address; checking
is limited per IP address. So one phone can be guessed at most CODE_MAX_ATTEMPTS × PHONE_CODES_PER_DAY times a day,
a one-in-twenty-thousand chance against a million possible codes.

Binding asks for name and document number. The answer to a wrong pair is the same whether or not the number is
registered; attempts are limited and audited.
"""

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from gonghui.common.actor import Actor
from gonghui.common.crypto import blind_index, decrypt_text, encrypt_text
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.masking import mask_phone
from gonghui.common.ratelimit import RateLimited, rate_limit_hit, rate_limit_require
from gonghui.common.roles import Perm, Role
from gonghui.common.sms import SmsNotSent, sms_send
from gonghui.members import events
from gonghui.members.documents import Document, DocumentInvalid, normalise_document
from gonghui.members.models import (
    HOLDING_STATUSES,
    ApplicationStatus,
    JoinApplication,
    MemberAccount,
    Membership,
    Person,
    PhoneCode,
)
from gonghui.members.people import PHONE_CONTEXT, document_index, normalise_mobile, phone_index, seal_phone

CODE_DIGITS = 6
CODE_TTL_SECONDS = 5 * 60
CODE_MAX_ATTEMPTS = 5
PHONE_CODE_INTERVAL_SECONDS = 60
PHONE_CODES_PER_DAY = 10
IP_CODES_PER_HOUR = 30
IP_CHECKS_PER_HOUR = 60
PASSWORD_TRIES_PER_WINDOW = 5
PASSWORD_WINDOW_SECONDS = 15 * 60
BIND_TRIES_PER_HOUR = 5
CODE_CONTEXT = "portal.code"
# Scope paths are fixed-width alphanumeric steps: "~" is the prefix of no organisation, so a member actor reaching
# a scoped selector by mistake sees nothing.
MEMBER_SCOPE_PATH = "~"

WRONG_PAIR_MESSAGE = "姓名与证件号码不匹配，或尚未登记。如已入会，请核对后重试；尚未入会的请先申请入会"


@dataclass(frozen=True)
class CodeSent:
    phone_masked: str
    expires_at: datetime
    code: str  # shown on the page only in the demo (settings.DEMO_MODE); never logged or stored in clear


def member_actor(account: MemberAccount, *, ip: str | None = None) -> Actor:
    """The actor for a member acting on their own record: no permissions, no subtree."""
    if not account.is_active:
        raise PermissionDenied("该账号已停用，请联系所在工会")
    return Actor(
        kind="member",
        id=account.id,
        label=f"会员{account.phone_masked}",
        role=Role.MEMBER,
        org_id=None,
        scope_path=MEMBER_SCOPE_PATH,
        perms=frozenset(),
        ip=ip,
    )


def member_org_path(person: Person | None) -> str:
    """The union a member's own actions are audited under (so that union's auditors, and those above, read them):
    the union holding the membership, else the one deciding a pending application; "" when there is none."""
    if person is None:
        return ""
    holding = Membership.objects.filter(person=person, status__in=HOLDING_STATUSES).select_related("org").first()
    if holding is not None:
        return holding.org.path
    pending = JoinApplication.objects.filter(person=person, status=ApplicationStatus.PENDING).select_related("org")
    application = pending.first()
    return application.org.path if application is not None else ""


def _clean_phone(phone: str) -> str:
    try:
        return normalise_mobile(phone or "")
    except ValueError as exc:
        raise ValidationFailed({"phone": str(exc)}) from None


def _code_hash(index: str, code: str) -> str:
    return blind_index(f"{index}:{code}", context=CODE_CONTEXT)


# ---------------------------------------------------------------- codes


def _require_code_allowance(index: str) -> None:
    """One code a minute and PHONE_CODES_PER_DAY in any 24 hours per phone, counted from the codes actually stored
    (a send the gateway refused is rolled back and does not count; every web process sees the same rows)."""
    now = timezone.now()
    recent = PhoneCode.objects.filter(phone_index=index, created_at__gt=now - timedelta(days=1))
    if recent.filter(created_at__gt=now - timedelta(seconds=PHONE_CODE_INTERVAL_SECONDS)).exists():
        raise RateLimited(f"验证码已发送，请{PHONE_CODE_INTERVAL_SECONDS}秒后再重新获取")
    if recent.count() >= PHONE_CODES_PER_DAY:
        raise RateLimited("该手机号24小时内获取验证码次数已达上限，请稍后再试")


def phone_code_send(*, phone: str, ip: str | None = None) -> CodeSent:
    """Draw a new sign-in code for `phone`, retire the earlier ones and send it by SMS."""
    number = _clean_phone(phone)
    index = phone_index(number)
    rate_limit_require(
        f"code-ip:{ip}", limit=IP_CODES_PER_HOUR, window_seconds=3600, message="获取验证码过于频繁，请稍后再试"
    )
    _require_code_allowance(index)
    code = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    now = timezone.now()
    with transaction.atomic():
        PhoneCode.objects.filter(phone_index=index, used_at__isnull=True).update(used_at=now)
        sent = PhoneCode.objects.create(
            phone_index=index,
            code_hash=_code_hash(index, code),
            created_at=now,
            expires_at=now + timedelta(seconds=CODE_TTL_SECONDS),
            ip=ip,
        )
        try:
            sms_send(phone=number, text=f"您的登录验证码为{code}，{CODE_TTL_SECONDS // 60}分钟内有效。请勿告诉他人。")
        except SmsNotSent:
            transaction.set_rollback(True)
            raise DomainError("短信发送失败，请稍后再试", code="sms_not_sent") from None
    return CodeSent(phone_masked=mask_phone(number), expires_at=sent.expires_at, code=code)


def _check_code(index: str, code: str) -> None:
    """Use up the current code for this phone if `code` matches; count a wrong try otherwise. The count is
    committed even though the caller is then refused."""
    code = (code or "").strip()
    now = timezone.now()
    with transaction.atomic():
        current = (
            PhoneCode.objects.select_for_update()
            .filter(phone_index=index, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if current is None:
            raise_after = "验证码错误或已过期，请重新获取"
        elif len(code) == CODE_DIGITS and hmac.compare_digest(current.code_hash, _code_hash(index, code)):
            current.used_at = now
            current.save(update_fields=["used_at"])
            return
        else:
            current.attempts += 1
            if current.attempts >= CODE_MAX_ATTEMPTS:
                current.used_at = now
                raise_after = "验证码错误次数过多，请重新获取验证码"
            else:
                raise_after = f"验证码错误，还可以再试{CODE_MAX_ATTEMPTS - current.attempts}次"
            current.save(update_fields=["attempts", "used_at"])
    raise ValidationFailed({"code": raise_after})


def _account_for_phone(number: str, index: str) -> MemberAccount:
    account = MemberAccount.objects.filter(phone_index=index).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return MemberAccount.objects.create(
                phone_index=index,
                phone_enc=encrypt_text(number, context=PHONE_CONTEXT),
                phone_masked=mask_phone(number),
            )
    except IntegrityError:  # the same phone signed in twice at once
        return MemberAccount.objects.get(phone_index=index)


def _record_sign_in(account: MemberAccount, *, ip: str | None, method: str) -> MemberAccount:
    if not account.is_active:
        raise PermissionDenied("该账号已停用，请联系所在工会")
    account.last_login_at = timezone.now()
    account.save(update_fields=["last_login_at"])
    events.member_signed_in(
        member_actor(account, ip=ip), account, org_path=member_org_path(account.person), method=method
    )
    return account


def phone_code_sign_in(*, phone: str, code: str, ip: str | None = None) -> MemberAccount:
    """Sign in (and sign up on first use) with the code sent to `phone`."""
    number = _clean_phone(phone)
    rate_limit_require(
        f"code-check-ip:{ip}", limit=IP_CHECKS_PER_HOUR, window_seconds=3600, message="尝试次数过多，请稍后再试"
    )
    index = phone_index(number)
    _check_code(index, code)
    with transaction.atomic():
        return _record_sign_in(_account_for_phone(number, index), ip=ip, method="sms_code")


# ---------------------------------------------------------------- password


def member_password_set(*, account: MemberAccount, password: str, ip: str | None = None) -> MemberAccount:
    """Set or change the optional password; every other session of the account ends."""
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationFailed({"password": "；".join(exc.messages)}) from None
    with transaction.atomic():
        account = MemberAccount.objects.select_for_update().get(pk=account.pk)
        had_password = bool(account.password)
        account.password = make_password(password)
        account.session_version += 1
        account.save(update_fields=["password", "session_version"])
        events.member_password_saved(member_actor(account, ip=ip), account, had_password=had_password)
    return account


def member_password_sign_in(*, phone: str, password: str, ip: str | None = None) -> MemberAccount:
    """Sign in with phone and password. Tries are limited per phone (whether or not it has an account, so the
    answer tells nothing about which phones are registered) and per IP address."""
    number = _clean_phone(phone)
    index = phone_index(number)
    rate_limit_require(f"pw-ip:{ip}", limit=IP_CHECKS_PER_HOUR, window_seconds=3600, message="尝试次数过多，请稍后再试")
    if not rate_limit_hit(f"pw-phone:{index}", limit=PASSWORD_TRIES_PER_WINDOW, window_seconds=PASSWORD_WINDOW_SECONDS):
        raise DomainError("密码错误次数过多，请15分钟后再试，或使用短信验证码登录", code="rate_limited")
    account = MemberAccount.objects.filter(phone_index=index).first()
    stored = account.password if account is not None and account.password else None
    # check_password runs the hasher even for a missing account (make_password(None) is unusable), so timing
    # does not tell registered phones apart.
    if not check_password(password or "", stored or make_password(None)) or account is None:
        raise ValidationFailed({"password": "手机号或密码错误"})
    with transaction.atomic():
        return _record_sign_in(account, ip=ip, method="password")


# ---------------------------------------------------------------- binding


def require_bind_allowance(account: MemberAccount, ip: str | None) -> None:
    """Name-and-number checks (binding, or joining with a number already on the registry) are limited per account
    and per IP address: they are the one place a pair could be guessed."""
    rate_limit_require(
        f"bind:{account.id}", limit=BIND_TRIES_PER_HOUR, window_seconds=3600, message="核验次数过多，请一小时后再试"
    )
    rate_limit_require(
        f"bind-ip:{ip}", limit=IP_CHECKS_PER_HOUR, window_seconds=3600, message="核验次数过多，请稍后再试"
    )


BOUND_ELSEWHERE_MESSAGE = "该证件已绑定其他手机号。如需更换手机号，请联系所在工会解除原绑定"
PHONE_DIFFERS_MESSAGE = "该证件登记的手机号与当前登录的手机号不一致，请联系所在工会更新手机号后再绑定"


class BindingRefused(ValidationFailed):
    """The account may not bind to the record the worker named; `reason` goes to the audit trail."""

    def __init__(self, reason: str, message: str):
        super().__init__({"doc_number": message})
        self.reason = reason


def binding_refusal(*, account: MemberAccount, person: Person | None, name: str) -> BindingRefused | None:
    """Why this account may not bind to `person` (found by the document number the worker typed), or None.
    An unknown number and a wrong name get the same answer."""
    if person is None or person.name != name:
        return BindingRefused("wrong_pair", WRONG_PAIR_MESSAGE)
    if MemberAccount.objects.filter(person=person).exclude(pk=account.pk).exists():
        return BindingRefused("bound_elsewhere", BOUND_ELSEWHERE_MESSAGE)
    if person.phone_index and person.phone_index != account.phone_index:
        return BindingRefused("phone_differs", PHONE_DIFFERS_MESSAGE)
    return None


def audit_binding_refused(*, account: MemberAccount, refusal: BindingRefused, ip: str | None) -> None:
    """Record a refused binding in its own transaction (the caller's is about to roll back)."""
    events.binding_refused(member_actor(account, ip=ip), account, reason=refusal.reason)


def bind_account_to_person(*, account: MemberAccount, person: Person, ip: str | None) -> MemberAccount:
    """Record the binding (inside the caller's transaction); a registry record without a phone takes the verified
    login phone."""
    account = MemberAccount.objects.select_for_update().get(pk=account.pk)
    account.person = person
    account.bound_at = timezone.now()
    try:
        with transaction.atomic():
            account.save(update_fields=["person", "bound_at"])
    except IntegrityError:  # another account bound this person at the same moment
        raise BindingRefused("bound_elsewhere", BOUND_ELSEWHERE_MESSAGE) from None
    phone_recorded = not person.phone_index
    if phone_recorded:
        seal_phone(person, decrypt_text(account.phone_enc, context=PHONE_CONTEXT))
        person.save(update_fields=["phone_enc", "phone_index", "phone_masked", "updated_at"])
    events.member_bound(
        member_actor(account, ip=ip), account, person, org_path=member_org_path(person), phone_recorded=phone_recorded
    )
    return account


def _find_person(document: Document) -> Person | None:
    return Person.objects.filter(
        doc_type=document.doc_type, doc_index=document_index(document.doc_type, document.number)
    ).first()


def member_account_bind(
    *, account: MemberAccount, name: str, doc_type: str, doc_number: str, ip: str | None = None
) -> MemberAccount:
    """首次登录绑定: the worker confirms name and document number of their registry record."""
    if account.person_id is not None:
        raise DomainError("该手机号已绑定会员信息", code="already_bound")
    require_bind_allowance(account, ip)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed({"name": "请填写姓名"})
    try:
        document = normalise_document(doc_type, doc_number, today=timezone.localdate())
    except DocumentInvalid as exc:
        raise ValidationFailed({"doc_number": str(exc)}) from None
    person = _find_person(document)
    refusal = binding_refusal(account=account, person=person, name=name)
    if refusal is None:
        assert person is not None  # binding_refusal refuses a number it did not find
        try:
            with transaction.atomic():
                return bind_account_to_person(account=account, person=person, ip=ip)
        except BindingRefused as exc:
            refusal = exc
    audit_binding_refused(account=account, refusal=refusal, ip=ip)
    raise refusal


def member_account_unbind(*, actor: Actor, person: Person, reason: str = "") -> int:
    """解除会员端绑定 (a lost phone, a changed number): a cadre of the person's current union (or above) ends the
    binding and every session of that account. Returns the number of bindings ended (0 or 1)."""
    from gonghui.members.services import current_case_org_in_scope

    actor.require(Perm.MEMBERS_MANAGE)
    org = current_case_org_in_scope(actor, person)
    if org is None:
        raise NotFound()
    with transaction.atomic():
        account = MemberAccount.objects.select_for_update().filter(person=person).first()
        if account is None:
            return 0
        account.person = None
        account.bound_at = None
        account.session_version += 1
        account.save(update_fields=["person", "bound_at", "session_version"])
        events.member_unbound(actor, account, person, org, reason=(reason or "").strip()[:200])
    return 1


def member_account_for_session(*, account_id: str, version: int | None) -> MemberAccount | None:
    """The account a portal session names, if it may still act: active and the session made after the last change
    that ends sessions (password set, binding removed)."""
    from gonghui.common.ids import parse_public_id

    parsed = parse_public_id(account_id or "")
    if parsed is None or version is None:
        return None
    account = MemberAccount.objects.filter(id=parsed, is_active=True).first()
    if account is None or account.session_version != version:
        return None
    return account


def member_account_of(person: Person) -> MemberAccount | None:
    """The portal account bound to a person (for the cadre's member page, which the caller has already scoped)."""
    return MemberAccount.objects.filter(person=person).first()
