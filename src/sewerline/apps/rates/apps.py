from django.apps import AppConfig


class RatesConfig(AppConfig):
    name = "sewerline.apps.rates"
    label = "rates"
