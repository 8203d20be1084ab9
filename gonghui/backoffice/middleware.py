from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.views.defaults import permission_denied

from gonghui.accounts.second_factor import second_factor_step
from gonghui.common.errors import PermissionDenied


class SecondFactorMiddleware:
    """Until a signed-in account has given its TOTP code (or enrolled one where required), every back-office page
    except sign-in, sign-out and the second-factor pages sends it to the second-factor step."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path
        if path.startswith("/admin/") and request.user.is_authenticated:
            allowed = {
                reverse("admin:login"),
                reverse("admin:logout"),
                reverse("admin:otp_verify"),
                reverse("admin:otp_setup"),
                reverse("admin:jsi18n"),
            }
            step = second_factor_step(request.user)
            if step and path not in allowed:
                target = "admin:otp_verify" if step == "verify" else "admin:otp_setup"
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
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
            return permission_denied(request, DjangoPermissionDenied(exception.message))
        return None
