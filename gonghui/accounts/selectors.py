from django.db.models import QuerySet

from gonghui.accounts.models import ApiToken, User
from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound, PermissionDenied
from gonghui.common.ids import parse_public_id
from gonghui.common.roles import Perm, Role


def accounts_visible_to(actor: Actor) -> QuerySet[User]:
    """Back-office accounts of organisations in the actor's subtree."""
    actor.require(Perm.ACCOUNTS_VIEW)
    return User.objects.filter(org__path__startswith=actor.scope_path).exclude(role=Role.MEMBER).select_related("org")


def account_get(*, actor: Actor, user_id) -> User:
    parsed = parse_public_id(user_id)
    if parsed is None:
        raise NotFound()
    try:
        return accounts_visible_to(actor).get(id=parsed)
    except User.DoesNotExist:
        raise NotFound() from None


def accounts_awaiting_role_approval(actor: Actor) -> QuerySet[User]:
    """Accounts of the subtree whose audit administrator role waits for a second person: shown to the system
    administrator, who decides, and to the audit administrators, who are told a colleague is being added."""
    if not (actor.can(Perm.ACCOUNTS_MANAGE) or actor.can(Perm.AUDIT_VIEW)):
        raise PermissionDenied()
    return (
        User.objects.filter(org__path__startswith=actor.scope_path, role_pending_approval=True)
        .select_related("org", "role_requested_by")
        .order_by("username")
    )


def username_taken(username: str) -> bool:
    """User names are unique across the platform (case-insensitive), whoever asks."""
    return User.objects.filter(username__iexact=(username or "").strip()).exists()


def api_tokens_visible_to(actor: Actor) -> QuerySet[ApiToken]:
    actor.require(Perm.API_TOKENS_MANAGE)
    return ApiToken.objects.filter(org__path__startswith=actor.scope_path).select_related("org")


def user_by_username(username: str) -> User | None:
    """The account with this user name (any letter case), for management commands run by an operator."""
    return User.objects.filter(username__iexact=username).first()


def accounts_locked(actor: Actor) -> QuerySet[User]:
    """Accounts of the subtree that django-axes has locked after repeated failed sign-ins (until unlocked)."""
    from axes.models import AccessAttempt
    from django.conf import settings

    locked_names = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT).values(
        "username"
    )
    return accounts_visible_to(actor).filter(username__in=locked_names).order_by("username")


def account_names(ids) -> dict[str, str]:
    """The full names of these accounts, by id, for those that have one (unscoped: the names of the people on an
    audit trail the reader has already been allowed to see)."""
    return {str(i): name for i, name in User.objects.filter(id__in=ids).values_list("id", "full_name") if name}
