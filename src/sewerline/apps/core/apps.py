from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "sewerline.apps.core"
    label = "core"
    verbose_name = "Sewerline core"
