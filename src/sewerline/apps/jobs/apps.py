from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "sewerline.apps.jobs"
    label = "jobs"
