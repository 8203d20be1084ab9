from django.apps import AppConfig


class StationsConfig(AppConfig):
    name = "gonghui.stations"
    label = "stations"
    verbose_name = "服务阵地"
    default_auto_field = "django.db.models.BigAutoField"
