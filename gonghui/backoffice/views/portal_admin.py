"""Back-office pages that serve the member portal: the printable join code of a grassroots union (扫码入会) and the
correction requests members send from 我的资料. Thin: build the actor, call one selector or service, render."""

import io

import segno
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse

from gonghui.backoffice.base import render_page, report_domain_error, require_actor
from gonghui.backoffice.views.helpers import download
from gonghui.common.errors import DomainError, NotFound
from gonghui.common.roles import Perm
from gonghui.members.selectors import correction_get
from gonghui.members.self_service import CORRECTABLE_FIELD_LABELS, CORRECTABLE_FIELDS
from gonghui.members.services import correction_request_apply, correction_request_reject
from gonghui.orgs.selectors import org_get


def _union_in_scope(request, org_id: str):
    actor = require_actor(request)
    actor.require(Perm.ORGS_VIEW)
    try:
        org = org_get(actor=actor, org_id=org_id)
    except NotFound:
        raise Http404 from None
    return org


def join_url(request, org) -> str:
    """The address the union's QR code carries: the public portal address when configured, else this server's."""
    path = reverse("portal:join_union", args=[org.id])
    if settings.PORTAL_BASE_URL:
        return settings.PORTAL_BASE_URL + path
    return request.build_absolute_uri(path)


def org_join_code(request, org_id: str):
    """扫码入会: the union's join QR code and link, laid out for printing (A4 poster) or download."""
    org = _union_in_scope(request, org_id)
    url = join_url(request, org)
    usable = org.is_grassroots and org.status == "active"
    return render_page(
        request,
        f"扫码入会：{org.name}",
        "backoffice/join_code.html",
        org=org,
        url=url,
        usable=usable,
        qr_svg=segno.make(url, error="m").svg_inline(scale=8, dark="#111827") if usable else "",
    )


def org_join_code_png(request, org_id: str):
    org = _union_in_scope(request, org_id)
    if not (org.is_grassroots and org.status == "active"):
        raise Http404
    buffer = io.BytesIO()
    segno.make(join_url(request, org), error="m").save(buffer, kind="png", scale=16, border=4)
    return download(buffer.getvalue(), content_type="image/png", ascii_filename=f"join-{org.code}.png")


def correction_detail(request, correction_id: str):
    """资料更正申请: what the member asked to change, beside the current value; 采纳 or 不予更正 with a reason."""
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    try:
        correction = correction_get(actor=actor, correction_id=correction_id)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        try:
            if action == "apply":
                correction_request_apply(actor=actor, correction=correction, comment=reason)
                messages.success(request, "已按申请更正会员资料")
            elif action == "reject":
                correction_request_reject(actor=actor, correction=correction, reason=reason)
                messages.success(request, "已不予更正，会员将看到理由")
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("admin:correction_detail", args=[correction.id]))
        except DomainError as exc:
            report_domain_error(request, exc)
        correction = correction_get(actor=actor, correction_id=correction_id)
    person = correction.person
    # Once applied, the record holds the new values: the page shows what it said before, kept at the time.
    applied = correction.status == "applied"
    rows = [
        {
            "label": CORRECTABLE_FIELD_LABELS.get(field, field),
            "current": (
                _display_value(person, field, correction.previous.get(field)) if applied else _display(person, field)
            ),
            "wanted": _display_value(person, field, value),
        }
        # In the form's order (PostgreSQL's jsonb keeps no key order of its own).
        for field, value in sorted(correction.changes.items(), key=lambda item: _FIELD_ORDER.get(item[0], 99))
    ]
    return render_page(
        request,
        "资料更正申请",
        "backoffice/members/correction_detail.html",
        correction=correction,
        rows=rows,
        applied=applied,
        can_manage=actor.can(Perm.MEMBERS_MANAGE) and correction.status == "pending",
    )


_FIELD_ORDER = {field: position for position, field in enumerate(CORRECTABLE_FIELDS)}


def _display(person, field: str) -> str:
    getter = getattr(person, f"get_{field}_display", None)
    value = getter() if getter else getattr(person, field)
    return str(value or "—")


def _display_value(person, field: str, value) -> str:
    choices = dict(person._meta.get_field(field).choices or [])
    return str(choices.get(value, value) or "—")
