from django import forms
from django.contrib import admin, messages
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.decorators import action, display

from gonghui.accounts.models import ApiToken, User
from gonghui.accounts.selectors import account_get, accounts_visible_to, api_tokens_visible_to, username_taken
from gonghui.accounts.services import (
    account_create,
    account_reset_password,
    account_reset_second_factor,
    account_role_approve,
    account_role_reject,
    account_set_active,
    account_unlock,
    account_update,
    api_token_create,
    api_token_revoke,
    role_choices_for,
)
from gonghui.backoffice.base import ScopedModelAdmin, or_404, report_domain_error, require_actor
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site
from gonghui.backoffice.views import confirm_page
from gonghui.common.errors import DomainError, NotFound
from gonghui.common.roles import Perm, Role
from gonghui.orgs.selectors import org_get_by_code


class AccountForm(forms.ModelForm):
    takes_request = True
    org_code = forms.CharField(label="所属组织代码", max_length=32)
    password = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput(render_value=False),
        required=False,
        help_text="新建时必填：至少8位，包含大小写字母、数字、符号中的3类",
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "role"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        actor = require_actor(request)
        self.fields["role"].choices = role_choices_for(actor)
        if self.instance._state.adding:
            self.fields["password"].required = True
        else:
            del self.fields["password"]
            self.fields["username"].disabled = True
            if not self.is_bound:
                self.initial["org_code"] = self.instance.org.code

    def validate_unique(self):
        """The service checks the user name (shown here first through clean_username)."""

    def clean_username(self):
        username = (self.cleaned_data.get("username") or "").strip()
        if self.instance._state.adding and username_taken(username):
            raise forms.ValidationError("该用户名已被使用")
        return username

    def clean_password(self):
        password = self.cleaned_data.get("password")
        if password:
            validate_password(password, User(username=self.data.get("username", "")))
        return password

    def clean_org_code(self):
        try:
            return org_get_by_code(actor=require_actor(self.request), code=self.cleaned_data["org_code"])
        except NotFound:
            raise forms.ValidationError("找不到该组织，或不在您的管辖范围内") from None


@admin.register(User, site=backoffice_site)
class AccountAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.ACCOUNTS_VIEW
    # The administrators who keep accounts hold no EXPORT permission (a cadre's right); the account list holds no
    # personal numbers, and seeing the list is what its export needs.
    export_perm = Perm.ACCOUNTS_VIEW
    export_title = "账号列表"
    change_perm = Perm.ACCOUNTS_MANAGE
    form = AccountForm
    list_display = ["username", "full_name", "role", "org", "active_label", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "full_name"]
    list_select_related = ["org"]
    actions_detail = ["unlock", "reset_second_factor", "reset_password", "toggle_active", "approve_role"]

    def scoped_queryset(self, actor):
        return accounts_visible_to(actor)

    def get_fields(self, request, obj=None):
        return ["username", "full_name", "role", "org_code"] + ([] if obj else ["password"])

    def get_fieldsets(self, request, obj=None):
        return [(None, {"fields": self.get_fields(request, obj)})]

    def has_change_permission(self, request, obj=None):
        actor = require_actor(request)
        return actor.can(Perm.ACCOUNTS_MANAGE) or actor.can(Perm.SECURITY_MANAGE)

    def has_add_permission(self, request):
        return self.has_change_permission(request)

    @display(description="状态", label={"正常": "success", "已停用": "danger", "角色待审批": "warning"})
    def active_label(self, obj):
        if not obj.is_active:
            return "已停用"
        return "角色待审批" if obj.role_pending_approval else "正常"

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            return redirect(request.get_full_path())

    def save_model(self, request, obj, form, change):
        actor = require_actor(request)
        data = form.cleaned_data
        with transaction.atomic():
            if change:
                saved = account_update(
                    actor=actor,
                    user=account_get(actor=actor, user_id=obj.id),
                    full_name=data["full_name"],
                    org=data["org_code"],
                    role=data["role"],
                )
            else:
                saved = account_create(
                    actor=actor,
                    username=data["username"],
                    full_name=data["full_name"],
                    org=data["org_code"],
                    role=data["role"],
                    password=data["password"],
                )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def log_addition(self, *args, **kwargs):
        pass

    def log_change(self, *args, **kwargs):
        pass

    def _run(self, request, object_id, apply, *, title, intro):
        """GET shows what will happen and a 确认 button; only the POST (with its CSRF token) acts."""
        actor = require_actor(request)
        user = or_404(account_get, actor=actor, user_id=object_id)
        account_page = reverse("admin:accounts_user_change", args=[object_id])
        if request.method != "POST":
            return confirm_page(
                request, title=f"{title(user)}：{user.username}", intro=intro(user), cancel_url=account_page
            )
        try:
            with transaction.atomic():
                messages.success(request, apply(actor, user))
        except DomainError as exc:
            report_domain_error(request, exc)
        return redirect(account_page)

    @action(description="解除登录锁定", icon="lock_open", url_path="unlock", permissions=["security_manage"])
    def unlock(self, request, object_id):
        return self._run(
            request,
            object_id,
            lambda actor, user: f"已解除锁定（清除 {account_unlock(actor=actor, user=user)} 条失败记录）",
            title=lambda user: "解除登录锁定",
            intro=lambda user: "将清除该账号的登录失败记录，账号可以立即重新登录。",
        )

    @action(description="重置两步验证", icon="phonelink_erase", url_path="reset-otp", permissions=["security_manage"])
    def reset_second_factor(self, request, object_id):
        return self._run(
            request,
            object_id,
            lambda actor, user: (
                f"已移除 {account_reset_second_factor(actor=actor, user=user)} 个身份验证器，该账号下次登录时重新绑定"
            ),
            title=lambda user: "重置两步验证",
            intro=lambda user: "将移除该账号已绑定的全部身份验证器，本人下次登录时须重新绑定。",
        )

    @action(description="停用/启用账号", icon="toggle_on", url_path="toggle-active")
    def toggle_active(self, request, object_id):
        def apply(actor, user):
            changed = account_set_active(actor=actor, user=user, active=not user.is_active)
            return "账号已启用" if changed.is_active else "账号已停用"

        return self._run(
            request,
            object_id,
            apply,
            title=lambda user: "停用账号" if user.is_active else "启用账号",
            intro=lambda user: (
                "停用后该账号不能再登录，已登录的会话在下一次请求时失效。"
                if user.is_active
                else "启用后该账号可以重新登录。"
            ),
        )

    @action(description="审批角色授权", icon="how_to_reg", url_path="approve-role", permissions=["approve_role"])
    def approve_role(self, request, object_id):
        """A second person decides a pending audit administrator role: GET shows the request, the POST decides."""
        actor = require_actor(request)
        user = or_404(account_get, actor=actor, user_id=object_id)
        account_page = reverse("admin:accounts_user_change", args=[object_id])
        form = RoleDecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    if form.cleaned_data["decision"] == "approve":
                        account_role_approve(actor=actor, user=user)
                        messages.success(request, f"已批准：{user.username} 的{user.get_role_display()}角色即时生效")
                    else:
                        account_role_reject(actor=actor, user=user, reason=form.cleaned_data["reason"])
                        messages.success(request, "已不予批准")
            except DomainError as exc:
                report_domain_error(request, exc, form)
            else:
                return redirect(account_page)
        requester = user.role_requested_by.username if user.role_requested_by else "—"
        return confirm_page(
            request,
            title=f"审批角色授权：{user.username}",
            intro=(
                f"{requester} 申请授予 {user.full_name or user.username}（{user.org.name}）{user.get_role_display()}"
                "角色。批准后该账号即可查阅审计日志；不予批准时，新建或重置的账号将被停用，变更角色的账号恢复原角色。"
                if user.role_pending_approval
                else "该账号没有待审批的角色授权。"
            ),
            cancel_url=account_page,
            form=form,
        )

    def has_approve_role_permission(self, request, object_id=None):
        actor = require_actor(request)
        return actor.role == Role.SYSTEM_ADMIN

    def has_security_manage_permission(self, request, object_id=None):
        # Unlocking, resetting a second factor and resetting a password are the security administrator's: the
        # system administrator is not offered a page whose 确认 the service would refuse.
        return require_actor(request).can(Perm.SECURITY_MANAGE)

    @action(description="重置密码", icon="password", url_path="reset-password", permissions=["security_manage"])
    def reset_password(self, request, object_id):
        actor = require_actor(request)
        user = or_404(account_get, actor=actor, user_id=object_id)
        form = PasswordResetForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    account_reset_password(actor=actor, user=user, new_password=form.cleaned_data["new_password"])
            except DomainError as exc:
                report_domain_error(request, exc, form)
            else:
                messages.success(request, "密码已重置，请线下告知本人并提醒其尽快修改")
                return redirect(reverse("admin:accounts_user_change", args=[object_id]))
        return TemplateResponse(
            request,
            "backoffice/simple_form.html",
            {
                **self.admin_site.each_context(request),
                "title": f"重置密码：{user.username}",
                "form": form,
                "opts": self.model._meta,
            },
        )


class RoleDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="审批意见", choices=[("approve", "批准"), ("reject", "不予批准")], widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label="不予批准的原因", required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )


class PasswordResetForm(forms.Form):
    new_password = forms.CharField(label="新密码", widget=forms.PasswordInput)

    def add_error(self, field, error):
        super().add_error("new_password" if field == "password" else field, error)


class ApiTokenForm(forms.ModelForm):
    org_code = forms.CharField(label="授权范围（组织代码）", max_length=32)

    class Meta:
        model = ApiToken
        fields = ["name", "allow_roster_import"]


@admin.register(ApiToken, site=backoffice_site)
class ApiTokenAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.API_TOKENS_MANAGE
    export_perm = Perm.API_TOKENS_MANAGE
    export_title = "API 令牌列表"
    change_perm = None
    add_perm = Perm.API_TOKENS_MANAGE
    form = ApiTokenForm
    list_display = [
        "name", "prefix", "org", "allow_roster_import", "created_by_label", "created_at", "last_used_at", "revoked_at"
    ]  # fmt: skip
    readonly_fields = ["prefix", "org", "created_by_label", "created_at", "last_used_at", "revoked_at"]
    actions_detail = ["revoke"]

    def scoped_queryset(self, actor):
        return api_tokens_visible_to(actor)

    def add_view(self, request, form_url="", extra_context=None):
        actor = require_actor(request)
        if not self.has_add_permission(request):
            raise DjangoPermissionDenied
        form = ApiTokenForm(request.POST or None)
        raw = None
        if request.method == "POST" and form.is_valid():
            try:
                org = org_get_by_code(actor=actor, code=form.cleaned_data["org_code"])
                with transaction.atomic():
                    _token, raw = api_token_create(
                        actor=actor,
                        org=org,
                        name=form.cleaned_data["name"],
                        allow_roster_import=form.cleaned_data["allow_roster_import"],
                    )
            except NotFound:
                form.add_error("org_code", "找不到该组织，或不在您的管辖范围内")
            except DomainError as exc:
                report_domain_error(request, exc, form)
        return TemplateResponse(
            request,
            "backoffice/api_token_new.html",
            {
                **self.admin_site.each_context(request),
                "title": "新建 API 令牌",
                "form": form,
                "raw_token": raw,
                "opts": self.model._meta,
            },
        )

    @action(description="吊销令牌", icon="key_off", url_path="revoke")
    def revoke(self, request, object_id):
        actor = require_actor(request)
        token = api_tokens_visible_to(actor).filter(id=object_id).first()
        if token is None:
            raise Http404
        if request.method != "POST":
            return confirm_page(
                request,
                title=f"吊销令牌：{token.name}",
                intro="吊销后使用该令牌的外部系统将立即无法访问，且不能恢复。",
                cancel_url=reverse("admin:accounts_apitoken_change", args=[object_id]),
            )
        try:
            with transaction.atomic():
                api_token_revoke(actor=actor, token=token)
            messages.success(request, "令牌已吊销，使用它的外部系统将无法再访问")
        except DomainError as exc:
            report_domain_error(request, exc)
        return redirect(reverse("admin:accounts_apitoken_change", args=[object_id]))
