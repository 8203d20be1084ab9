from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "gonghui.common"
    label = "common"
    verbose_name = "通用"
