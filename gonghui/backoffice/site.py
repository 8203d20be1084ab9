"""The back-office admin site: unfold-themed, Chinese, with the workbench as its home page and our own views
(organisation tree, job status, second factor) under /admin/."""

from django.http import HttpResponse
from django.urls import path, reverse
from django.utils.cache import patch_cache_control
from unfold.sites import UnfoldAdminSite

from gonghui.common.roles import BACKOFFICE_ROLES


class BackOfficeSite(UnfoldAdminSite):
    site_header = "数字工会平台"
    site_title = "数字工会平台管理后台"
    index_title = "工作台"
    enable_nav_sidebar = True

    def has_permission(self, request):
        user = request.user
        return bool(
            user.is_active and user.is_authenticated and user.is_staff and user.org_id and user.role in BACKOFFICE_ROLES
        )

    def get_urls(self):
        from gonghui.backoffice import casework_views, views
        from gonghui.backoffice.views import imports, member_requests, members, portal_admin, stations, stats

        custom = [
            path("registry/find/", self.admin_view(members.member_search_view), name="member_search"),
            path("registry/enrol/", self.admin_view(members.member_enrol_view), name="member_enrol"),
            path("registry/quality/", self.admin_view(members.data_quality), name="member_quality"),
            path("registry/export/", self.admin_view(members.member_export), name="member_export"),
            path(
                "registry/quality/export/",
                self.admin_view(members.rectification_export),
                name="member_rectification_export",
            ),
            path("registry/unions/", self.admin_view(members.union_directory), name="union_directory"),
            path("registry/import/", self.admin_view(imports.roster_import_view), name="roster_import"),
            path(
                "registry/import/template/",
                self.admin_view(imports.roster_import_template),
                name="roster_import_template",
            ),
            path(
                "registry/import/<str:job_id>/",
                self.admin_view(imports.roster_import_detail),
                name="roster_import_detail",
            ),
            path(
                "registry/import/<str:job_id>/cancel/",
                self.admin_view(imports.roster_import_cancel_view),
                name="roster_import_cancel",
            ),
            path(
                "registry/import/<str:job_id>/import/",
                self.admin_view(imports.roster_import_from_preview_view),
                name="roster_import_from_preview",
            ),
            path(
                "registry/import/<str:job_id>/declared/",
                self.admin_view(imports.roster_import_declared_view),
                name="roster_import_declared",
            ),
            path(
                "registry/import/<str:job_id>/transfers/",
                self.admin_view(imports.roster_import_transfers_view),
                name="roster_import_transfers",
            ),
            path(
                "registry/members/<str:membership_id>/",
                self.admin_view(members.member_detail),
                name="member_detail",
            ),
            path(
                "registry/members/<str:membership_id>/correct/",
                self.admin_view(members.member_correct),
                name="member_correct",
            ),
            path(
                "registry/members/<str:membership_id>/print/",
                self.admin_view(members.member_print),
                name="member_print",
            ),
            path(
                "registry/applications/<str:application_id>/print/",
                self.admin_view(members.join_application_print),
                name="join_application_print",
            ),
            path(
                "registry/members/<str:membership_id>/card/",
                self.admin_view(members.member_card),
                name="member_card",
            ),
            path(
                "registry/applications/<str:application_id>/",
                self.admin_view(member_requests.join_application_detail),
                name="join_application_detail",
            ),
            path(
                "registry/transfers/<str:transfer_id>/",
                self.admin_view(member_requests.transfer_detail),
                name="transfer_detail",
            ),
            path(
                "registry/corrections/<str:correction_id>/",
                self.admin_view(portal_admin.correction_detail),
                name="correction_detail",
            ),
            path("orgs/<str:org_id>/join-code/", self.admin_view(portal_admin.org_join_code), name="org_join_code"),
            path(
                "orgs/<str:org_id>/join-code.png",
                self.admin_view(portal_admin.org_join_code_png),
                name="org_join_code_png",
            ),
            path("orgs/import/", self.admin_view(imports.org_import_view), name="org_import"),
            path(
                "orgs/import/template/",
                self.admin_view(imports.org_import_template),
                name="org_import_template",
            ),
            path("services/new/", self.admin_view(casework_views.case_new), name="case_new"),
            path("services/approvals/", self.admin_view(casework_views.approvals), name="hardship_approvals"),
            path(
                "services/approvals/<str:approval_id>/",
                self.admin_view(casework_views.approval_detail),
                name="hardship_approval_detail",
            ),
            path("services/aid-rules/", self.admin_view(casework_views.aid_rules_page), name="hardship_aid_rules"),
            path("services/aid/<str:aid_id>/pay/", self.admin_view(casework_views.aid_pay), name="hardship_aid_pay"),
            path(
                "services/files/<str:file_id>/card/",
                self.admin_view(casework_views.hardship_file_card),
                name="hardship_file_card",
            ),
            path("stats/", self.admin_view(stats.stats_dashboard), name="stats_dashboard"),
            path("stations/import/", self.admin_view(stations.station_import), name="station_import"),
            path("stations/demand/", self.admin_view(stations.demand_import), name="demand_import"),
            path("stations/coverage/", self.admin_view(stations.coverage_view), name="station_coverage"),
            path("stats/reports/<str:report>/", self.admin_view(stats.stats_report), name="stats_report"),
            path("services/figures/", self.admin_view(casework_views.service_figures), name="service_figures"),
            path("services/callbacks/", self.admin_view(casework_views.callbacks), name="case_callbacks"),
            path("services/cases/<str:case_id>/", self.admin_view(casework_views.case_detail), name="case_detail"),
            path(
                "services/attachments/<str:attachment_id>/",
                self.admin_view(casework_views.attachment_download),
                name="case_attachment",
            ),
            path("services/files/new/", self.admin_view(casework_views.hardship_file_new), name="hardship_file_new"),
            path(
                "services/files/<str:file_id>/",
                self.admin_view(casework_views.hardship_file_detail),
                name="hardship_file_detail",
            ),
            path("services/plans/new/", self.admin_view(casework_views.plan_new), name="plan_new"),
            path("services/plans/<str:plan_id>/", self.admin_view(casework_views.plan_detail), name="plan_detail"),
            path("services/campaigns/new/", self.admin_view(casework_views.campaign_new), name="campaign_new"),
            path(
                "services/campaigns/<str:campaign_id>/",
                self.admin_view(casework_views.campaign_detail),
                name="campaign_detail",
            ),
            path("orgs/tree/", self.admin_view(views.org_tree), name="org_tree"),
            path(
                "orgs/tree/children/<str:org_id>/",
                self.admin_view(views.org_tree_children),
                name="org_tree_children",
            ),
            path("orgs/tree/search/", self.admin_view(views.org_tree_search), name="org_tree_search"),
            path("jobs/<str:job_id>/status/", self.admin_view(views.job_status), name="job_status"),
            path("jobs/<str:job_id>/download/", self.admin_view(views.job_download), name="job_download"),
            path("security/otp/setup/", self.admin_view(views.otp_setup), name="otp_setup"),
            path("security/otp/verify/", views.otp_verify, name="otp_verify"),
            path("theme.css", self.theme_css, name="theme_css"),
        ]
        # Django admin's view-on-site shortcut (/admin/r/<content type>/<id>/) looks an object up by id in any model,
        # outside every scope; the back office links to its own pages instead, so the route does not exist.
        stock = [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]
        return custom + stock

    def each_context(self, request):
        context = super().each_context(request)
        # unfold prints the theme colours as an inline <style> block, which the Content-Security-Policy refuses; the
        # same variables come from a stylesheet of the site instead (theme_css).
        if context.get("colors"):
            context["colors"] = {}
            context["styles"] = [*context["styles"], reverse(f"{self.name}:theme_css")]
        return context

    def theme_css(self, request):
        """The theme's colour variables (UNFOLD["COLORS"]), as unfold would print them inline. Public: the sign-in
        page needs them, and they are the same for everyone."""
        lines = [":root {"]
        radius = self._get_config("BORDER_RADIUS", request)
        if radius:
            lines.append(f"  --border-radius: {radius};")
        for name, weights in self._get_colors("COLORS", request).items():
            lines.extend(f"  --color-{name}-{weight}: {value};" for weight, value in weights.items())
        lines.append("}")
        response = HttpResponse("\n".join(lines) + "\n", content_type="text/css; charset=utf-8")
        patch_cache_control(response, public=True, max_age=3600)
        return response

    def password_change(self, request, extra_context=None):
        """Our own page instead of the stock one, which would bypass the accounts service and its audit row."""
        from gonghui.backoffice import views

        return views.password_change(request)

    def index(self, request, extra_context=None):
        from gonghui.backoffice import views

        return views.workbench(request, self)

    def login(self, request, extra_context=None):
        from django.conf import settings

        from gonghui.backoffice.views import audit_login_attempt
        from gonghui.demo.logins import DEMO_LOGINS, DEMO_PASSWORD

        extra = dict(extra_context or {})
        if settings.DEMO_MODE:
            extra["demo_logins"] = DEMO_LOGINS
            extra["demo_password"] = DEMO_PASSWORD
        response = super().login(request, extra)
        if request.method == "POST":
            audit_login_attempt(request, succeeded=response.status_code == 302 and request.user.is_authenticated)
        return response


backoffice_site = BackOfficeSite(name="admin")
