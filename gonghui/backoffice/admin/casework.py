"""Back office for the service centre: lists of cases, hardship files, mutual-insurance plans and enrolments, care
campaigns and student grants, scoped through the casework selectors. A case, a file, a plan or a campaign opens our
own detail page (backoffice/views/casework.py) whose buttons call one service each."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from unfold.decorators import display

from gonghui.backoffice.admin.members import _DetailPageAdmin
from gonghui.backoffice.base import ScopedModelAdmin, render_page, request_actor, require_actor
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site
from gonghui.casework.batch import MAX_BATCH, cases_accept_batch
from gonghui.casework.models import (
    OPEN_CASE_STATUSES,
    CareCampaign,
    HardshipFile,
    InsuranceEnrolment,
    InsurancePlan,
    ServiceCase,
    StudentGrant,
)
from gonghui.casework.selectors import (
    campaigns_visible_to,
    cases_visible_to,
    enrolments_visible_to,
    hardship_files_visible_to,
    plans_visible_to,
    student_grants_visible_to,
)
from gonghui.common.errors import DomainError
from gonghui.common.roles import Perm


class CaseOverdueFilter(admin.SimpleListFilter):
    title = "办理时限"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "已超期"), ("escalated", "已上报督办"), ("ever", "曾超期")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(status__in=OPEN_CASE_STATUSES, due_on__lt=timezone.localdate())
        if self.value() == "escalated":
            return queryset.filter(status__in=OPEN_CASE_STATUSES, escalated_at__isnull=False)
        if self.value() == "ever":
            return queryset.filter(was_overdue=True)
        return queryset


@admin.register(ServiceCase, site=backoffice_site)
class ServiceCaseAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.CASES_VIEW
    add_perm = Perm.CASES_MANAGE
    detail_url = "admin:case_detail"
    list_display = [
        "number",
        "kind",
        "name",
        "home_union",
        "handling_union",
        "status",
        "submitted_at",
        "due_on",
        "rating",
    ]
    list_filter = ["kind", "status", CaseOverdueFilter, "source", "callback_status"]
    search_fields = ["=number", "^person__name"]
    list_select_related = ["person", "org", "home_org"]
    ordering = ["-submitted_at"]
    actions = ["accept_selected"]
    export_title = "服务申请"

    def scoped_queryset(self, actor):
        return cases_visible_to(actor)

    def has_accept_permission(self, request):
        actor = request_actor(request)
        return actor is not None and actor.can(Perm.CASES_MANAGE)

    @admin.action(description="批量受理所选申请", permissions=["accept"])
    def accept_selected(self, request, queryset):
        """Select → a page that lists what will be accepted → 确认 POSTs back here → the report, case by case."""
        actor = require_actor(request)
        if request.POST.get("select_across") == "1":
            ids = [str(pk) for pk in queryset.values_list("pk", flat=True)[: MAX_BATCH + 1]]
        else:
            ids = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
        if request.POST.get("confirm") == "yes":
            try:
                report = cases_accept_batch(actor=actor, case_ids=ids, note=request.POST.get("note", ""))
            except DomainError as exc:
                messages.error(request, exc.message)
                return None
            accepted = [item for item in report if item.accepted]
            return render_page(
                request,
                "批量受理结果",
                "backoffice/casework/accept_report.html",
                report=report,
                accepted=len(accepted),
                refused=len(report) - len(accepted),
            )
        cases = list(queryset.order_by("submitted_at")[: MAX_BATCH + 1])
        return render_page(
            request,
            "批量受理",
            "backoffice/casework/accept_confirm.html",
            cases=cases[:MAX_BATCH],
            too_many=len(ids) > MAX_BATCH,
            max_batch=MAX_BATCH,
            ids=ids[:MAX_BATCH],
            ready=sum(1 for case in cases if case.status == "submitted" and actor.covers_path(case.org.path)),
            action_checkbox_name=helpers.ACTION_CHECKBOX_NAME,
        )

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:case_new"))

    @display(description="申请人", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="所在工会", ordering="home_org__name")
    def home_union(self, obj):
        return obj.home_org.name

    @display(description="承办工会", ordering="org__name")
    def handling_union(self, obj):
        return obj.org.name


@admin.register(HardshipFile, site=backoffice_site)
class HardshipFileAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.CASES_VIEW
    add_perm = Perm.CASES_MANAGE
    detail_url = "admin:hardship_file_detail"
    list_display = ["name", "union", "tier", "status", "income_per_head", "returned", "next_verification_on"]
    list_filter = ["status", "tier", "returned"]
    search_fields = ["^person__name"]
    list_select_related = ["person", "org"]
    ordering = ["next_verification_on"]

    def scoped_queryset(self, actor):
        return hardship_files_visible_to(actor)

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:hardship_file_new"))

    @display(description="困难职工", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="建档工会", ordering="org__name")
    def union(self, obj):
        return obj.org.name


@admin.register(InsurancePlan, site=backoffice_site)
class InsurancePlanAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.CASES_VIEW
    add_perm = Perm.CASES_CONFIGURE
    detail_url = "admin:plan_detail"
    list_display = ["__str__", "organiser", "starts_on", "ends_on", "premium", "annual_cap", "enrolment_open"]
    list_filter = ["year", "enrolment_open"]
    list_select_related = ["org"]
    ordering = ["-year", "name"]

    def scoped_queryset(self, actor):
        return plans_visible_to(actor)

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:plan_new"))

    @display(description="主办工会", ordering="org__name")
    def organiser(self, obj):
        return obj.org.name


@admin.register(InsuranceEnrolment, site=backoffice_site)
class InsuranceEnrolmentAdmin(ListExportMixin, ScopedModelAdmin):
    """参保登记, read-only: enrolment is done on the plan's page. The id is what a claim entered by a cadre cites."""

    view_perm = Perm.CASES_VIEW
    list_display = ["id", "name", "union", "plan", "premium", "enrolled_on"]
    list_filter = ["plan__year"]
    search_fields = ["^person__name", "=membership__card_number"]
    list_select_related = ["person", "org", "plan"]
    ordering = ["-enrolled_on"]

    def scoped_queryset(self, actor):
        return enrolments_visible_to(actor)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="会员", ordering="person__name")
    def name(self, obj):
        return obj.person.name

    @display(description="参保工会", ordering="org__name")
    def union(self, obj):
        return obj.org.name


@admin.register(CareCampaign, site=backoffice_site)
class CareCampaignAdmin(ListExportMixin, _DetailPageAdmin):
    view_perm = Perm.CASES_VIEW
    add_perm = Perm.CASES_CONFIGURE
    detail_url = "admin:campaign_detail"
    list_display = ["name", "kind", "organiser", "starts_on", "ends_on", "budget"]
    list_filter = ["kind"]
    search_fields = ["name"]
    list_select_related = ["org"]
    ordering = ["-starts_on"]

    def scoped_queryset(self, actor):
        return campaigns_visible_to(actor)

    def add_view(self, request, form_url="", extra_context=None):
        return HttpResponseRedirect(reverse("admin:campaign_new"))

    @display(description="组织单位", ordering="org__name")
    def organiser(self, obj):
        return obj.org.name


@admin.register(StudentGrant, site=backoffice_site)
class StudentGrantAdmin(ListExportMixin, ScopedModelAdmin):
    """金秋助学资助名单, read-only; each row links to its case."""

    view_perm = Perm.CASES_VIEW
    list_display = ["year", "student_name", "student_masked", "school", "grade", "amount", "applicant", "granted_on"]
    list_filter = ["year"]
    search_fields = ["^student_name"]
    list_select_related = ["case", "case__person"]
    ordering = ["-granted_on"]

    def scoped_queryset(self, actor):
        return student_grants_visible_to(actor)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @display(description="申请会员")
    def applicant(self, obj):
        return obj.case.person.name
