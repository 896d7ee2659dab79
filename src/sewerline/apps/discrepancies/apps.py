from django.apps import AppConfig


class DiscrepanciesConfig(AppConfig):
    name = "sewerline.apps.discrepancies"
    label = "discrepancies"
