from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "gonghui.imports"
    label = "imports"
    verbose_name = "数据导入"
