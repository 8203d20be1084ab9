"""API authentication: bearer tokens for external systems, the session for the back office (with CSRF)."""

from ninja.security import APIKeyCookie, HttpBearer

from gonghui.accounts.actors import actor_for_token, actor_for_user, api_token_authenticate
from gonghui.accounts.second_factor import second_factor_step
from gonghui.common.errors import PermissionDenied


def client_ip(request) -> str | None:
    return request.META.get("REMOTE_ADDR")


class BearerToken(HttpBearer):
    def authenticate(self, request, token):
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        request.actor = actor_for_token(api_token, ip=client_ip(request))
        return request.actor


class BackOfficeSession(APIKeyCookie):
    """The back-office session cookie; unsafe methods also need the CSRF token (csrf=True)."""

    param_name = "sessionid"

    def authenticate(self, request, key):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or second_factor_step(user) is not None:
            return None
        try:
            request.actor = actor_for_user(user, ip=client_ip(request))
        except PermissionDenied:
            return None
        return request.actor
