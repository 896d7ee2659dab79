from django.apps import AppConfig


class ProfilesConfig(AppConfig):
    name = "sewerline.apps.profiles"
    label = "profiles"
