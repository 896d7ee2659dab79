from django.apps import AppConfig


class CyclesConfig(AppConfig):
    name = "sewerline.apps.cycles"
    label = "cycles"
