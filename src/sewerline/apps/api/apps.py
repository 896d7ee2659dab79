from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "sewerline.apps.api"
    label = "api"
