from django.apps import AppConfig


class CaseworkConfig(AppConfig):
    name = "gonghui.casework"
    label = "casework"
    verbose_name = "职工服务"
    default_auto_field = "django.db.models.BigAutoField"
