"""Back office for the member registry: the roster, join applications, transfers and declared totals. Lists are
admin changelists scoped through the selectors; each record opens our own detail page (views/members.py) whose
buttons call one service each."""

from django import forms
from django.contrib import admin
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from unfold.decorators import display

from gonghui.backoffice.base import ScopedModelAdmin, request_actor, require_actor
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site
from gonghui.common.errors import NotFound
from gonghui.common.roles import Perm
from gonghui.members.models import CorrectionRequest, DeclaredTotal, JoinApplication, Membership, TransferRequest
from gonghui.members.search import search_allowance_require
from gonghui.members.selectors import (
    corrections_visible_to,
    declared_totals_visible_to,
    join_applications_visible_to,
    memberships_visible_to,
    transfers_visible_to,
)


class _DetailPageAdmin(ScopedModelAdmin):
    """Opening a record goes to our detail page (`detail_url`), never to a model form."""

    detail_url: str = ""

    def has_change_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse(self.detail_url, args=[object_id]))

    def get_search_results(self, request, queryset, search_term):
        if search_term:
            search_allowance_require(require_actor(request))
        return super().get_search_results(request, queryset, search_term)

    def changelist_view(self, request, extra_context=None):
        from django.contrib import messages

        from gonghui.common.ratelimit import RateLimited

        try:
            return super().changelist_view(request, extra_context)
        except RateLimited as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)


@admin.register(Membership, site=backoffice_site)
class MembershipAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.MEMBERS_VIEW
    add_perm = Perm.MEMBERS_MANAGE
    detail_url = "admin:member_detail"
    list_display = ["name", "doc", "phone", "union", "status", "card_number", "joined_on", "employment"]
    list_filter = ["status", "source", "person__employment_form", "person__sex"]
    search_fields = ["^person__name", "=card_number"]
    search_help_text = "按姓名（前缀）或会员卡号查找；按证件号码或手机号码查找请用“会员查询”"
    list_select_related = ["person", "org"]
    ordering = ["-created_at"]

    def scoped_queryset(self, actor):
        return memberships_visible_to(actor)

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:member_enrol"))

    export_title = "会员名册"

    def export_workbook(self, request, *, rows, title, filters_text, exported_at):
        """The standard roster layout (the one the roster import reads back), numbers masked as on screen."""
        from gonghui.members.exports import member_roster_xlsx
        from gonghui.orgs.selectors import org_scope_root

        actor = require_actor(request)
        return member_roster_xlsx(
            root=org_scope_root(actor=actor), memberships=rows, exported_at=exported_at, exported_by=actor.label
        )

    @display(description="姓名", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="证件号码")
    def doc(self, obj):
        return obj.person.doc_masked

    @display(description="手机号码")
    def phone(self, obj):
        return obj.person.phone_masked or "—"

    @display(description="所在工会", ordering="org__name")
    def union(self, obj):
        return obj.org.name

    @display(description="就业形态")
    def employment(self, obj):
        return obj.person.get_employment_form_display() or "—"


class OverdueFilter(admin.SimpleListFilter):
    title = "是否超期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已超期")]

    def queryset(self, request, queryset):
        from django.utils import timezone

        if self.value() == "yes":
            return queryset.filter(status="pending", due_on__lt=timezone.localdate())
        return queryset


@admin.register(JoinApplication, site=backoffice_site)
class JoinApplicationAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.MEMBERS_VIEW
    add_perm = Perm.MEMBERS_MANAGE
    detail_url = "admin:join_application_detail"
    list_display = ["name", "doc", "union", "status", "source", "submitted_at", "due_on"]
    list_filter = ["status", OverdueFilter, "source"]
    search_fields = ["^person__name"]
    list_select_related = ["person", "org"]
    ordering = ["status", "due_on"]

    actions = ["approve_selected"]

    def scoped_queryset(self, actor):
        return join_applications_visible_to(actor)

    def has_approve_permission(self, request):
        actor = request_actor(request)
        return actor is not None and actor.can(Perm.MEMBERS_MANAGE)

    @admin.action(description="批量通过所选入会申请", permissions=["approve"])
    def approve_selected(self, request, queryset):
        """Handled by response_action, which reads the selected ids itself (see there)."""
        return self.response_action(request, queryset)

    def response_action(self, request, queryset):
        """批量通过: Django would drop selected ids outside the scoped queryset without a word; the batch reads the ids
        as sent, so that each one missing, out of scope or already decided is reported with its reason."""
        if request.POST.get("action") != "approve_selected":
            return super().response_action(request, queryset)
        if not self.has_approve_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        from gonghui.backoffice.views.member_requests import join_applications_bulk_approve

        return join_applications_bulk_approve(request, queryset)

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:member_enrol") + "?mode=application")

    @display(description="申请人", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="证件号码")
    def doc(self, obj):
        return obj.person.doc_masked

    @display(description="申请加入", ordering="org__name")
    def union(self, obj):
        return obj.org.name


@admin.register(CorrectionRequest, site=backoffice_site)
class CorrectionRequestAdmin(ListExportMixin, _DetailPageAdmin):
    """资料更正申请 sent by members from the portal; the union applies or refuses each on its detail page."""

    view_perm = Perm.MEMBERS_VIEW
    detail_url = "admin:correction_detail"
    list_display = ["name", "union", "changed_fields", "status", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["^person__name"]
    list_select_related = ["person", "org"]
    ordering = ["status", "submitted_at"]

    def scoped_queryset(self, actor):
        return corrections_visible_to(actor)

    def has_add_permission(self, request):
        return False

    @display(description="会员", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="所在工会", ordering="org__name")
    def union(self, obj):
        return obj.org.name

    @display(description="申请更正")
    def changed_fields(self, obj):
        from gonghui.members.self_service import CORRECTABLE_FIELD_LABELS

        return "、".join(CORRECTABLE_FIELD_LABELS.get(field, field) for field in obj.changes)


@admin.register(TransferRequest, site=backoffice_site)
class TransferRequestAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.MEMBERS_VIEW
    detail_url = "admin:transfer_detail"
    list_display = ["name", "from_union", "to_union", "status", "due_on", "escalated", "requested_at"]
    list_filter = ["status"]
    search_fields = ["^person__name"]
    list_select_related = ["person", "from_org", "to_org"]
    ordering = ["-requested_at"]

    def scoped_queryset(self, actor):
        return transfers_visible_to(actor)

    def has_add_permission(self, request):
        return False  # a transfer starts from a member's page

    @display(description="会员", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="转出工会")
    def from_union(self, obj):
        return obj.from_org.name

    @display(description="转入工会")
    def to_union(self, obj):
        return obj.to_org.name

    @display(description="超期上报", boolean=True)
    def escalated(self, obj):
        return obj.escalated_at is not None


class DeclaredTotalForm(forms.ModelForm):
    takes_request = True
    org_code = forms.CharField(label="基层工会代码", max_length=32)

    class Meta:
        model = DeclaredTotal
        fields = ["total", "as_of"]
        widgets = {"as_of": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request
        self.org = None

    def clean(self):
        from gonghui.orgs.selectors import org_get_by_code

        cleaned = super().clean()
        code = cleaned.get("org_code") or ""
        try:
            self.org = org_get_by_code(actor=require_actor(self.request), code=code)
        except NotFound:
            self.add_error("org_code", f"找不到代码为 {code.strip().upper()} 的组织，或不在您的管辖范围内")
        return cleaned


@admin.register(DeclaredTotal, site=backoffice_site)
class DeclaredTotalAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.MEMBERS_VIEW
    add_perm = Perm.MEMBERS_MANAGE
    form = DeclaredTotalForm
    list_display = ["org", "total", "as_of", "recorded_by", "recorded_at"]
    search_fields = ["org__name", "=org__code"]
    list_select_related = ["org"]
    ordering = ["-as_of", "-recorded_at"]
    fields = ["org_code", "total", "as_of"]
    list_display_links = None  # the list shows all there is; a new declaration supersedes, nothing opens to edit

    def scoped_queryset(self, actor):
        return declared_totals_visible_to(actor)

    def has_change_permission(self, request, obj=None):
        return False  # a new declaration supersedes; history is kept

    def get_changeform_initial_data(self, request):
        actor = request_actor(request)
        return {"org_code": request.GET.get("org_code", "")} if actor else {}

    def save_model(self, request, obj, form, change):
        from gonghui.members.services import declared_total_record

        saved = declared_total_record(
            actor=require_actor(request),
            org=form.org,
            total=form.cleaned_data["total"],
            as_of=form.cleaned_data["as_of"],
        )
        obj.pk = saved.pk
        obj.__dict__.update(saved.__dict__)

    def _changeform_view(self, request, object_id, form_url, extra_context):
        from django.contrib import messages

        from gonghui.backoffice.base import report_domain_error
        from gonghui.common.errors import DomainError

        try:
            return super()._changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            report_domain_error(request, exc)
            messages.error(request, "实有会员数未保存")
            return HttpResponseRedirect(request.get_full_path())

    def log_addition(self, *args, **kwargs):
        """The audit trail records the change."""

    def change_view(self, request, object_id, form_url="", extra_context=None):
        raise Http404
