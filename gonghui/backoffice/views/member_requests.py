"""Back-office pages of the registry's requests: a join application (its decision, the bulk approval of the list)
and a transfer between unions. Thin: build the actor, call one selector or service, render; refused calls show
their Chinese message and change nothing."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from gonghui.backoffice.base import or_404, render_page, report_domain_error, require_actor
from gonghui.common.errors import DomainError, NotFound
from gonghui.common.roles import Perm
from gonghui.members.selectors import (
    join_application_get,
    membership_holding_named_for,
    person_profile_in_scope,
    transfer_get,
)
from gonghui.members.services import (
    join_application_approve,
    join_application_convert_to_transfer,
    join_application_reject,
    join_application_withdraw,
    transfer_accept,
    transfer_refuse,
    transfer_release,
    transfer_withdraw,
)

# ---------------------------------------------------------------- join applications


def join_application_detail(request, application_id: str):
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    application = or_404(join_application_get, actor=actor, application_id=application_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        try:
            if action == "approve":
                membership = join_application_approve(actor=actor, application=application, comment=reason)
                messages.success(request, f"已通过，会员卡号 {membership.card_number}")
            elif action == "reject":
                join_application_reject(actor=actor, application=application, reason=reason)
                messages.success(request, "已不予通过，申请人将看到理由")
            elif action == "withdraw":
                join_application_withdraw(actor=actor, application=application)
                messages.success(request, "申请已撤回")
            elif action == "convert":
                transfer = join_application_convert_to_transfer(actor=actor, application=application, reason=reason)
                messages.success(request, "已改为会员接转，等待原工会同意转出")
                return redirect(reverse("admin:transfer_detail", args=[transfer.id]))
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("admin:join_application_detail", args=[application.id]))
        except DomainError as exc:
            report_domain_error(request, exc)
        application = or_404(join_application_get, actor=actor, application_id=application_id)
    holding, union_name = membership_holding_named_for(actor=actor, person=application.person)
    elsewhere = holding is not None and holding.org_id != application.org_id
    return render_page(
        request,
        "入会申请",
        "backoffice/members/application_detail.html",
        application=application,
        person=application.person,
        # The record's phone, work unit and union are shown only to a subtree that holds (or will hold) it.
        profile_in_scope=person_profile_in_scope(actor=actor, person=application.person, application=application),
        member_elsewhere=elsewhere,
        elsewhere_message=(
            f"申请人目前是“{union_name}”的会员，不能直接批准入会，请改为会员接转。"
            if holding is not None and elsewhere and actor.covers_path(holding.org.path)
            else "该人员已是其他工会会员，可发起会员接转。"
        ),
        can_manage=actor.can(Perm.MEMBERS_MANAGE) and application.status == "pending",
    )


BULK_APPROVE_MAX = 200


def join_applications_bulk_approve(request, queryset):
    """批量通过 from the application list: a confirmation page of the selected applications, then one call of the
    approve service per item (each checked for scope and state, each audited by the service) and a report of which
    were approved and which refused, with the reason. `queryset` is the list's scoped queryset (for "select all")."""
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    actor = require_actor(request)
    actor.require(Perm.MEMBERS_MANAGE)
    if request.POST.get("select_across") == "1":
        ids = [str(pk) for pk in queryset.filter(status="pending").values_list("pk", flat=True)[: BULK_APPROVE_MAX + 1]]
    else:
        ids = list(dict.fromkeys(request.POST.getlist(ACTION_CHECKBOX_NAME)))
    if len(ids) > BULK_APPROVE_MAX:
        messages.error(request, f"一次最多批量通过 {BULK_APPROVE_MAX} 件申请，请缩小筛选范围或分批选择")
        return redirect(request.get_full_path())
    items = []
    for number, application_id in enumerate(ids, start=1):
        try:
            items.append((number, application_id, join_application_get(actor=actor, application_id=application_id)))
        except NotFound:
            items.append((number, application_id, None))
    if request.POST.get("post") != "yes":
        return render_page(
            request,
            "批量通过入会申请",
            "backoffice/members/bulk_approve.html",
            items=items,
            pending=sum(1 for _n, _id, a in items if a is not None and a.status == "pending"),
            back_url=request.get_full_path(),
        )
    comment = request.POST.get("comment", "")
    approved, refused = [], []
    for number, _application_id, application in items:
        if application is None:
            refused.append({"number": number, "application": None, "reason": "申请不存在，或不在您的管辖范围内"})
            continue
        try:
            membership = join_application_approve(actor=actor, application=application, comment=comment)
        except DomainError as exc:
            refused.append({"number": number, "application": application, "reason": exc.message})
        else:
            approved.append({"number": number, "application": application, "membership": membership})
    return render_page(
        request,
        "批量通过结果",
        "backoffice/members/bulk_approve.html",
        report=True,
        approved=approved,
        refused=refused,
        back_url=request.get_full_path(),
    )


# ---------------------------------------------------------------- transfers


def transfer_detail(request, transfer_id: str):
    actor = require_actor(request)
    actor.require(Perm.MEMBERS_VIEW)
    transfer = or_404(transfer_get, actor=actor, transfer_id=transfer_id)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "release":
                transfer_release(actor=actor, transfer=transfer)
                messages.success(request, "已同意转出，等待转入工会接收")
            elif action == "accept":
                transfer_accept(actor=actor, transfer=transfer)
                # Said by the receiving union's own cadre it is 本会; said by a federation above it, the union is named.
                received_by = "本会" if actor.org_id == transfer.to_org_id else f"“{transfer.to_org.name}”"
                messages.success(request, f"已接收，会员已转入{received_by}")
            elif action == "refuse":
                transfer_refuse(actor=actor, transfer=transfer, reason=request.POST.get("reason", ""))
                messages.success(request, "已拒绝该接转")
            elif action == "withdraw":
                transfer_withdraw(actor=actor, transfer=transfer)
                messages.success(request, "接转已撤回")
            else:
                raise DomainError("未知的操作")
            return redirect(reverse("admin:transfer_detail", args=[transfer.id]))
        except DomainError as exc:
            report_domain_error(request, exc)
        transfer = or_404(transfer_get, actor=actor, transfer_id=transfer_id)
    manage = actor.can(Perm.MEMBERS_MANAGE)
    source_side = manage and actor.covers_path(transfer.from_org.path)
    target_side = manage and actor.covers_path(transfer.to_org.path)
    return render_page(
        request,
        "会员接转",
        "backoffice/members/transfer_detail.html",
        transfer=transfer,
        can_release=source_side and transfer.status == "pending_release",
        can_accept=target_side and transfer.status == "pending_accept",
        can_refuse=(source_side and transfer.status == "pending_release")
        or (target_side and transfer.status == "pending_accept"),
        can_withdraw=source_side and transfer.status in ("pending_release", "pending_accept"),
    )
