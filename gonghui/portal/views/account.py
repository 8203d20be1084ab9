"""The portal's front door: the home page, the health check, sign-in by SMS code or password, sign-out, and the
first sign-in's identity check (绑定)."""

from urllib.parse import urlencode

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from gonghui.common.errors import DomainError
from gonghui.common.masking import mask_name
from gonghui.members.documents import DOC_TYPE_LABELS
from gonghui.members.member_accounts import (
    CODE_TTL_SECONDS,
    PHONE_CODE_INTERVAL_SECONDS,
    member_account_bind,
    member_password_sign_in,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.selectors import membership_holding, own_person
from gonghui.portal.forms import BindForm, CodeSignInForm, PasswordSignInForm
from gonghui.portal.session import client_ip, current_account, member_required, safe_next, sign_in, sign_out
from gonghui.portal.views.common import _errors, _page, _pending_applications

# The service centre's tiles (职工服务), by type; 互助保障 opens the claim form.
SERVICE_TILES = (
    ("hardship", "困难帮扶", "困"),
    ("legal", "法律援助", "法"),
    ("insurance", "互助保障", "保"),
    ("student", "金秋助学", "学"),
)
# Tiles the benefits module fills; shown as "opening soon" until it exists.
COMING_TILES = ("普惠服务",)


def home(request):
    account = current_account(request)
    if account is None:
        return _page(request, "portal/landing.html")
    person = own_person(account=account)
    return _page(
        request,
        "portal/home.html",
        person=person,
        name_masked=mask_name(person.name) if person else "",
        holding=membership_holding(person) if person else None,
        pending=_pending_applications(account),
        service_tiles=SERVICE_TILES,
        coming_tiles=COMING_TILES,
    )


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def login(request):
    """Phone + one-time code: the first button sends the code, the second signs in."""
    if current_account(request) is not None:
        return redirect(safe_next(request))
    context = {"phone": "", "errors": {}, "sent": None, "next": safe_next(request, "")}
    if request.method == "POST":
        form = CodeSignInForm(request.POST)
        form.is_valid()
        phone = form.cleaned_data["phone"]
        context["phone"] = phone
        try:
            if form.sends_code:
                context["sent"] = phone_code_send(phone=phone, ip=client_ip(request))
            else:
                account = phone_code_sign_in(phone=phone, code=form.cleaned_data["code"], ip=client_ip(request))
                sign_in(request, account)
                return redirect(_after_sign_in(request, account))
        except DomainError as exc:
            context["errors"] = _errors(exc)
            context["code_sent"] = not form.sends_code
    return _page(
        request,
        "portal/login.html",
        code_ttl_minutes=CODE_TTL_SECONDS // 60,
        resend_seconds=PHONE_CODE_INTERVAL_SECONDS,
        **context,
    )


def _after_sign_in(request, account) -> str:
    target = safe_next(request, reverse("portal:home"))
    if account.person_id is None and not target.startswith("/join/"):
        return f"{reverse('portal:bind')}?{urlencode({'next': target})}"
    return target


def login_password(request):
    if current_account(request) is not None:
        return redirect(safe_next(request))
    context = {"phone": "", "errors": {}, "next": safe_next(request, "")}
    if request.method == "POST":
        form = PasswordSignInForm(request.POST)
        form.is_valid()
        context["phone"] = form.cleaned_data["phone"]
        try:
            account = member_password_sign_in(
                phone=context["phone"], password=form.cleaned_data["password"], ip=client_ip(request)
            )
            sign_in(request, account)
            return redirect(_after_sign_in(request, account))
        except DomainError as exc:
            context["errors"] = _errors(exc)
    return _page(request, "portal/login_password.html", **context)


@require_POST
def logout(request):
    sign_out(request)
    return redirect("portal:home")


@member_required
def bind(request, account):
    """首次登录：核验身份. A worker already in the registry confirms name and document number."""
    if account.person_id is not None:
        return redirect(safe_next(request, reverse("portal:home")))
    context = {"values": {"doc_type": "resident_id"}, "errors": {}, "next": safe_next(request, "")}
    if request.method == "POST":
        form = BindForm(request.POST)
        form.is_valid()
        context["values"] = form.data
        try:
            member_account_bind(account=account, **form.cleaned_data, ip=client_ip(request))
            return redirect(safe_next(request, reverse("portal:home")))
        except DomainError as exc:
            context["errors"] = _errors(exc)
    return _page(request, "portal/bind.html", doc_types=DOC_TYPE_LABELS.items(), **context)
