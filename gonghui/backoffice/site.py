"""The back-office admin site: unfold-themed, Chinese, with the workbench as its home page and our own pages
(backoffice/urls.py, views in backoffice/views/) under /admin/ beside the admin's model pages."""

from django.http import HttpResponse
from django.urls import reverse
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
        from gonghui.backoffice.urls import backoffice_urls

        # Django admin's view-on-site shortcut (/admin/r/<content type>/<id>/) looks an object up by id in any model,
        # outside every scope; the back office links to its own pages instead, so the route does not exist.
        stock = [url for url in super().get_urls() if getattr(url, "name", None) != "view_on_site"]
        return backoffice_urls(self) + stock

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
        from gonghui.backoffice.views.accounts import password_change

        return password_change(request)

    def index(self, request, extra_context=None):
        from gonghui.backoffice.views.workbench import workbench

        return workbench(request, self)

    def login(self, request, extra_context=None):
        from django.conf import settings

        from gonghui.backoffice.views.accounts import audit_login_attempt
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
