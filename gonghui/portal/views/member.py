"""The member's own card and data: the e-member card and its refreshing QR code, my data (我的), revealing one's
own numbers, asking for a correction, and setting a password."""

from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from gonghui.common.errors import DomainError
from gonghui.members.cards import CARD_TOKEN_SECONDS, card_issued_at, card_qr_svg
from gonghui.members.member_accounts import member_password_set
from gonghui.members.selectors import (
    membership_holding,
    own_applications,
    own_corrections,
    own_memberships,
    own_person,
    own_transfers,
)
from gonghui.members.self_service import (
    CORRECTABLE_FIELD_LABELS,
    CORRECTABLE_FIELDS,
    OWN_REVEALABLE,
    member_correction_request,
    member_reveal_own,
)
from gonghui.portal.forms import PROFILE_CHOICES, CorrectionForm, PasswordSetForm, form_errors
from gonghui.portal.session import client_ip, member_required, refresh_account
from gonghui.portal.views.common import _errors, _page


@member_required
def card(request, account):
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    # The member's own card shows her full name (she is signed in as herself); the QR code and the API's check
    # of it carry only the masked name.
    return _page(
        request,
        "portal/card.html",
        person=person,
        holding=holding,
        qr=card_qr_svg(holding) if holding else "",
        issued_at=card_issued_at(),
        refresh_seconds=60,
        valid_minutes=CARD_TOKEN_SECONDS // 60,
    )


@member_required
def card_qr(request, account):
    """The QR fragment the card page fetches every minute (a fresh signed token)."""
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    if holding is None:
        raise Http404
    return _page(
        request,
        "portal/_card_qr.html",
        qr=card_qr_svg(holding),
        issued_at=card_issued_at(),
        valid_minutes=CARD_TOKEN_SECONDS // 60,
    )


@member_required
def me(request, account):
    person = own_person(account=account)
    return _page(
        request,
        "portal/me.html",
        person=person,
        holding=membership_holding(person) if person else None,
        memberships=own_memberships(account=account),
        applications=own_applications(account=account),
        transfers=own_transfers(account=account),
        corrections=own_corrections(account=account),
        revealable=OWN_REVEALABLE,
    )


@member_required
@require_POST
def me_reveal(request, account, field: str):
    """Tap to reveal one's own number (htmx swaps the masked value); audited."""
    try:
        value = member_reveal_own(account=account, field=field, ip=client_ip(request))
    except DomainError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    return HttpResponse(value, content_type="text/plain; charset=utf-8")


@member_required
def me_correct(request, account):
    person = own_person(account=account)
    if person is None:
        return redirect(f"{reverse('portal:bind')}?{urlencode({'next': reverse('portal:me_correct')})}")
    errors: dict[str, str] = {}
    values = {field: getattr(person, field) for field in CORRECTABLE_FIELDS}
    note = ""
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        form.is_valid()
        values, note = form.values(), form.cleaned_data["note"]
        try:
            member_correction_request(account=account, changes=form.changes(), note=note, ip=client_ip(request))
            return redirect(f"{reverse('portal:applications')}#corrections")
        except DomainError as exc:
            errors = _errors(exc)
    return _page(
        request,
        "portal/me_correct.html",
        person=person,
        values=values,
        note=note,
        errors=errors,
        choices=PROFILE_CHOICES,
        labels=CORRECTABLE_FIELD_LABELS,
    )


@member_required
def me_password(request, account):
    errors: dict[str, str] = {}
    done = False
    if request.method == "POST":
        form = PasswordSetForm(request.POST)
        if not form.is_valid():
            errors = form_errors(form)
        else:
            try:
                account = member_password_set(
                    account=account, password=form.cleaned_data["password"], ip=client_ip(request)
                )
                refresh_account(request, account)
                done = True
            except DomainError as exc:
                errors = _errors(exc)
    return _page(request, "portal/me_password.html", errors=errors, done=done, has_password=bool(account.password))
