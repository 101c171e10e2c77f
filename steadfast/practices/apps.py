from django.apps import AppConfig


class PracticesConfig(AppConfig):
    name = "steadfast.practices"
    label = "practices"
    default_auto_field = "django.db.models.BigAutoField"
