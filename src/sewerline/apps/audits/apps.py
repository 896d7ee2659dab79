from django.apps import AppConfig


class AuditsConfig(AppConfig):
    name = "sewerline.apps.audits"
    label = "audits"
