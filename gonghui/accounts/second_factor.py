"""Whether a signed-in back-office account still owes its TOTP second factor."""

from django.conf import settings
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice


def second_factor_step(user) -> str | None:
    """'verify' when the account has a device but this session has not used it, 'setup' when the production
    profile requires a device the account does not have yet, None when nothing is owed."""
    if not user.is_authenticated:
        return None
    if getattr(user, "is_verified", lambda: False)():
        return None
    if user_has_device(user, confirmed=True):
        return "verify"
    if settings.OTP_REQUIRED or getattr(user, "second_factor_enrolment_required", False):
        return "setup"
    return None


def sign_in_step(user) -> str | None:
    """What a signed-in back-office account owes before any other page, in order: 'verify' (the code of its
    authenticator, so a password alone cannot replace the password), 'password' (its own password, when another
    person chose the current one), 'setup' (enrol an authenticator); None when nothing is owed."""
    step = second_factor_step(user)
    if step == "verify":
        return step
    if user.is_authenticated and getattr(user, "must_change_password", False):
        return "password"
    return step


def has_confirmed_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def confirmed_device_for_code(user, code: str) -> TOTPDevice | None:
    """The account's confirmed TOTP device that accepts `code` now (each code is accepted once), or None."""
    code = (code or "").strip()
    return next((d for d in TOTPDevice.objects.filter(user=user, confirmed=True) if d.verify_token(code)), None)
