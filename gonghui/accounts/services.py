"""Writes to accounts and API tokens.

Separation of the three administrators: the system administrator manages cadre accounts; the security
administrator manages administrator accounts, lockouts, passwords and second factors; nobody changes their own
role, organisation or security settings; the audit administrator changes nothing.

A password chosen by another person (an account created or reset by an administrator) must be replaced at first
sign-in, and an administrator so created or reset also enrols its own authenticator. Granting the audit
administrator role takes a second person: the security administrator's request leaves the role without its
permissions until a system administrator approves, so the security administrator alone never reads the trail.
"""

import secrets

from axes.utils import reset as axes_reset
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from gonghui.accounts.events import account_event, api_token_event, login_failed
from gonghui.accounts.models import ApiToken, User
from gonghui.accounts.selectors import account_get, api_tokens_visible_to, username_taken
from gonghui.common.actor import Actor
from gonghui.common.crypto import hash_secret
from gonghui.common.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from gonghui.common.roles import CADRE_ROLES, ROLE_LABELS, Perm, Role
from gonghui.orgs.models import Organisation, OrgStatus
from gonghui.orgs.selectors import org_get

ADMIN_ROLES = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})
TOKEN_PREFIX = "ghk_"  # noqa: S105 (a visible prefix, not a secret)


def _perm_for_role(role: str) -> Perm:
    """Cadre roles are granted by the system administrator, administrator roles by the security administrator."""
    if role in CADRE_ROLES:
        return Perm.ACCOUNTS_MANAGE
    if role in ADMIN_ROLES:
        return Perm.SECURITY_MANAGE
    raise ValidationFailed({"role": "请选择有效的角色"})


def _check_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed({"password": "；".join(exc.messages)}) from exc


def _by_another_person(actor: Actor) -> bool:
    """An account made or reset by a signed-in administrator got a password somebody else knows. The platform's
    own accounts (the demo seed, an operator's create_account command) are not forced: nobody else chose them."""
    return actor.kind == "user"


def _request_audit_role(actor: Actor, user: User, *, before: str) -> None:
    """Hold the audit administrator role without its permissions until a system administrator approves."""
    user.role_pending_approval = True
    user.role_requested_by_id = actor.id
    user.role_before_request = before


def _not_self(actor: Actor, user: User) -> None:
    if actor.kind == "user" and actor.id == user.id:
        raise PermissionDenied("不能修改自己的角色、所属组织或安全设置，请由其他管理员办理")


@transaction.atomic
def account_create(*, actor: Actor, username: str, full_name: str, org: Organisation, role: str, password: str) -> User:
    actor.require(_perm_for_role(role))
    org = org_get(actor=actor, org_id=org.id)
    if org.status != OrgStatus.ACTIVE:
        raise ValidationFailed({"org": "所属组织不是正常状态"})
    username = (username or "").strip()
    errors = {}
    if not username or len(username) > 150:
        errors["username"] = "请填写用户名（不超过150个字符）"
    elif username_taken(username):
        errors["username"] = "该用户名已被使用"
    if not (full_name or "").strip():
        errors["full_name"] = "请填写姓名"
    if errors:
        raise ValidationFailed(errors)
    user = User(username=username, full_name=full_name.strip(), org=org, role=role, is_staff=True)
    _check_password(password, user)
    user.set_password(password)
    details: dict[str, object] = {"role": role, "org": str(org.id)}
    if _by_another_person(actor):
        user.must_change_password = True
        user.second_factor_enrolment_required = role in ADMIN_ROLES
        if role == Role.AUDIT_ADMIN:
            _request_audit_role(actor, user, before="")
            details["pending_approval"] = True
    user.save()
    account_event(actor, "account.create", user, details)
    return user


@transaction.atomic
def account_update(*, actor: Actor, user: User, full_name: str, org: Organisation, role: str) -> User:
    user = account_get(actor=actor, user_id=user.id)
    actor.require(_perm_for_role(user.role))
    actor.require(_perm_for_role(role))
    if (org.id != user.org_id or role != user.role) and actor.id == user.id:
        _not_self(actor, user)
    org = org_get(actor=actor, org_id=org.id)
    if not (full_name or "").strip():
        raise ValidationFailed({"full_name": "请填写姓名"})
    changes = {}
    if user.full_name != full_name.strip():
        changes["full_name"] = [user.full_name, full_name.strip()]
    if user.org_id != org.id:
        changes["org"] = [str(user.org_id), str(org.id)]
    if user.role != role:
        changes["role"] = [user.role, role]
    if not changes:
        return user
    details: dict = {"changes": changes}
    if "role" in changes:
        if role == Role.AUDIT_ADMIN and _by_another_person(actor):
            _request_audit_role(actor, user, before=user.role)
            details["pending_approval"] = True
        else:
            user.role_pending_approval, user.role_requested_by, user.role_before_request = False, None, ""
    user.full_name, user.org, user.role = full_name.strip(), org, role
    user.save(
        update_fields=[
            "full_name", "org", "role", "role_pending_approval", "role_requested_by", "role_before_request"
        ]
    )  # fmt: skip
    account_event(actor, "account.update", user, details)
    return user


@transaction.atomic
def account_set_active(*, actor: Actor, user: User, active: bool) -> User:
    user = account_get(actor=actor, user_id=user.id)
    if not (actor.can(Perm.SECURITY_MANAGE) or actor.can(_perm_for_role(user.role))):
        raise PermissionDenied()
    _not_self(actor, user)
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    account_event(actor, "account.activate" if active else "account.deactivate", user, {})
    return user


@transaction.atomic
def account_reset_password(*, actor: Actor, user: User, new_password: str) -> User:
    actor.require(Perm.SECURITY_MANAGE)
    user = account_get(actor=actor, user_id=user.id)
    _not_self(actor, user)
    _check_password(new_password, user)
    user.set_password(new_password)
    details = {}
    if _by_another_person(actor):
        user.must_change_password = True
        if user.role in ADMIN_ROLES:
            # The person enrols a new authenticator with the new password: a device the resetter might hold goes.
            details["devices_removed"], _ = TOTPDevice.objects.filter(user=user).delete()
            user.second_factor_enrolment_required = True
        if user.role == Role.AUDIT_ADMIN:
            # Whoever reset the password could sign in first: the role waits for a second person again.
            _request_audit_role(actor, user, before="")
    user.save(
        update_fields=[
            "password", "must_change_password", "second_factor_enrolment_required",
            "role_pending_approval", "role_requested_by", "role_before_request",
        ]
    )  # fmt: skip
    account_event(actor, "account.reset_password", user, details)
    return user


@transaction.atomic
def account_unlock(*, actor: Actor, user: User) -> int:
    """Clear the lockout (django-axes) of an account after failed logins. Returns attempts removed."""
    actor.require(Perm.SECURITY_MANAGE)
    user = account_get(actor=actor, user_id=user.id)
    removed = axes_reset(username=user.username)
    account_event(actor, "account.unlock", user, {"attempts_cleared": removed})
    return removed


@transaction.atomic
def account_reset_second_factor(*, actor: Actor, user: User) -> int:
    """Remove the account's TOTP devices; the cadre enrols again at next sign-in (where the profile requires a
    second factor; an administrator always does)."""
    actor.require(Perm.SECURITY_MANAGE)
    user = account_get(actor=actor, user_id=user.id)
    _not_self(actor, user)
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    if user.role in ADMIN_ROLES and _by_another_person(actor):
        user.second_factor_enrolment_required = True
        user.save(update_fields=["second_factor_enrolment_required"])
    account_event(actor, "account.reset_totp", user, {"devices_removed": removed})
    return removed


@transaction.atomic
def account_change_own_password(*, actor: Actor, user: User, old_password: str, new_password: str) -> User:
    if actor.id != user.id:
        raise PermissionDenied()
    if not user.check_password(old_password):
        raise ValidationFailed({"old_password": "原密码不正确"})
    if new_password == old_password:
        raise ValidationFailed({"new_password": "新密码不能与原密码相同"})
    _check_password(new_password, user)
    user.set_password(new_password)
    first_sign_in = user.must_change_password
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    account_event(actor, "account.change_password", user, {"first_sign_in": True} if first_sign_in else {})
    return user


@transaction.atomic
def totp_device_pending(*, user: User) -> TOTPDevice:
    """The authenticator being enrolled: an unconfirmed device, made once and shown as a QR code until confirmed.
    It cannot be used to sign in before totp_device_confirm, which is audited."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device or TOTPDevice.objects.create(user=user, name="身份验证器", confirmed=False)


@transaction.atomic
def totp_device_confirm(*, actor: Actor, user: User, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm a TOTP device the user is enrolling, with a code from their authenticator app."""
    if actor.id != user.id or device.user_id != user.id:
        raise PermissionDenied()
    if not device.verify_token((token or "").strip()):
        raise ValidationFailed({"token": "动态验证码不正确或已过期，请重新输入"})
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    if user.second_factor_enrolment_required:
        user.second_factor_enrolment_required = False
        user.save(update_fields=["second_factor_enrolment_required"])
    account_event(actor, "account.enrol_totp", user, {})
    return device


def _pending_grant(actor: Actor, user: User) -> User:
    """The account whose audit role waits, as a system administrator other than the requester may decide it.
    The system administrator is the second person under 三员分立: it manages accounts but never reads the trail,
    so neither of the two administrators alone can give itself the audit trail."""
    actor.require(Perm.ACCOUNTS_MANAGE)
    if actor.kind != "user" or actor.role != Role.SYSTEM_ADMIN:
        raise PermissionDenied()
    user = account_get(actor=actor, user_id=user.id)
    _not_self(actor, user)
    if not user.role_pending_approval:
        raise DomainError("该账号没有待审批的角色授权", code="no_pending_role")
    if user.role_requested_by_id == actor.id:
        raise PermissionDenied("角色授权须由申请人以外的管理员审批")
    return user


@transaction.atomic
def account_role_approve(*, actor: Actor, user: User) -> User:
    """Approve a pending audit administrator role: from now on the account has its permissions."""
    user = _pending_grant(actor, User.objects.select_for_update().get(id=user.id))
    user.role_pending_approval, user.role_requested_by, user.role_before_request = False, None, ""
    user.save(update_fields=["role_pending_approval", "role_requested_by", "role_before_request"])
    account_event(actor, "account.approve_role", user, {"role": user.role})
    return user


@transaction.atomic
def account_role_reject(*, actor: Actor, user: User, reason: str) -> User:
    """Refuse a pending audit administrator role: a changed account gets its former role back, a new or reset
    one is deactivated (its password was chosen by the requester)."""
    user = _pending_grant(actor, User.objects.select_for_update().get(id=user.id))
    reason = (reason or "").strip()
    if not reason or len(reason) > 500:
        raise ValidationFailed({"reason": "请填写不予批准的原因（不超过500个字）"})
    details = {"role": user.role, "reason": reason}
    if user.role_before_request:
        details["restored_role"] = user.role_before_request
        user.role = user.role_before_request
    else:
        user.is_active = False
    user.role_pending_approval, user.role_requested_by, user.role_before_request = False, None, ""
    user.save(update_fields=["role", "is_active", "role_pending_approval", "role_requested_by", "role_before_request"])
    account_event(actor, "account.reject_role", user, details)
    return user


@transaction.atomic
def record_login(*, actor: Actor, user: User, second_factor: bool) -> None:
    account_event(actor, "account.login", user, {"second_factor": second_factor})


@transaction.atomic
def record_login_failure(*, username: str, ip: str | None) -> None:
    """A failed sign-in: nobody is signed in, so the actor is anonymous, named by what was typed."""
    username = username.strip()[:150]
    anonymous = Actor(kind="anonymous", id=None, label=username or "(空)", role="", org_id=None, scope_path="-", ip=ip)
    login_failed(anonymous, username=username)


@transaction.atomic
def api_token_create(
    *, actor: Actor, org: Organisation, name: str, allow_roster_import: bool = False
) -> tuple[ApiToken, str]:
    """Create a token acting within `org`'s subtree. The raw token is returned once and never stored."""
    if actor.kind != "system":
        actor.require(Perm.API_TOKENS_MANAGE)
    org = org_get(actor=actor, org_id=org.id)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValidationFailed({"name": "请填写令牌名称（不超过100个字）"})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        name=name,
        org=org,
        prefix=raw[:12],
        token_hash=hash_secret(raw),
        created_by_label=actor.label,
        allow_roster_import=bool(allow_roster_import),
    )
    api_token_event(
        actor, "api_token.create", token, {"org": str(org.id), "allow_roster_import": bool(allow_roster_import)}
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    visible = api_tokens_visible_to(actor).filter(id=token.id).first()
    if visible is None:
        raise NotFound()
    token = visible
    if token.revoked_at:
        raise DomainError("该令牌已吊销", code="already_revoked")
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    api_token_event(actor, "api_token.revoke", token)
    return token


def role_choices_for(actor: Actor) -> list[tuple[str, str]]:
    """The roles this actor may grant."""
    return [
        (role.value, label)
        for role, label in ROLE_LABELS.items()
        if role != Role.MEMBER and actor.can(_perm_for_role(role))
    ]
