from django.urls import path

from gonghui.portal import notice_views, service_views, station_views, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", views.login, name="login"),
    path("login/password/", views.login_password, name="login_password"),
    path("logout/", views.logout, name="logout"),
    path("bind/", views.bind, name="bind"),
    path("join/", views.join_find, name="join_find"),
    path("join/check/", views.join_check, name="join_check"),
    path("join/<str:org_id>/", views.join_union, name="join_union"),
    path("applications/", views.applications, name="applications"),
    path("applications/<str:application_id>/", views.application, name="application"),
    path("card/", views.card, name="card"),
    path("card/qr/", views.card_qr, name="card_qr"),
    path("transfer/", views.transfer, name="transfer"),
    path("transfer/to/<str:org_id>/", views.transfer_to, name="transfer_to"),
    path("transfers/<str:transfer_id>/", views.transfer_detail, name="transfer_detail"),
    path("me/", views.me, name="me"),
    path("me/reveal/<str:field>/", views.me_reveal, name="me_reveal"),
    path("me/correct/", views.me_correct, name="me_correct"),
    path("me/password/", views.me_password, name="me_password"),
    path("map/", station_views.station_map, name="station_map"),
    path("map/nearest/", station_views.station_nearest, name="station_nearest"),
    path("stations/<str:station_id>/", station_views.station_detail, name="station_detail"),
    path("stations/<str:station_id>/rate/", station_views.station_rate_view, name="station_rate"),
    path("stations/photos/<str:photo_id>/", station_views.station_photo, name="station_photo"),
    path("messages/", notice_views.messages, name="messages"),
    path("messages/read-all/", notice_views.messages_read_all, name="messages_read_all"),
    path("messages/<str:notice_id>/", notice_views.message, name="message"),
    path("services/", service_views.services, name="services"),
    path("services/apply/<str:kind>/", service_views.service_apply, name="service_apply"),
    path("services/cases/<str:case_id>/", service_views.service_case, name="service_case"),
    path("services/attachments/<str:attachment_id>/", service_views.service_attachment, name="service_attachment"),
]
