from django.apps import AppConfig


class ImportsConfig(AppConfig):
    name = "sewerline.apps.imports"
    label = "imports"
