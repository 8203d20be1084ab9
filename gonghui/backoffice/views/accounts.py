"""Sign-in and one's own account: the audit of sign-in attempts, the second factor (TOTP) and 修改密码."""

import base64

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.http import HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_otp import login as otp_login

from gonghui.accounts.actors import actor_for_user
from gonghui.accounts.second_factor import (
    confirmed_device_for_code,
    has_confirmed_device,
    second_factor_step,
    sign_in_step,
)
from gonghui.accounts.services import (
    account_change_own_password,
    record_login,
    record_login_failure,
    totp_device_confirm,
    totp_device_pending,
)
from gonghui.backoffice.base import report_domain_error
from gonghui.backoffice.views.helpers import site_page
from gonghui.common.errors import DomainError, PermissionDenied, ValidationFailed


def audit_login_attempt(request, *, succeeded: bool) -> None:
    user = request.user
    if succeeded:
        try:
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
        except PermissionDenied:
            return
        record_login(actor=actor, user=user, second_factor=False)
        return
    record_login_failure(username=request.POST.get("username") or "", ip=request.META.get("REMOTE_ADDR"))


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("admin:index")


def otp_verify(request):
    """Second step of sign-in for an account with a TOTP device."""
    from gonghui.backoffice.site import backoffice_site

    user = request.user
    if not user.is_authenticated:
        return redirect("admin:login")
    if second_factor_step(user) != "verify":
        return HttpResponseRedirect(_next_url(request))
    error = None
    if request.method == "POST":
        device = confirmed_device_for_code(user, request.POST.get("token", ""))
        if device is not None:
            otp_login(request, device)
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
            record_login(actor=actor, user=user, second_factor=True)
            return HttpResponseRedirect(_next_url(request))
        error = "动态验证码不正确或已过期，请重新输入"
    return TemplateResponse(
        request,
        "backoffice/otp_verify.html",
        {
            **backoffice_site.each_context(request),
            "title": "两步验证",
            "error": error,
            "next": _next_url(request),
        },
    )


def otp_setup(request):
    """Enrol a TOTP authenticator: show the QR code of a new device and confirm it with a first code."""
    from gonghui.backoffice.site import backoffice_site

    user = request.user
    confirmed = has_confirmed_device(user)
    device = None
    error = None
    if not confirmed:
        device = totp_device_pending(user=user)
        if request.method == "POST":
            actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
            try:
                totp_device_confirm(actor=actor, user=user, device=device, token=request.POST.get("token", ""))
            except ValidationFailed as exc:
                error = exc.message
            else:
                otp_login(request, device)
                messages.success(request, "两步验证已启用，今后登录需输入身份验证器中的动态验证码")
                return redirect("admin:index")
    qr_svg = segno.make(device.config_url, error="m").svg_inline(scale=4) if device else None
    return TemplateResponse(
        request,
        "backoffice/otp_setup.html",
        {
            **backoffice_site.each_context(request),
            "title": "两步验证",
            "confirmed": confirmed,
            "qr_svg": qr_svg,
            "secret": device and base64.b32encode(device.bin_key).decode(),
            "error": error,
            "required": second_factor_step(user) == "setup",
        },
    )


class OwnPasswordForm(forms.Form):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput)
    new_password1 = forms.CharField(
        label="新密码", widget=forms.PasswordInput, help_text="至少8位，包含大小写字母、数字、符号中的3类"
    )
    new_password2 = forms.CharField(label="再次输入新密码", widget=forms.PasswordInput)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password1") and cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", "两次输入的新密码不一致")
        return cleaned

    def add_error(self, field, error):
        super().add_error("new_password1" if field in ("password", "new_password") else field, error)


def password_change(request):
    """修改密码: one's own password through the accounts service (validated, audited); the session stays signed
    in. Also the page an account is sent to when somebody else chose its current password."""
    from gonghui.backoffice.site import backoffice_site

    user = request.user
    form = OwnPasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # The account may owe this very step, when it has no permissions yet: it acts only on itself.
        actor = actor_for_user(user, ip=request.META.get("REMOTE_ADDR"))
        try:
            account_change_own_password(
                actor=actor,
                user=user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except DomainError as exc:
            report_domain_error(request, exc, form)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "密码已修改")
            return HttpResponseRedirect(_next_url(request))
    forced = sign_in_step(user) == "password"
    return site_page(
        request,
        backoffice_site,
        "请设置您自己的密码" if forced else "修改密码",
        "backoffice/simple_form.html",
        form=form,
        intro="当前密码由他人设置，请先设置只有您本人知道的新密码。" if forced else "",
    )
