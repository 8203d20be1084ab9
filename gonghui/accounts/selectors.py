from django.db.models import QuerySet

from gonghui.accounts.models import ApiToken, User
from gonghui.common.actor import Actor
from gonghui.common.errors import NotFound
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


def username_taken(username: str) -> bool:
    """User names are unique across the platform (case-insensitive), whoever asks."""
    return User.objects.filter(username__iexact=(username or "").strip()).exists()


def api_tokens_visible_to(actor: Actor) -> QuerySet[ApiToken]:
    actor.require(Perm.API_TOKENS_MANAGE)
    return ApiToken.objects.filter(org__path__startswith=actor.scope_path).select_related("org")


def user_by_username(username: str) -> User | None:
    """The account with this user name (any letter case), for management commands run by an operator."""
    return User.objects.filter(username__iexact=username).first()
