"""Back office for organisations and employers. Forms validate through the domain services' validators; every
write is a service call; structure changes (move, dissolve, merge) are detail actions with their own form."""

import contextlib

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.decorators import action, display

from gonghui.backoffice.base import ScopedModelAdmin, or_404, report_domain_error, require_actor
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site
from gonghui.backoffice.views import confirm_page
from gonghui.common.errors import DomainError, NotFound, ValidationFailed
from gonghui.common.masking import mask_phone
from gonghui.common.roles import Perm
from gonghui.orgs.models import Employer, Organisation, OrgStatus
from gonghui.orgs.selectors import employer_get, employers_visible_to, org_get, org_get_by_code, orgs_visible_to
from gonghui.orgs.services import (
    ORG_EDITABLE_FIELDS,
    employer_create,
    employer_update,
    employer_validate,
    org_contact_phone_reveal,
    org_create,
    org_dissolve,
    org_fields_locked,
    org_merge,
    org_move,
    org_update,
    org_validate,
)
from gonghui.orgs.tasks import org_roster_export_request


def _org_by_code(actor, code: str, field: str) -> Organisation:
    try:
        return org_get_by_code(actor=actor, code=code)
    except NotFound:
        raise ValidationFailed({field: f"找不到代码为 {code.strip().upper()} 的组织，或不在您的管辖范围内"}) from None


class OrganisationForm(forms.ModelForm):
    takes_request = True
    parent_code = forms.CharField(label="上级组织代码", max_length=32, required=False, help_text="新增时必填")
    # The contact's mobile is personal data: the form never sends the stored number to the browser. On an
    # existing organisation an empty field keeps it, a new value replaces it, and clearing it is a choice.
    contact_phone = forms.CharField(
        label="联系电话", max_length=20, required=False, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    clear_contact_phone = forms.BooleanField(label="清除联系电话", required=False)

    class Meta:
        model = Organisation
        fields = list(ORG_EDITABLE_FIELDS)
        widgets = {
            "founded_on": forms.DateInput(attrs={"type": "date"}),
            "term_ends_on": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.parent = None
        if self.instance._state.adding:
            self.fields["parent_code"].required = True
            wanted = self.request.GET.get("parent") if self.request else None
            if wanted and not self.is_bound:
                with contextlib.suppress(NotFound):
                    self.initial["parent_code"] = org_get(actor=require_actor(request), org_id=wanted).code
        else:
            del self.fields["parent_code"]
            self.initial["contact_phone"] = ""
            current = mask_phone(self.instance.contact_phone) or "未填写"
            self.fields["contact_phone"].label = "新联系电话"
            self.fields["contact_phone"].help_text = f"当前：{current}。留空表示不修改，填写新号码将替换原号码"
        if self.instance._state.adding:
            del self.fields["clear_contact_phone"]

    def validate_unique(self):
        """Uniqueness is checked by the domain validator with the project's own messages."""

    def _stored_contact_phone_unless_replaced(self, cleaned: dict) -> None:
        if self.instance._state.adding:
            return
        if cleaned.get("clear_contact_phone"):
            cleaned["contact_phone"] = ""
        elif not (cleaned.get("contact_phone") or "").strip():
            cleaned["contact_phone"] = self.instance.contact_phone

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        actor = require_actor(self.request)
        self._stored_contact_phone_unless_replaced(cleaned)
        # A field the role may not change is read-only, hence not in the form: it is neither validated nor sent.
        fields = {name: cleaned.get(name) for name in ORG_EDITABLE_FIELDS if name in self.fields}
        try:
            if self.instance._state.adding:
                self.parent = _org_by_code(actor, cleaned.get("parent_code") or "", "parent_code")
                normalised = org_validate(actor=actor, parent=self.parent, fields=fields)
            else:
                normalised = org_validate(actor=actor, parent=None, fields=fields, org=self.instance)
            # The model's own checks (the code format constraint) run after clean(): give them the normalised values.
            cleaned.update({name: value for name, value in normalised.items() if name in ORG_EDITABLE_FIELDS})
        except ValidationFailed as exc:
            for field, message in exc.errors.items():
                self.add_error(
                    field
                    if field in self.fields
                    else ("parent_code" if field == "parent" and "parent_code" in self.fields else None),
                    message,
                )
        return cleaned


class OrgCodeForm(forms.Form):
    target_code = forms.CharField(label="目标组织代码", max_length=32)


class ReasonForm(forms.Form):
    reason = forms.CharField(label="原因", widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


class MergeForm(OrgCodeForm, ReasonForm):
    pass


class RevealReasonForm(forms.Form):
    # Not required here: the service refuses an empty reason with the project's own message.
    reason = forms.CharField(label="查看原因（必填，记入审计日志）", max_length=500, required=False)


@admin.register(Organisation, site=backoffice_site)
class OrganisationAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.ORGS_VIEW
    change_perm = Perm.ORGS_EDIT
    add_perm = Perm.ORGS_STRUCTURE
    form = OrganisationForm
    list_display = ["name", "code", "org_type", "level", "region_code", "status", "children", "term_ends_on"]
    list_filter = ["org_type", "level", "status"]
    search_fields = ["name", "=code"]
    ordering = ["path"]
    readonly_fields = ["status", "merged_into", "contact_phone_masked"]
    actions_detail = [
        "open_in_tree", "join_code", "reveal_phone", "move_subtree", "merge_into", "dissolve", "export_roster"
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["parent_code", "name", "code", "org_type", "region_code", "uscc"]}),
        ("届次", {"fields": ["founded_on", "term_ends_on"]}),
        ("联系方式", {"fields": ["address", "contact_person", "contact_phone", "clear_contact_phone"]}),
        ("状态", {"fields": ["status", "merged_into"]}),
    ]

    def scoped_queryset(self, actor):
        return orgs_visible_to(actor)

    def has_change_permission(self, request, obj=None):
        """An organisation that is no longer active is read, not edited (org_update refuses every change)."""
        if obj is not None and obj.status != OrgStatus.ACTIVE:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        """Fields the role may not change on this organisation are shown, not offered (org_fields_locked): a
        grassroots cadre sees the type of her union but cannot pick another that the service would refuse."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and self.has_change_permission(request, obj):
            locked = org_fields_locked(actor=require_actor(request), org=obj)
            fields += [name for name in ORG_EDITABLE_FIELDS if name in locked and name not in fields]
        return fields

    export_title = "组织名册"

    def export_workbook(self, request, *, rows, title, filters_text, exported_at):
        """The organisation roster layout (the one the organisation import reads), with the rows of the list."""
        from gonghui.orgs.exports import org_roster_xlsx
        from gonghui.orgs.selectors import org_scope_root

        actor = require_actor(request)
        parents = list(orgs_visible_to(actor).filter(numchild__gt=0).values_list("path", "name", "code"))
        return org_roster_xlsx(
            root=org_scope_root(actor=actor),
            orgs=rows,
            parent_names={path: name for path, name, _code in parents},
            parent_codes={path: code for path, _name, code in parents},
            exported_at=exported_at,
            exported_by=actor.label,
        )

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    title,
                    {
                        "fields": [
                            f for f in opts["fields"] if f not in ("status", "merged_into", "clear_contact_phone")
                        ]
                    },
                )
                for title, opts in self.fieldsets
                if title != "状态"
            ]
        # A read-only view would print the stored number: it shows the mask instead.
        hidden = {"parent_code"} | (
            set() if self.has_change_permission(request, obj) else {"contact_phone", "clear_contact_phone"}
        )
        return [
            (
                title,
                {
                    "fields": [f for f in opts["fields"] if f not in hidden]
                    + (["contact_phone_masked"] if title == "联系方式" and "contact_phone" in hidden else [])
                },
            )
            for title, opts in self.fieldsets
        ]

    @display(description="联系电话")
    def contact_phone_masked(self, obj):
        return mask_phone(obj.contact_phone) or "—"

    def get_changeform_initial_data(self, request):
        return {}

    @display(description="下级组织数")
    def children(self, obj):
        return obj.numchild

    def save_model(self, request, obj, form, change):
        actor = require_actor(request)
        fields = {name: form.cleaned_data.get(name) for name in ORG_EDITABLE_FIELDS if name in form.fields}
        if change:
            original = org_get(actor=actor, org_id=obj.id)
            saved = org_update(actor=actor, org=original, **fields)
        else:
            saved = org_create(actor=actor, parent=form.parent, **fields)
        form.instance = saved
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def log_addition(self, *args, **kwargs):
        """The audit trail records the change; the admin's own log is not used."""

    def log_change(self, *args, **kwargs):
        pass

    # ---- detail actions

    def _structure_form(self, request, object_id, *, title, form_class, intro, apply):
        actor = require_actor(request)
        org = or_404(org_get, actor=actor, org_id=object_id)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    message = apply(actor, org, form.cleaned_data)
            except DomainError as exc:
                report_domain_error(request, exc, form)
            else:
                messages.success(request, message)
                return redirect(reverse("admin:orgs_organisation_change", args=[org.id]))
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "org": org,
            "form": form,
            "intro": intro,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "backoffice/org_structure_form.html", context)

    def _visible(self, request, object_id) -> bool:
        try:
            org_get(actor=require_actor(request), org_id=object_id)
            return True
        except NotFound:
            return False

    @action(description="在组织树中查看", icon="account_tree", url_path="open-in-tree")
    def open_in_tree(self, request, object_id):
        if not self._visible(request, object_id):
            raise Http404
        return HttpResponseRedirect(reverse("admin:org_tree") + f"?org={object_id}")

    @action(description="扫码入会二维码", icon="qr_code_2", url_path="join-code")
    def join_code(self, request, object_id):
        if not self._visible(request, object_id):
            raise Http404
        return HttpResponseRedirect(reverse("admin:org_join_code", args=[object_id]))

    @action(description="查看完整联系电话", icon="visibility", url_path="reveal-phone", permissions=["unmask"])
    def reveal_phone(self, request, object_id):
        """As for a member's number: a stated reason, the union in scope, one audit row per look."""
        actor = require_actor(request)
        org = or_404(org_get, actor=actor, org_id=object_id)
        actor.require(Perm.MEMBERS_UNMASK)
        org_page = reverse("admin:orgs_organisation_change", args=[org.id])
        form = RevealReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                number = org_contact_phone_reveal(actor=actor, org=org, reason=form.cleaned_data["reason"])
            except ValidationFailed as exc:
                report_domain_error(request, exc, form)
            else:
                return TemplateResponse(
                    request,
                    "backoffice/revealed_value.html",
                    {
                        **self.admin_site.each_context(request),
                        "title": f"联系电话：{org.name}",
                        "label": f"联系人 {org.contact_person or '—'}",
                        "value": number,
                        "back_url": org_page,
                        "opts": self.model._meta,
                    },
                )
        return confirm_page(
            request,
            title=f"查看完整联系电话：{org.name}",
            intro=f"联系电话 {mask_phone(org.contact_phone) or '未填写'}。查看完整号码须填写原因，并记入审计日志。",
            cancel_url=org_page,
            form=form,
        )

    @action(description="移动到新上级", icon="drive_file_move", url_path="move", permissions=["structure"])
    def move_subtree(self, request, object_id):
        def apply(actor, org, data):
            new_parent = _org_by_code(actor, data["target_code"], "target_code")
            moved = org_move(actor=actor, org=org, new_parent=new_parent)
            return f"已将“{moved.name}”及其下级组织移动到“{new_parent.name}”之下"

        return self._structure_form(
            request,
            object_id,
            title="移动组织",
            form_class=OrgCodeForm,
            apply=apply,
            intro="该组织及其全部下级组织将一并移动到目标组织之下。不能移动到它自己的下级组织之下。",
        )

    @action(description="合并到其他组织", icon="merge", url_path="merge", permissions=["structure"])
    def merge_into(self, request, object_id):
        def apply(actor, org, data):
            into = _org_by_code(actor, data["target_code"], "target_code")
            org_merge(actor=actor, org=org, into=into, reason=data["reason"])
            return f"已将“{org.name}”合并到“{into.name}”"

        return self._structure_form(
            request,
            object_id,
            title="合并组织",
            form_class=MergeForm,
            apply=apply,
            intro="该组织的下级组织和覆盖的企业/单位将转到目标组织，该组织保留为“已合并”状态。",
        )

    @action(description="撤销组织", icon="block", url_path="dissolve", permissions=["structure"])
    def dissolve(self, request, object_id):
        def apply(actor, org, data):
            org_dissolve(actor=actor, org=org, reason=data["reason"])
            return f"已撤销“{org.name}”"

        return self._structure_form(
            request,
            object_id,
            title="撤销组织",
            form_class=ReasonForm,
            apply=apply,
            intro="撤销后组织保留在组织树中，状态为“已撤销”。仍有正常下级组织或仍覆盖企业的组织不能撤销。",
        )

    @action(description="导出组织名册", icon="download", url_path="export", permissions=["export"])
    def export_roster(self, request, object_id):
        actor = require_actor(request)
        org = or_404(org_get, actor=actor, org_id=object_id)
        if request.method != "POST":
            return confirm_page(
                request,
                title=f"导出组织名册：{org.name}",
                intro="将在后台生成该组织及其全部下级组织的名册（Excel），完成后可在任务页面下载；导出记入审计日志。",
                cancel_url=reverse("admin:orgs_organisation_change", args=[org.id]),
            )
        job = org_roster_export_request(actor=actor, org=org)
        messages.info(request, "导出任务已提交，完成后可在本页下载")
        return redirect(reverse("admin:job_status", args=[job.id]))

    def has_structure_permission(self, request, object_id=None):
        actor = require_actor(request)
        return actor.can(Perm.ORGS_STRUCTURE)

    def has_unmask_permission(self, request, object_id=None):
        return require_actor(request).can(Perm.MEMBERS_UNMASK)

    def has_export_permission(self, request, object_id=None):
        actor = require_actor(request)
        return actor.can(Perm.EXPORT)


class EmployerForm(forms.ModelForm):
    takes_request = True
    town_code = forms.CharField(label="所在镇(街道)/园区工会代码", max_length=32)
    union_code = forms.CharField(label="覆盖该单位的工会代码", max_length=32, required=False, help_text="未建会则留空")

    class Meta:
        model = Employer
        fields = ["name", "uscc", "employee_count", "industry", "address", "lat", "lng"]
        help_texts = {"lat": "WGS84 十进制度数，用于15分钟服务圈分析；可不填", "lng": "与纬度一起填写"}

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        if not self.instance._state.adding and not self.is_bound:
            self.initial["town_code"] = self.instance.town_org.code
            self.initial["union_code"] = self.instance.covering_union.code if self.instance.covering_union else ""

    def validate_unique(self):
        """Checked by the domain validator."""

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        actor = require_actor(self.request)
        try:
            town = _org_by_code(actor, cleaned["town_code"], "town_code")
            union = _org_by_code(actor, cleaned["union_code"], "union_code") if cleaned.get("union_code") else None
            self.service_fields = {
                **{name: cleaned.get(name) for name in self.Meta.fields},
                "town_org": town,
                "covering_union": union,
            }
            employer_validate(
                actor=actor,
                fields=self.service_fields,
                employer=None if self.instance._state.adding else self.instance,
            )
        except ValidationFailed as exc:
            renamed = {"town_org": "town_code", "covering_union": "union_code"}
            for field, message in exc.errors.items():
                field = renamed.get(field, field)
                self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(Employer, site=backoffice_site)
class EmployerAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.EMPLOYERS_VIEW
    change_perm = Perm.EMPLOYERS_EDIT
    form = EmployerForm
    list_display = ["name", "uscc", "employee_count", "industry", "town_org", "covering_union", "coverage"]
    list_filter = ["industry"]
    search_fields = ["name", "=uscc"]
    list_select_related = ["town_org", "covering_union"]
    ordering = ["-employee_count"]

    def scoped_queryset(self, actor):
        return employers_visible_to(actor)

    export_title = "企业（单位）名录"

    @display(description="建会情况", label={"已建会": "success", "未建会": "warning"})
    def coverage(self, obj):
        return "已建会" if obj.covering_union_id else "未建会"

    def save_model(self, request, obj, form, change):
        actor = require_actor(request)
        if change:
            saved = employer_update(
                actor=actor, employer=employer_get(actor=actor, employer_id=obj.id), **form.service_fields
            )
        else:
            saved = employer_create(actor=actor, **form.service_fields)
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def log_addition(self, *args, **kwargs):
        pass

    def log_change(self, *args, **kwargs):
        pass
