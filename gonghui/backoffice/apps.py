from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    name = "gonghui.backoffice"
    label = "backoffice"
    verbose_name = "管理后台"
