from django.contrib import admin
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from unfold.decorators import display

from gonghui.backoffice.base import ScopedModelAdmin
from gonghui.backoffice.exports import ListExportMixin
from gonghui.backoffice.site import backoffice_site
from gonghui.common.roles import Perm
from gonghui.jobs.models import JobRun
from gonghui.jobs.selectors import jobs_of


@admin.register(JobRun, site=backoffice_site)
class JobRunAdmin(ListExportMixin, ScopedModelAdmin):
    view_perm = Perm.JOBS_VIEW
    # The job list holds titles and progress, no personal data: who may see it may export it.
    export_perm = Perm.JOBS_VIEW
    change_perm = None
    list_display = ["title", "status", "progress", "created_at", "finished_at", "open"]
    list_filter = ["status", "kind"]
    list_display_links = None

    def scoped_queryset(self, actor):
        return jobs_of(actor)

    def has_add_permission(self, request):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A job is read on its own page (phase, progress, result, download), never as a model form of raw fields;
        # that page checks the scope, so an id outside it answers 404 there like a missing one.
        return HttpResponseRedirect(reverse("admin:job_status", args=[object_id]))

    def export_columns(self, request):
        # The list's columns without its 查看 link.
        return [column for column in super().export_columns(request) if column[0]]

    @display(description="进度")
    def progress(self, obj):
        return f"{obj.done}/{obj.total}（{obj.percent}%）"

    @display(description="")
    def open(self, obj):
        return format_html('<a class="gh-link" href="{}">查看</a>', reverse("admin:job_status", args=[obj.id]))
