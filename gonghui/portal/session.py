"""The member's session in the portal: its own session keys, apart from Django's back-office sign-in, so a member
session never opens the back office and a cadre who also uses the portal keeps both."""

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from gonghui.members.member_accounts import member_account_for_session
from gonghui.members.models import MemberAccount

ACCOUNT_KEY = "portal_account"
VERSION_KEY = "portal_account_version"


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


def sign_in(request, account: MemberAccount) -> None:
    """A new session key on every sign-in (no session fixation)."""
    request.session.cycle_key()
    request.session[ACCOUNT_KEY] = str(account.id)
    request.session[VERSION_KEY] = account.session_version


def sign_out(request) -> None:
    request.session.pop(ACCOUNT_KEY, None)
    request.session.pop(VERSION_KEY, None)
    request.session.cycle_key()


def current_account(request) -> MemberAccount | None:
    """The signed-in member, or None. A session ends when the account is stopped or its version moved on (password
    changed, binding removed by the union)."""
    if hasattr(request, "_portal_account"):
        return request._portal_account
    account = member_account_for_session(
        account_id=request.session.get(ACCOUNT_KEY, ""), version=request.session.get(VERSION_KEY)
    )
    if account is None and ACCOUNT_KEY in request.session:
        sign_out(request)
    request._portal_account = account
    return account


def refresh_account(request, account: MemberAccount) -> None:
    """After a change that bumps the account's session version, keep this session (and only this one)."""
    request.session[VERSION_KEY] = account.session_version
    request._portal_account = account


def safe_next(request, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return default


def member_required(view):
    """Send a visitor to sign in first, and back here afterwards."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        account = current_account(request)
        if account is None:
            return redirect(f"{reverse('portal:login')}?{urlencode({'next': request.get_full_path()})}")
        return view(request, account, *args, **kwargs)

    return wrapper
