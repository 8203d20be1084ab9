"""The member portal (H5): sign-in by SMS code, identity confirmation, joining by a union's code, the e-member card,
transfers, my applications and my data. Thin: read the form, call one service or selector, render. A member only
ever reaches their own record; anything else answers like a missing page."""

from urllib.parse import urlencode

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.masking import mask_name
from gonghui.error_pages import not_found
from gonghui.members.cards import CARD_TOKEN_SECONDS, card_issued_at, card_qr_svg
from gonghui.members.documents import DOC_TYPE_LABELS, DocumentInvalid, normalise_document
from gonghui.members.member_accounts import (
    CODE_TTL_SECONDS,
    PHONE_CODE_INTERVAL_SECONDS,
    member_account_bind,
    member_password_set,
    member_password_sign_in,
    phone_code_send,
    phone_code_sign_in,
)
from gonghui.members.models import (
    ETHNICITIES,
    ApplicationStatus,
    Education,
    EmploymentForm,
    HukouType,
    MembershipSource,
    PoliticalStatus,
    Sex,
    SkillLevel,
    TransferStatus,
)
from gonghui.members.people import clean_phone, clean_profile
from gonghui.members.selectors import (
    membership_holding,
    own_application_get,
    own_applications,
    own_corrections,
    own_memberships,
    own_person,
    own_transfer_get,
    own_transfers,
    union_directory_get,
    union_directory_search,
    union_search_match_count,
    unions_for_employer_search,
)
from gonghui.members.self_service import (
    CORRECTABLE_FIELD_LABELS,
    CORRECTABLE_FIELDS,
    OWN_REVEALABLE,
    member_application_withdraw,
    member_correction_request,
    member_join_apply,
    member_reveal_own,
    member_transfer_request,
    member_transfer_withdraw,
)
from gonghui.portal.session import (
    client_ip,
    current_account,
    member_required,
    refresh_account,
    safe_next,
    sign_in,
    sign_out,
)

PROFILE_CHOICES = {
    "ethnicity": [(e, e) for e in ETHNICITIES],
    "education": Education.choices,
    "political_status": PoliticalStatus.choices,
    "hukou_type": HukouType.choices,
    "employment_form": EmploymentForm.choices,
    "skill_level": SkillLevel.choices,
}
JOIN_TEXT_FIELDS = ("name", "doc_type", "doc_number", "work_unit", "post", "birth_date", "sex", "note")
# The service centre's tiles (职工服务), by type; 互助保障 opens the claim form.
SERVICE_TILES = (
    ("hardship", "困难帮扶", "困"),
    ("legal", "法律援助", "法"),
    ("insurance", "互助保障", "保"),
    ("student", "金秋助学", "学"),
)
# Tiles the benefits module fills; shown as "opening soon" until it exists.
COMING_TILES = ("普惠服务",)
# A union search shows this many results, and says how many matched when there are more.
UNION_SEARCH_SHOWN = 20


def _page(request, template: str, **context):
    return render(request, template, {"account": current_account(request), "demo": settings.DEMO_MODE, **context})


def _not_found(request):
    return not_found(request)


def _errors(exc: DomainError) -> dict[str, str]:
    return dict(exc.errors) if isinstance(exc, ValidationFailed) else {"form": exc.message}


# ---------------------------------------------------------------- home, health, errors


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


# ---------------------------------------------------------------- sign-in


def login(request):
    """Phone + one-time code: the first button sends the code, the second signs in."""
    if current_account(request) is not None:
        return redirect(safe_next(request))
    context = {"phone": "", "errors": {}, "sent": None, "next": safe_next(request, "")}
    if request.method == "POST":
        phone = request.POST.get("phone", "").strip()
        context["phone"] = phone
        try:
            if request.POST.get("action") == "send":
                context["sent"] = phone_code_send(phone=phone, ip=client_ip(request))
            else:
                account = phone_code_sign_in(phone=phone, code=request.POST.get("code", ""), ip=client_ip(request))
                sign_in(request, account)
                return redirect(_after_sign_in(request, account))
        except DomainError as exc:
            context["errors"] = _errors(exc)
            context["code_sent"] = request.POST.get("action") != "send"
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
        context["phone"] = request.POST.get("phone", "").strip()
        try:
            account = member_password_sign_in(
                phone=context["phone"], password=request.POST.get("password", ""), ip=client_ip(request)
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
        context["values"] = request.POST
        try:
            member_account_bind(
                account=account,
                name=request.POST.get("name", ""),
                doc_type=request.POST.get("doc_type", ""),
                doc_number=request.POST.get("doc_number", ""),
                ip=client_ip(request),
            )
            return redirect(safe_next(request, reverse("portal:home")))
        except DomainError as exc:
            context["errors"] = _errors(exc)
    return _page(request, "portal/bind.html", doc_types=DOC_TYPE_LABELS.items(), **context)


# ---------------------------------------------------------------- joining


def _union_search(query: str, by: str) -> tuple[list, int]:
    """The first UNION_SEARCH_SHOWN matches and how many there are in all."""
    search = unions_for_employer_search if by == "employer" else union_directory_search
    results = search(query=query, limit=UNION_SEARCH_SHOWN)
    if len(results) < UNION_SEARCH_SHOWN:
        return results, len(results)
    return results, union_search_match_count(query=query, by_employer=by == "employer")


def _pending_applications(account) -> list:
    return [a for a in own_applications(account=account) if a.status == ApplicationStatus.PENDING]


def _join_status(account) -> dict:
    """Where a signed-in worker stands before choosing a union: already a member (and of which union), or waiting
    for an application (which union, since when), so that the join pages say so before a second form is filled."""
    if account is None:
        return {"holding": None, "pending": []}
    person = own_person(account=account)
    return {
        "holding": membership_holding(person) if person else None,
        "pending": _pending_applications(account),
    }


def _blocking_application(pending: list, union):
    """The pending application that stops an online application to this union, as the registry's join rules do
    (one pending online application at a time, and one at a time per union whatever its source); None if none."""
    for item in pending:
        if item.org_id == union.id or item.source == MembershipSource.ONLINE:
            return item
    return None


def _results_only(request) -> bool:
    """A search typed on the page wants just the results; htmx restoring a page from history wants all of it."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def join_find(request):
    """找工会: by the union's name or code, or by the employer's name."""
    query = request.GET.get("q", "").strip()
    by = "employer" if request.GET.get("by") == "employer" else "union"
    results, total = _union_search(query, by) if query else ([], 0)
    template = "portal/_union_results.html" if _results_only(request) else "portal/join_find.html"
    return _page(
        request,
        template,
        q=query,
        by=by,
        results=results,
        total=total,
        shown=UNION_SEARCH_SHOWN,
        searched=bool(query),
        purpose="join",
        **_join_status(current_account(request)),
    )


def _union_or_404(org_id: str):
    try:
        return union_directory_get(org_id=org_id)
    except NotFound:
        raise Http404 from None


def join_union(request, org_id: str):
    """扫码入会: the union's code opens this page with the union preset."""
    union = _union_or_404(org_id)
    account = current_account(request)
    if account is None:
        return _page(request, "portal/join_landing.html", union=union)
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    if holding is not None:
        return _page(request, "portal/join_member_already.html", union=union, holding=holding)
    blocking = _blocking_application(_pending_applications(account), union)
    if blocking is not None:
        return _page(request, "portal/join_pending.html", union=union, application=blocking)
    context = {"values": {"doc_type": "resident_id"}, "errors": {}}
    if request.method == "POST":
        context["values"] = request.POST
        data = {field: request.POST.get(field, "").strip() for field in JOIN_TEXT_FIELDS}
        profile = {field: request.POST.get(field, "").strip() for field in PROFILE_CHOICES}
        try:
            application = member_join_apply(
                account=account,
                org=union,
                consent=request.POST.get("consent") == "on",
                note=data["note"],
                ip=client_ip(request),
                doc_type=data["doc_type"],
                doc_number=data["doc_number"],
                name=data["name"],
                **{k: v for k, v in profile.items() if v},
                **_passport_fields(data),
                **({"work_unit": data["work_unit"]} if data["work_unit"] else {}),
                **({"post": data["post"]} if data["post"] else {}),
            )
            return redirect("portal:application", application_id=application.id)
        except DomainError as exc:
            context["errors"] = _errors(exc)
    return _page(
        request,
        "portal/join_form.html",
        union=union,
        person=person,
        name_masked=mask_name(person.name) if person else "",
        doc_types=DOC_TYPE_LABELS.items(),
        choices=PROFILE_CHOICES,
        sexes=Sex.choices,
        **context,
    )


def _passport_fields(data: dict) -> dict:
    """Birth date and sex are typed only for documents that do not carry them."""
    out = {}
    if data.get("birth_date"):
        out["birth_date"] = data["birth_date"]
    if data.get("sex"):
        out["sex"] = data["sex"]
    return out


@require_POST
def join_check(request):
    """Validation as the worker types: one field, the registry's rules and messages, nothing stored."""
    field = request.POST.get("field", "")
    value = request.POST.get(field, "")
    message = ""
    try:
        if field == "doc_number":
            if value.strip():
                normalise_document(request.POST.get("doc_type", "resident_id"), value)
        elif field == "phone":
            clean_phone(value)
        elif field in CORRECTABLE_FIELD_LABELS and value.strip():
            clean_profile({field: value})
    except DocumentInvalid as exc:
        message = str(exc)
    except ValidationFailed as exc:
        message = "；".join(exc.errors.values())
    return HttpResponse(message, content_type="text/plain; charset=utf-8")


# ---------------------------------------------------------------- my applications


@member_required
def applications(request, account):
    return _page(
        request,
        "portal/applications.html",
        applications=own_applications(account=account),
        transfers=own_transfers(account=account),
        corrections=own_corrections(account=account),
    )


def _own_or_404(fn, **kwargs):
    try:
        return fn(**kwargs)
    except NotFound:
        raise Http404 from None


@member_required
def application(request, account, application_id: str):
    item = _own_or_404(own_application_get, account=account, application_id=application_id)
    error = ""
    if request.method == "POST":
        try:
            member_application_withdraw(account=account, application_id=application_id, ip=client_ip(request))
            return redirect("portal:application", application_id=item.id)
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            error = exc.message
    return _page(request, "portal/application.html", item=item, error=error, steps=_application_steps(item))


def _step(label: str, state: str, text: str = "", at=None) -> dict:
    """One step of a progress timeline; state is done, current, todo or refused."""
    return {"label": label, "state": state, "text": text, "at": at}


def _application_steps(item) -> list[dict]:
    """已提交 → 审核中 → 已通过 / 未通过 (with the reason), as the worker sees it."""
    steps = [_step("已提交", "done", f"申请加入{item.org.name}", at=item.submitted_at)]
    if item.status == ApplicationStatus.PENDING:
        steps.append(_step("审核中", "current", f"工会将在 {item.due_on:%Y-%m-%d} 前审核"))
        steps.append(_step("审核结果", "todo"))
        return steps
    steps.append(_step("审核中", "done"))
    card_number = getattr(item.membership, "card_number", "")
    label, state, text = {
        ApplicationStatus.APPROVED: ("已通过", "done", f"欢迎入会！会员卡号 {card_number}"),
        ApplicationStatus.REJECTED: ("未通过", "refused", f"理由：{item.decision_reason}"),
        ApplicationStatus.WITHDRAWN: ("已撤回", "refused", "您已撤回该申请"),
        ApplicationStatus.CONVERTED: ("已改为接转", "done", "您已是其他工会会员，工会已为您办理会员接转"),
    }[item.status]
    steps.append(_step(label, state, text, at=item.decided_at))
    return steps


# ---------------------------------------------------------------- e-member card


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


# ---------------------------------------------------------------- transfers


@member_required
def transfer(request, account):
    """申请接转: pick the target union (search, or its code), give a reason."""
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    query = request.GET.get("q", "").strip()
    by = "employer" if request.GET.get("by") == "employer" else "union"
    results, total = _union_search(query, by) if query else ([], 0)
    if holding is not None and any(u.id == holding.org_id for u in results):
        results = [u for u in results if u.id != holding.org_id]
        total -= 1
    if _results_only(request) and query:
        return _page(
            request,
            "portal/_union_results.html",
            results=results,
            total=total,
            shown=UNION_SEARCH_SHOWN,
            searched=True,
            purpose="transfer",
        )
    return _page(
        request,
        "portal/transfer.html",
        holding=holding,
        person=person,
        q=query,
        by=by,
        results=results,
        total=total,
        shown=UNION_SEARCH_SHOWN,
        searched=bool(query),
        transfers=own_transfers(account=account),
        open_statuses=(TransferStatus.PENDING_RELEASE, TransferStatus.PENDING_ACCEPT),
    )


@member_required
def transfer_to(request, account, org_id: str):
    union = _union_or_404(org_id)
    person = own_person(account=account)
    holding = membership_holding(person) if person else None
    errors: dict[str, str] = {}
    reason = ""
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        try:
            item = member_transfer_request(account=account, to_org=union, reason=reason, ip=client_ip(request))
            return redirect("portal:transfer_detail", transfer_id=item.id)
        except DomainError as exc:
            errors = _errors(exc)
    return _page(request, "portal/transfer_form.html", union=union, holding=holding, errors=errors, reason=reason)


@member_required
def transfer_detail(request, account, transfer_id: str):
    item = _own_or_404(own_transfer_get, account=account, transfer_id=transfer_id)
    error = ""
    if request.method == "POST":
        try:
            member_transfer_withdraw(account=account, transfer_id=transfer_id, ip=client_ip(request))
            return redirect("portal:transfer_detail", transfer_id=item.id)
        except NotFound:
            raise Http404 from None
        except DomainError as exc:
            error = exc.message
    return _page(request, "portal/transfer_detail.html", item=item, error=error, steps=_transfer_steps(item))


def _transfer_steps(item) -> list[dict]:
    """已提交 → 转出工会同意 → 转入工会接收, or where it stopped and why."""
    steps = [_step("已提交", "done", f"{item.from_org.name} → {item.to_org.name}", at=item.requested_at)]
    if item.status == TransferStatus.PENDING_RELEASE:
        steps.append(_step("转出工会审核", "current", f"{item.due_on:%Y-%m-%d} 前办理"))
        steps.append(_step("转入工会接收", "todo"))
        return steps
    if item.status == TransferStatus.REFUSED and item.refused_by_side == "source":
        steps.append(_step("转出工会未同意", "refused", f"理由：{item.refusal_reason}", at=item.decided_at))
        return steps
    if item.status == TransferStatus.WITHDRAWN and item.released_at is None:
        steps.append(_step("已撤回", "refused", "接转申请已撤回", at=item.decided_at))
        return steps
    steps.append(_step("转出工会已同意", "done", item.from_org.name, at=item.released_at))
    if item.status == TransferStatus.PENDING_ACCEPT:
        steps.append(_step("转入工会接收", "current", f"{item.due_on:%Y-%m-%d} 前办理"))
    elif item.status == TransferStatus.COMPLETED:
        card_number = getattr(item.new_membership, "card_number", "")
        steps.append(_step("接转完成", "done", f"新会员卡号 {card_number}", at=item.decided_at))
    elif item.status == TransferStatus.REFUSED:
        steps.append(_step("转入工会未接收", "refused", f"理由：{item.refusal_reason}", at=item.decided_at))
    else:
        steps.append(_step("已撤回", "refused", "接转申请已撤回", at=item.decided_at))
    return steps


# ---------------------------------------------------------------- my data


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
        values = {field: request.POST.get(field, "").strip() for field in CORRECTABLE_FIELDS}
        note = request.POST.get("note", "")
        try:
            member_correction_request(
                account=account,
                changes={field: value for field, value in values.items() if value},
                note=note,
                ip=client_ip(request),
            )
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
        password = request.POST.get("password", "")
        if password != request.POST.get("password2", ""):
            errors = {"password2": "两次输入的密码不一致"}
        else:
            try:
                account = member_password_set(account=account, password=password, ip=client_ip(request))
                refresh_account(request, account)
                done = True
            except DomainError as exc:
                errors = _errors(exc)
    return _page(request, "portal/me_password.html", errors=errors, done=done, has_password=bool(account.password))
