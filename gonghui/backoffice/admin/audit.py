"""审计日志 in the back office: the audit administrator's list, one event's page and the export for an inspection.

Everything is shown in Chinese from one table (audit.labels), at the product's time (Asia/Shanghai), organisations by
their path of names. The filters of the list are parsed once into audit.selectors.AuditFilters; the list and the
export both read through audit_event_list with them, so an export holds exactly the rows the list shows."""

from datetime import date

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from unfold.contrib.filters.admin import DropdownFilter, RangeDateFilter, TextFilter
from unfold.decorators import display

from gonghui.accounts.selectors import account_names
from gonghui.audit.exports import actor_org_name, local_time, result_label
from gonghui.audit.labels import (
    ACTION_LABELS,
    EMPTY,
    OBJECT_TYPE_LABELS,
    OrgNames,
    action_label,
    actor_kind_label,
    detail_org_ids,
    detail_org_paths,
    detail_rows,
    object_type_label,
    role_label,
)
from gonghui.audit.models import AuditEvent, AuditResult
from gonghui.audit.selectors import AuditFilters, audit_event_list, audit_events_visible_to
from gonghui.audit.services import AUDIT_EXPORT_MAX_ROWS, audit_trail_export
from gonghui.backoffice.base import ScopedModelAdmin, request_actor, require_actor
from gonghui.backoffice.site import backoffice_site
from gonghui.backoffice.views.helpers import download
from gonghui.common.actor import Actor
from gonghui.common.errors import DomainError, NotFound
from gonghui.common.ids import parse_public_id
from gonghui.common.paths import ancestor_paths
from gonghui.common.roles import ROLE_LABELS, Perm
from gonghui.orgs.selectors import org_get, org_get_by_code, orgs_by_id, orgs_by_path

# The roles an event's actor may have: accounts' roles, then the platform, API tokens and anonymous visitors.
ACTOR_ROLES = [str(role) for role in ROLE_LABELS] + ["system", "api_token"]


def org_names_for(events: list[AuditEvent], *, org_ids=()) -> OrgNames:
    """The names of the organisations a page of events mentions, each as its path of names
    (苏州市总工会 › 姑苏区总工会), and of the people whose accounts acted.

    The trail is evidence of who acted: an event seen by a district's auditor may have been written by a cadre of the
    city federation above it, whose organisation is named too. Names are looked up by id where the trail holds one
    (the actor's organisation, organisations in details) and by recorded path otherwise."""
    ids = {str(i) for i in org_ids}
    paths: set[str] = set()
    for event in events:
        if event.actor_org_id:
            ids.add(str(event.actor_org_id))
        paths.update(p for p in (event.actor_org_path, event.object_org_path) if p and p != "-")
        ids.update(detail_org_ids(event.details))
        paths.update(detail_org_paths(event.details))
    parsed_ids = {parsed for parsed in (parse_public_id(i) for i in ids) if parsed}
    path_of_id = {str(i): p for i, p in orgs_by_id(parsed_ids).values_list("id", "path")}
    wanted = paths | set(path_of_id.values())
    every_path = wanted | {a for p in wanted for a in ancestor_paths(p)}
    name_at = dict(orgs_by_path(every_path).values_list("path", "name"))

    def chain(p: str) -> str:
        if p not in name_at:
            return p
        return " › ".join(name_at[a] for a in [*ancestor_paths(p), p] if a in name_at)

    account_ids = {event.actor_id for event in events if event.actor_kind == "user" and event.actor_id}
    people = account_names(account_ids)
    return OrgNames(
        by_id={i: chain(p) for i, p in path_of_id.items()},
        by_path={p: chain(p) for p in wanted},
        people=people,
    )


# ---------------------------------------------------------------- filters


class _ShownOnlyMixin:
    """The list's filters only draw their fields: the rows are narrowed once, by AuditFilters, in get_queryset."""

    def queryset(self, request, queryset):
        return queryset


class PeriodFilter(_ShownOnlyMixin, RangeDateFilter):
    title = "时间"


class ActionFilter(_ShownOnlyMixin, DropdownFilter):
    title = "操作"
    parameter_name = "action__exact"

    def lookups(self, request, model_admin):
        return sorted(ACTION_LABELS.items(), key=lambda item: item[0])


class ResultFilter(_ShownOnlyMixin, DropdownFilter):
    title = "结果"
    parameter_name = "result__exact"

    def lookups(self, request, model_admin):
        return AuditResult.choices


class ActorFilter(_ShownOnlyMixin, TextFilter):
    title = "操作者"
    parameter_name = "actor"


class RoleFilter(_ShownOnlyMixin, DropdownFilter):
    title = "角色"
    parameter_name = "actor_role__exact"

    def lookups(self, request, model_admin):
        return [(role, role_label(role)) for role in ACTOR_ROLES]


class OrgFilter(_ShownOnlyMixin, TextFilter):
    title = "组织代码（含下级）"
    parameter_name = "org"


class ObjectTypeFilter(_ShownOnlyMixin, DropdownFilter):
    title = "对象类型"
    parameter_name = "object_type__exact"

    def lookups(self, request, model_admin):
        return sorted(OBJECT_TYPE_LABELS.items(), key=lambda item: item[0])


class ObjectFilter(_ShownOnlyMixin, TextFilter):
    title = "对象（名称或编号）"
    parameter_name = "object"


LIST_FILTERS = [
    ("at", PeriodFilter),
    ActionFilter,
    ResultFilter,
    ActorFilter,
    RoleFilter,
    OrgFilter,
    ObjectTypeFilter,
    ObjectFilter,
]


FILTER_PARAMETERS = frozenset(
    {"at_from", "at_to", "action__exact", "result__exact", "actor", "actor_role__exact", "org", "object_type__exact"}
    | {"object"}
)


class FilterProblem(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _day(value: str, label: str) -> date | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return forms.DateField().clean(value)
    except forms.ValidationError:
        raise FilterProblem(f"{label}“{value}”不是有效的日期，请按 YYYY-MM-DD 填写") from None


def filters_from_query(query, actor: Actor) -> AuditFilters:
    """The list's query string as AuditFilters. Raises FilterProblem (a Chinese message) for a malformed date or an
    organisation that does not exist or lies outside the auditor's subtree (both read the same)."""
    org_path = org_id = ""
    org_text = (query.get("org") or "").strip()
    if org_text:
        try:
            org = (
                org_get(actor=actor, org_id=org_text)
                if parse_public_id(org_text)
                else org_get_by_code(actor=actor, code=org_text)
            )
        except NotFound:
            raise FilterProblem(f"没有代码为“{org_text}”的组织，或该组织不在您的管辖范围内") from None
        org_path, org_id = org.path, str(org.id)
    start, end = _day(query.get("at_from", ""), "开始日期"), _day(query.get("at_to", ""), "结束日期")
    if start and end and end < start:
        raise FilterProblem("结束日期不能早于开始日期")
    return AuditFilters(
        start=start,
        end=end,
        action=(query.get("action__exact") or "").strip(),
        actor=(query.get("actor") or "").strip(),
        actor_role=(query.get("actor_role__exact") or "").strip(),
        org_path=org_path,
        org_id=org_id,
        object_type=(query.get("object_type__exact") or "").strip(),
        object=(query.get("object") or "").strip()[:200],
        audit_result=(query.get("result__exact") or "").strip(),
    )


# ---------------------------------------------------------------- the admin


@admin.register(AuditEvent, site=backoffice_site)
class AuditEventAdmin(ScopedModelAdmin):
    """Read-only: the audit administrator's filterable list of the trail, one event's page and the export."""

    view_perm = Perm.AUDIT_VIEW
    change_perm = None
    list_display = [
        "when",
        "action_name",
        "result_name",
        "actor_name",
        "role_name",
        "actor_org",
        "object_type_name",
        "object_label",
        "object_org",
        "ip",
    ]
    list_display_links = ["when", "action_name"]
    empty_value_display = EMPTY
    list_filter = LIST_FILTERS
    list_filter_submit = True
    list_before_template = "backoffice/audit/_list_tools.html"
    change_form_template = "backoffice/audit/event_detail.html"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def scoped_queryset(self, actor):
        return audit_events_visible_to(actor)

    def has_add_permission(self, request):
        return False

    def lookup_allowed(self, lookup, value, request=None):
        # Only the list's own filters narrow it (the export reads the same AuditFilters); any other lookup is refused.
        return lookup in FILTER_PARAMETERS

    def get_queryset(self, request):
        actor = request_actor(request)
        if actor is None or not actor.can(self.view_perm):
            return self.model._default_manager.none()  # no permission: an empty list, nothing read
        filters = getattr(request, "_audit_filters", None)
        if filters is None:
            return self.scoped_queryset(actor)  # a single event's page: its scope only, never the list's filters
        return audit_event_list(actor=actor, filters=filters)

    def changelist_view(self, request, extra_context=None):
        actor = request_actor(request)
        if actor is not None and actor.can(self.view_perm):
            try:
                request._audit_filters = filters_from_query(request.GET, actor)
            except FilterProblem as exc:
                messages.error(request, exc.message)
                request._audit_filters = None
                return HttpResponseRedirect(request.path)
        extra_context = {**(extra_context or {}), "export_max_rows": AUDIT_EXPORT_MAX_ROWS}
        return super().changelist_view(request, extra_context)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        events = list(changelist.result_list)  # evaluated once; the template reads the same cached rows
        names = org_names_for(events)
        for event in events:
            event.org_names = names
        return changelist

    # ------------------------------------------------------------ columns

    @display(description="时间", ordering="at")
    def when(self, obj):
        return local_time(obj.at)

    @display(description="操作", ordering="action")
    def action_name(self, obj):
        return action_label(obj.action)

    @display(description="结果", ordering="result")
    def result_name(self, obj):
        return result_label(obj.result)

    @display(description="操作者", ordering="actor_label")
    def actor_name(self, obj):
        if obj.actor_kind != "user":
            return obj.actor_label
        return getattr(obj, "org_names", OrgNames()).actor(obj.actor_id, obj.actor_label)

    @display(description="角色", ordering="actor_role")
    def role_name(self, obj):
        return role_label(obj.actor_role)

    @display(description="操作者所属组织")
    def actor_org(self, obj):
        return actor_org_name(obj, getattr(obj, "org_names", OrgNames()))

    @display(description="对象类型", ordering="object_type")
    def object_type_name(self, obj):
        return object_type_label(obj.object_type)

    @display(description="对象所属组织")
    def object_org(self, obj):
        return getattr(obj, "org_names", OrgNames()).name_of_path(obj.object_org_path)

    # ------------------------------------------------------------ one event

    def change_view(self, request, object_id, form_url="", extra_context=None):
        actor = request_actor(request)
        event = self.get_object(request, unquote(object_id)) if request.method == "GET" else None
        if event is not None and actor is not None:
            names = org_names_for([event])
            extra_context = {
                **(extra_context or {}),
                "event": event,
                "event_rows": [
                    ("时间", local_time(event.at)),
                    ("操作", action_label(event.action)),
                    ("结果", result_label(event.result)),
                    (
                        "操作者",
                        names.actor(event.actor_id, event.actor_label)
                        if event.actor_kind == "user"
                        else event.actor_label,
                    ),
                    ("操作者类型", actor_kind_label(event.actor_kind)),
                    ("角色", role_label(event.actor_role)),
                    ("操作者所属组织", actor_org_name(event, names)),
                    ("IP 地址", event.ip or EMPTY),
                    ("对象类型", object_type_label(event.object_type)),
                    ("对象", event.object_label or EMPTY),
                    ("对象编号", event.object_id or EMPTY),
                    ("对象所属组织", names.name_of_path(event.object_org_path)),
                    ("事件编号", str(event.id)),
                ],
                "detail_rows": detail_rows(event.details, org_names=names),
            }
        return super().change_view(request, object_id, form_url, extra_context)

    # ------------------------------------------------------------ export

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="audit_auditevent_export"),
            *super().get_urls(),
        ]

    def export_view(self, request):
        return _export(request)


@require_POST
def _export(request):
    """POST with the list's query string: the filtered trail as .xlsx, recorded as an export. A refusal (too many
    rows, a bad filter) returns to the list with its filters and the reason."""
    actor = require_actor(request)
    if not actor.can(Perm.AUDIT_VIEW):
        raise DjangoPermissionDenied
    back = reverse("admin:audit_auditevent_changelist") + (f"?{request.GET.urlencode()}" if request.GET else "")
    try:
        filters = filters_from_query(request.GET, actor)
        content, _rows = audit_trail_export(actor=actor, filters=filters, org_names_for=_names_with(filters))
    except FilterProblem as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    except NotFound:
        raise Http404 from None
    except DomainError as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    return download(content, f"审计日志_{timezone.localtime():%Y%m%d%H%M%S}.xlsx")


def _names_with(filters: AuditFilters):
    """org_names_for that also names the organisation the filters select (for the sheet's 筛选条件 line)."""
    return lambda events: org_names_for(events, org_ids=[filters.org_id] if filters.org_id else [])
