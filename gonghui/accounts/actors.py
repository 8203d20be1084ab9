"""Turning a signed-in account or an API token into the Actor that selectors and services take."""

from django.utils import timezone

from gonghui.accounts.models import ApiToken, User
from gonghui.common.actor import Actor
from gonghui.common.crypto import hash_secret
from gonghui.common.errors import PermissionDenied
from gonghui.common.roles import API_TOKEN_IMPORT_PERMS, API_TOKEN_PERMS, ROLE_PERMS, Role


def actor_for_user(user: User, *, ip: str | None = None) -> Actor:
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied("请先登录")
    if user.role == Role.MEMBER or user.org is None:
        raise PermissionDenied("该账号不能进入管理后台")
    return Actor(
        kind="user",
        id=user.id,
        label=user.username,
        role=user.role,
        org_id=user.org_id,
        scope_path=user.org.path,
        # Until the password chosen by someone else is replaced, or while a granted role awaits its second
        # person, the account may sign in but do nothing.
        perms=frozenset() if user.must_change_password or user.role_pending_approval else ROLE_PERMS[Role(user.role)],
        ip=ip,
    )


def actor_for_token(token: ApiToken, *, ip: str | None = None) -> Actor:
    return Actor(
        kind="token",
        id=token.id,
        label=f"api:{token.name}",
        role="api_token",
        org_id=token.org_id,
        scope_path=token.org.path,
        perms=API_TOKEN_IMPORT_PERMS if token.allow_roster_import else API_TOKEN_PERMS,
        ip=ip,
    )


def api_token_authenticate(raw: str) -> ApiToken | None:
    """The active token whose hash matches `raw`, or None. Marks it used (at most once a minute per token)."""
    if not raw or len(raw) > 200:
        return None
    token = ApiToken.objects.select_related("org").filter(token_hash=hash_secret(raw), revoked_at__isnull=True).first()
    if token is None or token.org.status != "active":
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(id=token.id).update(last_used_at=now)
    return token
