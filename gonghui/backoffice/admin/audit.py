from django.contrib import admin
from unfold.contrib.filters.admin import RangeDateTimeFilter

from gonghui.audit.models import AuditEvent
from gonghui.audit.selectors import audit_events_visible_to
from gonghui.backoffice.base import ScopedModelAdmin
from gonghui.backoffice.site import backoffice_site
from gonghui.common.roles import Perm


@admin.register(AuditEvent, site=backoffice_site)
class AuditEventAdmin(ScopedModelAdmin):
    """Read-only: the audit administrator's filterable list of the trail."""

    view_perm = Perm.AUDIT_VIEW
    change_perm = None
    list_display = [
        "at",
        "actor_label",
        "actor_role",
        "ip",
        "action",
        "object_type",
        "object_label",
        "result",
    ]
    list_filter = [("at", RangeDateTimeFilter), "action", "result", "object_type", "actor_role"]
    list_filter_submit = True
    search_fields = ["actor_label", "object_label", "=object_id"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def scoped_queryset(self, actor):
        return audit_events_visible_to(actor)

    def has_add_permission(self, request):
        return False
