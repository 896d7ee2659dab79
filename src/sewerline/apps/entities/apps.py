from django.apps import AppConfig


class EntitiesConfig(AppConfig):
    name = "sewerline.apps.entities"
    label = "entities"
