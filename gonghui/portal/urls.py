from django.urls import path

from gonghui.portal.views import account, joining, member, messages, services, stations, transfers

app_name = "portal"
urlpatterns = [
    path("", account.home, name="home"),
    path("healthz", account.healthz, name="healthz"),
    path("login/", account.login, name="login"),
    path("login/password/", account.login_password, name="login_password"),
    path("logout/", account.logout, name="logout"),
    path("bind/", account.bind, name="bind"),
    path("join/", joining.join_find, name="join_find"),
    path("join/check/", joining.join_check, name="join_check"),
    path("join/<str:org_id>/", joining.join_union, name="join_union"),
    path("applications/", joining.applications, name="applications"),
    path("applications/<str:application_id>/", joining.application, name="application"),
    path("card/", member.card, name="card"),
    path("card/qr/", member.card_qr, name="card_qr"),
    path("transfer/", transfers.transfer, name="transfer"),
    path("transfer/to/<str:org_id>/", transfers.transfer_to, name="transfer_to"),
    path("transfers/<str:transfer_id>/", transfers.transfer_detail, name="transfer_detail"),
    path("me/", member.me, name="me"),
    path("me/reveal/<str:field>/", member.me_reveal, name="me_reveal"),
    path("me/correct/", member.me_correct, name="me_correct"),
    path("me/password/", member.me_password, name="me_password"),
    path("map/", stations.station_map, name="station_map"),
    path("map/nearest/", stations.station_nearest, name="station_nearest"),
    path("stations/<str:station_id>/", stations.station_detail, name="station_detail"),
    path("stations/<str:station_id>/rate/", stations.station_rate_view, name="station_rate"),
    path("stations/photos/<str:photo_id>/", stations.station_photo, name="station_photo"),
    path("messages/", messages.messages, name="messages"),
    path("messages/read-all/", messages.messages_read_all, name="messages_read_all"),
    path("messages/<str:notice_id>/", messages.message, name="message"),
    path("services/", services.services, name="services"),
    path("services/apply/<str:kind>/", services.service_apply, name="service_apply"),
    path("services/cases/<str:case_id>/", services.service_case, name="service_case"),
    path("services/attachments/<str:attachment_id>/", services.service_attachment, name="service_attachment"),
]
