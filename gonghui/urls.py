from django.urls import include, path

from gonghui.api.urls import api
from gonghui.backoffice import admin_modules  # noqa: F401  (registers the admin modules)
from gonghui.backoffice.site import backoffice_site

urlpatterns = [
    path("admin/", backoffice_site.urls),
    path("api/v1/", api.urls),
    path("", include("gonghui.portal.urls")),
]

handler404 = "gonghui.error_pages.not_found"
handler403 = "gonghui.error_pages.forbidden"
handler500 = "gonghui.error_pages.server_error"
