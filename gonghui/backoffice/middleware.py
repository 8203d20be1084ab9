from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from gonghui.accounts.second_factor import sign_in_step
from gonghui.common.errors import PermissionDenied
from gonghui.error_pages import forbidden

STEP_PAGES = {"verify": "admin:otp_verify", "password": "admin:password_change", "setup": "admin:otp_setup"}


class SecondFactorMiddleware:
    """Until a signed-in account has given its TOTP code, replaced a password someone else chose, and enrolled an
    authenticator where required, every back-office page except sign-in, sign-out and the page of the step owed
    sends it to that step."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith("/admin/") and request.user.is_authenticated:
            step = sign_in_step(request.user)
            if step:
                target = reverse(STEP_PAGES[step])
                open_paths = {reverse(f"admin:{name}") for name in ("login", "logout", "jsi18n", "theme_css")}
                if path not in open_paths | {target}:
                    return redirect(f"{target}?next={request.get_full_path()}")
        return self.get_response(request)


class RoleRefusalMiddleware:
    """A back-office page that calls `actor.require(...)` for a role that lacks the permission answers 403 (the
    object may be visible, the role may not act on it), rendered by the project's 403 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied) and request.path.startswith("/admin/"):
            return forbidden(request, DjangoPermissionDenied(exception.message))
        return None
