from django.urls import include, path

from gonghui.api.urls import api
from gonghui.backoffice import admin_modules  # noqa: F401  (registers the admin modules)
from gonghui.backoffice.site import backoffice_site

urlpatterns = [
    path("admin/", backoffice_site.urls),
    path("api/v1/", api.urls),
    path("", include("gonghui.portal.urls")),
]

handler404 = "gonghui.portal.views.not_found"
handler500 = "gonghui.portal.views.server_error"
